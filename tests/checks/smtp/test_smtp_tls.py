"""TLS and certificate findings, implicit TLS, and the port summary of server targets."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from checks import smtp, tls
from checks.model import CheckOptions, Status
from checks.smtp import Mode, Target
from tests.checks.smtp.helpers import MX, by_check, mx
from tests.servers.smtp import (
    HOST,
    PKI,
    Script,
    ServerThread,
    aiosmtpd_server,
    closed_port,
    scripted_server,
    tls10_supported,
)


def test_expired_certificate(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX, past=True)))
    assert got["tls.cert-expiry"].status is Status.FAIL and "expired" in got["tls.cert-expiry"].summary
    valid = got["tls.cert-valid"]
    assert valid.status is Status.WARN and "expired" in valid.details["verify_error"]
    # read over the lenient second conversation: the finding still names issuer and dates
    assert "trustme" in valid.details["issuer"] and valid.details["not_after"]
    assert got["smtp.starttls"].status is Status.PASS
    assert got["smtp.auth-mechanisms"].details["tls"] is True


def test_expired_certificate_fails_validity_on_submission(servers: ServerThread, pki: PKI,
                                                          opts: CheckOptions) -> None:
    port = aiosmtpd_server(servers, pki.context(MX, past=True))
    got = by_check(asyncio.run(smtp.probe_server(MX, [HOST], port, opts)))
    assert got["tls.cert-valid"].status is Status.FAIL


def test_self_signed_certificate(servers: ServerThread, opts: CheckOptions, tmp_path: object) -> None:
    got = mx(opts, aiosmtpd_server(servers, PKI.self_signed(MX, str(tmp_path))))
    valid = got["tls.cert-valid"]
    assert valid.status is Status.WARN and "self-signed" in valid.summary
    assert valid.details["self_signed"] is True and valid.kb == "tls-certificate-invalid"
    assert got["tls.cert-name"].status is Status.PASS


def test_wrong_name(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context("mail.other.test")))
    assert got["tls.cert-valid"].status is Status.PASS
    assert got["tls.cert-name"].status is Status.FAIL
    assert "mail.other.test" in got["tls.cert-name"].summary


def test_wildcard_name(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    port = aiosmtpd_server(servers, pki.context("*.example.test"))
    found = asyncio.run(smtp.probe_port(Target("mx1.example.test", HOST, port), opts))
    assert by_check(found)["tls.cert-name"].status is Status.PASS


@pytest.mark.parametrize("days, status", [(7, Status.WARN), (20, Status.INFO), (60, Status.PASS)])
def test_expiring_certificate(servers: ServerThread, pki: PKI, opts: CheckOptions, days: int,
                              status: Status) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX, days=days)))
    assert got["tls.cert-expiry"].status is status
    assert days - 1 <= got["tls.cert-expiry"].details["days_left"] <= days


def test_tls10_only_server_warns(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    reason = tls10_supported()
    if reason:
        pytest.skip(reason)
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX, tls10_only=True)))
    version = got["smtp.tls-version"]
    assert version.status is Status.WARN and version.details["protocol"] == "TLSv1"
    assert "RFC 8996" in version.summary


def test_tls12_without_forward_secrecy_warns(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX, static_rsa=True)))
    version = got["smtp.tls-version"]
    assert version.status is Status.WARN and "forward secrecy" in version.summary
    assert version.details == {"protocol": "TLSv1.2", "cipher": "AES128-GCM-SHA256", "bits": 128}


def test_implicit_tls_port(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    port = scripted_server(servers, Script(extensions=("AUTH PLAIN LOGIN", "8BITMIME")), implicit=pki.context(MX))
    got = by_check(asyncio.run(smtp.probe_port(Target(MX, HOST, port, Mode.IMPLICIT, strict=True), opts)))
    assert got["smtp.implicit-tls"].status is Status.PASS
    assert got["smtp.banner"].status is Status.PASS  # the greeting arrived over TLS
    assert got["tls.cert-valid"].status is Status.PASS
    assert got["smtp.auth-plaintext"].status is Status.PASS
    assert got["smtp.auth-mechanisms"].details == {"mechanisms": ["PLAIN", "LOGIN"], "tls": True}
    assert "smtp.starttls" not in got


def test_implicit_tls_expected_but_port_speaks_plain(servers: ServerThread, opts: CheckOptions) -> None:
    port = scripted_server(servers, Script())
    got = by_check(asyncio.run(smtp.probe_port(Target(MX, HOST, port, Mode.IMPLICIT, strict=True), opts)))
    assert got["smtp.implicit-tls"].status is Status.FAIL
    assert got["smtp.implicit-tls"].kb == "tls-handshake-failed"
    assert "plain text" in got["smtp.implicit-tls"].summary


def test_implicit_tls_with_untrusted_cert_is_read_on_retry(servers: ServerThread, pki: PKI,
                                                           opts: CheckOptions) -> None:
    port = scripted_server(servers, Script(), implicit=pki.context(MX))
    lenient = dataclasses.replace(opts, ca_file=None)
    got = by_check(asyncio.run(smtp.probe_port(Target(MX, HOST, port, Mode.IMPLICIT, strict=True), lenient)))
    assert got["smtp.implicit-tls"].status is Status.PASS
    assert got["tls.cert-valid"].status is Status.FAIL


def test_untrusted_chain_reported_even_when_the_second_look_fails(servers: ServerThread, pki: PKI,
                                                                  opts: CheckOptions) -> None:
    script = Script(starttls=pki.context(MX), accept_limit=1)
    got = mx(opts, scripted_server(servers, script), ca_file=None)
    assert script.accepted == 2
    assert got["tls.cert-valid"].status is Status.WARN
    assert "unable to get local issuer" in got["tls.cert-valid"].details["verify_error"]


def test_unreadable_ca_file_is_an_error_and_the_probe_goes_on(servers: ServerThread, pki: PKI,
                                                              opts: CheckOptions, tmp_path: object) -> None:
    got = mx(opts, aiosmtpd_server(servers, pki.context(MX)), ca_file=f"{tmp_path}/missing.pem")
    assert got["tls.cert-valid"].status is Status.ERROR and "--ca-file" in got["tls.cert-valid"].summary
    assert got["smtp.starttls"].status is Status.PASS and got["tls.cert-name"].status is Status.PASS


def _roles(submission: int, smtps: int, mx_port: int) -> tuple[tuple[int, Mode], ...]:
    """Loopback ports standing in for 587, 465 and 25 (fixed ports are not ours to bind)."""
    return ((submission, Mode.STARTTLS), (smtps, Mode.IMPLICIT), (mx_port, Mode.STARTTLS))


def test_ports_summary_names_the_working_submission_ports(servers: ServerThread, pki: PKI,
                                                          opts: CheckOptions) -> None:
    smtps = scripted_server(servers, Script(), implicit=pki.context(MX))
    mx_port = aiosmtpd_server(servers, pki.context(MX))
    found = asyncio.run(smtp.probe_ports(MX, [HOST], _roles(closed_port(), smtps, mx_port), opts))
    summary = [f for f in found if f.check == "smtp.ports"]
    assert len(summary) == 1 and summary[0].status is Status.PASS
    assert summary[0].details["working"] == [smtps, mx_port]
    refused = [f for f in found if f.check == "smtp.connect" and f.details.get("reason") == "refused"]
    assert [f.status for f in refused] == [Status.INFO]  # a closed 587 is fine when 465 works


def test_ports_summary_only_port_25(servers: ServerThread, pki: PKI, opts: CheckOptions) -> None:
    mx_port = aiosmtpd_server(servers, pki.context(MX))
    found = asyncio.run(smtp.probe_ports(MX, [HOST], _roles(closed_port(), closed_port(), mx_port), opts))
    summary = next(f for f in found if f.check == "smtp.ports")
    assert summary.status is Status.WARN and summary.kb == "smtp-ports"


def test_ports_summary_nothing_answers(opts: CheckOptions) -> None:
    found = asyncio.run(smtp.probe_ports(MX, [HOST], _roles(closed_port(), closed_port(), closed_port()), opts))
    assert next(f for f in found if f.check == "smtp.ports").status is Status.FAIL
    assert all(f.status is Status.FAIL for f in found if f.check == "smtp.connect")


@pytest.mark.parametrize("host, pattern, ok", [
    ("mx.example.com", "mx.example.com", True),
    ("MX.Example.COM.", "mx.example.com", True),
    ("mx.example.com", "*.example.com", True),
    ("a.mx.example.com", "*.example.com", False),  # one label only (RFC 6125 §6.4.3)
    ("example.com", "*.example.com", False),
    ("mx.com", "*.com", False),  # no wildcard over a public suffix-like two-label name
    ("mx.example.com", "m*.example.com", False),  # partial wildcards are not honoured
    ("mx.example.com", "mx.*.com", False),
    ("xn--bcher-kva.example", "xn--bcher-kva.example", True),
])
def test_name_matching(host: str, pattern: str, ok: bool) -> None:
    assert tls.name_matches(host, pattern) is ok


def test_a_certificate_cryptography_cannot_read_is_one_finding_not_a_crash() -> None:
    from checks import tls as tls_mod
    from checks.model import Status as S

    session = tls_mod.TlsSession("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, b"\x30\x03\x02\x01\x00", False, "bad")
    found = tls_mod.cert_findings("mx.example.test [127.0.0.1]:25", "mx.example.test", session, strict=False)
    assert [(f.check, f.status) for f in found] == [("tls.cert-valid", S.FAIL)]
    assert "could not be analysed" in found[0].summary


def test_relay_verdict_needs_relay_wording() -> None:
    from checks.model import Status as S
    from checks.relay import _judge

    def status(code: int, reply: str) -> S:
        return _judge("mx [127.0.0.1]:25", code, reply, {}).status

    assert status(250, "250 2.1.5 Ok") == S.FAIL
    assert status(554, "554 5.7.1 <x@example.net>: Relay access denied") == S.PASS
    assert status(550, "550 relay not permitted") == S.PASS
    assert status(553, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)") == S.PASS
    # refused because of the probe's own sender or name: no verdict on relaying
    assert status(550, "550 5.7.27 sender address has null MX") == S.INFO
    assert status(450, "450 4.7.1 greylisted") == S.INFO
