"""MTA-STS checks (RFC 8461): mta-sts.record and mta-sts.policy, with the MX coverage cross-check.

The policy host `mta-sts.<domain>` is resolved through the run's resolver and guarded like every
other address; the HTTPS fetch verifies the certificate for that name, does not follow redirects,
and caps the body at 64 KiB as senders do.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass

from checks._guard import allowed
from checks.context import RunContext, error_finding
from checks.model import Finding, Status
from checks.mta_sts_policy import MAX_AGE_SHORT, Policy, is_record, mx_matches, parse_policy, parse_sts_record

#: how to publish MTA-STS / TLS-RPT
KB = "mta-sts-setup"
#: postfix-mta-sts-resolver and Mail::STS refuse larger policies
MAX_BODY = 64 * 1024
POLICY_PATH = "/.well-known/mta-sts.txt"


@dataclass(frozen=True, slots=True)
class Fetch:
    """What the policy fetch came to: a response, a defect (`fail`) or "could not tell" (`error`)."""

    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    problem: str | None = None
    problem_status: Status = Status.FAIL
    kb: str = KB


async def records(ctx: RunContext) -> tuple[list[str], str | None]:
    """The `v=STSv1` records at `_mta-sts.<domain>`, or the DNS error."""
    answer = await ctx.resolver.query(f"_mta-sts.{ctx.domain}", "TXT")
    if answer.failed:
        return [], answer.error
    return [t for t in answer.texts() if is_record(t, "STSv1")], None


async def check(ctx: RunContext) -> list[Finding]:
    """mta-sts.record, then (when there is one) the policy and its MX coverage."""
    found, error = await records(ctx)
    subject = f"_mta-sts.{ctx.domain}"
    if error:
        return [error_finding("mta-sts.record", subject, "the MTA-STS record", error)]
    status, summary, details = _record(found)
    findings = [Finding("mta-sts.record", status, subject, summary, details, KB)]
    if status in (Status.PASS, Status.WARN):
        findings += await _policy(ctx)
    return findings


def _record(found: list[str]) -> tuple[Status, str, dict[str, object]]:
    if not found:
        return Status.INFO, "no MTA-STS record: senders will not insist on TLS for this domain", {}
    if len(found) > 1:
        summary = f"{len(found)} MTA-STS records: senders treat the domain as having none (RFC 8461 3.1)"
        return Status.FAIL, summary, {"records": found}
    rec = parse_sts_record(found[0])
    if not rec.valid:
        return Status.FAIL, "invalid MTA-STS record: " + "; ".join(rec.errors), {"record": found[0]}
    notes = f" ({'; '.join(rec.warnings)})" if rec.warnings else ""
    return (
        (Status.WARN if rec.warnings else Status.PASS),
        f"MTA-STS record id={rec.tags['id']}{notes}",
        {"record": found[0]},
    )


async def _policy(ctx: RunContext) -> list[Finding]:
    host = f"mta-sts.{ctx.domain}"
    fetched = await fetch(ctx, host)
    if fetched.problem:
        return [Finding("mta-sts.policy", fetched.problem_status, host, fetched.problem, {}, fetched.kb)]
    policy = parse_policy(fetched.body.decode("utf-8", "replace"))
    details = {"mode": policy.mode, "max_age": policy.max_age, "mx": policy.mx, "warnings": policy.warnings}
    if not policy.valid:
        return [
            Finding(
                "mta-sts.policy",
                Status.FAIL,
                host,
                "invalid policy: " + "; ".join(policy.errors),
                details,
                KB,
            )
        ]
    notes = list(policy.warnings)
    status = Status.PASS
    if policy.max_age is not None and policy.max_age < MAX_AGE_SHORT:
        notes.append(f"max_age {policy.max_age} s is short; RFC 8461 suggests weeks (e.g. 604800)")
        status = Status.WARN
    if policy.mode == "testing":
        notes.append("mode testing: failures are only reported, not enforced")
    summary = f"mode {policy.mode}, max_age {policy.max_age}" + (f"; {'; '.join(notes)}" if notes else "")
    return [Finding("mta-sts.policy", status, host, summary, details, KB), await _coverage(ctx, host, policy)]


async def _coverage(ctx: RunContext, host: str, policy: Policy) -> Finding:
    """Cross-check: in enforce mode every MX must match an `mx:` pattern or senders defer mail."""
    info = await ctx.mx()
    if info.answer.failed:
        return error_finding("mta-sts.policy", host, "the MX coverage of the policy", info.answer.error)
    mx_hosts = [h.host for h in info.hosts if not info.null]
    outside = [h for h in mx_hosts if not any(mx_matches(p, h) for p in policy.mx)]
    details = {"mx": mx_hosts, "patterns": policy.mx, "outside": outside}
    if not outside or policy.mode == "none":
        return Finding(
            "mta-sts.policy",
            Status.PASS,
            host,
            "every MX host matches the policy's mx: patterns",
            details,
            KB,
        )
    if policy.mode == "enforce":
        return Finding(
            "mta-sts.policy",
            Status.FAIL,
            host,
            f"mode enforce but MX {', '.join(outside)} not in the policy's mx: patterns: "
            "compliant senders will defer mail to it",
            details,
            KB,
        )
    return Finding(
        "mta-sts.policy",
        Status.WARN,
        host,
        f"MX {', '.join(outside)} not in the policy's mx: patterns (mode testing: reported only)",
        details,
        KB,
    )


async def fetch(ctx: RunContext, host: str) -> Fetch:
    """GET https://<host>/.well-known/mta-sts.txt through our resolver and the private-range guard."""
    addresses, answers = await ctx.resolver.addresses(host)
    if not addresses:
        errors = [a.error for a in answers if a.failed]
        if errors:
            return Fetch(
                problem=f"could not resolve {host}: {errors[0]}",
                problem_status=Status.ERROR,
                kb="dns-lookup-failure",
            )
        return Fetch(problem=f"{host} has no address: the policy cannot be fetched", kb=KB)
    usable, refused = allowed(addresses, ctx.opts.allow_private)
    if not usable:
        return Fetch(problem=f"{host} resolves only to refused addresses ({'; '.join(refused.values())})")
    last = Fetch(problem="no address answered")
    for address in usable:
        last = await _get(ctx, host, address)
        if last.problem_status is not Status.ERROR:
            return last
    return last


