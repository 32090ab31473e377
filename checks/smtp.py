"""SMTP probes of MX and submission servers (RFC 5321, RFC 3207 STARTTLS, RFC 8314 ports, RFC 4954 AUTH).

One conversation per address and port, the way `openssl s_client -starttls smtp` or `swaks`
would hold it: connect, wait for the whole greeting, EHLO, STARTTLS, EHLO again, then QUIT.
Nothing is ever pipelined, no credential is ever sent and no message is ever submitted.
When the certificate does not verify, a second, lenient conversation reads it, so the
findings still say what is wrong with it.

The engine calls `probe_mx` per MX address and `probe_server` per server target, with addresses
it has already resolved and passed through the private-range guard (nothing here resolves a
name). To share the per-address connection limit across all probes of one run, it enters
`with run_limits():` around the run (a contextvar, so concurrent runs in one bot process never
share slots); without it each probe call limits only its own connections. Each probe ends
within `PROBE_BUDGET_TIMEOUTS` x `opts.timeout`, keeping what it learned before the budget ran out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from checks import tls
from checks._smtpio import ConnectFailure, SmtpConnection, current_limiter, run_limits
from checks._smtpsession import SLOW_GREETING_S, Mode, Session, Target, parse_ehlo
from checks.model import CheckOptions, Finding, Status

__all__ = ["Mode", "PROBE_BUDGET_TIMEOUTS", "SLOW_GREETING_S", "SUBMISSION_PORTS", "Target", "parse_ehlo",
           "probe_mx", "probe_port", "probe_ports", "probe_server", "run_limits"]


#: one address and port may take this many --timeout periods in all (both conversations):
#: a server answering every step just before its timeout must not hold the run's deadline
#: (the engine's default deadline is 8 timeouts and DNS comes first)
PROBE_BUDGET_TIMEOUTS = 5
#: the ports a server target without a port is tried on, in the order RFC 8314 prefers them
SUBMISSION_PORTS: tuple[tuple[int, Mode], ...] = ((587, Mode.STARTTLS), (465, Mode.IMPLICIT), (25, Mode.STARTTLS))


async def probe_mx(host: str, address: str, opts: CheckOptions) -> list[Finding]:
    """Probe one MX address on port 25 (or `opts.smtp_port`); TLS there is opportunistic."""
    port = opts.smtp_port or 25
    mode = Mode.IMPLICIT if port == 465 else Mode.STARTTLS
    return await probe_port(Target(host, address, port, mode, strict=False), opts)


async def probe_server(host: str, addresses: list[str], port: int | None, opts: CheckOptions) -> list[Finding]:
    """Probe a server target on `port`, or on 587, 465 and 25 with an `smtp.ports` summary."""
    if port is None:
        return await probe_ports(host, addresses, SUBMISSION_PORTS, opts)
    mode = Mode.IMPLICIT if port == 465 else Mode.STARTTLS
    runs = [probe_port(Target(host, a, port, mode, strict=port != 25), opts) for a in addresses]
    return [f for found in await asyncio.gather(*runs) for f in found]


async def probe_ports(host: str, addresses: list[str], ports: tuple[tuple[int, Mode], ...],
                      opts: CheckOptions) -> list[Finding]:
    """Try every (port, mode) on every address at once and say which ports work (`smtp.ports`).

    All but the last entry are submission ports (587, 465: strict), the last is port 25, the
    order of `SUBMISSION_PORTS`; tests pass loopback ports in the same roles.
    """
    targets = [Target(host, a, p, m, strict=i < len(ports) - 1)
               for a in addresses for i, (p, m) in enumerate(ports)]
    results = await asyncio.gather(*(probe_port(t, opts) for t in targets))
    out: list[Finding] = []
    for address in addresses:
        per_port = [(t, r) for t, r in zip(targets, results, strict=True) if t.address == address]
        working = [t for t, found in per_port if _works(found)]
        for t, found in per_port:
            out += [_calm(f) if working and t not in working else f for f in found]
        out.append(_ports_summary(host, address, [t for t, _ in per_port], working))
    return out


def _works(found: list[Finding]) -> bool:
    return any(f.check == "smtp.banner" and f.status in (Status.PASS, Status.INFO) for f in found)


def _calm(f: Finding) -> Finding:
    """A closed 465 is normal when 587 works: its connect failure becomes information."""
    return replace(f, status=Status.INFO) if f.check == "smtp.connect" else f


def _ports_summary(host: str, address: str, tried: list[Target], working: list[Target]) -> Finding:
    subject = address if host == address else f"{host} [{address}]"
    label = {t.port: f"{t.port} ({'implicit TLS' if t.mode is Mode.IMPLICIT else 'STARTTLS'})" for t in tried}
    details = {"tried": [t.port for t in tried], "working": [t.port for t in working]}
    ok = ", ".join(label[t.port] for t in working)
    if any(t.strict for t in working):
        return Finding("smtp.ports", Status.PASS, subject, f"submission works on {ok}", details, "smtp-ports")
    if working:
        return Finding("smtp.ports", Status.WARN, subject,
                       f"only {ok} answers: mail clients should submit on 587 or 465 (RFC 8314); "
                       "port 25 is blocked by many ISPs", details, "smtp-ports")
    return Finding("smtp.ports", Status.FAIL, subject,
                   f"no SMTP service on {', '.join(label.values())}", details, "smtp-ports")


async def probe_port(target: Target, opts: CheckOptions) -> list[Finding]:
    """Every finding for one address and port, inside the run's per-address connection limit."""
    out: list[Finding] = []
    deadline = time.monotonic() + PROBE_BUDGET_TIMEOUTS * opts.timeout  # waiting for a slot counts too
    async with current_limiter().slot(target.address):
        verify_error = await _conversation(target, opts, out, deadline, verify=True)
        if verify_error is not None:
            # the chain did not verify and the handshake died with it: read the certificate
            # (and finish the checks behind TLS) over a second, non-verifying conversation
            second: list[Finding] = []
            await _conversation(target, opts, second, deadline, verify=False, verify_error=verify_error)
            seen = {f.check for f in out}
            out += [f for f in second if f.check not in seen]
            if not any(f.check == "tls.cert-valid" for f in out):  # the second conversation failed early
                out.append(_unread_chain(target, verify_error))
    return out


