"""TLS-RPT check (RFC 8460): tls-rpt.record, graded by whether MTA-STS is on (cross-check)."""

from __future__ import annotations

from checks import mta_sts
from checks.context import RunContext, error_finding
from checks.model import Finding, Status
from checks.mta_sts_policy import is_record, parse_tlsrpt_record

KB = "mta-sts-setup"
MISSING_WITH_STS = (
    "MTA-STS is on but there is no TLS-RPT record: you will not hear about TLS failures senders see "
    "(RFC 8460)"
)


async def check(ctx: RunContext) -> list[Finding]:
    """tls-rpt.record: one valid `v=TLSRPTv1` record; its absence matters when MTA-STS is on."""
    subject = f"_smtp._tls.{ctx.domain}"
    answer = await ctx.resolver.query(subject, "TXT")
    if answer.failed:
        return [error_finding("tls-rpt.record", subject, "the TLS-RPT record", answer.error)]
    found = [t for t in answer.texts() if is_record(t, "TLSRPTv1")]
    status, summary, details = await _grade(ctx, found)
    return [Finding("tls-rpt.record", status, subject, summary, details, KB)]


async def _grade(ctx: RunContext, found: list[str]) -> tuple[Status, str, dict[str, object]]:
    if not found:
        sts, _ = await mta_sts.records(ctx)
        if sts:
            return Status.WARN, MISSING_WITH_STS, {}
        return Status.INFO, "no TLS-RPT record", {}
    if len(found) > 1:
        return (
            Status.FAIL,
            f"{len(found)} TLS-RPT records: senders ignore them all (RFC 8460 3)",
            {"records": found},
        )
    rec = parse_tlsrpt_record(found[0])
    if not rec.valid:
        return Status.FAIL, "invalid TLS-RPT record: " + "; ".join(rec.errors), {"record": found[0]}
    return Status.PASS, f"TLS reports go to {rec.tags['rua']}", {"record": found[0], "warnings": rec.warnings}
