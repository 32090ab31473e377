"""Fixtures for live-check tests: the loopback DNS server is the only nameserver anyone may ask."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import checks._resolver
from checks.model import CheckOptions, Finding, Report
from checks.report import run_check
from tests.checks import zones
from tests.servers.dns import DnsServer
from tests.servers.https import HttpsServer
from tests.servers.loopback import guard_sockets, is_loopback


@pytest.fixture(autouse=True)
def _no_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would fall back to the machine's resolvers (and so, the internet)."""

    def refuse() -> list[str]:
        raise AssertionError("a test tried to use the system resolver; pass --nameserver to the stub")

    monkeypatch.setattr(checks._resolver, "system_nameservers", refuse)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse (and fail the test on) any connect or datagram to an address outside 127.0.0.0/8 and ::1."""
    offences: list[object] = []

    def refuse(address: object) -> None:
        if not is_loopback(address):
            offences.append(address)
            raise OSError(f"test guard: {address!r} is not loopback")

    guard_sockets(refuse, monkeypatch.setattr)
    yield
    assert not offences, f"test tried to reach non-loopback addresses: {offences}"


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


class Lab:
    """The loopback DNS and HTTPS servers loaded with `tests/checks/zones.py`."""

    def __init__(self, dns: DnsServer, web: HttpsServer):
        self.dns = dns
        self.web = web

    def opts(self, **overrides: object) -> CheckOptions:
        """Options that keep every lookup on the stub and every fetch on loopback (no SMTP probes)."""
        base: dict[str, object] = dict(
            nameservers=(("127.0.0.1", self.dns.port),),
            timeout=1.0,
            allow_private=True,
            smtp=False,
            https_port=self.web.port,
            ca_file=self.web.ca_file,
            dnsbl_zones=(zones.BL,),
        )
        base.update(overrides)
        return CheckOptions(**base)  # type: ignore[arg-type]

    def check(self, target: str, **overrides: object) -> Report:
        return asyncio.run(run_check(target, self.opts(**overrides)))

    def findings(self, target: str, check: str, **overrides: object) -> list[Finding]:
        return [f for f in self.check(target, **overrides).findings if f.check == check]

    def cli_args(self) -> list[str]:
        return ["--nameserver", self.dns.nameserver, "--timeout", "1", "--ca-file", self.web.ca_file]


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with DnsServer(zones.zone(), secure=zones.SECURE) as dns, HttpsServer(zones.routes()) as web:
        yield Lab(dns, web)


def statuses(findings: list[Finding]) -> list[str]:
    return [str(f.status) for f in findings]
