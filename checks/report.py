"""The check engine: run every area of a target concurrently under one deadline, report as areas finish.

`run_check` is what the CLI and the Slack bot call. Areas run as independent asyncio tasks that
share one resolver (and its cache); each area's findings go to `progress` the moment it finishes,
and an area still running at the deadline becomes an `error` finding instead of holding the rest.

Target kinds: a mail domain (`example.com`), a server (`host:port`, or a bare host name that has
an address but no MX, no SPF record and is not a registered domain, such as `smtp.example.com`:
users naming a server want it probed, not graded as a mail domain) or an IP address.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Awaitable, Callable

from checks import dkim, dmarc, dnsbl, dnsinfo, mta_sts, mx, ptr, spf_lint, tls_rpt
from checks._guard import allowed
from checks.context import MxHost, MxInfo, RunContext, error_finding
from checks.dmarc import organizational_domain
from checks.errors import TargetError
from checks.model import CheckOptions, Finding, Report, Status
from checks.spf_record import select
from checks.target import Target, is_ip, parse_target

__all__ = ["AREAS", "area_of", "parse_target", "run_check"]

AREAS = ("mx", "spf", "dmarc", "dkim", "mta-sts", "tls-rpt", "ptr", "dnsbl", "dns", "smtp", "tls")
#: check-id prefixes whose area is named differently
_AREA_OF_PREFIX = {"dnssec": "dns", "dane": "dns", "bimi": "dns", "relay": "smtp"}
#: the check id that carries "this area did not finish in time"
_DEADLINE_CHECK = {
    "mx": "mx.present",
    "spf": "spf.present",
    "dmarc": "dmarc.present",
    "dkim": "dkim.key",
    "mta-sts": "mta-sts.record",
    "tls-rpt": "tls-rpt.record",
    "ptr": "ptr.match",
    "dnsbl": "dnsbl.listed",
    "dns": "dnssec.ad",
    "smtp": "smtp.connect",
    "tls": "tls.cert-valid",
}
#: MX hosts we look at per domain (each costs PTR, DNSBL and SMTP work per address)
MAX_MX_HOSTS = 10
#: addresses probed (and checked for PTR/DNSBL) per host: a name with hundreds of A records must not
#: turn one chat command into hundreds of connections to a third party
MAX_ADDRESSES_PER_HOST = 4

Progress = Callable[[str, list[Finding]], None]
Job = tuple[tuple[str, ...], Awaitable[list[Finding]]]


def area_of(check: str) -> str:
    prefix = check.split(".", 1)[0]
    return _AREA_OF_PREFIX.get(prefix, prefix if prefix in AREAS else "dns")


def deadline_of(opts: CheckOptions) -> float:
    """The whole run's budget: explicit, or room for a few dependent network steps."""
    return opts.deadline if opts.deadline is not None else max(10.0, 8 * opts.timeout)


async def run_check(target: str, opts: CheckOptions, progress: Progress | None = None) -> Report:
    """Check `target` and return every finding, in area order.

    Args:
        target: what the user typed: `example.com`, `mx.example.com:25`, `192.0.2.1`.
        opts: run settings (resolvers, timeouts, guard, selectors, DNSBL zones, SMTP port).
        progress: called as `progress(area, findings)` when an area finishes.

    Raises:
        TargetError: the target is malformed or refused (before any traffic), or a server
            target resolves only to refused addresses.
    """
    started = time.monotonic()
    tgt = parse_target(target, opts)
    ctx = RunContext(opts, tgt.host)
    try:
        if tgt.kind == "domain" and await _is_server_name(ctx):
            tgt = Target(tgt.text, "server", tgt.host, None)
        with _connection_limits():  # one per-address connection limit shared by this run's probes
            jobs = await _jobs(ctx, tgt)
            findings = await _run(jobs, deadline_of(opts) - (time.monotonic() - started), progress)
    finally:
        ctx.close()
    order = {a: i for i, a in enumerate(AREAS)}
    findings.sort(key=lambda f: order.get(area_of(f.check), len(AREAS)))
    name = f"{tgt.host}:{tgt.port}" if tgt.port else tgt.host
    return Report(name, tgt.kind, int((time.monotonic() - started) * 1000), tuple(findings))


