"""TLS-RPT check (RFC 8460): tls-rpt.record, graded by whether MTA-STS is on (cross-check)."""

from __future__ import annotations

from checks import mta_sts
from checks.context import RunContext, error_finding
from checks.model import Finding, Status
from checks.mta_sts_policy import is_record, parse_tlsrpt_record

KB = "mta-sts-setup"


async def check(ctx: RunContext) -> list[Finding]:
    subject = f"_smtp._tls.{ctx.domain}"
    answer = await ctx.resolver.query(subject, "TXT")
    if answer.failed:
        return [error_finding("tls-rpt.record", subject, "the TLS-RPT record", answer.error)]
    found = [t for t in answer.texts() if is_record(t, "TLSRPTv1")]
    if not found:
        sts, _ = await mta_sts.records(ctx)
        if sts:
            return [
                Finding(
                    "tls-rpt.record",
                    Status.WARN,
                    subject,
                    "MTA-STS is on but there is no TLS-RPT record: you will not hear about TLS "
                    "failures senders see (RFC 8460)",
                    {},
                    KB,
                )
            ]
        return [Finding("tls-rpt.record", Status.INFO, subject, "no TLS-RPT record", {}, KB)]
    if len(found) > 1:
        return [
            Finding(
                "tls-rpt.record",
                Status.FAIL,
                subject,
                f"{len(found)} TLS-RPT records: senders ignore them all (RFC 8460 3)",
                {"records": found},
                KB,
            )
        ]
    rec = parse_tlsrpt_record(found[0])
    if not rec.valid:
        return [
            Finding(
                "tls-rpt.record",
                Status.FAIL,
                subject,
                "invalid TLS-RPT record: " + "; ".join(rec.errors),
                {"record": found[0]},
                KB,
            )
        ]
    return [
        Finding(
            "tls-rpt.record",
            Status.PASS,
            subject,
            f"TLS reports go to {rec.tags['rua']}",
            {"record": found[0], "warnings": rec.warnings},
            KB,
        )
    ]
