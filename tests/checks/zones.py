"""Loopback DNS and HTTPS data for the live-check tests and the benchmark: one domain per defect.

All names are under `.test` (RFC 2606) and all addresses in documentation ranges or loopback, so
nothing here can reach the Internet even by mistake. `good.test` is the clean domain every check
passes on; each other domain breaks one thing.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.servers.https import Route

#: a 512-bit RSA public key (generated with `openssl genrsa 512`; cryptography refuses to make one)
RSA512 = (
    "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAJhME5Xk8BEeWE+5ZEYwl4s7dWVuZrMHv7sJAewIoP/WQLBgeXldZY5HSgbo3+FVJd"
    "tMdAzP8bLOrZtDgf5je1kCAwEAAQ=="
)
BL = "bl.test"  # our DNSBL zone; REFUSING refuses every query the way Spamhaus does
REFUSING = "refuse.test"
TLSA = "3 1 1 " + "ab" * 32


@cache
def rsa_key(bits: int) -> str:
    key = rsa.generate_private_key(65537, bits).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@cache
def ed_key() -> str:
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def _mx(*hosts: str) -> list[dict]:
    return [{"MX": [10 * (i + 1), h]} for i, h in enumerate(hosts)]


def _ptr(address: str, name: str) -> dict[str, list]:
    rev = ".".join(reversed(address.split("."))) + ".in-addr.arpa"
    return {rev: [{"PTR": name}]}


def good() -> dict[str, list]:
    zone: dict[str, list] = {
        "good.test": _mx("mx1.good.test", "mx2.good.test")
        + [
            {"TXT": "v=spf1 mx include:_spf.provider.test -all"},
            {"TXT": "unrelated=1"},
            {"A": "192.0.2.1"},
            {"SOA": "ns.good.test. host.good.test. 1 3600 600 86400 300"},
        ],
        "mx1.good.test": [{"A": "192.0.2.10"}],
        "mx2.good.test": [{"A": "192.0.2.11"}],
        "_spf.provider.test": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"}],
        "_dmarc.good.test": [{"TXT": "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"}],
        "default._domainkey.good.test": [{"TXT": f"v=DKIM1; k=rsa; p={rsa_key(2048)}"}],
        "_mta-sts.good.test": [{"TXT": "v=STSv1; id=20240101T000000"}],
        "mta-sts.good.test": [{"A": "127.0.0.1"}],
        "_smtp._tls.good.test": [{"TXT": "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"}],
        "default._bimi.good.test": [{"TXT": "v=BIMI1; l=https://good.test/logo.svg"}],
        "_25._tcp.mx1.good.test": [{"TLSA": TLSA}, {"TLSA": "3 1 1 " + "cd" * 32}],
        # the organizational-domain DMARC fallback: nothing at _dmarc.sub.good.test
        "sub.good.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 -all"}],
    }
    zone |= _ptr("192.0.2.10", "mx1.good.test") | _ptr("192.0.2.11", "mx2.good.test")
    return zone


def mx_defects() -> dict[str, list]:
    zone: dict[str, list] = {
        "implicit.test": [{"A": "192.0.2.20"}, {"TXT": "v=spf1 a -all"}],
        "nomail.test": [{"TXT": "v=spf1 -all"}],
        "null.test": [{"MX": [0, "."]}, {"TXT": "v=spf1 -all"}],
        "_dmarc.null.test": [{"TXT": "v=DMARC1; p=reject;"}],
        "nullweak.test": [{"MX": [0, "."]}],
        "nullmixed.test": [{"MX": [0, "."]}, {"MX": [10, "mx1.good.test"]}],
        "cname.test": _mx("alias.cname.test") + [{"TXT": "v=spf1 mx -all"}],
        "alias.cname.test": [{"CNAME": "real.cname.test"}],
        "real.cname.test": [{"A": "192.0.2.30"}],
        "noaddr.test": _mx("ghost.noaddr.test"),
        "private.test": _mx("mx.private.test"),
        "mx.private.test": [{"A": "10.0.0.5"}],
        "server.good.test": [{"A": "192.0.2.40"}],
        "broken.test": ["SERVFAIL"],
        # DNSSEC broken: a validating resolver says SERVFAIL; with CD set the records are there
        "bogus.test": ["BOGUS"]
        + _mx("mx1.good.test")
        + [{"TXT": "v=spf1 -all"}, {"SOA": "ns.bogus.test. h.bogus.test. 1 2 3 4 5"}],
        "_dmarc.broken.test": ["SERVFAIL"],
        "slow.test": [{"SLOW": 3.0}] + _mx("mx1.good.test") + [{"TXT": "v=spf1 -all"}],
        "dead.test": ["TIMEOUT"],
        "_dmarc.dead.test": ["TIMEOUT"],
        # a TXT set far over 1232 bytes: answered with TC over UDP, must be fetched over TCP
        "bigtxt.test": _mx("mx1.good.test")
        + [{"TXT": "v=spf1 ip4:198.51.100.1 -all"}]
        + [{"TXT": f"filler-{i}-" + "x" * 200} for i in range(12)],
    }
    return zone


def spf_defects() -> dict[str, list]:
    zone: dict[str, list] = {
        "nospf.test": _mx("mx1.good.test"),
        "multi.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 -all"}, {"TXT": "v=spf1 mx -all"}],
        "syntax.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 ip4:192.0.2.1/33 -all"}],
        "lookups.test": _mx("mx1.good.test")
        + [{"TXT": "v=spf1 " + " ".join(f"include:i{i}.lookups.test" for i in range(1, 5)) + " -all"}],
        "loop.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 include:loop2.test -all"}],
        "loop2.test": [{"TXT": "v=spf1 include:loop.test -all"}],
        "void.test": _mx("mx1.good.test")
        + [{"TXT": "v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test -all"}],
        "plusall.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 mx +all"}],
        "qall.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 mx ?all"}],
        "noall.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 mx"}],
        "incnospf.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 include:nothing.test -all"}],
        "nothing.test": [{"A": "192.0.2.99"}],
        "spftimeout.test": _mx("mx1.good.test") + [{"TXT": "v=spf1 include:dead.test -all"}],
    }
    for i in range(1, 5):  # 4 includes x (1 + 3 lookups) = 16 > 10; the culprit is the third include
        zone[f"i{i}.lookups.test"] = [
            {"TXT": f"v=spf1 a mx a:h{i}.lookups.test ~all"},
            {"A": "192.0.2.50"},
            {"MX": [10, "mx1.good.test"]},
        ]
        zone[f"h{i}.lookups.test"] = [{"A": "192.0.2.51"}]
    return zone


def dmarc_defects() -> dict[str, list]:
    base = _mx("mx1.good.test") + [{"TXT": "v=spf1 mx -all"}]
    zone: dict[str, list] = {}
    records = {
        "nodmarc.test": None,
        "pnone.test": "v=DMARC1; p=none; rua=mailto:d@pnone.test",
        "badp.test": "v=DMARC1; p=bogus",
        "disagree.test": "v=DMARC1; p=reject; adkim=x; rua=mailto:d@disagree.test",
        "norua.test": "v=DMARC1; p=reject",
        "extrua.test": "v=DMARC1; p=reject; rua=mailto:d@reports.test",
        "wildrua.test": "v=DMARC1; p=quarantine; rua=mailto:d@wild.test",
        "ruanomx.test": "v=DMARC1; p=reject; rua=mailto:d@ruanomx.test",
        "twodmarc.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        "pct.test": "v=DMARC1; p=quarantine; pct=50; sp=none; rua=mailto:d@pct.test",
    }
    for domain, rec in records.items():
        zone[domain] = list(base)
        if rec is not None:
            zone[f"_dmarc.{domain}"] = [{"TXT": r} for r in ([rec] if isinstance(rec, str) else rec)]
    zone["ruanomx.test"] = [{"TXT": "v=spf1 -all"}]  # the report domain itself: no MX, no address
    zone["reports.test"] = _mx("mx1.good.test")
    zone["wild.test"] = _mx("mx1.good.test")
    zone["*._report._dmarc.wild.test"] = [{"TXT": "v=DMARC1"}]
    return zone


def dkim_defects() -> dict[str, list]:
    base = _mx("mx1.good.test") + [{"TXT": "v=spf1 mx -all"}]
    keys = {
        "weak": f"v=DKIM1; k=rsa; p={RSA512}",
        "short": f"v=DKIM1; k=rsa; p={rsa_key(1024)}",
        "revoked": "v=DKIM1; k=rsa; p=",
        "testing": f"v=DKIM1; t=y; p={rsa_key(2048)}",
        "sha1": f"v=DKIM1; h=sha1; p={rsa_key(2048)}",
        "ed": f"v=DKIM1; k=ed25519; p={ed_key()}",
        "garbage": "v=DKIM1; p=not*base64",
    }
    zone: dict[str, list] = {
        "dkim.test": list(base),
        "m365.test": _mx("m365-test.mail.protection.outlook.com"),
    }
    for sel, rec in keys.items():
        zone[f"{sel}._domainkey.dkim.test"] = [{"TXT": rec}]
    zone["m365-test.mail.protection.outlook.com"] = [{"A": "192.0.2.60"}]
    # a provider seen only in SPF: Mailchimp's k2 is not among the common selectors
    zone["mailchimp.test"] = _mx("mx1.good.test") + [{"TXT": "v=spf1 include:servers.mcsv.net -all"}]
    zone["servers.mcsv.net"] = [{"TXT": "v=spf1 ip4:205.201.128.0/20 -all"}]
    zone["k2._domainkey.mailchimp.test"] = [{"TXT": f"v=DKIM1; p={rsa_key(2048)}"}]
    zone["selector1._domainkey.m365.test"] = [
        {"CNAME": "selector1-m365-test._domainkey.m365test.onmicrosoft.com"}
    ]
    zone["selector1-m365-test._domainkey.m365test.onmicrosoft.com"] = [{"TXT": f"v=DKIM1; p={rsa_key(2048)}"}]
    return zone


def sts_defects() -> dict[str, list]:
    zone: dict[str, list] = {}
    for name in (
        "stsuncovered",
        "ststesting",
        "stsuntrusted",
        "stswrongname",
        "sts404",
        "stshtml",
        "stsredirect",
        "stsshort",
        "stssyntax",
        "stsnohost",
        "stsnorpt",
        "stsbig",
    ):
        domain = f"{name}.test"
        zone[domain] = _mx(f"mx.{domain}") + [{"TXT": "v=spf1 mx -all"}]
        zone[f"mx.{domain}"] = [{"A": "192.0.2.70"}]
        zone[f"_mta-sts.{domain}"] = [{"TXT": "v=STSv1; id=1"}]
        if name != "stsnohost":
            zone[f"mta-sts.{domain}"] = [{"A": "127.0.0.1"}]
        if name != "stsnorpt":
            zone[f"_smtp._tls.{domain}"] = [{"TXT": "v=TLSRPTv1; rua=mailto:r@good.test"}]
    zone["_mta-sts.stsbadrecord.test"] = [{"TXT": "v=STSv1; id=has-dash!"}]
    zone["stsbadrecord.test"] = _mx("mx1.good.test")
    zone["_mta-sts.ststwo.test"] = [{"TXT": "v=STSv1; id=1"}, {"TXT": "v=STSv1; id=2"}]
    zone["ststwo.test"] = _mx("mx1.good.test")
    zone["_smtp._tls.rptbad.test"] = [{"TXT": "v=TLSRPTv1"}]
    zone["rptbad.test"] = _mx("mx1.good.test")
    return zone


def reputation_defects() -> dict[str, list]:
    zone: dict[str, list] = {
        "noptr.test": _mx("mx.noptr.test"),
        "mx.noptr.test": [{"A": "192.0.2.80"}],
        "badptr.test": _mx("mx.badptr.test"),
        "mx.badptr.test": [{"A": "192.0.2.81"}],
        "genericptr.test": _mx("mx.genericptr.test"),
        "mx.genericptr.test": [{"A": "192.0.2.82"}],
        "listed.test": _mx("mx.listed.test"),
        "mx.listed.test": [{"A": "192.0.2.66"}],
        f"66.2.0.192.{BL}": [{"A": "127.0.0.2"}, {"TXT": "listed: see https://bl.test/lookup"}],
        f"*.{REFUSING}": [{"A": "127.255.255.254"}],
    }
    zone |= _ptr("192.0.2.81", "elsewhere.test") | _ptr("192.0.2.66", "mx.listed.test")
    zone |= _ptr("192.0.2.82", "192-0-2-82.dynamic.isp.test")
    zone["192-0-2-82.dynamic.isp.test"] = [{"A": "192.0.2.82"}]
    return zone


def zone() -> dict[str, list]:
    """Everything, as one zone for the loopback DNS server."""
    out: dict[str, list] = {}
    for part in (
        good(),
        mx_defects(),
        spf_defects(),
        dmarc_defects(),
        dkim_defects(),
        sts_defects(),
        reputation_defects(),
    ):
        out |= part
    return out


SECURE = ("good.test",)

_POLICY = "version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 604800\n"


def routes() -> dict[str, Route]:
    """MTA-STS policies per `mta-sts.<domain>` host, one HTTP or certificate defect each."""
    ok = {"mta-sts.good.test": Route(_POLICY.format(mx="*.good.test"))}
    bad = {
        "stsuncovered": Route(_POLICY.format(mx="mx.elsewhere.test")),
        "ststesting": Route(_POLICY.format(mx="mx.elsewhere.test").replace("enforce", "testing")),
        "stsuntrusted": Route(_POLICY.format(mx="mx.stsuntrusted.test"), cert="untrusted"),
        "stswrongname": Route(_POLICY.format(mx="mx.stswrongname.test"), cert="wrong-name"),
        "sts404": Route(_POLICY.format(mx="mx.sts404.test"), status=404),
        "stshtml": Route(_POLICY.format(mx="mx.stshtml.test"), content_type="text/html"),
        "stsredirect": Route("", status=301, headers=(("Location", "https://elsewhere.test/"),)),
        "stsshort": Route(_POLICY.format(mx="mx.stsshort.test").replace("604800", "300")),
        "stssyntax": Route("version: STSv1\nmode: enforce\nmax_age: 86400\n"),
        "stsnorpt": Route(_POLICY.format(mx="mx.stsnorpt.test")),
        "stsbig": Route(_POLICY.format(mx="mx.stsbig.test") + "x: " + "a" * 70000 + "\n"),
    }
    return ok | {f"mta-sts.{k}.test": v for k, v in bad.items()}
