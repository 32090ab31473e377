"""explain(): any pasted text -> parsed bounce (or question) -> ranked KB entries, in one call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.bounce import asks, parse
from knowledge.language import detect_language
from knowledge.load import KnowledgeBase
from knowledge.match import Matcher
from knowledge.model import CONFIDENT, MARGIN, SURE, Match, Parsed
from knowledge.reasons import RECIPIENT_SIDE

#: text this short that matched no bounce well is also read as a question
SHORT_TEXT = 400
#: a bounce match below this is too weak to stand without the question reading
WEAK = 0.3
#: inputs above this many bytes are cut (with a notice), not rejected
MAX_INPUT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer to one input: what it is, what it says, and the entries that explain it."""

    input_kind: str
    parsed: Parsed
    matches: tuple[Match, ...]
    lang: str
    suggested_checks: tuple[str, ...]
    notices: tuple[str, ...] = ()

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def check_domain(self) -> str | None:
        """The domain live checks should look at: the recipient's when the cause is on their side
        (no such domain, null MX, full mailbox...), else the sender's (authentication, reputation)."""
        recipient = self.parsed.recipient or ""
        recipient_domain = recipient.rpartition("@")[2].lower() or None if "@" in recipient else None
        reason = self.best.entry.reason if self.best else None
        if reason in RECIPIENT_SIDE and recipient_domain:
            return recipient_domain
        return self.parsed.sender_domain or recipient_domain

    @property
    def confident(self) -> bool:
        """A clear winner: a good score, and not a near tie with the runner-up."""
        if not self.matches or self.matches[0].score < CONFIDENT:
            return False
        best = self.matches[0].score
        return len(self.matches) < 2 or best >= SURE or best - self.matches[1].score >= MARGIN

    def to_json(self) -> dict[str, Any]:
        return {
            "input_kind": self.input_kind,
            "parsed": self.parsed.to_json(),
            "matches": [m.to_json(self.lang) for m in self.matches],
            "suggested_checks": list(self.suggested_checks),
            "lang": self.lang,
            "confident": self.confident,
            "notices": list(self.notices),
        }


def explain(
    data: str | bytes, kb: KnowledgeBase, *, lang: str | None = None, top: int = 3
) -> Explanation:
    """Explain a bounce, a log line, an exception text or a question.

    Args:
        data: the pasted text or raw email bytes.
        kb: a loaded knowledge base (load once, reuse: matching is pure and thread-safe).
        lang: "en" or "pl"; None picks the input's language.
        top: how many ranked entries to return.
    """
    notices: list[str] = []
    if len(data) > MAX_INPUT_BYTES:
        data = data[:MAX_INPUT_BYTES]
        notices.append(f"input truncated to {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    parsed = parse(data)
    matcher = Matcher.for_kb(kb)
    if parsed.input_kind == "question":
        matches = matcher.match_question(parsed.text, top=top, parsed=parsed)
    else:
        matches = matcher.match_bounce(parsed, top=top)
        if parsed.input_kind == "text" and len(parsed.text) <= SHORT_TEXT and asks(parsed.text) and (
            not matches or matches[0].score < WEAK
        ):
            # a short line the parser took for a bounce may be a question quoting an error
            matches = _merge(matches, matcher.match_question(parsed.text, top=top, parsed=parsed), top)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    chosen = lang or detect_language(parsed.text if parsed.input_kind == "question" else text)
    checks: list[str] = []
    for m in matches[:1]:
        checks.extend(c for c in m.entry.checks if c not in checks)
    return Explanation(
        input_kind=parsed.input_kind,
        parsed=parsed,
        matches=tuple(matches),
        lang=chosen,
        suggested_checks=tuple(checks),
        notices=tuple(notices) + parsed.notices,
    )


def _merge(first: list[Match], second: list[Match], top: int) -> list[Match]:
    best: dict[str, Match] = {}
    for m in (*first, *second):
        if m.entry.id not in best or m.score > best[m.entry.id].score:
            best[m.entry.id] = m
    return sorted(best.values(), key=lambda m: -m.score)[:top]
