"""The steps of one SMTP conversation (RFC 5321, RFC 3207, RFC 4954), each turning replies into findings.

`checks/smtp.py` decides what to probe and holds the conversation; this module is the
conversation itself: greeting, EHLO/HELO, STARTTLS or implicit TLS, the AUTH offer, and the
opt-in relay question. Every step appends its finding and says whether the session goes on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum

from checks import relay, tls
from checks._smtpio import SmtpConnection, SmtpIOError
from checks.model import CheckOptions, Finding, Status
from checks.target import is_ip


class Mode(StrEnum):
    """How TLS starts on a port."""

    #: plain SMTP, upgraded by the STARTTLS command (RFC 3207): ports 25 and 587
    STARTTLS = "starttls"
    #: TLS from the first byte (RFC 8314 §3.3): port 465
    IMPLICIT = "implicit"


#: a greeting slower than this is reported (postscreen/greet_pause delay on purpose; RFC 5321
#: §4.5.3.2 lets senders wait 5 minutes, so it is information, not a defect)
SLOW_GREETING_S = 2.0
#: mechanisms that carry the password itself (RFC 4616 PLAIN, draft LOGIN)
CLEARTEXT_MECHS = frozenset({"PLAIN", "LOGIN"})

#: the machine's FQDN once looked up (a fact about the host, not run state)
_fqdn: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """One address and port of a host, how TLS starts there, and whether clients verify TLS."""

    host: str
    address: str
    port: int
    mode: Mode = Mode.STARTTLS
    #: submission ports: clients verify certificates and must not send passwords in clear
    strict: bool = False

    @property
    def subject(self) -> str:
        addr = f"[{self.address}]:{self.port}"
        return addr if self.host == self.address else f"{self.host} {addr}"


async def default_ehlo_name(timeout: float) -> str:
    """`SMTPBOT_EHLO_NAME` (operator setting), else the machine's FQDN, looked up once per process.

    `socket.getfqdn` may ask the system resolver and block, so it runs off the loop, bounded.
    """
    global _fqdn
    if configured := os.environ.get("SMTPBOT_EHLO_NAME", "").strip():
        return configured
    if _fqdn is None:
        try:
            _fqdn = await asyncio.wait_for(asyncio.to_thread(socket.getfqdn), timeout)
        except TimeoutError:
            return socket.gethostname()
    return _fqdn


def ascii_name(name: str) -> str:
    """The EHLO argument in ASCII (RFC 5321 §4.1.1.1): IDNA A-labels, or the address literal
    of no one (`[127.0.0.1]`) when the name cannot be encoded."""
    name = "".join(name.split())
    try:
        return name.encode("ascii").decode() if name.isascii() else name.encode("idna").decode()
    except UnicodeError:
        return "[127.0.0.1]"


def parse_ehlo(lines: tuple[str, ...]) -> dict[str, str]:
    """EHLO extension keywords (upper case) to their parameters; `AUTH=X Y` counts as AUTH."""
    caps: dict[str, str] = {}
    for line in lines[1:]:
        word, _, params = line.strip().partition(" ")
        word = word.upper()
        if word.startswith("AUTH="):
            word, params = "AUTH", f"{word[5:]} {params}"
        if word == "AUTH":
            params = " ".join(dict.fromkeys(f"{caps.get('AUTH', '')} {params}".upper().split()))
        if word:
            caps[word] = params
    return caps


class Session:
    """The steps of one conversation; each appends its findings and says whether to go on."""

    def __init__(self, t: Target, opts: CheckOptions, conn: SmtpConnection, out: list[Finding],
                 context: ssl.SSLContext, verify_error: str | None) -> None:
        self.t, self.opts, self.conn, self.out, self.context = t, opts, conn, out, context
        #: set on the lenient second conversation: why the chain failed the first time
        self.verify_error = verify_error
        #: set when the verifying handshake failed on the chain: the caller retries leniently
        self.retry: str | None = None
        self.usable = True
        self.caps: dict[str, str] = {}
        self.tls_findings: list[Finding] = []

    def add(self, check: str, status: Status, summary: str, details: dict[str, object], kb: str) -> None:
        self.out.append(Finding(check, status, self.t.subject, summary, details, kb))

    def io_error(self, check: str, exc: SmtpIOError, kb: str = "connection-timeout") -> bool:
        """Record a step that could not finish; timeouts and hang-ups are `error`, garbage `fail`."""
        self.usable = exc.kind == "garbage"
        if exc.kind == "closed":
            kb = "service-unavailable"
        status = Status.FAIL if exc.kind in ("garbage", "tls") else Status.ERROR
        self.add(check, status, exc.message, {"error": exc.kind}, kb)
        return False

    async def run(self) -> str | None:
        """connect → [TLS] → greeting → EHLO → [STARTTLS → EHLO] → AUTH → [relay]; QUIT is the caller's."""
        implicit = self.t.mode is Mode.IMPLICIT
        if implicit and not await self.implicit_tls():
            return self.retry
        if not (await self.banner() and await self.ehlo()):
            return None
        if implicit:
            self.add("smtp.auth-plaintext", Status.PASS, "implicit TLS: AUTH is never offered in clear",
                     {"mechanisms": self.mechanisms()}, "smtp-auth-methods")
        else:
            self.auth_plaintext()
            if not await self.starttls():
                return self.retry
        self.auth_mechanisms()
        if self.opts.relay_test:
            self.out.append(await relay.open_relay(self.conn, self.t.subject, self.t.host))
        return None

    async def handshake(self, check: str) -> tls.TlsSession | None:
        """TLS on the connection; records version and certificate findings when it succeeds."""
        server_name = None if is_ip(self.t.host) else self.t.host
        try:
            await self.conn.start_tls(self.context, server_name)
        except ssl.SSLCertVerificationError as exc:
            self.usable, self.retry = False, exc.verify_message or str(exc)
            return None
        except SmtpIOError as exc:
            if "WRONG_VERSION_NUMBER" in exc.message and self.t.mode is Mode.IMPLICIT:
                exc = SmtpIOError(exc.kind, exc.message + " (the port answers in plain text: use STARTTLS)")
            self.io_error(check, exc, "tls-handshake-failed")
            return None
        assert self.conn.tls is not None
        s = tls.session_of(self.conn.tls, verified=self.verify_error is None, verify_error=self.verify_error)
        # recorded after the step's own finding (smtp.starttls / smtp.implicit-tls), in reading order
        self.tls_findings = [tls.version_finding(self.t.subject, s),
                             *tls.cert_findings(self.t.subject, self.t.host, s, strict=self.t.strict)]
        return s

    async def implicit_tls(self) -> bool:
        s = await self.handshake("smtp.implicit-tls")
        if s is not None:
            self.add("smtp.implicit-tls", Status.PASS, f"implicit TLS handshake succeeded ({s.protocol})",
                     {"protocol": s.protocol, "cipher": s.cipher}, "smtp-ports")
            self.out += self.tls_findings
        return s is not None

    async def banner(self) -> bool:
        """`smtp.banner`: wait for the whole 220 greeting (never talk first), and time it."""
        start = time.monotonic()
        try:
            reply = await self.conn.read_reply()
        except SmtpIOError as exc:
            if exc.kind == "timeout":
                exc = SmtpIOError("timeout", f"no greeting ({exc.message}): a silent server, "
                                  "or a greeting delay longer than --timeout")
            return self.io_error("smtp.banner", exc)
        delay = time.monotonic() - start
        details = {"reply": str(reply), "delay_ms": int(delay * 1000)}
        if reply.code != 220:
            self.add("smtp.banner", Status.FAIL, f"server refuses service: {reply}", details, "service-unavailable")
            return False
        if delay >= SLOW_GREETING_S:
            self.add("smtp.banner", Status.INFO, f"greeting after {delay:.1f} s (a deliberate greet pause?): "
                     f"{reply}", details, "connection-timeout")
        else:
            self.add("smtp.banner", Status.PASS, f"greeting: {reply}", details, "diagnostic-tools")
        return True

    async def ehlo_name(self) -> str:
        return ascii_name(self.opts.ehlo_name or await default_ehlo_name(self.opts.timeout))

    async def ehlo(self) -> bool:
        """`smtp.ehlo`: the extensions on offer; a server refusing EHLO is tried with HELO."""
        name = await self.ehlo_name()
        try:
            reply = await self.conn.command(f"EHLO {name}")
            if reply.code == 250:
                self.caps = parse_ehlo(reply.lines)
                self.add("smtp.ehlo", Status.PASS, f"EHLO accepted; extensions: {', '.join(self.caps) or 'none'}",
                         {"ehlo_name": name, "extensions": self.caps}, "diagnostic-tools")
                return True
            helo = await self.conn.command(f"HELO {name}")
        except SmtpIOError as exc:
            return self.io_error("smtp.ehlo", exc)
        details = {"ehlo_name": name, "ehlo_reply": str(reply), "helo_reply": str(helo)}
        if helo.code == 250:
            self.add("smtp.ehlo", Status.WARN, f"EHLO refused ({reply}); HELO works, so no ESMTP extensions "
                     "and no STARTTLS", details, "smtp-security-practices")
            return True
        self.add("smtp.ehlo", Status.FAIL, f"EHLO and HELO refused: {reply}", details, "smtp-security-practices")
        return False

    def mechanisms(self) -> list[str]:
        return self.caps.get("AUTH", "").upper().split()

    def auth_plaintext(self) -> None:
        """`smtp.auth-plaintext`: AUTH PLAIN/LOGIN before STARTTLS invites passwords in clear (RFC 4954 §4)."""
        mechs = self.mechanisms()
        clear = sorted(CLEARTEXT_MECHS.intersection(mechs))
        details = {"mechanisms": mechs, "starttls": "STARTTLS" in self.caps}
        if not mechs:
            self.add("smtp.auth-plaintext", Status.PASS, "no AUTH offered before TLS", details, "smtp-auth-methods")
        elif clear and "STARTTLS" not in self.caps:
            self.add("smtp.auth-plaintext", Status.FAIL, f"AUTH {' '.join(clear)} offered and no STARTTLS: "
                     "passwords can only travel in clear", details, "smtp-auth-methods")
        elif clear:
            self.add("smtp.auth-plaintext", Status.WARN, f"AUTH {' '.join(clear)} offered before STARTTLS: "
                     "a client may send its password in clear", details, "smtp-auth-methods")
        else:
            self.add("smtp.auth-plaintext", Status.INFO, f"AUTH {' '.join(mechs)} offered before TLS "
                     "(no cleartext mechanism)", details, "smtp-auth-methods")

    async def starttls(self) -> bool:
        """`smtp.starttls` (RFC 3207): offered, 220, handshake, EHLO again. True: the session goes on."""
        strict = self.t.strict
        if "STARTTLS" not in self.caps:
            self.add("smtp.starttls", Status.FAIL if strict else Status.WARN,
                     "STARTTLS not offered: " + ("passwords and mail travel in clear" if strict
                                                 else "mail to this server travels in clear"),
                     {"extensions": list(self.caps)}, "starttls-required")
            return True
        try:
            reply = await self.conn.command("STARTTLS")
        except SmtpIOError as exc:
            return self.io_error("smtp.starttls", exc, "tls-handshake-failed")
        if reply.code != 220:
            self.add("smtp.starttls", Status.FAIL, f"STARTTLS offered but refused: {reply}",
                     {"reply": str(reply)}, "starttls-required")
            return True
        s = await self.handshake("smtp.starttls")
        if s is None:
            return False
        try:  # RFC 3207 §4.2: forget what was learned in clear and ask again
            again = await self.conn.command(f"EHLO {await self.ehlo_name()}")
        except SmtpIOError as exc:
            self.io_error("smtp.starttls", exc, "tls-handshake-failed")
            self.out += self.tls_findings
            return False
        details = {"protocol": s.protocol, "ehlo_after_tls": str(again)}
        if again.code != 250:
            self.add("smtp.starttls", Status.FAIL, f"TLS up, but EHLO over TLS refused: {again}", details,
                     "tls-handshake-failed")
        else:
            self.caps = parse_ehlo(again.lines)
            self.add("smtp.starttls", Status.PASS, f"STARTTLS offered, handshake succeeded ({s.protocol})",
                     details, "starttls-required")
        self.out += self.tls_findings
        return again.code == 250

    def auth_mechanisms(self) -> None:
        """`smtp.auth-mechanisms` (info): what a client may log in with, once TLS is up."""
        mechs = self.mechanisms()
        where = "over TLS" if self.conn.tls else "without TLS"
        details = {"mechanisms": mechs, "tls": self.conn.tls is not None}
        if not mechs:
            note = "" if not self.t.strict else ": clients cannot log in here"
            self.add("smtp.auth-mechanisms", Status.INFO, f"no AUTH offered {where}{note}", details,
                     "smtp-auth-methods")
            return
        note = "" if self.t.strict else " (AUTH on an MX's port 25 is unusual)"
        if self.conn.tls and CLEARTEXT_MECHS.intersection(mechs):
            note += "; PLAIN/LOGIN only over TLS is fine"
        self.add("smtp.auth-mechanisms", Status.INFO, f"AUTH {where}: {' '.join(mechs)}{note}", details,
                 "smtp-auth-methods")


