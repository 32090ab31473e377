"""DNS information checks: dnssec.ad (the resolver's AD bit), dane.tlsa (RFC 7672), bimi.record.

These inform rather than grade: an unsigned zone or a missing BIMI record is common and fine.
"""

from __future__ import annotations

import asyncio

from checks import dmarc
from checks.context import RunContext, error_finding
from checks.model import Finding, Status

KB = "diagnostic-tools"
#: a DNSSEC failure makes every lookup of the domain fail for validating resolvers
KB_DNS = "dns-lookup-failure"
KB_DANE = "mta-sts-setup"


async def check(ctx: RunContext) -> list[Finding]:
    dnssec, bimi, tlsa = await asyncio.gather(_dnssec(ctx), _bimi(ctx), _tlsa_all(ctx))
    return [dnssec, bimi, *tlsa]


async def _tlsa_all(ctx: RunContext) -> list[Finding]:
    info = await ctx.mx()
    hosts = [] if info.null or info.answer.failed or info.implicit else [h.host for h in info.hosts]
    return list(await asyncio.gather(*(_tlsa(ctx, h) for h in hosts)))


async def _dnssec(ctx: RunContext) -> Finding:
    answer = await ctx.resolver.query(ctx.domain, "SOA")
    if answer.failed and "SERVFAIL" in (answer.error or ""):
        unchecked = await ctx.resolver.query(ctx.domain, "SOA", checking_disabled=True)
        if not unchecked.failed:
            return Finding(
                "dnssec.ad",
                Status.FAIL,
                ctx.domain,
                "DNSSEC validation fails (bogus): validating resolvers answer SERVFAIL, so mail "
                "to this domain is deferred; it answers only with checking disabled (CD bit)",
                {"error": answer.error},
                KB_DNS,
            )
    if answer.failed:
        return error_finding("dnssec.ad", ctx.domain, "DNSSEC status", answer.error)
    if answer.secure:
        return Finding("dnssec.ad", Status.PASS, ctx.domain, "answers are DNSSEC-validated (AD bit)", {}, KB)
    return Finding(
        "dnssec.ad",
        Status.INFO,
        ctx.domain,
        "answers are not DNSSEC-validated (unsigned zone, or the resolver does not validate)",
        {},
        KB,
    )


async def _tlsa(ctx: RunContext, host: str) -> Finding:
    name = f"_25._tcp.{host}"
    answer = await ctx.resolver.query(name, "TLSA")
    if answer.failed:
        return error_finding("dane.tlsa", name, "the TLSA record", answer.error)
    if not answer.ok:
        return Finding("dane.tlsa", Status.INFO, name, "no DANE TLSA record", {}, KB_DANE)
    records = [r.to_text() for r in answer.records]
    if not answer.secure:
        return Finding(
            "dane.tlsa",
            Status.WARN,
            name,
            "TLSA published but not DNSSEC-validated: senders ignore DANE (RFC 7672 2.2)",
            {"tlsa": records},
            KB_DANE,
        )
    weak = [r for r in records if r.split()[0] not in ("2", "3")]
    status = Status.WARN if weak else Status.PASS
    summary = f"{len(records)} DNSSEC-validated TLSA record(s)"
    if weak:
        summary += "; usages other than 2/3 (DANE-TA/DANE-EE) are not used for SMTP (RFC 7672 3.1.3)"
    elif len(records) < 2:
        summary += "; publish two during key rollover"
    return Finding("dane.tlsa", status, name, summary, {"tlsa": records}, KB_DANE)


async def _bimi(ctx: RunContext) -> Finding:
    name = f"default._bimi.{ctx.domain}"
    answer = await ctx.resolver.query(name, "TXT")
    if answer.failed:
        return error_finding("bimi.record", name, "the BIMI record", answer.error)
    found = [t for t in answer.texts() if t.replace(" ", "").lower().startswith("v=bimi1")]
    if not found:
        return Finding("bimi.record", Status.INFO, name, "no BIMI record", {}, KB)
    policy = await dmarc.effective_policy(ctx)
    if policy not in ("quarantine", "reject"):
        return Finding(
            "bimi.record",
            Status.WARN,
            name,
            "BIMI record present but DMARC is not p=quarantine or p=reject: logos will not show",
            {"record": found[0], "dmarc_p": policy},
            KB,
        )
    return Finding("bimi.record", Status.PASS, name, "BIMI record present", {"record": found[0]}, KB)
