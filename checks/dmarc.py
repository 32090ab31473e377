"""DMARC checks (RFC 7489 and RFC 9989, "DMARCbis"): dmarc.present, dmarc.syntax, dmarc.policy, dmarc.reporting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from publicsuffixlist import PublicSuffixList

from checks._resolver import Answer
from checks.context import RunContext, error_finding
from checks.dmarc_record import DmarcRecord, is_dmarc, parse
from checks.model import Finding, Status

KB = "dmarc-setup"
_PSL = PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """RFC 7489 3.2: the public suffix plus one label (Public Suffix List)."""
    return _PSL.privatesuffix(domain.lower()) or domain.lower()


@dataclass(frozen=True, slots=True)
class Lookup:
    """Where the policy was found, or why not."""

    answer: Answer  # the last answer consulted
    location: str | None = None  # `_dmarc.<domain>` holding the record
    records: tuple[str, ...] = ()
    inherited: bool = False

    @property
    def policy_domain(self) -> str | None:
        return self.location.removeprefix("_dmarc.") if self.location else None


async def find(ctx: RunContext) -> Lookup:
    """The record at `_dmarc.<domain>`, else at the organizational domain (never past an error)."""
    return await ctx.fact("dmarc", lambda: _find(ctx))


async def _find(ctx: RunContext) -> Lookup:
    names = [ctx.domain]
    org = organizational_domain(ctx.domain)
    if org != ctx.domain:
        names.append(org)
    answer = None
    for name in names:
        answer = await ctx.resolver.query(f"_dmarc.{name}", "TXT")
        if answer.failed:
            return Lookup(answer)
        records = tuple(t for t in answer.texts() if is_dmarc(t)) if answer.ok else ()
        if records:
            return Lookup(answer, f"_dmarc.{name}", records, inherited=name != ctx.domain)
    assert answer is not None
    return Lookup(answer)


async def effective_policy(ctx: RunContext) -> str | None:
    """The `p` receivers apply ("error" when the lookup failed, None without a usable record)."""
    found = await find(ctx)
    if found.answer.failed:
        return "error"
    if len(found.records) != 1:
        return None
    return parse(found.records[0]).policy


async def check(ctx: RunContext) -> list[Finding]:
    """All dmarc.* findings for the run's domain."""
    found = await find(ctx)
    if found.answer.failed:
        return [
            error_finding("dmarc.present", f"_dmarc.{ctx.domain}", "the DMARC record", found.answer.error)
        ]
    if not found.records:
        return [
            Finding(
                "dmarc.present",
                Status.FAIL,
                ctx.domain,
                f"no DMARC record at _dmarc.{ctx.domain} nor at its organizational domain",
                {},
                KB,
            )
        ]
    subject = found.location or ctx.domain
    if len(found.records) > 1:
        return [
            Finding(
                "dmarc.present",
                Status.FAIL,
                subject,
                f"{len(found.records)} DMARC records: receivers ignore them all (RFC 7489 6.6.3)",
                {"records": list(found.records)},
                KB,
            )
        ]
    where = f"inherited from the organizational domain ({subject})" if found.inherited else f"at {subject}"
    findings = [
        Finding(
            "dmarc.present",
            Status.PASS,
            subject,
            f"DMARC record {where}",
            {"record": found.records[0], "inherited": found.inherited},
            KB,
        )
    ]
    rec = parse(found.records[0])
    findings.append(_syntax(subject, rec))
    if rec.policy is not None:
        findings.append(_policy(subject, rec, found.inherited))
    findings.append(await _reporting(ctx, subject, rec, found.policy_domain or ctx.domain))
    return findings


def _syntax(subject: str, rec: DmarcRecord) -> Finding:
    details = {
        "record": rec.text,
        "rfc7489": rec.strict_errors,
        "dmarcbis": rec.bis_errors,
        "warnings": rec.warnings,
    }
    if not rec.valid_7489 and not rec.valid_bis:
        problems = sorted(set(rec.strict_errors + rec.bis_errors))
        return Finding(
            "dmarc.syntax", Status.FAIL, subject, f"invalid DMARC record: {'; '.join(problems)}", details, KB
        )
    if rec.valid_7489 != rec.valid_bis:
        good, bad, why = (
            ("RFC 7489", "RFC 9989", rec.bis_errors)
            if rec.valid_7489
            else ("RFC 9989", "RFC 7489", rec.strict_errors)
        )
        return Finding(
            "dmarc.syntax",
            Status.WARN,
            subject,
            f"receivers disagree: valid for {good} receivers, invalid for {bad} ones ({'; '.join(why)})",
            details,
            KB,
        )
    if rec.warnings:
        return Finding("dmarc.syntax", Status.INFO, subject, "valid; " + "; ".join(rec.warnings), details, KB)
    return Finding("dmarc.syntax", Status.PASS, subject, "valid DMARC record", details, KB)


