"""Refuse addresses inside private networks, so a chat user cannot make the bot probe the inside.

Applies to targets and to every address we resolve before any connection (MX hosts, server targets,
the ``mta-sts.`` HTTPS host). Operators may lift it with ``--allow-private`` / ``SMTPBOT_ALLOW_PRIVATE=1``.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ranges not covered by the `ipaddress` properties, or worth naming on their own
_EXTRA: tuple[tuple[str, str], ...] = (
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("169.254.169.254/32", "cloud metadata service"),
    ("fd00:ec2::254/128", "cloud metadata service"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
)
_EXTRA_NETS = tuple((ipaddress.ip_network(net), why) for net, why in _EXTRA)

#: names that always mean "this machine or its LAN" (RFC 6761, RFC 6762, RFC 8375)
LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "lan")


def _classify(ip: IPAddress) -> str | None:
    for net, why in _EXTRA_NETS:
        if ip.version == net.version and ip in net:
            return why
    checks = (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    )
    for attr, why in checks:
        if getattr(ip, attr):
            return why
    if not ip.is_global:
        return "not globally routable"
    return None


def refusal(address: str | IPAddress, allow_private: bool = False) -> str | None:
    """Why `address` must not be probed, or None when it may be.

    Args:
        address: an IPv4/IPv6 address (text or object); IPv4-mapped IPv6 is judged as IPv4.
        allow_private: the operator's permission to probe internal ranges.
    """
    if allow_private:
        return None
    try:
        ip = ipaddress.ip_address(str(address).strip("[]").split("%")[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10, deprecated (RFC 3879) but still routed inside some networks
            return f"{ip} is in a refused range (site-local)"
        # IPv4 carried inside IPv6 (mapped, 6to4 RFC 3056, Teredo RFC 4380) is judged as that IPv4
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            why = _classify(embedded)
            if why:
                return f"{ip} is in a refused range ({why}: embeds {embedded})"
            if ip.ipv4_mapped:
                ip = ip.ipv4_mapped
    why = _classify(ip)
    return f"{ip} is in a refused range ({why})" if why else None


def name_refusal(name: str, allow_private: bool = False) -> str | None:
    """Why a host name must not be probed (localhost and LAN-only suffixes), or None."""
    if allow_private:
        return None
    lowered = name.lower().rstrip(".")
    for local in LOCAL_NAMES:
        if lowered == local or lowered.endswith("." + local):
            return f"{name} is a local-only name"
    return None


def allowed(addresses: list[str], allow_private: bool) -> tuple[list[str], dict[str, str]]:
    """Split addresses into (allowed, {refused address: reason})."""
    ok: list[str] = []
    refused: dict[str, str] = {}
    for address in addresses:
        why = refusal(address, allow_private)
        if why:
            refused[address] = why
        else:
            ok.append(address)
    return ok, refused
