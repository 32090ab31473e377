"""ptr.match and dnsbl.listed, per MX address and for IP targets."""

from __future__ import annotations

import pytest

from checks.dnsbl import query_name
from checks.model import Status
from tests.checks import zones
from tests.checks.conftest import Lab


@pytest.mark.parametrize(
    "domain, status, words",
    [
        ("good.test", Status.PASS, "resolves back"),
        ("noptr.test", Status.FAIL, "no PTR record"),
        ("badptr.test", Status.FAIL, "does not resolve back"),
        ("genericptr.test", Status.WARN, "generic"),
    ],
)
def test_ptr_match(lab: Lab, domain: str, status: Status, words: str) -> None:
    found = lab.findings(domain, "ptr.match")
    assert found and all(f.status is status and words in f.summary for f in found), found
    assert all(f.kb == "reverse-dns-ptr" for f in found)
    host, address = found[0].subject.split()
    assert host.startswith("mx") and address.startswith("192.0.2.")


def test_one_dnsbl_finding_per_address(lab: Lab) -> None:
    found = lab.findings("good.test", "dnsbl.listed")
    assert [f.subject for f in found] == ["mx1.good.test 192.0.2.10", "mx2.good.test 192.0.2.11"]
    assert all(f.status is Status.PASS for f in found)


def test_listed_address_fails_with_the_list_text(lab: Lab) -> None:
    (finding,) = lab.findings("listed.test", "dnsbl.listed")
    assert finding.status is Status.FAIL
    assert finding.kb == "ip-blocklisted"
    assert "listed: see https://bl.test/lookup" in finding.details[zones.BL]["answer"]


def test_refusal_code_is_could_not_check_not_a_listing(lab: Lab) -> None:
    (finding,) = lab.findings("good.test", "dnsbl.listed", dnsbl_zones=(zones.REFUSING,))[:1]
    assert finding.status is Status.ERROR
    assert "refused" in finding.summary


def test_ip_target_gets_ptr_and_dnsbl(lab: Lab) -> None:
    report = lab.check("192.0.2.66")
    assert report.kind == "ip"
    assert {(f.check, f.status) for f in report.findings} >= {
        ("ptr.match", Status.PASS),
        ("dnsbl.listed", Status.FAIL),
    }


def test_dnsbl_query_names() -> None:
    assert query_name("192.0.2.66", "bl.test") == "66.2.0.192.bl.test"
    assert query_name("2001:db8::1", "bl.test").startswith("1.0.0.0.")
    assert query_name("2001:db8::1", "bl.test").endswith(".8.b.d.0.1.0.0.2.bl.test")
