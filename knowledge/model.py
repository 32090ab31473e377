"""Data of the knowledge side: KB entries, parsed bounces, matches and explanations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LANGS: tuple[str, ...] = ("en", "pl")


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both languages."""

    en: str
    pl: str

    def get(self, lang: str) -> str:
        return self.pl if lang == "pl" else self.en


@dataclass(frozen=True, slots=True)
class TextList:
    """Ordered items (causes, fix steps, questions) in both languages."""

    en: tuple[str, ...]
    pl: tuple[str, ...]

    def get(self, lang: str) -> tuple[str, ...]:
        return self.pl if lang == "pl" else self.en


@dataclass(frozen=True, slots=True)
class Entry:
    """One knowledge-base entry: a problem (with a bounce reason) or a how-to topic (reason None)."""

    id: str
    reason: str | None
    title: Text
    summary: Text
    causes: TextList
    fixes: TextList
    questions: TextList
    codes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    #: where it was defined, "path:line"
    source: str = ""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient row of a bounce, with its own outcome."""

    recipient: str | None
    action: str | None = None
    status: str | None = None
    reply_code: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "action": self.action,
            "status": self.status,
            "reply_code": self.reply_code,
            "diagnostic": self.diagnostic,
            "remote_mta": self.remote_mta,
        }


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a bounce says, whatever its format: the contract's `parsed` object."""

    #: "dsn" | "mime" | "text" | "question"
    input_kind: str
    reply_code: str | None = None
    status: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    recipient: str | None = None
    sender_domain: str | None = None
    action: str | None = None
    sending_ip: str | None = None
    recipients: tuple[Recipient, ...] = ()
    #: what the message itself is when it is not a failure: "vacation" | "feedback" | "delivered" | None
    kind_hint: str | None = None
    #: the text the matcher reads (diagnostic plus subject/body lines that carry the reason)
    text: str = ""
    #: the SMTP command the failure answered (RCPT, MAIL, DATA, CONN...), when known
    command: str | None = None
    notices: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "reply_code": self.reply_code,
            "status": self.status,
            "diagnostic": self.diagnostic,
            "remote_mta": self.remote_mta,
            "recipient": self.recipient,
            "sender_domain": self.sender_domain,
            "action": self.action,
            "sending_ip": self.sending_ip,
            "recipients": [r.to_json() for r in self.recipients],
        }


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked KB entry with its calibrated score (0..1) and the evidence behind it."""

    entry: Entry
    score: float
    evidence: tuple[str, ...] = ()

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.entry.id,
            "title": self.entry.title.get(lang),
            "reason": self.entry.reason,
            "score": round(self.score, 3),
        }


#: below this best score the answer says "not sure" and shows alternatives
CONFIDENT = 0.45
#: ...and also when the runner-up is this close, unless the best is at least SURE
MARGIN = 0.03
SURE = 0.95
