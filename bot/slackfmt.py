"""Slack mrkdwn in both directions: escape what we echo, un-format what Slack sends us.

Slack treats `&`, `<` and `>` as control characters: an echoed `<!channel>` would ping a whole
channel. Inbound message text is already formatted (`&lt;`, `<mailto:a@b|a@b>`), which the bounce
parser must not see.
"""

from __future__ import annotations

import re

#: `<target|label>` or `<target>`: links, mailto, user/channel mentions, special commands
_ANGLE = re.compile(r"<([^<>|\n]*)(?:\|([^<>\n]*))?>")
_FENCE = "```"


def escape(text: str) -> str:
    """Escape the three mrkdwn control characters (and nothing else) in untrusted text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unangle(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if label is not None:
        return label
    if target.startswith("mailto:"):
        return target[len("mailto:") :]
    if target.startswith(("@", "#", "!")):
        # a user/channel/special mention has no plain-text equivalent we could parse
        return ""
    return target


def unformat(text: str) -> str:
    """Turn Slack-formatted message text back into what the person typed or pasted.

    `<mailto:a@b|a@b>` becomes `a@b`, `<http://x|x>` becomes `x`, mentions disappear, and the
    three entities are unescaped last (so a literal `&lt;` typed by the user survives as `<`).
    """
    return _ANGLE.sub(_unangle, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_mention(text: str, user_id: str | None) -> str:
    """Remove the leading `<@BOT>` of an @mention so the rest reads as a command or question."""
    if user_id:
        text = text.replace(f"<@{user_id}>", " ")
    return text.strip()


def code_block(text: str) -> str:
    """Wrap untrusted text in a code block: formatting characters inside stay literal."""
    body = escape(text).replace(_FENCE, "`\u200b``")
    return f"{_FENCE}\n{body}\n{_FENCE}"


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut text to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker
