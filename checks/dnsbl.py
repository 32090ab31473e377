"""DNS blocklist check (RFC 5782): dnsbl.listed, one finding per address over all zones.

An A answer in 127.0.0.0/8 means "listed", except 127.255.255.x, which Spamhaus and others use to
say "we refuse your query" (public resolver, over quota): that is `error`, never a listing.
"""

from __future__ import annotations

import asyncio
import ipaddress

from checks._resolver import Resolver
from checks.defaults import DNSBL_ZONES
from checks.model import CheckOptions, Finding, Status
from checks.ptr import subject_of

KB = "ip-blocklisted"
#: https://www.spamhaus.org/faqs/domain-blocklist/#291 — refusal codes, not listings
REFUSED_NET = ipaddress.ip_network("127.255.255.0/24")
LISTED_NET = ipaddress.ip_network("127.0.0.0/8")


def query_name(address: str, zone: str) -> str:
    """RFC 5782 2.1 / 2.4: reversed octets (IPv4) or nibbles (IPv6) under the zone."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return ".".join(reversed(str(ip).split("."))) + "." + zone
    return ".".join(reversed(ip.exploded.replace(":", ""))) + "." + zone


async def _zone(resolver: Resolver, address: str, zone: str) -> tuple[str, str, list[str]]:
    """(zone, outcome listed|clean|refused|error, codes or reason)."""
    name = query_name(address, zone)
    answer = await resolver.query(name, "A")
    if answer.failed:
        return zone, "error", [answer.error or "no answer"]
    codes = [r.address for r in answer.records]
    if not codes:
        return zone, "clean", []
    if any(ipaddress.ip_address(c) in REFUSED_NET for c in codes):
        return zone, "refused", codes
    if any(ipaddress.ip_address(c) in LISTED_NET for c in codes):
        txt = await resolver.query(name, "TXT")
        return zone, "listed", codes + txt.texts()
    return zone, "error", [f"answer {', '.join(codes)} is outside 127.0.0.0/8 (broken list?)"]


async def check(resolver: Resolver, opts: CheckOptions, address: str, host: str | None = None) -> Finding:
    zones = opts.dnsbl_zones or DNSBL_ZONES
    results = await asyncio.gather(*(_zone(resolver, address, z) for z in zones))
    by = {
        outcome: [(z, c) for z, o, c in results if o == outcome] for outcome in ("listed", "refused", "error")
    }
    details = {zone: {"outcome": outcome, "answer": codes} for zone, outcome, codes in results}
    subject = subject_of(host, address)
    if by["listed"]:
        names = ", ".join(z for z, _ in by["listed"])
        return Finding("dnsbl.listed", Status.FAIL, subject, f"{address} is listed on {names}", details, KB)
    if by["refused"] or by["error"]:
        bad = ", ".join(z for z, _ in by["refused"] + by["error"])
        return Finding(
            "dnsbl.listed",
            Status.ERROR,
            subject,
            f"not listed where we could ask, but {bad} refused or did not answer",
            details,
            "spamhaus-open-resolver" if by["refused"] else "dns-lookup-failure",
        )
    return Finding(
        "dnsbl.listed",
        Status.PASS,
        subject,
        f"{address} is not listed on {len(zones)} blocklist(s)",
        details,
        KB,
    )
