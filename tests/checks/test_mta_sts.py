"""mta-sts.record, mta-sts.policy (fetched over real HTTPS with a test CA) and tls-rpt.record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from checks.model import CheckOptions, Status
from checks.mta_sts_policy import is_record, mx_matches, parse_policy, parse_sts_record, parse_tlsrpt_record
from checks.report import run_check
from tests.checks.conftest import Lab
from tests.servers.dns import DnsServer
from tests.servers.https import HttpsServer, Route

REF = Path(__file__).resolve().parents[2] / ".." / "shared" / "ref" / "mta-sts"


def _load(name: str) -> list[dict]:
    path = REF / name
    return yaml.safe_load(path.read_text()) if path.exists() else []


RECORDS, POLICIES, TLSRPT = (
    _load("mta-sts-records.yml"),
    _load("mta-sts-policies.yml"),
    _load("tlsrpt-records.yml"),
)
needs_ref = pytest.mark.skipif(not POLICIES, reason="../shared/ref/mta-sts not found next to the repository")


def test_clean_domain(lab: Lab) -> None:
    found = [f for f in lab.check("good.test").findings if f.check.startswith(("mta-sts.", "tls-rpt."))]
    assert [(f.check, f.status) for f in found] == [
        ("mta-sts.record", Status.PASS),
        ("mta-sts.policy", Status.PASS),
        ("mta-sts.policy", Status.PASS),
        ("tls-rpt.record", Status.PASS),
    ]
    assert lab.web.requests.count("mta-sts.good.test") >= 1


@pytest.mark.parametrize(
    "domain, check, status, words",
    [
        ("stsuncovered.test", "mta-sts.policy", Status.FAIL, "compliant senders will defer"),
        ("ststesting.test", "mta-sts.policy", Status.WARN, "mode testing"),
        ("stsuntrusted.test", "mta-sts.policy", Status.FAIL, "certificate"),
        ("stswrongname.test", "mta-sts.policy", Status.FAIL, "certificate"),
        ("sts404.test", "mta-sts.policy", Status.FAIL, "HTTP 404"),
        ("stshtml.test", "mta-sts.policy", Status.FAIL, "text/html"),
        ("stsredirect.test", "mta-sts.policy", Status.FAIL, "redirect"),
        ("stsshort.test", "mta-sts.policy", Status.WARN, "max_age 300"),
        ("stssyntax.test", "mta-sts.policy", Status.FAIL, "needs at least one mx"),
        ("stsnohost.test", "mta-sts.policy", Status.FAIL, "has no address"),
        ("stsbig.test", "mta-sts.policy", Status.FAIL, "larger than 64 KiB"),
        ("stsbadrecord.test", "mta-sts.record", Status.FAIL, "id="),
        ("ststwo.test", "mta-sts.record", Status.FAIL, "2 MTA-STS records"),
        ("nospf.test", "mta-sts.record", Status.INFO, "no MTA-STS record"),
        ("stsnorpt.test", "tls-rpt.record", Status.WARN, "MTA-STS is on"),
        ("rptbad.test", "tls-rpt.record", Status.FAIL, "rua= is missing"),
        ("nospf.test", "tls-rpt.record", Status.INFO, "no TLS-RPT record"),
        ("broken.test", "dmarc.present", Status.ERROR, "SERVFAIL"),
    ],
)
def test_defects(lab: Lab, domain: str, check: str, status: Status, words: str) -> None:
    found = lab.findings(domain, check)
    assert any(f.status is status and words in f.summary for f in found), found


def test_policy_host_on_a_private_address_is_refused_without_permission(lab: Lab) -> None:
    found = lab.findings("good.test", "mta-sts.policy", allow_private=False)
    assert [f.status for f in found] == [Status.FAIL]
    assert "refused" in found[0].summary


def test_mx_pattern_rules() -> None:
    assert mx_matches("*.example.net", "mx1.example.net")
    assert not mx_matches("*.example.net", "a.b.example.net")
    assert not mx_matches("*.example.net", "example.net")
    assert mx_matches("Mail.Example.com.", "mail.example.com")


@needs_ref
@pytest.mark.parametrize("entry", RECORDS, ids=lambda e: repr(e["record"])[:40])
def test_record_corpus(entry: dict) -> None:
    expected = entry["expected"]
    text = entry["record"]
    ours = is_record(text, "STSv1") and parse_sts_record(text).valid
    verdicts = [v if isinstance(v, str) else ("valid" if v else "none") for v in expected.values()]
    # RFC 8461 3.1: "v=STSv1; id=foo; id=bar" keeps the first id (checkdmarc 6.x agrees; 5.17.5 raised)
    want = all(v.startswith(("valid", "resolver: VALID")) for v in verdicts) or "duplicate tag" in verdicts[0]
    assert ours == want, (parse_sts_record(text).errors, verdicts)


@needs_ref
@pytest.mark.parametrize("entry", TLSRPT, ids=lambda e: repr(e["record"])[:40])
def test_tlsrpt_corpus(entry: dict) -> None:
    text, expected = entry["record"], entry["expected"]
    want = entry["checkdmarc_6_0_4"]["valid"] if expected.startswith("see") else expected == "valid"
    assert (is_record(text, "TLSRPTv1") and parse_tlsrpt_record(text).valid) == want


def _corpus_domain(entry: dict) -> str:
    return f"{entry['name']}.corpus.test"


@pytest.fixture(scope="module")
def corpus_lab() -> Iterator[tuple[DnsServer, HttpsServer]]:
    """Each corpus policy served at mta-sts.<name>.corpus.test with its HTTP and certificate condition."""
    routes, zone = {}, {}
    for entry in POLICIES:
        http = entry.get("http") or {}
        cert = str(http.get("cert", "valid"))
        cert = "untrusted" if "untrusted" in cert else "wrong-name" if "does not name" in cert else "valid"
        domain = _corpus_domain(entry)
        routes[f"mta-sts.{domain}"] = Route(
            entry["body"], int(http.get("status", 200)), http.get("content_type", "text/plain"), cert
        )
        zone[domain] = [{"MX": [10, "mail.loc"]}]
        zone[f"_mta-sts.{domain}"] = [{"TXT": "v=STSv1; id=1"}]
        zone[f"mta-sts.{domain}"] = [{"A": "127.0.0.1"}]
    zone["mail.loc"] = [{"A": "192.0.2.1"}]
    with DnsServer(zone) as dns, HttpsServer(routes) as web:
        yield dns, web


@needs_ref
@pytest.mark.parametrize("entry", POLICIES, ids=lambda e: e["name"])
def test_policy_corpus_over_https(entry: dict, corpus_lab: tuple[DnsServer, HttpsServer]) -> None:
    dns, web = corpus_lab
    opts = CheckOptions(
        nameservers=(("127.0.0.1", dns.port),),
        timeout=2.0,
        allow_private=True,
        smtp=False,
        https_port=web.port,
        ca_file=web.ca_file,
        dnsbl_zones=("bl.test",),
    )
    report = asyncio.run(run_check(_corpus_domain(entry), opts))
    policy = [f for f in report.findings if f.check == "mta-sts.policy"]
    expected = entry["expected"]
    # RFC 8461 3.2: unknown fields are ignored; duplicates keep the first (checkdmarc 6.x),
    # so the "error in 5.17.5" entries are valid policies
    valid = expected.startswith(("valid", "resolver: VALID", "error in 5.17.5"))
    assert policy, report.findings
    if valid:
        assert policy[0].status in (Status.PASS, Status.WARN), policy[0]
    else:
        assert policy[0].status is Status.FAIL, policy[0]


@pytest.mark.parametrize("body", [
    "version: STSv1\nmode: enforce\nmx: " + " \t" * 30000 + "x\nmax_age: 86400\n",
    "version: STSv1\nmode: enforce\nmx: " + "a-" * 30000 + ".com!\nmax_age: 86400\n",
    "version: STSv1\nmode: enforce\nmx: " + "a." * 30000 + "!\nmax_age: 86400\n",
], ids=["blank-run", "hyphen-run", "label-run"])
def test_policies_a_domain_owner_pads_parse_in_linear_time(body):
    policy = parse_policy(body)
    assert policy.mode == "enforce" and len(policy.mx) == 1
    assert policy.errors and len(policy.errors[0]) < 200