def _policy(subject: str, rec: DmarcRecord, inherited: bool) -> Finding:
    tags = rec.tags
    p = rec.policy or "none"
    sp = tags.get("sp", p).lower()
    np = tags.get("np", sp).lower()
    notes: list[tuple[Status, str]] = []
    if p == "none":
        notes.append((Status.WARN, "p=none only monitors: spoofed mail is still delivered"))
    if inherited:
        notes.append((Status.INFO, f"subdomain policy sp={sp} of the organizational domain applies"))
    if p != "none" and sp == "none":
        notes.append((Status.WARN, "sp=none leaves subdomains unprotected"))
    if p != "none" and np == "none" and "np" in tags:
        notes.append((Status.WARN, "np=none leaves non-existent subdomains unprotected"))
    pct = tags.get("pct", "100")
    if pct.isdigit() and int(pct) < 100:
        notes.append(
            (
                Status.INFO,
                f"pct={pct}: RFC 7489 receivers apply the policy to {pct}% of failing mail; "
                "RFC 9989 (DMARCbis) removed pct",
            )
        )
    if tags.get("t", "n").lower() == "y":
        notes.append((Status.INFO, "t=y (RFC 9989 test mode): receivers apply one level weaker"))
    status = max((s for s, _ in notes), key=_rank, default=Status.PASS)
    summary = f"p={p}" + (f", sp={sp}" if "sp" in tags else "") + (f", np={np}" if "np" in tags else "")
    if notes:
        summary += ": " + "; ".join(t for _, t in notes)
    return Finding("dmarc.policy", status, subject, summary, {"p": p, "sp": sp, "np": np, "pct": pct}, KB)


def _rank(status: Status) -> int:
    return [Status.PASS, Status.INFO, Status.WARN, Status.FAIL, Status.ERROR].index(status)


async def _reporting(ctx: RunContext, subject: str, rec: DmarcRecord, policy_domain: str) -> Finding:
    uris = rec.uris("rua")
    if not uris:
        return Finding(
            "dmarc.reporting",
            Status.WARN,
            subject,
            "no rua=: you get no aggregate reports, so you cannot see who sends as you",
            {},
            KB,
        )
    dests = sorted(
        {
            u.split(":", 1)[1].split("!")[0].rpartition("@")[2].lower()
            for u in uris + rec.uris("ruf")
            if u.lower().startswith("mailto:") and "@" in u
        }
    )
    results = await asyncio.gather(*(_destination(ctx, policy_domain, d) for d in dests))
    notes = [n for n in results if n]
    status = max((s for s, _ in notes), key=_rank, default=Status.PASS)
    summary = "; ".join(t for _, t in notes) or f"reports go to {', '.join(dests)}"
    return Finding(
        "dmarc.reporting",
        status,
        subject,
        summary,
        {"rua": uris, "ruf": rec.uris("ruf"), "destinations": dests},
        KB,
    )


async def _destination(ctx: RunContext, policy_domain: str, dest: str) -> tuple[Status, str] | None:
    """RFC 7489 7.1 external destination authorization (wildcards answer too), and an MX for reports."""
    mx = await ctx.resolver.query(dest, "MX")
    if mx.failed:
        return Status.ERROR, f"could not check MX of report domain {dest}: {mx.error}"
    if organizational_domain(dest) != organizational_domain(policy_domain):
        name = f"{policy_domain}._report._dmarc.{dest}"
        auth = await ctx.resolver.query(name, "TXT")
        if auth.failed:
            return Status.ERROR, f"could not check {name}: {auth.error}"
        if not any(is_dmarc(t) for t in auth.texts()):
            return (
                Status.FAIL,
                f"{dest} has not authorized reports for {policy_domain} (no v=DMARC1 at {name})",
            )
    if not mx.ok:
        addresses, _ = await ctx.resolver.addresses(dest)
        if not addresses:
            return Status.WARN, f"report domain {dest} has no MX and no address: reports cannot be delivered"
    return None