async def _is_server_name(ctx: RunContext) -> bool:
    if organizational_domain(ctx.domain) == ctx.domain:
        return False
    info, txt = await asyncio.gather(ctx.mx(), ctx.resolver.query(ctx.domain, "TXT"))
    if info.answer.failed or info.answer.ok or txt.failed or select(txt.texts()):
        return False
    return bool(info.implicit)


async def _jobs(ctx: RunContext, tgt: Target) -> list[Job]:
    if tgt.kind == "domain":
        jobs: list[Job] = [
            (("mx",), mx.check(ctx)),
            (("spf",), spf_lint.check(ctx)),
            (("dmarc",), dmarc.check(ctx)),
            (("dkim",), dkim.check(ctx)),
            (("mta-sts",), _unless_null(ctx, mta_sts.check)),
            (("tls-rpt",), _unless_null(ctx, tls_rpt.check)),
            (("ptr",), _per_mx(ctx, _ptr)),
            (("dnsbl",), _per_mx(ctx, _dnsbl, probe_only=True)),
            (("dns",), dnsinfo.check(ctx)),
        ]
        if ctx.opts.smtp:
            jobs.append((("smtp", "tls"), _smtp_domain(ctx)))
        return jobs
    addresses = [tgt.host] if tgt.kind == "ip" else await _server_addresses(ctx, tgt)
    if isinstance(addresses, Finding):
        return [(("mx",), _value([addresses]))]
    host = None if tgt.kind == "ip" else tgt.host
    ptr_job = asyncio.ensure_future(_gather(*(ptr.check(ctx.resolver, a, host) for a in addresses)))
    jobs = [
        (("ptr",), ptr_job),
        (("dnsbl",), _gather(*(dnsbl.check(ctx.resolver, ctx.opts, a, host) for a in addresses))),
    ]
    if ctx.opts.smtp:
        jobs.append((("smtp", "tls"), _smtp_server(ctx, tgt, addresses, ptr_job)))
    return jobs


async def _server_addresses(ctx: RunContext, tgt: Target) -> list[str] | Finding:
    if is_ip(tgt.host):
        return [tgt.host]
    found, answers = await ctx.resolver.addresses(tgt.host)
    if not found:
        errors = [a.error for a in answers if a.failed]
        if errors:
            return error_finding("mx.resolve", tgt.host, "the server's addresses", errors[0])
        return Finding(
            "mx.resolve", Status.FAIL, tgt.host, f"{tgt.host} has no A or AAAA record", {}, "host-unknown"
        )
    usable = MxHost(0, tgt.host, tuple(found), tuple(_refused(found, ctx.opts))).probe_addresses
    if not usable:
        raise TargetError(
            tgt.text,
            f"refused: {tgt.host} resolves only to non-public addresses "
            f"({', '.join(found)}); the operator setting SMTPBOT_ALLOW_PRIVATE=1 allows it",
        )
    return _first(usable, MAX_ADDRESSES_PER_HOST)


def _refused(addresses: list[str], opts: CheckOptions) -> list[tuple[str, str]]:
    return list(allowed(addresses, opts.allow_private)[1].items())


async def _value(findings: list[Finding]) -> list[Finding]:
    return findings


async def _gather(*coros: Awaitable[Finding]) -> list[Finding]:
    return list(await asyncio.gather(*coros))


async def _unless_null(
    ctx: RunContext, check: Callable[[RunContext], Awaitable[list[Finding]]]
) -> list[Finding]:
    """Inbound-mail checks make no sense for a null-MX domain (RFC 7505): skip them."""
    results = await asyncio.gather(ctx.mx(), check(ctx))
    return [] if results[0].null else results[1]


def _first(addresses: tuple[str, ...] | list[str], n: int) -> list[str]:
    """Up to n addresses, IPv4 and IPv6 taken in turn so both families stay represented."""
    v4 = [a for a in addresses if ":" not in a]
    v6 = [a for a in addresses if ":" in a]
    mixed = [a for pair in zip(v4, v6, strict=False) for a in pair]
    rest = v4[len(v6):] if len(v4) > len(v6) else v6[len(v4):]
    return (mixed + rest)[:n]


