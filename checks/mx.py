"""MX checks (RFC 5321 5.1, RFC 7505, RFC 2181 10.3): mx.present, mx.null, mx.resolve, mx.cname."""

from __future__ import annotations

from checks.context import MxHost, MxInfo, RunContext, error_finding
from checks.model import Finding, Status
from checks.spf_record import select

#: how to publish MX records (hostnames, no CNAME/IP, null MX)
KB_HOST = "mx-records"
#: the domain cannot receive mail at all (NXDOMAIN / no MX and no address)
KB_UNDELIVERABLE = "host-unknown"
KB_NULL = "null-mx"


async def check(ctx: RunContext) -> list[Finding]:
    """All mx.* findings for the run's domain."""
    info = await ctx.mx()
    if info.answer.failed:
        return [error_finding("mx.present", ctx.domain, "the MX records", info.answer.error)]
    if info.null:
        return await _null(ctx, info)
    findings = [_present(ctx.domain, info)]
    for host in info.hosts:
        findings.extend(_host_findings(host, implicit=info.implicit))
    return findings


def _present(domain: str, info: MxInfo) -> Finding:
    names = [f"{h.preference} {h.host}" for h in info.hosts]
    if info.answer.ok:
        return Finding(
            "mx.present",
            Status.PASS,
            domain,
            f"{len(names)} MX record(s): {', '.join(names)}",
            {"mx": names},
            KB_HOST,
        )
    if info.implicit:
        return Finding(
            "mx.present",
            Status.WARN,
            domain,
            "no MX record: senders fall back to the domain's own address (RFC 5321 5.1 implicit MX)",
            {"addresses": list(info.hosts[0].addresses)},
            KB_HOST,
        )
    exists = "does not exist" if info.answer.outcome == "nxdomain" else "has no MX record and no A/AAAA"
    return Finding(
        "mx.present",
        Status.FAIL,
        domain,
        f"{domain} {exists}: mail to it cannot be delivered",
        {"outcome": str(info.answer.outcome)},
        KB_UNDELIVERABLE,
    )


def _host_findings(host: MxHost, *, implicit: bool) -> list[Finding]:
    """mx.cname (not for the implicit MX, which is the domain itself) and mx.resolve for one host."""
    return ([] if implicit else [_cname(host)]) + [_resolve(host)]


def _cname(host: MxHost) -> Finding:
    if host.cname:
        summary = f"MX target {host.host} is a CNAME (to {host.cname}); RFC 2181 10.3 forbids it"
        return Finding("mx.cname", Status.FAIL, host.host, summary, {"cname": host.cname}, KB_HOST)
    return Finding("mx.cname", Status.PASS, host.host, "MX target is a host name, not an alias", {}, KB_HOST)


def _resolve(host: MxHost) -> Finding:
    if host.error and not host.addresses:
        return error_finding("mx.resolve", host.host, "the MX host's addresses", host.error)
    if not host.addresses:
        return Finding(
            "mx.resolve", Status.FAIL, host.host, f"MX host {host.host} has no A or AAAA record", {}, KB_HOST
        )
    details = {"addresses": list(host.addresses), "refused": dict(host.refused), "error": host.error}
    if host.refused and not host.probe_addresses:
        summary = (
            f"MX host {host.host} resolves only to non-public addresses: not reachable from the "
            "Internet (and not probed)"
        )
        return Finding("mx.resolve", Status.FAIL, host.host, summary, details, KB_HOST)
    summary = f"{host.host} resolves to {', '.join(host.addresses)}"
    if host.refused:
        summary += f" (not probed: {', '.join(a for a, _ in host.refused)})"
    status = Status.WARN if host.refused or host.error else Status.PASS
    return Finding("mx.resolve", status, host.host, summary, details, KB_HOST)


async def _null(ctx: RunContext, info: MxInfo) -> list[Finding]:
    """RFC 7505: a lone `0 .` says "no mail here"; we stop the mail checks and judge the parked trio."""
    if len(info.hosts) > 1 or info.hosts[0].preference != 0:
        return [
            Finding(
                "mx.null",
                Status.FAIL,
                ctx.domain,
                "malformed null MX: '.' must be the only MX record, with preference 0 (RFC 7505 3)",
                {"mx": [f"{h.preference} {h.host}" for h in info.hosts]},
                KB_NULL,
            )
        ]
    findings = [
        Finding(
            "mx.null",
            Status.INFO,
            ctx.domain,
            "null MX (RFC 7505): the domain accepts no mail; mail checks stopped",
            {},
            KB_NULL,
        )
    ]
    findings.append(await _parked(ctx))
    return findings


async def _parked(ctx: RunContext) -> Finding:
    from checks import dmarc  # the parked-domain trio needs the DMARC policy

    txt = await ctx.resolver.query(ctx.domain, "TXT")
    spf = select(txt.texts()) if txt.ok else []
    policy = await dmarc.effective_policy(ctx)
    strict_spf = len(spf) == 1 and " ".join(spf[0].lower().split()) == "v=spf1 -all"
    trio = {"spf": spf[0] if len(spf) == 1 else None, "dmarc_p": policy}
    if txt.failed or policy == "error":
        return error_finding(
            "mx.null", ctx.domain, "the parked-domain records", txt.error or "DMARC lookup failed"
        )
    if strict_spf and policy == "reject":
        return Finding(
            "mx.null",
            Status.PASS,
            ctx.domain,
            "parked domain set up correctly: null MX + `v=spf1 -all` + DMARC p=reject",
            trio,
            KB_NULL,
        )
    missing = ([] if strict_spf else ["SPF `v=spf1 -all`"]) + (
        [] if policy == "reject" else ["DMARC `p=reject`"]
    )
    return Finding(
        "mx.null",
        Status.WARN,
        ctx.domain,
        f"parked domain (null MX) without {' and '.join(missing)}: others can still send as it",
        trio,
        "sender-unauthenticated",
    )
