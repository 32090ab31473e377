"""Does a text look like a pasted bounce? Does it carry a secret? Rules in detect.yml.

The bot answers pasted bounces unasked, so a false positive is a bot talking over people in an
incident channel: detection adds weighted signals and needs wording only bounces use, or several
weaker signals together. The parser asks the same question to tell a pasted notice from a chat
question. Secrets are found so the bot can warn and never echo them.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

RULES_FILE = Path(__file__).with_name("detect.yml")
#: only the start of a long paste is scanned: a bounce says what it is in its first lines
SCAN_CHARS = 20_000
_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
_B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{12,200}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True, slots=True)
class Signal:
    """One weighted bounce signal from detect.yml."""

    name: str
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict on one message, with the signals that led to it (for logs and tests)."""

    is_bounce: bool
    score: float
    signals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SecretHit:
    """Where a secret is in the text; `kind` is safe to show, the span is only for redaction."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rules:
    """Compiled detect.yml."""

    threshold: float
    signals: tuple[Signal, ...]
    secrets: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def rules(path: Path = RULES_FILE) -> Rules:
    """Load and compile the rules once per process."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    signals = tuple(
        Signal(s["name"], float(s["weight"]), re.compile(s["pattern"], re.I | re.M)) for s in data["signals"]
    )
    secrets = tuple((s["kind"], re.compile(s["pattern"], re.I | re.M)) for s in data["secrets"])
    return Rules(float(data["threshold"]), signals, secrets)


def normalise(text: str) -> str:
    """Lower-case, fold Polish diacritics and NFKC, so one rule covers 'błąd' and 'blad'."""
    return unicodedata.normalize("NFKC", text[:SCAN_CHARS]).translate(_FOLD).lower()


def detect_bounce(text: str) -> Detection:
    """Score a message (already un-formatted from Slack mrkdwn) against the bounce signals."""
    folded = normalise(text)
    r = rules()
    hits = [s for s in r.signals if s.pattern.search(folded)]
    score = round(sum(s.weight for s in hits), 3)
    return Detection(score >= r.threshold, score, tuple(s.name for s in hits))


def _auth_plain_blob(token: str) -> bool:
    """True when a base64 token decodes to SMTP AUTH PLAIN's `authzid\\0user\\0password`."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    parts = raw.split(b"\0")
    return len(parts) == 3 and all(parts[1:]) and all(32 <= b < 127 for b in raw if b != 0)


def find_secrets(text: str) -> tuple[SecretHit, ...]:
    """Every span that looks like a password, an SMTP AUTH string or an API key."""
    hits = [
        SecretHit(kind, m.start(), m.end())
        for kind, pattern in rules().secrets
        for m in pattern.finditer(text)
    ]
    hits.extend(
        SecretHit("smtp-auth-plain", m.start(), m.end())
        for m in _B64_TOKEN.finditer(text)
        if _auth_plain_blob(m.group(0))
    )
    return tuple(sorted(hits, key=lambda h: h.start))


def redact(text: str, hits: tuple[SecretHit, ...] | None = None) -> str:
    """The text with every secret span replaced by `[redacted]`."""
    hits = find_secrets(text) if hits is None else hits
    out, pos = [], 0
    for hit in hits:
        if hit.end <= pos:
            continue
        out.append(text[pos : max(pos, hit.start)])
        out.append("[redacted]")
        pos = hit.end
    out.append(text[pos:])
    return "".join(out)
