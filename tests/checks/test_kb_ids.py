"""Every finding links to a knowledge-base entry that exists and serialises to JSON (over every test zone)."""

from __future__ import annotations

import json

import pytest

from tests.checks import zones
from tests.checks.conftest import Lab


def _domains() -> list[str]:
    names = zones.zone()
    # their "could not check" kb id is covered by broken.test, without the waits
    slow = {"dead.test", "slow.test", "spftimeout.test"}
    return sorted(n for n in names if n.endswith(".test") and n.count(".") == 1 and n not in slow)


def test_every_kb_id_used_by_the_dns_checks_exists(lab: Lab) -> None:
    knowledge = pytest.importorskip("knowledge.load")
    kb = knowledge.default_kb()
    used: dict[str, str] = {}
    for domain in _domains() + ["sub.good.test", "192.0.2.66"]:
        report = lab.check(domain, dkim_selectors=())
        json.dumps(report.to_json())  # every finding's details must be plain JSON
        for finding in report.findings:
            if finding.kb:
                used.setdefault(finding.kb, f"{finding.check} on {domain}")
        for finding in lab.check(domain, dnsbl_zones=(zones.REFUSING,)).findings:
            if finding.kb:
                used.setdefault(finding.kb, f"{finding.check} on {domain}")
    missing = {k: where for k, where in used.items() if kb.get(k) is None}
    assert not missing, f"KB ids not in knowledge/kb: {missing}"
    assert len(used) >= 10
