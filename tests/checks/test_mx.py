"""mx.present, mx.null, mx.resolve, mx.cname against the loopback zones."""

from __future__ import annotations

import pytest

from checks.model import Status
from tests.checks.conftest import Lab


def test_clean_domain_passes_every_mx_check(lab: Lab) -> None:
    report = lab.check("good.test")
    mx = [f for f in report.findings if f.check.startswith("mx.")]
    assert {f.check for f in mx} == {"mx.present", "mx.cname", "mx.resolve"}
    assert all(f.status is Status.PASS for f in mx), mx
    resolve = [f for f in mx if f.check == "mx.resolve"]
    assert [f.subject for f in resolve] == ["mx1.good.test", "mx2.good.test"]


@pytest.mark.parametrize(
    "domain, status, words, kb",
    [
        ("implicit.test", Status.WARN, "implicit MX", "mx-records"),
        ("nomail.test", Status.FAIL, "no MX record and no A/AAAA", "host-unknown"),
        ("nx-domain.test", Status.FAIL, "does not exist", "host-unknown"),
    ],
)
def test_mx_present(lab: Lab, domain: str, status: Status, words: str, kb: str) -> None:
    (finding,) = lab.findings(domain, "mx.present")
    assert finding.status is status
    assert words in finding.summary
    assert finding.kb == kb


def test_null_mx_stops_mail_checks_and_recognises_the_parked_trio(lab: Lab) -> None:
    report = lab.check("null.test")
    null = [f for f in report.findings if f.check == "mx.null"]
    assert [f.status for f in null] == [Status.INFO, Status.PASS]
    assert "parked domain set up correctly" in null[1].summary
    checks = {f.check for f in report.findings}
    assert not checks & {
        "mx.resolve",
        "mta-sts.record",
        "tls-rpt.record",
        "ptr.match",
        "dnsbl.listed",
        "dane.tlsa",
    }
    assert {"spf.all", "dmarc.policy"} <= checks  # sending-side checks still run


def test_null_mx_without_spf_and_dmarc_is_a_weak_parked_domain(lab: Lab) -> None:
    null = lab.findings("nullweak.test", "mx.null")
    assert [f.status for f in null] == [Status.INFO, Status.WARN]
    assert "v=spf1 -all" in null[1].summary and "p=reject" in null[1].summary


def test_null_mx_mixed_with_real_mx_is_malformed(lab: Lab) -> None:
    (finding,) = lab.findings("nullmixed.test", "mx.null")
    assert finding.status is Status.FAIL
    assert finding.kb == "null-mx"


def test_mx_target_that_is_a_cname_fails(lab: Lab) -> None:
    (finding,) = lab.findings("cname.test", "mx.cname")
    assert finding.status is Status.FAIL
    assert "real.cname.test" in finding.summary


def test_mx_host_without_address_fails(lab: Lab) -> None:
    (finding,) = lab.findings("noaddr.test", "mx.resolve")
    assert finding.status is Status.FAIL
    assert finding.subject == "ghost.noaddr.test"


def test_mx_on_private_address_is_not_probed_without_permission(lab: Lab) -> None:
    (finding,) = lab.findings("private.test", "mx.resolve", allow_private=False)
    assert finding.status is Status.FAIL
    assert "10.0.0.5" in str(finding.details["refused"])
    report = lab.check("private.test", allow_private=False)
    assert not [f for f in report.findings if f.check == "dnsbl.listed"]


def test_servfail_is_could_not_check_not_missing(lab: Lab) -> None:
    report = lab.check("broken.test")
    by_check = {f.check: f for f in report.findings}
    for check in ("mx.present", "spf.present", "dmarc.present"):
        assert by_check[check].status is Status.ERROR, by_check[check]
        assert "SERVFAIL" in by_check[check].summary
        assert by_check[check].kb == "dns-lookup-failure"
    assert not any(f.status is Status.FAIL for f in report.findings)


def test_timeout_is_could_not_check_not_missing(lab: Lab) -> None:
    report = lab.check("dead.test")
    for check in ("mx.present", "spf.present", "dmarc.present"):
        (finding,) = [f for f in report.findings if f.check == check]
        assert finding.status is Status.ERROR
        assert "no answer within" in finding.summary
    assert not any(f.status is Status.FAIL for f in report.findings)


def test_bogus_dnssec_is_a_defect_and_the_records_are_could_not_check(lab: Lab) -> None:
    report = lab.check("bogus.test")
    (dnssec,) = [f for f in report.findings if f.check == "dnssec.ad"]
    assert dnssec.status is Status.FAIL and "bogus" in dnssec.summary
    (mx,) = [f for f in report.findings if f.check == "mx.present"]
    assert mx.status is Status.ERROR  # we could not read the MX through a validating path
