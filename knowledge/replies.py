"""SMTP reply vocabulary in free text: reply codes, enhanced status codes, folded multi-line replies."""

from __future__ import annotations

import re

#: enhanced status code (RFC 3463); not part of an IP address or version number
STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
#: a reply code with its enhanced status: "550 5.1.1", "550-5.7.26", "#550 5.1.1", "550 #5.1.1"
REPLY_STATUS = re.compile(r"(?<![\w.#])#?([245][0-5]\d)[ -]+['\"#]?([245]\.\d{1,3}\.\d{1,3})(?![\w]|\.\d)")
#: a bare reply code where replies stand: line start, after "said:", "smtp;", "<<<", "(", quotes...
#: ("550: text" takes a colon only before a space, so the groups of an IPv6 address are no reply)
REPLY_BARE = re.compile(
    r"(?:^|said:|returned|smtp;|error:|response:|<<<|[(\'\"]|\bcode:?|:)[ \t]*#?([245][0-5]\d)"
    r"(?=[\s,\')-]+\S|:[ \t]+\S)(?!:[0-9a-f])",
    re.MULTILINE | re.IGNORECASE,
)
#: line of a multi-line reply: "550-5.7.26 first part" / "550 5.7.26 last part"
_MULTI = re.compile(r"^[ \t]*([245]\d\d)([ -])(?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)$")


def fold_multiline(text: str) -> str:
    """Join RFC 5321 continuation lines ("550-5.7.26 a" / "550 5.7.26 b") into one reply line."""
    out: list[str] = []
    pending: tuple[str, str | None, list[str]] | None = None
    for line in text.splitlines():
        m = _MULTI.match(line)
        if pending and m and m.group(1) == pending[0]:
            pending[2].append(m.group(4).strip())
            if m.group(2) == " ":
                out.append(_join(pending))
                pending = None
            continue
        if pending:
            out.append(_join(pending))
            pending = None
        if m and m.group(2) == "-":
            pending = (m.group(1), m.group(3), [m.group(4).strip()])
            continue
        out.append(line)
    if pending:
        out.append(_join(pending))
    return "\n".join(out)


def _join(p: tuple[str, str | None, list[str]]) -> str:
    code, status, parts = p
    head = f"{code} {status} " if status else f"{code} "
    return head + " ".join(x for x in parts if x)


def find_status(text: str) -> str | None:
    """First enhanced status code in the text, preferring failures (4/5) over success (2)."""
    found = [m.group(0) for m in STATUS.finditer(text)]
    for s in found:
        if s[0] in "45":
            return s
    return found[0] if found else None


def find_reply(text: str) -> tuple[str | None, str | None]:
    """First failure reply in the text as (reply code, enhanced status); success replies last."""
    fallback: tuple[str | None, str | None] = (None, None)
    for m in REPLY_STATUS.finditer(text):
        if m.group(1)[0] in "45":
            return m.group(1), m.group(2)
        fallback = fallback if fallback[0] else (m.group(1), m.group(2))
    for m in REPLY_BARE.finditer(text):
        if m.group(1)[0] in "45":
            return m.group(1), None
        fallback = fallback if fallback[0] else (m.group(1), None)
    return fallback


_CODE_HEAD = re.compile(r"([245]\d\d)[ -](?=\D)()")
_INLINE_PREFIX = re.compile(r"\s(?P<code>[245]\d\d)[ -](?:(?P<status>[245]\.\d{1,3}\.\d{1,3})\s)?")


def tidy(diag: str) -> str:
    """Drop the repeated "550-5.7.26" prefixes that folding a multi-line reply leaves inside the text."""
    head = REPLY_STATUS.match(diag.strip()) or _CODE_HEAD.match(diag.strip())
    if not head:
        return diag
    code, status = head.group(1), head.group(2)

    def drop(m: re.Match[str]) -> str:
        same = m.group("code") == code and (m.group("status") in (None, status))
        return " " if same else m.group(0)

    rest = " " + diag.strip()[head.end():]
    for _ in range(3):  # adjacent prefixes overlap; each pass removes every other one
        rest = _INLINE_PREFIX.sub(drop, rest)
    text = f"{code} {status}{rest}" if status else f"{code}{rest}"
    return re.sub(r"\s{2,}", " ", text).strip()

#: how MTAs say which SMTP command a reply answered (Postfix, Exim, Sendmail transcripts, qmail,
#: DragonFly's "did not like our RCPT TO", gateways' "----SMTP command" section)
_COMMAND = re.compile(
    r"in reply to (?P<a>rcpt to|mail from|end of data|data|helo|ehlo|starttls|auth)\b"
    r"|smtp error from remote (?:mail server|mailer|server) after (?P<b>rcpt to|mail from|end of data|data|helo|ehlo|"
    r"initial connection|starttls)\b"
    r"|^[ \t]*>>>[ \t]*(?P<c>rcpt to|mail from|data|helo|ehlo|starttls|auth)\b"
    r"|\bmost progress was (?P<d>rcpt to|mail from|data|helo|ehlo)\b"
    r"|\b(?P<e>rcpt to|mail from|data)\s+command failed"
    r"|\bdid not like our (?P<f>rcpt to|mail from|data)\b"
    r"|(?:^[ \t]*|-)smtp command\s*:?[ \t]*\n?[ \t]*(?P<g>rcpt to|mail from|rcpt|mail|data|helo|ehlo|starttls|auth)\b",
    re.IGNORECASE | re.MULTILINE,
)
_COMMAND_NAMES = {"rcpt to": "RCPT", "mail from": "MAIL", "end of data": "DATA", "data": "DATA", "helo": "HELO",
                  "ehlo": "EHLO", "starttls": "STARTTLS", "auth": "AUTH", "initial connection": "CONN",
                  "rcpt": "RCPT", "mail": "MAIL"}


def find_command(text: str) -> str | None:
    """The SMTP command the failure answered, when the bounce says (last one in a transcript)."""
    found = None
    for m in _COMMAND.finditer(text):
        word = next(g for g in m.groups() if g)
        found = _COMMAND_NAMES[" ".join(word.lower().split())]
        if m.group("c") is None:
            return found
    return found
