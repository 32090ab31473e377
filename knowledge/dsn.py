"""Bounce emails: RFC 5322/MIME messages, RFC 3464 DSNs, RFC 5965 ARF reports, RFC 3834 auto-replies."""

from __future__ import annotations

import email
import email.message
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.policy import compat32

from knowledge import sysexits
from knowledge.replies import STATUS, tidy
from knowledge.text import ADDRESS, squash

_RFC822_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
_IP_IN_RECEIVED = re.compile(r"\[((?:\d{1,3}\.){3}\d{1,3}|IPv6:[0-9a-fA-F:]+)\]")


@dataclass
class DsnRecipient:
    """One per-recipient block of a message/delivery-status part."""

    recipient: str | None
    action: str | None
    status: str | None
    diagnostic: str | None
    remote_mta: str | None


@dataclass
class MessageFacts:
    """What a whole bounce email says, before classification."""

    headers: dict[str, str]
    subject: str = ""
    body: str = ""
    dsn: list[DsnRecipient] = field(default_factory=list)
    reporting_mta: str | None = None
    feedback_type: str | None = None
    feedback_ip: str | None = None
    original_from: str | None = None
    original_ip: str | None = None
    has_dsn: bool = False


def header(msg: email.message.Message, name: str) -> str:
    """A header decoded from RFC 2047 words; broken encodings degrade to the raw text."""
    raw = msg.get(name)
    if raw is None:
        return ""
    try:
        return squash(str(make_header(decode_header(str(raw)))))
    except (UnicodeError, LookupError, ValueError, email.errors.MessageError):
        return squash(str(raw))


def decoded_payload(part: email.message.Message) -> str:
    """Text of a leaf part, with its transfer encoding and charset undone (best effort)."""
    try:
        raw = part.get_payload(decode=True)
    except (ValueError, AssertionError):
        raw = None
    if raw is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    for cs in (charset, "utf-8", "latin-1"):
        try:
            return raw.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("latin-1", "replace")


def _field_blocks(part: email.message.Message) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [b for sub in payload for b in _split_repeated([(k, squash(str(v))) for k, v in sub.items()])]
        if any(blocks):
            return blocks
        payload = ""
    text = payload if isinstance(payload, str) and payload.strip() else decoded_payload(part)
    return text_blocks(text)


