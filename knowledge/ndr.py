"""Human-readable bounces and pasted fragments: NDR bodies, MTA log lines, library exceptions.

Each format is one rule in FORMATS (name, regex with named groups); the first that matches
gives the diagnostic, and the reply code and status are then read from it. Order matters: the
most specific formats come first, the generic "a line with a reply code" comes last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.replies import find_reply, find_status, fold_multiline, tidy
from knowledge.text import ADDRESS_PATTERN, squash

_F = re.IGNORECASE | re.MULTILINE
#: (name, pattern); groups: diag (required), rcpt, host, ip, cmd, action, code
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, _F))
    for name, rx in (
        ("dsn-field", r"^[ \t]*Diagnostic-Code:\s*(?:[\w-]+\s*;)?\s*(?P<diag>.+)$"),
        ("postfix-log", r"\bto=<(?P<rcpt>[^>]*)>.*?\brelay=(?P<host>[^\[,\s]+)(?:\[(?P<ip>[^\]]+)\])?[^\n]*?"
                        r"\bstatus=(?P<action>bounced|deferred|sent|expired|undeliverable)\s*\((?P<diag>.*)\)\s*$"),
        ("postfix-log-short", r"\bstatus=(?P<action>bounced|deferred|sent|expired)\s*\((?P<diag>.*)\)\s*$"),
        ("host-said", r"host\s+(?P<host>[\w.-]+)\s*\[(?P<ip>[\w.:]+)\]\s+(?:said|refused to talk to me):\s*(?P<diag>.+?)"
                      r"(?:\s*\(in reply to (?P<cmd>[\w ]+?)(?: command)?\))?\s*$"),
        ("exim-after", r"SMTP error from remote (?:mail server|mailer|server) after "
                       r"(?P<cmd>RCPT TO|MAIL FROM|end of data|DATA|initial connection|HELO|EHLO|STARTTLS|AUTH|RCPT|MAIL)"
                       r"(?::?<[^>]*>)?[^:\n]{0,80}?:\s*(?:host:?\s+(?P<host>[\w.-]+)\s*(?:\[(?P<ip>[^\]]+)\])?:?\s*)?(?P<diag>.+)$"),
        ("exim-host", r"^[ \t]*host\s+(?P<host>[\w.-]+)\s*\[(?P<ip>[\w.:]+)\]:?\s*(?P<diag>[245]\d\d\b.+)$"),
        ("qmail-said", r"(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}) does not like recipient\.\s*)?"
                       r"Remote host said:\s*(?P<diag>.+)$"),
        ("exchange-returned", r"Remote Server (?:at [^\n]*? )?returned\s*'?(?P<diag>[^'\n]+)'?"),
        ("exchange-hash", r"#(?P<diag>[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}[^#\n]*?)\s*##"),
        ("gmail-response", r"(?:response from the remote server was|error that the other server returned was|"
                           r"server returned the following error|remote server (?:replied|responded)):?\s*(?P<diag>.+)$"),
        ("transcript", r"^[ \t]*<<<\s*(?P<diag>[45]\d\d\b.+)$"),
        ("rcpt-then-reason", rf"^<(?P<rcpt>{ADDRESS_PATTERN})>:[ \t]*\n\s*(?P<diag>[A-Za-z].{{8,}})$"),
        ("zoho", rf"^[ \t]*(?P<rcpt>{ADDRESS_PATTERN})[ \t]+[\w ]{{0,40}}?,[ \t]*ERROR_CODE[ \t]*:[ \t]*(?P<code>[245]\d\d),"
                 r"[ \t]*ERROR_CODE[ \t]*:[ \t,]*(?P<diag>.+)$"),
        ("sendmail-deferred", rf"^[ \t]*<?(?P<rcpt>{ADDRESS_PATTERN})>?\.\.\.[ \t]*(?P<action>Deferred):[ \t]*"
                              r"(?P<diag>.+)$"),
        ("rcpt-colon-reason", rf"^[ \t]*<?(?P<rcpt>{ADDRESS_PATTERN})>?:[ \t]+(?P<diag>[A-Za-z][^\n]{{8,}})$"),
        ("smtplib", r"\((?P<code>[45]\d\d),\s*b?['\"](?P<diag>[\s\S]+?)['\"]\)"),
        ("phpmailer", r"SMTP (?:ERROR|Error):\s*(?:\w+ command failed:\s*)?(?P<diag>.+)$"),
        ("nodemailer", r"^(?:\w*Error):\s*(?:Invalid login|Message failed|Can't send mail[^:]*|Mail command failed|"
                       r"Data command failed|Recipient command failed):\s*(?P<diag>.+)$"),
        ("javamail", r"(?:SMTP\w*Exception|AuthenticationFailedException|MessagingException)\b[^:\n]*:\s*(?P<diag>.+)$"),
        ("reply-line", r"(?P<diag>(?<![\w.#])[45][0-5]\d:?[ -]+#?[245]\.\d{1,3}\.\d{1,3}\b.*)$"),
        ("bare-reply", r"^[ \t]*(?P<diag>[45][0-5]\d(?:[ -]|: )\D.+)$"),
        ("status-line", r"^[ \t]*(?P<diag>[45]\.\d{1,3}\.\d{1,3}\s+\S.+)$"),
    )
)
_EMAIL = re.compile(rf"<?({ADDRESS_PATTERN})>?")
_RCPT_LINE = re.compile(rf"^[ \t]*<?({ADDRESS_PATTERN})>?[ \t]*[:(]?", re.MULTILINE)
#: the dsn= field of Postfix log lines
_DSN_FIELD = re.compile(r"\bdsn=([245]\.\d{1,3}\.\d{1,3})\b")
#: how NDRs say the failure is final whatever the reply's class (a 4xx given up on is "failed")
_FINAL = re.compile(
    r"\bthis is a permanent (?:error|failure)\b|\bpermanent fatal errors?\b|\bi've given up\b"
    r"|\bno further (?:delivery )?attempts will be made\b|\bfailed permanently\b|\bgiving up on\b",
    re.IGNORECASE,
)
_ACTIONS = {"bounced": "failed", "deferred": "delayed", "sent": "delivered", "expired": "failed",
            "undeliverable": "failed"}


@dataclass(frozen=True, slots=True)
class TextFacts:
    """What a free-text bounce says."""

    fmt: str | None
    diagnostic: str | None
    reply_code: str | None
    status: str | None
    recipient: str | None
    remote_mta: str | None
    remote_ip: str | None
    action: str | None
    command: str | None


def unwrap(text: str) -> str:
    """Join indented continuation lines (Postfix/Exim wrap long diagnostics) to the line above."""
    return re.sub(r"\n[ \t]+(?=\S)", " ", text.replace("\r\n", "\n").replace("\r", "\n"))


_HOST_SAID = re.compile(
    r"^host\s+(?P<host>[\w.-]+)\s*\[(?P<ip>[\w.:]+)\]\s*(?:said:|refused to talk to me:)?:?\s*", re.IGNORECASE
)


def _diag_end(diag: str) -> str:
    diag = _HOST_SAID.sub("", diag.strip())
    diag = re.sub(r"\s*\(in reply to [\w ]+? command\)\s*$", "", diag, flags=re.IGNORECASE)
    return tidy(squash(diag).strip(" '\""))


def read_text(text: str) -> TextFacts:
    """Pull the failure reply and its context out of free text."""
    # exception reprs show line breaks as the two characters backslash-n
    body = unwrap(fold_multiline(text.replace("\\r\\n", "\n").replace("\\n", "\n")))
    for name, rx in FORMATS:
        m = rx.search(body)
        if not m:
            continue
        g = m.groupdict()
        g["diag"] = _with_continuations(g["diag"], body[m.end():])
        inner = _HOST_SAID.match(g["diag"].strip())
        if inner and not g.get("host"):
            g["host"], g["ip"] = inner.group("host"), inner.group("ip")
        diag = _diag_end(g["diag"])
        if name == "phpmailer" and not diag:
            continue
        code, status = find_reply(diag)
        if g.get("code"):
            code = g["code"]
        status = status or find_status(diag)
        if not status and (dsn := _DSN_FIELD.search(body)):
            status = dsn.group(1)
        if name == "bare-reply" and not code:
            continue
        return TextFacts(
            fmt=name,
            diagnostic=diag or None,
            reply_code=code,
            status=status,
            recipient=g.get("rcpt") or first_recipient(body),
            remote_mta=g.get("host"),
            remote_ip=g.get("ip"),
            action=_ACTIONS.get((g.get("action") or "").lower()) or _action_from(code, status, body),
            command=(g.get("cmd") or "").upper().strip() or None,
        )
    code, status = find_reply(body)
    status = status or find_status(body)
    return TextFacts(None, None, code, status, first_recipient(body), None, None, _action_from(code, status, body), None)


_CONT_HEAD = re.compile(r"(?:^|:\s)([245]\d\d)-")


def _with_continuations(diag: str, rest: str) -> str:
    """Append the following "550-..."/"550 ..." lines of a multi-line reply cut by a line break."""
    m = _CONT_HEAD.search(diag)
    if not m:
        return diag
    code, extra = m.group(1), []
    for line in rest.lstrip("\n").splitlines():
        if not re.match(rf"\s*{code}[ -]", line):
            break
        extra.append(line.strip())
        if re.match(rf"\s*{code} ", line):
            break
    return " ".join([diag, *extra])


def _action_from(code: str | None, status: str | None, body: str) -> str | None:
    first = (status or code or " ")[0]
    if first == "4" and _FINAL.search(body):
        return "failed"
    return {"5": "failed", "4": "delayed", "2": "delivered"}.get(first)


def first_recipient(text: str) -> str | None:
    """The first address that stands on a line of its own (how NDRs list failed recipients)."""
    m = _RCPT_LINE.search(text)
    if m:
        return m.group(1)
    m = _EMAIL.search(text)
    return m.group(1) if m else None

