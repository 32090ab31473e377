"""Fixtures for live-check tests: the loopback DNS server is the only nameserver anyone may ask."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import checks._resolver
from tests.servers.dns import DnsServer


@pytest.fixture(autouse=True)
def _no_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would fall back to the machine's resolvers (and so, the internet)."""

    def refuse() -> list[str]:
        raise AssertionError("a test tried to use the system resolver; pass --nameserver to the stub")

    monkeypatch.setattr(checks._resolver, "system_nameservers", refuse)


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server
