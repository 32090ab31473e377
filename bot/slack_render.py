"""A router Reply as a Slack message (top-level text + Block Kit), within Slack's limits.

Pure functions returning dicts: every untrusted string (bounce text, diagnostics, banners, TXT
records) goes through `slackfmt.escape` or a code block, so a pasted `<!channel>` never pings anyone.
"""

from __future__ import annotations

import json
from typing import Any

from bot import slackfmt
from bot.messages import msg
from bot.model import COMMANDS, Reply

#: Block Kit limits (Slack reference): blocks per message, per Home tab, chars per section
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION = 3000
MAX_HEADER = 150
#: top-level text is the notification/screen-reader fallback; Slack truncates long ones
MAX_TEXT = 3000
STATUS_EMOJI = {
    "fail": ":x:",
    "error": ":grey_question:",
    "warn": ":warning:",
    "info": ":information_source:",
    "pass": ":white_check_mark:",
}
STATUS_ORDER = ("fail", "error", "warn", "info", "pass")
ACTION_RUN_CHECKS = "run_checks"
ACTION_OTHER_LANG = "show_other_lang"
ACTION_NOT_HELPFUL = "not_helpful"


def header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": slackfmt.truncate(text, MAX_HEADER), "emoji": True},
    }


def sections(mrkdwn: str) -> list[dict[str, Any]]:
    """One or more section blocks, split at line breaks so none exceeds 3000 characters."""
    chunks, current = [], ""
    for line in mrkdwn.split("\n"):
        line = slackfmt.truncate(line, MAX_SECTION)
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current.strip():
        chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def context(mrkdwn: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": slackfmt.truncate(mrkdwn, MAX_SECTION)}],
    }


def message(text: str, blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS) -> dict[str, Any]:
    """The final payload: fallback text plus at most `limit` blocks."""
    if len(blocks) > limit:
        blocks = blocks[: limit - 1] + [context("…")]
    return {"text": slackfmt.truncate(text, MAX_TEXT) or "smtpbot", "blocks": blocks}


def _bullets(items: tuple[str, ...]) -> str:
    return "\n".join(f"• {slackfmt.escape(i)}" for i in items)


def _parsed_line(parsed: Any) -> str:
    parts = [
        f"{label}: `{slackfmt.escape(str(value))}`"
        for label, value in (
            ("code", parsed.reply_code),
            ("status", parsed.status),
            ("recipient", parsed.recipient),
            ("remote", parsed.remote_mta),
        )
        if value
    ]
    return " · ".join(parts)


def _buttons(expl: Any, entry: Any, lang: str) -> dict[str, Any]:
    other = "en" if lang == "pl" else "pl"
    elements: list[dict[str, Any]] = []
    domain = getattr(expl, "check_domain", None) or getattr(expl.parsed, "sender_domain", None)
    if domain:
        elements.append(
            _button(msg("button.run_checks", lang, domain=domain), ACTION_RUN_CHECKS, domain, primary=True)
        )
    elements.append(
        _button(
            msg("button.other_lang", lang), ACTION_OTHER_LANG, json.dumps({"id": entry.id, "lang": other})
        )
    )
    elements.append(_button(msg("button.not_helpful", lang), ACTION_NOT_HELPFUL, entry.id))
    return {"type": "actions", "block_id": "explain_actions", "elements": elements}


def _button(text: str, action_id: str, value: str, primary: bool = False) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "value": value[:2000],
        "text": {"type": "plain_text", "text": slackfmt.truncate(text, 75), "emoji": True},
    }
    if primary:
        button["style"] = "primary"
    return button


def entry_blocks(entry: Any, lang: str) -> list[dict[str, Any]]:
    """Title, summary, causes, fixes and the KB reference of one entry."""
    blocks = [header(entry.title.get(lang)), *sections(slackfmt.escape(entry.summary.get(lang)))]
    if entry.causes.get(lang):
        blocks += sections(f"*{msg('explain.causes', lang)}*\n{_bullets(entry.causes.get(lang))}")
    if entry.fixes.get(lang):
        steps = "\n".join(f"{n}. {slackfmt.escape(step)}" for n, step in enumerate(entry.fixes.get(lang), 1))
        blocks += sections(f"*{msg('explain.fix', lang)}*\n{steps}")
    blocks.append(context(msg("explain.kb", lang, id=entry.id)))
    return blocks


def explanation(reply: Reply, buttons: bool = True) -> dict[str, Any]:
    """A bounce explanation: best entry, what the bounce said, alternatives when unsure, buttons."""
    expl, lang = reply.explanation, reply.lang
    best = expl.matches[0].entry
    blocks = entry_blocks(best, lang)
    parsed = _parsed_line(expl.parsed)
    if parsed:
        blocks.insert(1, context(f"{msg('explain.parsed', lang)}: {parsed}"))
    if not expl.confident and len(expl.matches) > 1:
        alts = "\n".join(
            f"• `{m.entry.id}` {slackfmt.escape(m.entry.title.get(lang))}" for m in expl.matches[1:]
        )
        blocks += sections(f"{msg('explain.unsure', lang)}\n{alts}")
    if buttons:
        blocks.append(_buttons(expl, best, lang))
    text = f"{best.title.get(lang)} — {best.summary.get(lang)}"
    return message(text, blocks)