def text_blocks(text: str) -> list[dict[str, str]]:
    """Blank-line separated blocks of `Field: value` lines (folded lines joined)."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        fields: list[list[str]] = []
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and fields:
                fields[-1][1] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields.append([key.strip(), value.strip()])
        blocks.extend(_split_repeated([(k, v) for k, v in fields]))
    return blocks


def _split_repeated(fields: list[tuple[str, str]]) -> list[dict[str, str]]:
    """One block per recipient even when the blank line between two groups is missing (real DSNs
    omit it: a field seen again starts the next group, instead of overwriting the first one's)."""
    blocks: list[dict[str, str]] = []
    block: dict[str, str] = {}
    for key, value in fields:
        key = key.lower()
        if key in block:
            blocks.append(block)
            block = {}
        block[key] = value
    if block:
        blocks.append(block)
    return blocks


def _strip_type(value: str | None) -> str | None:
    """'rfc822; a@b' -> 'a@b', 'smtp; 550 ...' -> '550 ...', 'dns; mx.example' -> 'mx.example'."""
    if not value:
        return None
    value = value.strip()
    if ";" in value[:12]:
        value = value.split(";", 1)[1]
    return squash(value).strip("<> ") or None


_DSN_BLOCK = re.compile(
    r"^(?:Reporting-MTA|Final-Recipient|Original-Recipient|Action|Status|Remote-MTA|Diagnostic-Code)\s*:.*(?:\n(?:[ \t].*|"
    r"(?:Reporting-MTA|Final-Recipient|Original-Recipient|Action|Status|Remote-MTA|Diagnostic-Code|[\w-]+-Date|"
    r"X-[\w-]+|Received-From-MTA|Arrival-Date|Will-Retry-Until)\s*:.*|\s*))*",
    re.IGNORECASE | re.MULTILINE,
)


def dsn_in_text(text: str) -> list[DsnRecipient]:
    """DSN fields found in plain text: pasted DSN parts or a DSN whose MIME structure is broken."""
    found = "\n\n".join(m.group(0) for m in _DSN_BLOCK.finditer(text.replace("\r\n", "\n")))
    if not re.search(r"^(?:Status|Action)\s*:", found, re.IGNORECASE | re.MULTILINE):
        return []
    facts = MessageFacts(headers={})
    _read_blocks(text_blocks(found), facts)
    return facts.dsn


def _status(value: str | None) -> str | None:
    """The Status field's code when it is one (RFC 3464: class.subject.detail), else None."""
    m = STATUS.match((value or "").strip())
    return m.group(0) if m else None


def _diagnostic(value: str | None) -> str | None:
    """The Diagnostic-Code's text; a local mailer's bare exit code (X-Unix) said in words."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    if sep and (local := sysexits.describe(kind, rest)):
        return local
    return tidy(_strip_type(value) or "") or None


def _read_dsn(part: email.message.Message, facts: MessageFacts) -> None:
    facts.has_dsn = True
    _read_blocks(_field_blocks(part), facts)


def _read_blocks(blocks: list[dict[str, str]], facts: MessageFacts) -> None:
    for block in blocks:
        if "reporting-mta" in block and not facts.reporting_mta:
            facts.reporting_mta = _strip_type(block["reporting-mta"])
        rcpt = block.get("final-recipient") or block.get("original-recipient")
        if not rcpt and "action" not in block and "status" not in block:
            continue
        facts.dsn.append(
            DsnRecipient(
                recipient=_strip_type(rcpt),
                action=(block.get("action") or "").split()[0].lower() if block.get("action") else None,
                status=_status(block.get("status")),
                diagnostic=_diagnostic(block.get("diagnostic-code")),
                remote_mta=_strip_type(block.get("remote-mta")),
            )
        )


def _read_feedback(part: email.message.Message, facts: MessageFacts) -> None:
    for block in _field_blocks(part):
        facts.feedback_type = facts.feedback_type or block.get("feedback-type", "abuse")
        facts.feedback_ip = facts.feedback_ip or block.get("source-ip")


def _read_original(part: email.message.Message, facts: MessageFacts) -> None:
    if facts.original_from:
        return
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        orig = payload[0]
    else:
        text = payload if isinstance(payload, str) else decoded_payload(part)
        orig = email.message_from_string(text.lstrip("\r\n"), policy=compat32)
    sender = header(orig, "From") or header(orig, "Return-Path") or header(orig, "Sender")
    m = ADDRESS.search(sender)
    if m:
        facts.original_from = m.group(0)
    for received in orig.get_all("Received") or []:
        ip = _IP_IN_RECEIVED.search(str(received))
        if ip:
            facts.original_ip = ip.group(1).removeprefix("IPv6:")
            break


def read_message(raw: bytes) -> MessageFacts:
    """Walk a message's MIME tree once and collect the bounce facts from each part type."""
    msg = email.message_from_bytes(raw, policy=compat32)
    facts = MessageFacts(headers={k.lower(): header(msg, k) for k in set(msg.keys())}, subject=header(msg, "Subject"))
    bodies: list[str] = []
    _walk(msg, facts, bodies, inside_original=False)
    facts.body = "\n".join(bodies)
    if not facts.body.strip() and not facts.has_dsn:  # broken MIME: read the raw body
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        facts.body = text.partition("\n\n")[2]
    return facts


def _walk(part: email.message.Message, facts: MessageFacts, bodies: list[str], inside_original: bool) -> None:
    ctype = part.get_content_type()
    if ctype == "message/delivery-status" or ctype == "message/global-delivery-status":
        _read_dsn(part, facts)
        return
    if ctype == "message/feedback-report":
        _read_feedback(part, facts)
        return
    if ctype in _RFC822_TYPES or ctype == "message/global":
        _read_original(part, facts)
        return
    payload = part.get_payload()
    if part.is_multipart() and isinstance(payload, list):
        for sub in payload:
            _walk(sub, facts, bodies, inside_original)
        return
    if part.is_multipart():  # boundary missing or wrong: read the body as text
        bodies.append(payload if isinstance(payload, str) else "")
        return
    if ctype.startswith("text/") and not inside_original:
        text = decoded_payload(part)
        if ctype == "text/html":
            text = re.sub(r"<[^<>]{0,1000}>", " ", text)
        bodies.append(text)
