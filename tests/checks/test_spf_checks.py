"""spf.* findings on defect zones, and the `evaluate` contract used by `smtpbot spf`."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.model import Status
from checks.spf import evaluate
from checks.spf_macro import MacroContext, expand
from checks.spf_record import SpfSyntaxError, parse
from tests.checks.conftest import Lab


def test_clean_domain_passes_every_spf_check(lab: Lab) -> None:
    spf = [f for f in lab.check("good.test").findings if f.check.startswith("spf.")]
    assert [f.check for f in spf] == [
        "spf.present",
        "spf.multiple",
        "spf.syntax",
        "spf.lookups",
        "spf.void-lookups",
        "spf.all",
    ]
    assert all(f.status is Status.PASS for f in spf), spf
    assert all(f.kb == "spf-setup" for f in spf)
    lookups = next(f for f in spf if f.check == "spf.lookups")
    assert lookups.details["total"] == 2  # mx + include


@pytest.mark.parametrize(
    "domain, check, status, words",
    [
        ("nospf.test", "spf.present", Status.FAIL, "no SPF record"),
        ("multi.test", "spf.multiple", Status.FAIL, "2 SPF records"),
        ("syntax.test", "spf.syntax", Status.FAIL, "CIDR"),
        ("loop.test", "spf.lookups", Status.FAIL, "include loop"),
        ("void.test", "spf.void-lookups", Status.FAIL, "3 terms"),
        ("plusall.test", "spf.all", Status.FAIL, "+all"),
        ("qall.test", "spf.all", Status.WARN, "?all"),
        ("noall.test", "spf.all", Status.WARN, "no `all`"),
        ("spftimeout.test", "spf.lookups", Status.ERROR, "could not check"),
    ],
)
def test_spf_defects(lab: Lab, domain: str, check: str, status: Status, words: str) -> None:
    found = lab.findings(domain, check)
    assert any(f.status is status and words in f.summary for f in found), found


def test_lookup_limit_names_the_include_that_passes_it(lab: Lab) -> None:
    (finding,) = lab.findings("lookups.test", "spf.lookups")
    assert finding.status is Status.FAIL
    assert finding.details["total"] == 16  # walked on past 10
    assert finding.details["over_limit_at"] == "include:i3.lookups.test"
    tree = finding.details["tree"]
    assert [c["domain"] for c in tree["children"]] == [f"i{i}.lookups.test" for i in range(1, 5)]


def test_include_without_spf_record_is_reported_on_the_include(lab: Lab) -> None:
    found = lab.findings("incnospf.test", "spf.present")
    assert [(f.subject, f.status) for f in found] == [
        ("incnospf.test", Status.PASS),
        ("nothing.test", Status.FAIL),
    ]


def test_timeout_in_include_is_never_a_missing_record(lab: Lab) -> None:
    report = lab.check("spftimeout.test")
    spf = [f for f in report.findings if f.check.startswith("spf.")]
    assert not any(f.status is Status.FAIL for f in spf), spf


def _eval(lab: Lab, domain: str, ip: str, **kw: str):  # noqa: ANN202
    return asyncio.run(evaluate(domain, ip, opts=lab.opts(), **kw))


def test_evaluate_returns_the_contract_shape(lab: Lab) -> None:
    result = _eval(lab, "good.test", "198.51.100.7")
    assert result.to_json() == {
        "result": "pass",
        "mechanism": "include:_spf.provider.test",
        "explanation": None,
        "lookups": 2,
    }
    assert _eval(lab, "good.test", "192.0.2.10").to_json()["mechanism"] == "mx"
    assert _eval(lab, "good.test", "203.0.113.5").result == "fail"


def test_evaluate_keeps_temperror_apart_from_permerror(lab: Lab) -> None:
    assert _eval(lab, "spftimeout.test", "203.0.113.5").result == "temperror"
    assert _eval(lab, "broken.test", "203.0.113.5").result == "temperror"
    assert _eval(lab, "loop.test", "203.0.113.5").result == "permerror"
    assert _eval(lab, "nospf.test", "203.0.113.5").result == "none"


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_parser_only_ever_raises_its_syntax_error(tail: str) -> None:
    """Any record text parses or raises SpfSyntaxError (a permerror), never anything else."""
    try:
        record = parse("v=spf1 " + tail)
    except SpfSyntaxError:
        return
    for term in record.terms:
        if term.arg and "%" in term.arg:
            ctx = MacroContext("a@example.com", "example.com", ipaddress.ip_address("192.0.2.1"), "h.example")
            try:
                expand(term.arg, ctx)
            except SpfSyntaxError:
                pass


def test_evaluate_ipv6_and_mapped_clients(lab: Lab) -> None:
    assert _eval(lab, "good.test", "::ffff:198.51.100.7").result == "pass"  # mapped IPv4 counts as IPv4
    assert _eval(lab, "good.test", "2001:db8::99").result == "fail"


def test_spf_cli_accepts_underscore_names(lab: Lab) -> None:
    from tests.checks.test_cli import run

    code, out, _ = run(["spf", "_spf.provider.test", "198.51.100.7", "--json", *lab.cli_args()[:4]])
    assert code == 0 and '"result": "pass"' in out
