"""Fixtures for the SMTP/TLS probe tests: one loopback server thread, a test CA, probe options."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks.model import CheckOptions
from tests.servers.smtp import PKI, ServerThread


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerThread]:
    """The loop hosting every loopback SMTP server of the session; stopped at the end."""
    thread = ServerThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    """A throwaway CA written to a PEM file the probe trusts through `ca_file`."""
    directory = tmp_path_factory.mktemp("pki")
    pki = PKI(str(directory / "ca.pem"))
    pki.ca.cert_pem.write_to_path(pki.ca_path)
    return pki


@pytest.fixture
def opts(pki: PKI) -> CheckOptions:
    """Short timeouts, the test CA trusted, a fixed EHLO name (no getfqdn lookups in tests)."""
    return CheckOptions(timeout=1.5, ca_file=pki.ca_path, ehlo_name="probe.smtpbot.test", allow_private=True)
