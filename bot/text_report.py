"""Render a check Report as plain text for the terminal and the console chat.

One block per area in the engine's order, one line per finding: a status symbol, the check id,
the subject, the summary, and the knowledge-base entry that explains the fix.
"""

from __future__ import annotations

from checks.model import Finding, Report, Status
from checks.report import AREAS, area_of

SYMBOLS = {Status.PASS: "✔", Status.INFO: "ℹ", Status.WARN: "⚠", Status.FAIL: "✘", Status.ERROR: "?"}
TITLES = {
    "mx": "MX",
    "spf": "SPF",
    "dmarc": "DMARC",
    "dkim": "DKIM",
    "mta-sts": "MTA-STS",
    "tls-rpt": "TLS-RPT",
    "ptr": "Reverse DNS (PTR)",
    "dnsbl": "Blocklists",
    "dns": "DNSSEC, DANE, BIMI",
    "smtp": "SMTP",
    "tls": "TLS",
}
LEGEND = "✔ pass  ℹ info  ⚠ warn  ✘ fail  ? could not check"


def finding_line(finding: Finding) -> str:
    """`✘ spf.all  example.com: +all authorises ...  -> kb: spf-setup`"""
    kb = f"  -> kb: {finding.kb}" if finding.kb else ""
    return f"{SYMBOLS[Status(finding.status)]} {finding.check}  {finding.subject}: {finding.summary}{kb}"


def render_area(area: str, findings: list[Finding]) -> str:
    """One area's block (also used for progress output while a check runs)."""
    lines = [TITLES.get(area, area)]
    lines += [f"  {finding_line(f)}" for f in findings] or ["  (nothing to report)"]
    return "\n".join(lines)


def counts(findings: tuple[Finding, ...] | list[Finding]) -> str:
    order = (Status.FAIL, Status.ERROR, Status.WARN, Status.INFO, Status.PASS)
    names = {Status.ERROR: "could not check"}
    parts = [f"{n} {names.get(s, str(s))}" for s in order if (n := sum(1 for f in findings if f.status == s))]
    return ", ".join(parts) or "no findings"


def render(report: Report) -> str:
    """The whole report: header, areas in engine order, summary line."""
    head = f"smtpbot check {report.target} ({report.kind}) in {report.duration_ms / 1000:.1f} s"
    blocks = [head, LEGEND, ""]
    grouped: dict[str, list[Finding]] = {}
    for finding in report.findings:
        grouped.setdefault(area_of(finding.check), []).append(finding)
    for area in AREAS + tuple(a for a in grouped if a not in AREAS):
        if area in grouped:
            blocks.append(render_area(area, grouped[area]))
    blocks.append("")
    blocks.append(("OK: " if report.ok else "Problems: ") + counts(report.findings))
    return "\n".join(blocks)
