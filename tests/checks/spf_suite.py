"""Drive the openspf RFC 7208 / RFC 4408 suites against `checks.spf.evaluate` over real DNS.

Each scenario's zonedata is loaded into the loopback DNS server (`tests/servers/dns.py`) and every
test case runs check_host() through `--nameserver 127.0.0.1:PORT`. Run as a script to print the
pass counts: ``python -m tests.checks.spf_suite``.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checks.model import CheckOptions
from checks.spf import evaluate
from tests.servers.dns import DnsServer

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SUITES = {
    "rfc7208": SHARED / "ref" / "spf" / "rfc7208-tests.yml",
    "rfc4408": SHARED / "ref" / "spf" / "rfc4408-tests.yml",
    # pyspf's own regression scenarios; their Received-SPF `header` expectations are not compared
    # (we do not write that header), only result and explanation
    "pyspf": SHARED / "ref" / "spf" / "pyspf-test.yml",
}
#: short: the suite's TIMEOUT names never answer, and each costs one per-query timeout
SUITE_TIMEOUT = 0.3

#: cases we do not run, each with its reason (none in the RFC suites)
SKIPPED: dict[tuple[str, str], str] = {
    ("pyspf", "default-modifier"): "pyspf-only `default=` modifier from pre-RFC drafts; RFC 7208 6 makes "
    "it an unknown modifier, ignored, so the record ends `neutral`",
    ("pyspf", "default-modifier-harsh"): "expects pyspf's non-RFC `ambiguous` result of its harsh mode",
}


@dataclass(frozen=True)
class Case:
    suite: str
    scenario: str
    test_id: str
    zone: dict[str, list[Any]]
    data: dict[str, Any]

    @property
    def expected(self) -> list[str]:
        result = self.data["result"]
        return list(result) if isinstance(result, list) else [result]


def zone_of(zonedata: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The suite's convention: an SPF entry is also a TXT record unless the name lists TXT itself."""
    zone: dict[str, list[Any]] = {}
    for name, items in (zonedata or {}).items():
        items = list(items or [])
        has_txt = any(isinstance(i, dict) and "TXT" in i for i in items)
        extra = (
            []
            if has_txt
            else [
                {"TXT": i["SPF"]} for i in items if isinstance(i, dict) and "SPF" in i and i["SPF"] != "NONE"
            ]
        )
        zone.setdefault(name.lower(), []).extend(items + extra)
    return zone


def load(suite: str) -> list[Case]:
    cases = []
    with open(SUITES[suite], "rb") as handle:
        for doc in yaml.safe_load_all(handle):
            zone = zone_of(doc.get("zonedata") or {})
            for test_id, data in doc["tests"].items():
                cases.append(Case(suite, doc.get("description", ""), test_id, zone, data))
    return cases


async def run_case(case: Case, server: DnsServer) -> tuple[bool, str]:
    """Run one case; (passed, what we answered)."""
    server.load(case.zone)
    mailfrom, helo = case.data.get("mailfrom") or "", case.data["helo"]
    domain = mailfrom.rpartition("@")[2] if mailfrom else helo
    opts = CheckOptions(nameservers=(("127.0.0.1", server.port),), timeout=SUITE_TIMEOUT)
    res = await evaluate(
        domain, case.data["host"], helo=helo, sender=mailfrom or f"postmaster@{helo}", opts=opts
    )
    ok = res.result in case.expected
    want_exp = case.data.get("explanation")
    if ok and want_exp is not None and res.result == "fail":
        ok = (res.explanation or "DEFAULT") == want_exp
    return ok, f"{res.result} exp={res.explanation!r} ({res.problem})"


def main() -> int:
    with DnsServer() as server:
        for suite in SUITES:
            if not SUITES[suite].exists():
                print(f"{suite}: suite file not found at {SUITES[suite]}")
                continue
            cases = load(suite)
            passed = 0
            for case in cases:
                if (suite, case.test_id) in SKIPPED:
                    continue
                ok, got = asyncio.run(run_case(case, server))
                passed += ok
                if not ok:
                    print(
                        f"  FAIL {suite} {case.test_id}: want {case.expected} "
                        f"{case.data.get('explanation', '')!r}, got {got}"
                    )
            skipped = sum(1 for s, _ in SKIPPED if s == suite)
            print(f"{suite}: {passed}/{len(cases) - skipped} passed, {skipped} skipped with a written reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
