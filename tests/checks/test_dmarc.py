"""dmarc.* findings on defect zones, and the shared DMARC record corpus under both readings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checks.dmarc import organizational_domain
from checks.dmarc_record import parse
from checks.model import Status
from tests.checks.conftest import Lab

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "ref" / "dmarc" / "dmarc-records.yml"
_ENTRIES = yaml.safe_load(CORPUS.read_text()) if CORPUS.exists() else []

#: where we knowingly differ from a peer, and why (everything else must agree)
DISAGREE = {
    (
        "v=DMARC1; p=n;",
        "trusteddomainproject/OpenDMARC",
    ): "OpenDMARC accepts any prefix of none/quarantine/reject; RFC 7489 6.3 lists only the full words",
    (
        "v=DMARC1; p=none; rf=bob;",
        "trusteddomainproject/OpenDMARC",
    ): "OpenDMARC knows only afrf/iodef; the RFC 7489 ABNF allows any Keyword (mox agrees with us)",
    (
        "v=DMARC1; p=none; rf=000000000000000000000000000000000",
        "trusteddomainproject/OpenDMARC",
    ): "same rf= rule: a Keyword is an Ldh-str, digits allowed",
}
#: records whose DMARCbis verdict differs from checkdmarc 6.0.4's, and why
DISAGREE_CHECKDMARC = {
    "V = DMARC1 ;": "checkdmarc's grammar rejects whitespace around ',' in URI lists; both ABNFs allow it",
}


def _strict_cases() -> list[tuple[str, str, bool]]:
    out = []
    for entry in _ENTRIES:
        for source, verdict in (entry.get("expected") or {}).items():
            out.append((entry["record"], source, verdict in ("DMARC_PARSE_OKAY", "valid")))
    return out


@pytest.mark.skipif(not _ENTRIES, reason="../shared/ref/dmarc not found next to the repository")
@pytest.mark.parametrize("record, source, valid", _strict_cases(), ids=lambda v: repr(v)[:40])
def test_rfc7489_reading_matches_opendmarc_and_mox(record: str, source: str, valid: bool) -> None:
    ours = parse(record).valid_7489
    if (record, source) in DISAGREE:
        assert ours != valid, f"stale disagreement entry: {DISAGREE[(record, source)]}"
    else:
        assert ours == valid, parse(record).strict_errors


@pytest.mark.skipif(not _ENTRIES, reason="../shared/ref/dmarc not found next to the repository")
@pytest.mark.parametrize("entry", _ENTRIES, ids=lambda e: repr(e["record"])[:40])
def test_dmarcbis_reading_matches_checkdmarc(entry: dict) -> None:
    ours = parse(entry["record"]).valid_bis
    want = entry["checkdmarc_6_0_4"]["valid"]
    if any(entry["record"].startswith(k) for k in DISAGREE_CHECKDMARC):
        assert ours != want
    else:
        assert ours == want, parse(entry["record"]).bis_errors


@pytest.mark.skipif(not _ENTRIES, reason="../shared/ref/dmarc not found next to the repository")
def test_corpus_disagreements_between_receivers_are_reported_as_such() -> None:
    """Where RFC 7489 and DMARCbis readings differ, the finding says "receivers disagree"."""
    split = [e["record"] for e in _ENTRIES if parse(e["record"]).valid_7489 != parse(e["record"]).valid_bis]
    assert len(split) >= 20


def test_clean_domain(lab: Lab) -> None:
    dmarc = [f for f in lab.check("good.test").findings if f.check.startswith("dmarc.")]
    assert [(f.check, f.status) for f in dmarc] == [
        (c, Status.PASS) for c in ("dmarc.present", "dmarc.syntax", "dmarc.policy", "dmarc.reporting")
    ]


@pytest.mark.parametrize(
    "domain, check, status, words",
    [
        ("nodmarc.test", "dmarc.present", Status.FAIL, "no DMARC record"),
        ("twodmarc.test", "dmarc.present", Status.FAIL, "2 DMARC records"),
        ("badp.test", "dmarc.syntax", Status.FAIL, "p='bogus'"),
        ("disagree.test", "dmarc.syntax", Status.WARN, "receivers disagree"),
        ("pnone.test", "dmarc.policy", Status.WARN, "p=none"),
        ("pct.test", "dmarc.policy", Status.WARN, "sp=none"),
        ("pct.test", "dmarc.policy", Status.WARN, "pct=50"),
        ("norua.test", "dmarc.reporting", Status.WARN, "no rua"),
        ("extrua.test", "dmarc.reporting", Status.FAIL, "has not authorized"),
        ("ruanomx.test", "dmarc.reporting", Status.WARN, "no MX"),
        ("broken.test", "dmarc.present", Status.ERROR, "SERVFAIL"),
    ],
)
def test_dmarc_defects(lab: Lab, domain: str, check: str, status: Status, words: str) -> None:
    found = lab.findings(domain, check)
    assert any(f.status is status and words in f.summary for f in found), found


def test_external_destination_authorized_by_wildcard(lab: Lab) -> None:
    (finding,) = lab.findings("wildrua.test", "dmarc.reporting")
    assert finding.status is Status.PASS, finding


def test_organizational_domain_fallback(lab: Lab) -> None:
    (present,) = lab.findings("sub.good.test", "dmarc.present")
    assert present.status is Status.PASS and present.details["inherited"]
    assert present.subject == "_dmarc.good.test"
    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"


@pytest.mark.parametrize("record", [
    "v=DMARC1; p=none; rua=mailto:x@" + "a." * 30000 + "!",
    "v=DMARC1; p=none; rua=mailto:a@b.c" + " \t" * 30000 + "x;",
    "v=DMARC1; p=" + "a " * 30000,
], ids=["label-run", "blank-run", "value-run"])
def test_records_a_domain_owner_pads_parse_in_linear_time(record):
    """A published record is attacker-controlled input (up to ~64 kB of TXT): these took 3-22 s
    with one regex over the whole address or a lazy `(.*?)\\s*`."""
    rec = parse(record)
    assert rec.strict_errors or rec.bis_errors or rec.warnings
