"""The engine: concurrency, deadline, per-run cache, progress, TCP fallback, dead nameservers, SMTP hook."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from checks import report as engine
from checks.errors import TargetError
from checks.model import CheckOptions, Finding, Status
from checks.report import AREAS, run_check
from tests.checks import zones
from tests.checks.conftest import Lab
from tests.servers.dns import DnsServer


def test_progress_reports_each_area_once_with_its_findings(lab: Lab) -> None:
    seen: list[tuple[str, list[Finding]]] = []
    report = asyncio.run(run_check("good.test", lab.opts(), lambda area, found: seen.append((area, found))))
    areas = [a for a, _ in seen]
    assert sorted(areas) == sorted(a for a in AREAS if a not in ("smtp", "tls"))
    assert sum(len(f) for _, f in seen) == len(report.findings)
    for area, found in seen:
        assert all(engine.area_of(f.check) == area for f in found)


def test_findings_come_in_area_order(lab: Lab) -> None:
    order = [engine.area_of(f.check) for f in lab.check("good.test").findings]
    assert order == sorted(order, key=AREAS.index)


def test_every_name_and_type_is_asked_once_per_run() -> None:
    with DnsServer(zones.zone(), secure=zones.SECURE) as dns:
        opts = CheckOptions(
            nameservers=(("127.0.0.1", dns.port),),
            timeout=1.0,
            allow_private=True,
            smtp=False,
            dnsbl_zones=(zones.BL,),
            https_port=1,
        )
        asyncio.run(run_check("good.test", opts))
        assert dns.queries and max(dns.queries.values()) == 1, dns.queries.most_common(3)


def test_large_answers_fall_back_to_tcp() -> None:
    with DnsServer(zones.zone()) as dns:
        opts = CheckOptions(
            nameservers=(("127.0.0.1", dns.port),), timeout=1.0, smtp=False, dnsbl_zones=(zones.BL,)
        )
        report = asyncio.run(run_check("bigtxt.test", opts))
        assert dns.protocols["tcp"] >= 1
    (spf,) = [f for f in report.findings if f.check == "spf.present"]
    assert spf.status is Status.PASS


def test_a_slow_name_delays_only_the_checks_that_need_it() -> None:
    zone = zones.zone() | {
        "_dmarc.good.test": [{"SLOW": 1.0}, {"TXT": "v=DMARC1; p=reject; rua=mailto:d@good.test"}]
    }
    finished: dict[str, float] = {}
    with DnsServer(zone) as dns:
        opts = CheckOptions(
            nameservers=(("127.0.0.1", dns.port),),
            timeout=3.0,
            allow_private=True,
            smtp=False,
            dnsbl_zones=(zones.BL,),
            https_port=1,
        )
        start = time.monotonic()
        report = asyncio.run(
            run_check("good.test", opts, lambda a, f: finished.setdefault(a, time.monotonic()))
        )
    assert finished["dmarc"] - start >= 1.0
    assert all(t - start < 0.9 for a, t in finished.items() if a not in ("dmarc", "dns")), finished
    assert report.duration_ms < 2500  # one slow answer, not one per check
    assert any(f.check == "dmarc.policy" and f.status is Status.PASS for f in report.findings)


def test_deadline_turns_unfinished_areas_into_errors(lab: Lab) -> None:
    start = time.monotonic()
    report = lab.check("slow.test", timeout=5.0, deadline=0.5)
    assert time.monotonic() - start < 1.5
    late = [f for f in report.findings if "deadline" in f.summary]
    assert late and all(f.status is Status.ERROR for f in late)
    assert {f.check for f in late} >= {"mx.present", "spf.present"}


def test_dead_nameserver_finishes_within_the_timeout() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read: queries just vanish
    silent.bind(("127.0.0.1", 0))
    try:
        opts = CheckOptions(nameservers=(("127.0.0.1", silent.getsockname()[1]),), timeout=0.5, smtp=False)
        start = time.monotonic()
        report = asyncio.run(run_check("good.test", opts))
        elapsed = time.monotonic() - start
    finally:
        silent.close()
    assert elapsed < 0.5 + 0.5, elapsed
    assert report.findings and all(f.status in (Status.ERROR, Status.INFO) for f in report.findings), [
        (f.check, f.status) for f in report.findings if f.status not in (Status.ERROR, Status.INFO)
    ]
    assert not report.ok


def test_smtp_probes_get_every_guarded_mx_address(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str, CheckOptions]] = []

    async def probe_mx(host: str, address: str, opts: CheckOptions) -> list[Finding]:
        calls.append((host, address, opts))
        await asyncio.sleep(0.2)
        return [
            Finding("smtp.connect", Status.PASS, f"{host} {address}", "ok", {}, "smtp-ports"),
            Finding("tls.cert-valid", Status.PASS, f"{host} {address}", "ok", {}, None),
        ]

    monkeypatch.setattr(engine, "_probe", lambda name: probe_mx if name == "probe_mx" else None)
    seen: list[str] = []
    start = time.monotonic()
    report = asyncio.run(run_check("good.test", lab.opts(smtp=True), lambda area, _: seen.append(area)))
    assert time.monotonic() - start < 1.0  # probes ran concurrently with each other and the DNS checks
    assert sorted((h, a) for h, a, _ in calls) == [
        ("mx1.good.test", "192.0.2.10"),
        ("mx2.good.test", "192.0.2.11"),
    ]
    assert {"smtp", "tls"} <= set(seen)
    assert [engine.area_of(f.check) for f in report.findings][-4:] == ["smtp", "smtp", "tls", "tls"]
    calls.clear()
    lab.check("private.test", allow_private=False, smtp=True)
    assert calls == []  # the guard runs before any connection


def test_missing_smtp_module_is_skipped_cleanly(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_probe", lambda name: None)
    report = lab.check("good.test", smtp=True)
    assert not [f for f in report.findings if engine.area_of(f.check) in ("smtp", "tls")]
    assert report.ok


def test_server_target_resolving_only_to_private_addresses_is_refused(lab: Lab) -> None:
    with pytest.raises(TargetError, match="non-public"):
        lab.check("mx.private.test:25", allow_private=False)


def _record_server_probes(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Stand in for checks.smtp.probe_server and record what the engine asks it to probe."""
    calls: list[tuple] = []

    async def probe_server(
        host: str, addresses: list[str], port: int | None, opts: CheckOptions
    ) -> list[Finding]:
        calls.append((host, addresses, port))
        return []

    monkeypatch.setattr(engine, "_probe", lambda name: probe_server if name == "probe_server" else None)
    return calls


