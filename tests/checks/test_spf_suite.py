"""The openspf RFC 7208 suite (and the RFC 4408 one) against checks.spf over a real loopback DNS server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.checks import spf_suite
from tests.servers.dns import DnsServer


def _cases(suite: str) -> list[spf_suite.Case]:
    if not spf_suite.SUITES[suite].exists():
        return []
    return spf_suite.load(suite)


_ALL = _cases("rfc7208") + _cases("rfc4408") + _cases("pyspf")


def _param(case: spf_suite.Case):  # noqa: ANN202
    reason = spf_suite.SKIPPED.get((case.suite, case.test_id))
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    return pytest.param(case, id=f"{case.suite}-{case.test_id}", marks=marks)


@pytest.fixture(scope="module")
def suite_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.mark.skipif(not _ALL, reason="../shared/ref/spf not found next to the repository")
@pytest.mark.parametrize("case", [_param(c) for c in _ALL])
def test_scenario(case: spf_suite.Case, suite_server: DnsServer) -> None:
    ok, got = asyncio.run(spf_suite.run_case(case, suite_server))
    assert ok, (
        f"{case.scenario}/{case.test_id}: want {case.expected} {case.data.get('explanation')!r}, got {got}"
    )


@pytest.mark.skipif(not _ALL, reason="../shared/ref/spf not found next to the repository")
def test_suite_sizes_are_the_published_ones() -> None:
    """The files hold 203 and 191 cases; a short load would hide untested scenarios."""
    assert len(_cases("rfc7208")) == 203
    assert len(_cases("rfc4408")) == 191
    assert len(_cases("pyspf")) == 16
    assert not [k for k in spf_suite.SKIPPED if k[0] != "pyspf"]  # no RFC scenario is skipped
