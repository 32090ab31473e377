"""A whole `smtpbot check DOMAIN` with three MX addresses, one silent: real DNS stub, real SMTP servers.

This is the issue's "Done when" in test form: the run probes every MX address through the
engine, and a silent MX costs about one `--timeout`, not the run's whole deadline.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.servers.dns import DnsServer
from tests.servers.smtp import PKI, Script, ServerThread, aiosmtpd_server, scripted_server

MX_ADDRESSES = {"mx1.silentmx.test": "127.0.0.2", "mx2.silentmx.test": "127.0.0.3", "mx3.silentmx.test": "127.0.0.4"}
SILENT = "127.0.0.4"
TIMEOUT = 1.0
#: the DNS checks and the run's bookkeeping on a busy 2-core machine (the run's own duration_ms)
MARGIN = 1.5
#: plus the interpreter's start-up and imports, for the whole process
PROCESS_MARGIN = 6.0


def _shared_port() -> int:
    """A port free on all MX addresses (one `--smtp-port` serves them all)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
            port = s.getsockname()[1]
        try:
            for address in MX_ADDRESSES.values():
                with socket.socket() as t:
                    t.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no common free port")


@pytest.fixture
def silent_mx_domain(servers: ServerThread, pki: PKI) -> Iterator[tuple[DnsServer, int]]:
    port = _shared_port()
    for name, address in MX_ADDRESSES.items():
        if address == SILENT:
            scripted_server(servers, Script(silent=True, lifetime=30), host=address, port=port)
        else:
            aiosmtpd_server(servers, pki.context(name), host=address, port=port)
    zone = {"silentmx.test": [{"MX": [10 * i, name]} for i, name in enumerate(MX_ADDRESSES, 1)]
            + [{"TXT": "v=spf1 mx -all"}],
            "_dmarc.silentmx.test": [{"TXT": "v=DMARC1; p=reject"}]}
    zone.update({name: [{"A": address}] for name, address in MX_ADDRESSES.items()})
    with DnsServer(zone) as dns_server:
        yield dns_server, port


def test_cli_check_with_a_silent_mx_finishes_within_timeout_plus_margin(
        silent_mx_domain: tuple[DnsServer, int], pki: PKI) -> None:
    dns_server, port = silent_mx_domain
    argv = [sys.executable, "-c", "from bot.cli import console_main; console_main()", "check", "silentmx.test", "--json", "--allow-private",
            "--nameserver", dns_server.nameserver, "--timeout", str(TIMEOUT), "--ca-file", pki.ca_path,
            "--smtp-port", str(port), "--dnsbl", "dnsbl.silentmx.test"]
    start = time.monotonic()
    env = dict(os.environ, SMTPBOT_EHLO_NAME="probe.smtpbot.test")  # no getfqdn lookup in tests
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=_repo(), env=env)
    elapsed = time.monotonic() - start
    assert done.returncode == 1, done.stderr  # the silent MX is an error finding
    report = json.loads(done.stdout)
    smtp_findings = [f for f in report["findings"] if f["check"].startswith(("smtp.", "tls."))]
    banners = {f["subject"]: f["status"] for f in smtp_findings if f["check"] == "smtp.banner"}
    assert banners == {f"{name} [{address}]:{port}": "error" if address == SILENT else "pass"
                       for name, address in MX_ADDRESSES.items()}
    names = {f["subject"]: f["status"] for f in smtp_findings if f["check"] == "tls.cert-name"}
    assert set(names.values()) == {"pass"} and len(names) == 2
    assert report["duration_ms"] / 1000 < TIMEOUT + MARGIN, report["duration_ms"]
    assert elapsed < TIMEOUT + PROCESS_MARGIN, f"took {elapsed:.2f} s"


def _repo() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