def test_bare_host_name_is_checked_as_a_server(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_server_probes(monkeypatch)
    report = lab.check("server.good.test", smtp=True)
    assert report.kind == "server"
    assert calls == [("server.good.test", ["192.0.2.40"], None)]
    assert lab.check("mx1.good.test:2525", smtp=True).kind == "server"
    assert calls[-1] == ("mx1.good.test", ["192.0.2.10"], 2525)
    assert lab.check("implicit.test").kind == "domain"  # a registered domain stays a mail domain


def test_ip_target_probes_with_the_confirmed_ptr_name(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_server_probes(monkeypatch)
    lab.check("192.0.2.10", smtp=True)
    assert calls == [("mx1.good.test", ["192.0.2.10"], None)]


def test_a_dead_first_nameserver_falls_over_to_the_second(lab: Lab) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        servers = (("127.0.0.1", silent.getsockname()[1]), ("127.0.0.1", lab.dns.port))
        report = lab.check("good.test", nameservers=servers, timeout=0.3)
    finally:
        silent.close()
    mx = [f for f in report.findings if f.check.startswith(("mx.", "spf.", "dmarc."))]
    assert mx and all(f.status is Status.PASS for f in mx), mx


def test_a_host_with_many_addresses_is_probed_on_a_few_only() -> None:
    many = [{"A": f"203.0.113.{i}"} for i in range(1, 41)] + [{"AAAA": f"2001:db8::{i:x}"} for i in range(1, 41)]
    zone = {"wide.test": [{"MX": [10, "mx.wide.test"]}, {"TXT": "v=spf1 -all"}], "mx.wide.test": many}
    with DnsServer(zone) as dns:
        opts = CheckOptions(nameservers=(("127.0.0.1", dns.port),), timeout=1.0, allow_private=True,
                            smtp=False, dnsbl_zones=("bl.wide.test",))
        report = asyncio.run(run_check("wide.test", opts))
    ptr_subjects = {f.subject for f in report.findings if f.check == "ptr.match"}
    assert len(ptr_subjects) == engine.MAX_ADDRESSES_PER_HOST
    assert any(":" in s for s in ptr_subjects) and any(":" not in s.split()[-1] for s in ptr_subjects)