def _mx_addresses(info: MxInfo, *, probe_only: bool) -> list[tuple[str, str]]:
    if info.null or info.answer.failed:
        return []
    pairs: list[tuple[str, str]] = []
    for host in info.hosts[:MAX_MX_HOSTS]:
        for address in _first((host.probe_addresses if probe_only else host.addresses), MAX_ADDRESSES_PER_HOST):
            if (host.host, address) not in pairs:  # the same MX listed twice is probed once
                pairs.append((host.host, address))
    return pairs


async def _per_mx(
    ctx: RunContext, one: Callable[..., Awaitable[Finding]], probe_only: bool = False
) -> list[Finding]:
    pairs = _mx_addresses(await ctx.mx(), probe_only=probe_only)
    return list(await asyncio.gather(*(one(ctx, h, a) for h, a in pairs)))


async def _ptr(ctx: RunContext, host: str, address: str) -> Finding:
    return await ptr.check(ctx.resolver, address, host)


async def _dnsbl(ctx: RunContext, host: str, address: str) -> Finding:
    return await dnsbl.check(ctx.resolver, ctx.opts, address, host)


def _connection_limits() -> contextlib.AbstractContextManager[object]:
    """The SMTP module's per-run connection limiter (a contextvar the probe tasks inherit)."""
    limits = _probe("run_limits")
    return limits() if limits else contextlib.nullcontext()  # type: ignore[operator]


def _probe(name: str) -> Callable[..., Awaitable[list[Finding]]] | None:
    """The SMTP module's probe, imported late: a build without it simply skips SMTP."""
    try:
        probe: Callable[..., Awaitable[list[Finding]]] = getattr(importlib.import_module("checks.smtp"), name)
    except (ImportError, AttributeError):
        return None
    return probe


async def _smtp_domain(ctx: RunContext) -> list[Finding]:
    probe = _probe("probe_mx")
    if probe is None:
        return []
    pairs = _mx_addresses(await ctx.mx(), probe_only=True)
    results = await asyncio.gather(*(probe(h, a, ctx.opts) for h, a in pairs))
    return [f for found in results for f in found]


async def _smtp_server(
    ctx: RunContext, tgt: Target, addresses: list[str], ptr_job: Awaitable[list[Finding]]
) -> list[Finding]:
    probe = _probe("probe_server")
    if probe is None:
        return []
    host = tgt.host
    if tgt.kind == "ip":  # a forward-confirmed PTR name lets the TLS check match the certificate
        host = ptr.confirmed_name((await asyncio.shield(ptr_job))[0]) or tgt.host
    return list(await probe(host, addresses, tgt.port, ctx.opts))


async def _run(jobs: list[Job], budget: float, progress: Progress | None) -> list[Finding]:
    tasks = {asyncio.ensure_future(_safe(areas, coro)): areas for areas, coro in jobs}
    findings: list[Finding] = []
    end = time.monotonic() + max(0.0, budget)
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(
            pending, timeout=max(0.0, end - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            break
        for task in done:
            _report(tasks[task], task.result(), findings, progress)
    for task in pending:
        task.cancel()
        late = [
            Finding(
                _DEADLINE_CHECK[a],
                Status.ERROR,
                a,
                f"did not finish within the {budget:.0f} s deadline",
                {},
                "connection-timeout",
            )
            for a in tasks[task]
            if a != "tls"
        ]
        _report(tasks[task], late, findings, progress)
    return findings


async def _safe(areas: tuple[str, ...], coro: Awaitable[list[Finding]]) -> list[Finding]:
    """A bug in one check must not sink the report: it becomes that area's `error` finding."""
    try:
        return list(await coro)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as a finding, with the type, not hidden
        return [
            Finding(
                _DEADLINE_CHECK[areas[0]],
                Status.ERROR,
                areas[0],
                f"internal error in the {areas[0]} checks: {type(exc).__name__}: {exc}",
                {},
                None,
            )
        ]


def _report(
    areas: tuple[str, ...], found: list[Finding], into: list[Finding], progress: Progress | None
) -> None:
    into.extend(found)
    if progress is None:
        return
    for area in areas:
        mine = [f for f in found if area_of(f.check) == area]
        try:
            progress(area, mine)
        except Exception:  # noqa: BLE001 - a failing progress display must not stop the checks
            pass
