"""dkim.key for named selectors and for provider-aware probing."""

from __future__ import annotations

import pytest

from checks.model import Status
from tests.checks.conftest import Lab


def test_probe_finds_the_default_selector(lab: Lab) -> None:
    (finding,) = lab.findings("good.test", "dkim.key")
    assert finding.status is Status.PASS
    assert finding.subject == "default._domainkey.good.test"
    assert finding.details["bits"] == 2048


def test_provider_selector_behind_a_cname(lab: Lab) -> None:
    found = lab.findings("m365.test", "dkim.key")
    assert [(f.subject, f.status) for f in found] == [("selector1._domainkey.m365.test", Status.PASS)]


def test_provider_selector_found_through_spf_include(lab: Lab) -> None:
    found = lab.findings("mailchimp.test", "dkim.key")
    assert [(f.subject, f.status) for f in found] == [("k2._domainkey.mailchimp.test", Status.PASS)]


def test_no_key_found_without_selector_is_information(lab: Lab) -> None:
    (finding,) = lab.findings("nospf.test", "dkim.key")
    assert finding.status is Status.INFO
    assert "--dkim-selector" in finding.summary


@pytest.mark.parametrize(
    "selector, status, words",
    [
        ("weak", Status.FAIL, "512 bits"),
        ("short", Status.WARN, "1024 bits"),
        ("revoked", Status.FAIL, "revoked"),
        ("testing", Status.WARN, "t=y"),
        ("sha1", Status.FAIL, "sha1"),
        ("ed", Status.PASS, "Ed25519"),
        ("garbage", Status.FAIL, "base64"),
        ("missing", Status.FAIL, "no DKIM key"),
    ],
)
def test_named_selectors(lab: Lab, selector: str, status: Status, words: str) -> None:
    (finding,) = lab.findings("dkim.test", "dkim.key", dkim_selectors=(selector,))
    assert finding.status is status, finding
    assert words in finding.summary
    assert finding.kb == "dkim-setup"


def test_bare_pkcs1_key_is_read_too() -> None:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from checks.dkim import grade

    key = rsa.generate_private_key(65537, 2048).public_key()
    pkcs1 = base64.b64encode(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    status, summary, details = grade(f"v=DKIM1; p={pkcs1.decode()}")
    assert status is Status.PASS and details["bits"] == 2048
    assert grade("v=DKIM1; p=AAAA")[0] is Status.FAIL


def test_probe_with_unanswered_selectors_is_could_not_check() -> None:
    import asyncio

    from checks.model import CheckOptions
    from checks.report import run_check
    from tests.checks import zones
    from tests.servers.dns import DnsServer

    zone = zones.zone() | {"default._domainkey.nospf.test": ["SERVFAIL"]}
    with DnsServer(zone) as dns:
        opts = CheckOptions(
            nameservers=(("127.0.0.1", dns.port),), timeout=1.0, smtp=False, dnsbl_zones=("bl.test",)
        )
        report = asyncio.run(run_check("nospf.test", opts))
    (finding,) = [f for f in report.findings if f.check == "dkim.key"]
    assert finding.status is Status.ERROR and "default" in finding.summary
