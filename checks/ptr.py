"""Reverse DNS check: ptr.match — the address has a PTR whose name resolves back to it (FCrDNS)."""

from __future__ import annotations

import asyncio
import re

from checks._resolver import Resolver
from checks.context import error_finding
from checks.model import Finding, Status

KB = "reverse-dns-ptr"
#: names that look assigned by an access provider (receivers score them as dynamic/consumer)
_GENERIC = re.compile(
    r"(\d{1,3}[-.]){3}\d{1,3}|dynamic|dhcp|pool|dsl|cable|dial|\bppp|customer|broadband", re.I
)
#: RFC 7208 4.6.4-like bound on PTR names looked at
MAX_NAMES = 10


def subject_of(host: str | None, address: str) -> str:
    return f"{host} {address}" if host and host != address else address


async def check(resolver: Resolver, address: str, host: str | None = None) -> Finding:
    """One ptr.match finding for `address` (the MX `host` goes in the subject)."""
    subject = subject_of(host, address)
    answer = await resolver.ptr(address)
    if answer.failed:
        return error_finding("ptr.match", subject, "the PTR record", answer.error)
    names = [n for n in answer.hosts() if n][:MAX_NAMES]
    if not names:
        return Finding(
            "ptr.match",
            Status.FAIL,
            subject,
            f"{address} has no PTR record: many receivers reject mail from it",
            {},
            KB,
        )
    forward = await asyncio.gather(*(resolver.addresses(n) for n in names))
    confirmed = [n for n, (addrs, _) in zip(names, forward, strict=True) if address in addrs]
    errors = [a.error for _, answers in forward for a in answers if a.failed]
    details = {"ptr": names, "confirmed": confirmed}
    if not confirmed:
        if errors:
            return error_finding("ptr.match", subject, f"whether {', '.join(names)} resolves back", errors[0])
        return Finding(
            "ptr.match",
            Status.FAIL,
            subject,
            f"PTR {', '.join(names)} does not resolve back to {address} (not forward-confirmed)",
            details,
            KB,
        )
    if _GENERIC.search(confirmed[0]):
        return Finding(
            "ptr.match",
            Status.WARN,
            subject,
            f"PTR {confirmed[0]} is forward-confirmed but looks generic/dynamic",
            details,
            KB,
        )
    return Finding(
        "ptr.match", Status.PASS, subject, f"PTR {confirmed[0]} resolves back to {address}", details, KB
    )


def confirmed_name(finding: Finding) -> str | None:
    """The forward-confirmed PTR name a ptr.match finding found, if any."""
    names = finding.details.get("confirmed") or []
    return names[0] if names else None