@functools.cache
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust store plus `--ca-file`; built once per process (loading the store costs ~30 ms)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def _get(ctx: RunContext, host: str, address: str) -> Fetch:
    timeout = ctx.opts.timeout
    port = ctx.opts.https_port or 443
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port, ssl=_tls_context(ctx.opts.ca_file), server_hostname=host),
            timeout,
        )
    except ssl.SSLCertVerificationError as exc:
        return Fetch(
            problem=f"certificate of {host} is not valid: {exc.verify_message}", kb="tls-certificate-invalid"
        )
    except ssl.SSLError as exc:
        return Fetch(
            problem=f"TLS handshake with {host} ({address}) failed: {exc.reason}", kb="tls-handshake-failed"
        )
    except TimeoutError:
        return Fetch(
            problem=f"{host} ({address}) port {port}: no answer within {timeout:g} s",
            problem_status=Status.ERROR,
            kb="connection-timeout",
        )
    except OSError as exc:
        return Fetch(
            problem=f"cannot connect to {host} ({address}) port {port}: {exc.strerror or exc}",
            kb="connection-refused",
        )
    try:
        request = (
            f"GET {POLICY_PATH} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: smtpbot\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        raw = await asyncio.wait_for(_read(reader), timeout)
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        return Fetch(
            problem=f"reading the policy from {host} failed: {exc or 'timeout'}",
            problem_status=Status.ERROR,
            kb="connection-timeout",
        )
    finally:
        await _close(writer)
    return _response(host, raw)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close and wait for the TLS shutdown, but never longer than a moment."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (TimeoutError, OSError, ssl.SSLError):
        pass


async def _read(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while len(data) <= MAX_BODY + 16384:
        chunk = await reader.read(65536)
        if not chunk:
            break
        data += chunk
    return data


def _response(host: str, raw: bytes) -> Fetch:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return Fetch(problem=f"{host} did not answer with HTTP")
    status = int(parts[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if 300 <= status < 400:
        return Fetch(
            status,
            ctype,
            problem=f"HTTP {status} redirect to {headers.get('location')}: senders "
            "must not follow redirects (RFC 8461 3.3)",
        )
    if status != 200:
        return Fetch(
            status, ctype, problem=f"HTTP {status} for https://{host}{POLICY_PATH}: senders need 200"
        )
    if len(body) > MAX_BODY:
        return Fetch(status, ctype, problem=f"policy larger than {MAX_BODY // 1024} KiB: senders refuse it")
    if ctype != "text/plain":
        return Fetch(
            status,
            ctype,
            problem=f"policy served as {ctype or 'no media type'}, not text/plain "
            "(RFC 8461 3.2): senders refuse it",
        )
    return Fetch(status, ctype, body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out