def _finding_line(f: Any) -> str:
    status = str(f.status)
    emoji = STATUS_EMOJI.get(status, ":grey_question:")
    line = f"{emoji} *{slackfmt.escape(f.check)}* {slackfmt.escape(f.subject)}: {slackfmt.escape(f.summary)}"
    return line + (f" — `/smtp kb show {slackfmt.escape(f.kb)}`" if f.kb else "")


def report(reply: Reply) -> dict[str, Any]:
    """Findings grouped by area (the check id's prefix), worst first, each linked to its KB entry."""
    rep, lang = reply.report, reply.lang
    findings = sorted(
        rep.findings, key=lambda f: STATUS_ORDER.index(str(f.status)) if str(f.status) in STATUS_ORDER else 0
    )
    areas: dict[str, list[Any]] = {}
    for f in findings:
        areas.setdefault(f.check.split(".")[0], []).append(f)
    counts = {s: sum(1 for f in rep.findings if str(f.status) == s) for s in STATUS_ORDER}
    summary = msg(
        "report.summary",
        lang,
        fail=counts["fail"] + counts["error"],
        warn=counts["warn"],
        ok=counts["pass"] + counts["info"],
        seconds=rep.duration_ms / 1000,
    )
    blocks = [header(msg("report.header", lang, target=rep.target)), context(summary)]
    for area, items in areas.items():
        blocks.append({"type": "divider"})
        blocks += sections(
            f"*{slackfmt.escape(area.upper())}*\n" + "\n".join(_finding_line(f) for f in items)
        )
    if len(blocks) > MAX_BLOCKS:
        shown = blocks[: MAX_BLOCKS - 1]
        blocks = shown + [
            context(msg("report.more", lang, n=len(blocks) - len(shown), target=slackfmt.escape(rep.target)))
        ]
    return message(f"{msg('report.header', lang, target=rep.target)}: {summary}", blocks)


def spf(reply: Reply) -> dict[str, Any]:
    data = reply.spf.to_json() if hasattr(reply.spf, "to_json") else dict(reply.spf)
    head = msg("spf.header", reply.lang, domain=slackfmt.escape(str(reply.extra.get("domain", ""))),
               ip=slackfmt.escape(str(reply.extra.get("ip", ""))))
    lines = [
        f"*{key}*: `{slackfmt.escape(str(data[key]))}`"
        for key in ("result", "mechanism", "explanation", "lookups")
        if data.get(key) not in (None, "")
    ]
    return message(f"{head}: {data.get('result')}", [header(head), *sections("\n".join(lines))])


def entries(reply: Reply) -> dict[str, Any]:
    lines = [f"• `{m.entry.id}` {slackfmt.escape(m.entry.title.get(reply.lang))}" for m in reply.matches]
    body = sections((slackfmt.escape(reply.message) + "\n" if reply.message else "") + "\n".join(lines))
    return message(reply.message or "smtpbot", body)


def note(text: str) -> dict[str, Any]:
    """A short plain answer (our own sentences: no escaping of their mrkdwn)."""
    return message(text, sections(text))


def render(reply: Reply, buttons: bool = True) -> dict[str, Any]:
    """Slack payload (`text`, `blocks`) for any Reply kind."""
    if reply.kind == "explanation":
        return explanation(reply, buttons)
    if reply.kind == "entry":
        return message(reply.entry.title.get(reply.lang), entry_blocks(reply.entry, reply.lang))
    if reply.kind == "report":
        return report(reply)
    if reply.kind == "spf":
        return spf(reply)
    if reply.kind == "entries":
        return entries(reply)
    if reply.kind == "help":
        return help_message(reply.lang, reply.message)
    return note(reply.message)


def _command_lines(lang: str) -> str:
    return "\n".join(f"• `/smtp {usage}` — {msg(key, lang)}" for _, usage, key, _ in COMMANDS)


def help_message(lang: str, note_text: str = "") -> dict[str, Any]:
    """The command list from the router's table."""
    text = "\n".join(
        filter(
            None,
            [
                note_text,
                f"*{msg('help.title', lang)}*",
                msg("help.intro", lang),
                _command_lines(lang),
                msg("help.private", lang),
            ],
        )
    )
    return message(msg("help.title", lang), sections(text))


EXAMPLES = (
    "/smtp explain 550 5.7.26 This mail has been blocked because the sender is unauthenticated",
    "/smtp check example.com",
    "/smtp spf example.com 192.0.2.1",
    "/smtp kb dmarc",
    "@smtpbot jak ustawić reverse DNS?",
)


def home_view(lang: str, entries_: list[Any]) -> dict[str, Any]:
    """The App Home tab: usage, examples, and the knowledge-base topics (≤ 100 blocks)."""
    blocks = [
        header(msg("home.title", lang)),
        *sections(msg("home.usage", lang)),
        context(msg("home.shortcut", lang)),
        {"type": "divider"},
        *sections(f"*{msg('home.examples', lang)}*\n" + "\n".join(f"• `{e}`" for e in EXAMPLES)),
        *sections(_command_lines(lang)),
        {"type": "divider"},
        header(msg("home.topics", lang)),
    ]
    topics = [f"• `{e.id}` {slackfmt.escape(e.title.get(lang))}" for e in entries_]
    blocks += sections("\n".join(topics))
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = blocks[: MAX_HOME_BLOCKS - 1] + [context("…")]
    return {"type": "home", "blocks": blocks}