def _unread_chain(t: Target, verify_error: str) -> Finding:
    status = Status.FAIL if t.strict else Status.WARN
    return Finding("tls.cert-valid", status, t.subject,
                   f"certificate not trusted: {verify_error} (a second connection to read it failed)",
                   {"verify_error": verify_error}, "tls-certificate-invalid")


async def _conversation(t: Target, opts: CheckOptions, out: list[Finding], deadline: float, verify: bool,
                        verify_error: str | None = None) -> str | None:
    """Hold one SMTP conversation, appending findings; returns the chain error to retry on."""
    try:
        context = tls.client_context(opts.ca_file, verify)
    except (OSError, ValueError) as exc:  # say so, and go on trusting the system store only
        out.append(Finding("tls.cert-valid", Status.ERROR, t.subject, f"cannot load --ca-file: {exc}",
                           {"ca_file": opts.ca_file}, "tls-certificate-invalid"))
        context = tls.client_context(None, verify)
    conn = await SmtpConnection.open(t.address, t.port, opts.timeout, deadline)
    out.append(_connect_finding(t, conn))
    if isinstance(conn, ConnectFailure):
        return None
    session = Session(t, opts, conn, out, context, verify_error)
    try:
        retry = await session.run()
    except BaseException:  # cancelled by the run's deadline (or a bug): drop the socket, do not linger
        conn.abort()
        raise
    await conn.close(quit_first=session.usable)
    return retry


def _connect_finding(t: Target, conn: SmtpConnection | ConnectFailure) -> Finding:
    """`smtp.connect`: refused (fail), timed out or unreachable (error: could not check)."""
    if not isinstance(conn, ConnectFailure):
        return Finding("smtp.connect", Status.PASS, t.subject, "TCP connection opened", {}, "smtp-ports")
    details = {"reason": conn.reason, "error": conn.message, "elapsed_ms": conn.elapsed_ms}
    if conn.reason == "refused":
        return Finding("smtp.connect", Status.FAIL, t.subject, f"connection refused on port {t.port}: "
                       "nothing listens there, or a firewall rejects", details, "connection-refused")
    kb = "port-25-blocked" if t.port == 25 and conn.reason == "timeout" else "connection-timeout"
    why = {"timeout": f"timed out after {conn.elapsed_ms / 1000:.1f} s (a firewall drops the packets, "
                      f"or outbound port {t.port} is blocked on our side)",
           "unreachable": f"network unreachable ({conn.message})"}.get(conn.reason, conn.message)
    return Finding("smtp.connect", Status.ERROR, t.subject, f"could not connect: {why}", details, kb)


