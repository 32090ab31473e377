"""Shared helpers of the probe tests: run a probe, index findings by check id, check KB ids."""

from __future__ import annotations

import asyncio
import dataclasses

from checks import smtp
from checks.model import CheckOptions, Finding
from tests.servers.smtp import HOST

#: the knowledge-base ids a probe finding may point to (the contract with the KB)
KB_IDS = {
    "connection-timeout", "connection-refused", "port-25-blocked", "service-unavailable", "smtp-ports",
    "starttls-required", "tls-handshake-failed", "tls-certificate-invalid", "smtp-auth-methods",
    "smtp-security-practices", "open-relay", "relay-access-denied", "diagnostic-tools",
}
MX = "mx.test"


def mx(opts: CheckOptions, port: int, **changes: object) -> dict[str, Finding]:
    """Probe 127.0.0.1:port as MX `mx.test`; findings by check id (each id at most once)."""
    found = asyncio.run(smtp.probe_mx(MX, HOST, dataclasses.replace(opts, smtp_port=port, **changes)))
    return by_check(found)


def by_check(found: list[Finding]) -> dict[str, Finding]:
    checks = [f.check for f in found]
    assert len(checks) == len(set(checks)), f"a check reported twice: {checks}"
    for f in found:
        assert f.kb in KB_IDS, f"{f.check} points to unknown KB id {f.kb!r}"
    return {f.check: f for f in found}
