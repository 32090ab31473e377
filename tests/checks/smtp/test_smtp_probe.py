"""The SMTP probe against loopback servers: the good one, and one fault server per check."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import socket
import time

import pytest

from checks import _smtpsession, smtp
from checks._smtpio import classify_connect_error, run_limits
from checks.model import CheckOptions, Status
from checks.smtp import Mode, Target
from tests.checks.smtp.helpers import KB_IDS, MX, by_check, mx
from tests.servers.smtp import (
    HOST,
    PKI,
    Blackhole,
    Script,
    ServerThread,
    aiosmtpd_server,
    closed_port,
    scripted_server,
)


def test_good_server_passes_every_check(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    port = aiosmtpd_server(servers, pki.context(MX))
    got = mx(opts, port, relay_test=True)
    assert {c: str(f.status) for c, f in got.items()} == {
        "smtp.connect": "pass", "smtp.banner": "pass", "smtp.ehlo": "pass", "smtp.auth-plaintext": "pass",
        "smtp.starttls": "pass", "smtp.tls-version": "pass", "tls.cert-valid": "pass", "tls.cert-expiry": "pass",
        "tls.cert-name": "pass", "smtp.auth-mechanisms": "info", "smtp.open-relay": "pass",
    }
    assert all(f.subject == f"mx.test [127.0.0.1]:{port}" for f in got.values())
    assert "STARTTLS" in got["smtp.ehlo"].details["extensions"]
    assert got["smtp.tls-version"].details["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert set(got["smtp.auth-mechanisms"].details["mechanisms"]) == {"LOGIN", "PLAIN"}
    assert got["smtp.open-relay"].kb == "relay-access-denied"


def test_without_ca_file_the_test_ca_is_not_trusted(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX)), ca_file=None)
    assert got["tls.cert-valid"].status is Status.WARN  # port 25: opportunistic TLS
    assert "unable to get local issuer" in got["tls.cert-valid"].summary
    assert got["tls.cert-name"].status is Status.PASS  # still read and judged via the lenient retry


def test_relay_probe_only_when_asked(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(rcpt_reply="250 2.1.5 Ok")
    got = mx(opts, scripted_server(servers, script))
    assert "smtp.open-relay" not in got
    assert not any(c.upper().startswith(("MAIL", "RCPT")) for c in script.commands)


def test_open_relay_fails_and_never_sends_data(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(rcpt_reply="250 2.1.5 Ok")
    got = mx(opts, scripted_server(servers, script), relay_test=True)
    relay = got["smtp.open-relay"]
    assert relay.status is Status.FAIL and relay.kb == "open-relay"
    verbs = [c.split(" ")[0].upper() for c in script.commands]
    assert verbs == ["EHLO", "MAIL", "RCPT", "RSET", "QUIT"]
    assert "example.test" not in relay.details["rcpt_to"]


def test_greylisted_relay_probe_is_inconclusive(servers: ServerThread, opts: CheckOptions) -> None:
    got = mx(opts, scripted_server(servers, Script(rcpt_reply="451 4.7.1 Greylisted, try later")), relay_test=True)
    assert got["smtp.open-relay"].status is Status.INFO
    assert "Greylisted" in got["smtp.open-relay"].summary


def test_no_starttls_warns_on_mx_and_fails_on_submission(servers: ServerThread, opts: CheckOptions) -> None:
    port = scripted_server(servers, Script())
    got = mx(opts, port)
    assert got["smtp.starttls"].status is Status.WARN and got["smtp.starttls"].kb == "starttls-required"
    assert "smtp.tls-version" not in got and "tls.cert-valid" not in got
    sub = by_check(asyncio.run(smtp.probe_port(Target(MX, HOST, port, Mode.STARTTLS, strict=True), opts)))
    assert sub["smtp.starttls"].status is Status.FAIL


@pytest.mark.parametrize("greeting", ["421 4.3.2 mx.test Service not available, closing channel",
                                      "554 5.7.1 mx.test No SMTP service here"])
def test_refusing_greeting_is_reported_with_its_text(servers: ServerThread, opts: CheckOptions,
                                                     greeting: str) -> None:
    got = mx(opts, scripted_server(servers, Script(greeting=greeting)))
    banner = got["smtp.banner"]
    assert banner.status is Status.FAIL and banner.kb == "service-unavailable"
    assert greeting in banner.summary
    assert "smtp.ehlo" not in got


def test_silent_server_costs_one_timeout(servers: ServerThread, opts: CheckOptions) -> None:
    port = scripted_server(servers, Script(silent=True))
    start = time.monotonic()
    got = mx(opts, port)
    elapsed = time.monotonic() - start
    assert got["smtp.connect"].status is Status.PASS
    assert got["smtp.banner"].status is Status.ERROR and got["smtp.banner"].kb == "connection-timeout"
    assert opts.timeout <= elapsed < opts.timeout + 1.0


def test_endless_line_costs_nothing_like_its_length(servers: ServerThread, opts: CheckOptions) -> None:
    start = time.monotonic()
    got = mx(opts, scripted_server(servers, Script(endless=True)))
    assert time.monotonic() - start < opts.timeout + 1.0
    assert got["smtp.banner"].status is Status.FAIL
    assert "longer than" in got["smtp.banner"].summary


def test_tarpit_is_bounded_by_the_probe_budget(servers: ServerThread, pki: PKI, opts: CheckOptions,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # every reply comes 0.6 s late, inside the 1 s --timeout; a budget of 2 timeouts runs out
    # during the EHLO after STARTTLS (0.6 greeting + 0.6 EHLO + 0.6 STARTTLS + 0.6 EHLO > 2)
    monkeypatch.setattr(smtp, "PROBE_BUDGET_TIMEOUTS", 2)
    script = Script(greeting_delay=0.6, reply_delay=0.6, starttls=pki.context(MX))
    start = time.monotonic()
    got = mx(opts, scripted_server(servers, script), timeout=1.0, relay_test=True)
    elapsed = time.monotonic() - start
    assert elapsed < 2 * 1.0 + 0.5
    # what was learned before is kept; the step in progress says it could not finish
    assert got["smtp.ehlo"].status is Status.PASS and got["tls.cert-valid"].status is Status.PASS
    assert got["smtp.starttls"].status is Status.ERROR
    assert "smtp.open-relay" not in got


def test_slow_greeting_is_measured(servers: ServerThread, opts: CheckOptions) -> None:
    got = mx(opts, scripted_server(servers, Script(greeting_delay=smtp.SLOW_GREETING_S + 0.2)), timeout=4.0)
    banner = got["smtp.banner"]
    assert banner.status is Status.INFO
    assert banner.details["delay_ms"] >= smtp.SLOW_GREETING_S * 1000
    assert got["smtp.ehlo"].status is Status.PASS  # the probe waited instead of talking first


def test_closed_port_is_refused(opts: CheckOptions) -> None:
    got = mx(opts, closed_port())
    assert got["smtp.connect"].status is Status.FAIL
    assert got["smtp.connect"].details["reason"] == "refused" and got["smtp.connect"].kb == "connection-refused"
    assert list(got) == ["smtp.connect"]


def test_dropped_syn_is_a_timeout_not_a_refusal(opts: CheckOptions) -> None:
    hole = Blackhole()
    try:
        got = mx(opts, hole.port)
    finally:
        hole.close()
    assert got["smtp.connect"].status is Status.ERROR
    assert got["smtp.connect"].details["reason"] == "timeout" and got["smtp.connect"].kb == "connection-timeout"


@pytest.mark.parametrize("exc, reason", [
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
    (TimeoutError(), "timeout"),
    (OSError(errno.ETIMEDOUT, "timed out"), "timeout"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
    (OSError(errno.EACCES, "Permission denied"), "error"),
])
def test_connect_errors_are_told_apart(exc: BaseException, reason: str) -> None:
    # ENETUNREACH cannot be provoked on loopback without touching other networks: the mapping is
    # tested on the exceptions the kernel raises
    assert classify_connect_error(exc) == reason


def test_auth_before_starttls_warns(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    script = Script(extensions=("AUTH PLAIN LOGIN CRAM-MD5", "8BITMIME"), starttls=pki.context(MX))
    got = mx(opts, scripted_server(servers, script))
    assert got["smtp.auth-plaintext"].status is Status.WARN
    assert "PLAIN" in got["smtp.auth-plaintext"].summary and got["smtp.auth-plaintext"].kb == "smtp-auth-methods"
    assert not any(c.upper().startswith("AUTH") for c in script.commands)  # never tries a password


def test_auth_without_any_tls_fails(servers: ServerThread, opts: CheckOptions) -> None:
    got = mx(opts, scripted_server(servers, Script(extensions=("AUTH=LOGIN", "AUTH PLAIN"))))
    assert got["smtp.auth-plaintext"].status is Status.FAIL
    assert got["smtp.auth-mechanisms"].details == {"mechanisms": ["LOGIN", "PLAIN"], "tls": False}


def test_ehlo_refused_falls_back_to_helo(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(ehlo_reply="502 5.5.2 Error: command not recognized")
    got = mx(opts, scripted_server(servers, script))
    assert got["smtp.ehlo"].status is Status.WARN
    assert [c.split()[0] for c in script.commands[:2]] == ["EHLO", "HELO"]


def test_ehlo_and_helo_refused(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(ehlo_reply="550 5.7.1 go away", helo_reply="550 5.7.1 go away")
    got = mx(opts, scripted_server(servers, script))
    assert got["smtp.ehlo"].status is Status.FAIL and "go away" in got["smtp.ehlo"].summary
    assert "smtp.starttls" not in got


def test_starttls_offered_but_refused(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(extensions=("8BITMIME", "STARTTLS"), starttls_reply="454 4.7.0 TLS not available")
    got = mx(opts, scripted_server(servers, script))
    assert got["smtp.starttls"].status is Status.FAIL and "454" in got["smtp.starttls"].summary


def test_starttls_handshake_fails(servers: ServerThread, opts: CheckOptions) -> None:
    # the server says 220 to STARTTLS and then goes on talking plain SMTP
    script = Script(extensions=("8BITMIME", "STARTTLS"), starttls_reply="220 2.0.0 Ready to start TLS")
    got = mx(opts, scripted_server(servers, script))
    assert got["smtp.starttls"].status is Status.FAIL and got["smtp.starttls"].kb == "tls-handshake-failed"
    assert "TLS handshake failed" in got["smtp.starttls"].summary
    assert "tls.cert-valid" not in got


def test_ehlo_name_defaults_to_the_fqdn(servers: ServerThread, opts: CheckOptions,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # getfqdn may ask the system resolver (the network): tests give it the answer instead
    monkeypatch.setattr(_smtpsession, "_fqdn", None)
    monkeypatch.delenv("SMTPBOT_EHLO_NAME", raising=False)
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "host.machine.test")
    script = Script()
    mx(opts, scripted_server(servers, script), ehlo_name=None)
    mx(opts, scripted_server(servers, script), ehlo_name=None)
    assert [c for c in script.commands if c.startswith("EHLO")] == ["EHLO host.machine.test"] * 2
    monkeypatch.setenv("SMTPBOT_EHLO_NAME", "operator.example.test")
    mx(opts, scripted_server(servers, script), ehlo_name=None)
    assert script.commands[-2] == "EHLO operator.example.test"


def test_connections_per_host_are_limited_per_run(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(greeting_delay=0.6)
    port = scripted_server(servers, script)

    async def run() -> None:
        with run_limits(per_host=1):
            await asyncio.gather(*(smtp.probe_port(Target(MX, HOST, port), opts) for _ in range(3)))

    asyncio.run(run())
    assert script.max_active == 1
    script.max_active = 0

    async def unlimited_run() -> None:  # without the engine's limiter each probe has its own
        await asyncio.gather(*(smtp.probe_port(Target(MX, HOST, port), opts) for _ in range(3)))

    asyncio.run(unlimited_run())
    assert script.max_active == 3


def test_ehlo_name_is_sent_in_ascii(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script()
    mx(opts, scripted_server(servers, script), ehlo_name="poczta.żółw.test")
    assert script.commands[0] == "EHLO poczta.xn--w-uga1v8h.test"
    assert _smtpsession.ascii_name("\u00ad" * 70 + ".test") == "[127.0.0.1]"


def test_parse_ehlo_keeps_parameters_and_merges_old_auth_syntax() -> None:
    caps = smtp.parse_ehlo(("mx.test greets you", "SIZE 1000", "AUTH PLAIN", "AUTH=LOGIN PLAIN", "starttls"))
    assert caps == {"SIZE": "1000", "AUTH": "PLAIN LOGIN", "STARTTLS": ""}


def test_every_kb_id_the_probe_uses_exists() -> None:
    from knowledge.load import default_kb

    kb = default_kb()
    missing = sorted(k for k in KB_IDS if kb.get(k) is None)
    assert not missing, f"KB ids used by checks/smtp.py but absent from knowledge/kb: {missing}"


def test_ipv6_loopback(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback on this machine ({exc}); IPv6 MX addresses cannot be tested here")
    port = aiosmtpd_server(servers, pki.context(MX), host="::1")
    got = by_check(asyncio.run(smtp.probe_port(Target(MX, "::1", port), opts)))
    assert got["smtp.starttls"].status is Status.PASS and got["tls.cert-name"].status is Status.PASS
    assert got["smtp.connect"].subject == f"mx.test [::1]:{port}"


def test_cancelled_probe_drops_its_connection_at_once(servers: ServerThread, opts: CheckOptions) -> None:
    script = Script(reply_delay=5.0)  # answers EHLO only after 5 s

    async def run() -> float:
        task = asyncio.ensure_future(smtp.probe_port(Target(MX, HOST, scripted_server(servers, script)),
                                                     dataclasses.replace(opts, timeout=10.0)))
        await asyncio.sleep(0.3)  # greeting read, EHLO pending
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(run()) < 1.0  # no QUIT and no 2 s wait for its reply
