"""Interop with a real MTA: the probe against a private Debian Postfix on loopback.

The instance (tests/servers/postfix.py) has an MX-style smtpd, submission with mandatory
STARTTLS and Cyrus SASL, and smtps with implicit TLS, a trustme certificate for
`mx.postfix.test`, and trusts nobody by address. Skipped, with the reason shown by `-ra`,
when not root or when Postfix is not installed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from checks import smtp
from checks.model import CheckOptions, Status
from checks.smtp import Mode, Target
from tests.checks.smtp.helpers import by_check
from tests.servers import postfix
from tests.servers.smtp import PKI

pytestmark = pytest.mark.postfix


@pytest.fixture(scope="module")
def mta(pki: PKI) -> Iterator[postfix.PostfixInstance]:
    reason = postfix.unavailable()
    if reason:
        pytest.skip(reason)
    with postfix.PostfixInstance(pki.ca) as instance:
        yield instance


@pytest.fixture
def pf_opts(opts: CheckOptions) -> CheckOptions:
    return dataclasses.replace(opts, timeout=5.0, relay_test=True)


def probe(target: Target, opts: CheckOptions) -> dict[str, smtp.Finding]:
    return by_check(asyncio.run(smtp.probe_port(target, opts)))


def statuses(got: dict[str, smtp.Finding]) -> dict[str, str]:
    return {c: str(f.status) for c, f in got.items()}


def test_postfix_as_mx(mta: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    found = asyncio.run(smtp.probe_mx(postfix.NAME, "127.0.0.1", dataclasses.replace(pf_opts, smtp_port=mta.smtp)))
    got = by_check(found)
    assert statuses(got) == {
        "smtp.connect": "pass", "smtp.banner": "pass", "smtp.ehlo": "pass", "smtp.auth-plaintext": "pass",
        "smtp.starttls": "pass", "smtp.tls-version": "pass", "tls.cert-valid": "pass", "tls.cert-expiry": "pass",
        "tls.cert-name": "pass", "smtp.auth-mechanisms": "info", "smtp.open-relay": "pass",
    }, mta.log()
    assert "ESMTP Postfix" in got["smtp.banner"].summary
    assert {"PIPELINING", "STARTTLS", "ENHANCEDSTATUSCODES"} <= set(got["smtp.ehlo"].details["extensions"])
    assert got["smtp.auth-mechanisms"].details["mechanisms"] == []  # no SASL on the MX port
    assert "Relay access denied" in got["smtp.open-relay"].summary
    assert f"mx.postfix.test [127.0.0.1]:{mta.smtp}" == got["smtp.connect"].subject
    log = mta.log()
    assert "Relay access denied" in log and "data=" not in log  # never got as far as DATA


def test_postfix_submission_requires_starttls(mta: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    got = probe(Target(postfix.NAME, "127.0.0.1", mta.submission, Mode.STARTTLS, strict=True), pf_opts)
    assert got["smtp.starttls"].status is Status.PASS
    assert got["smtp.auth-plaintext"].status is Status.PASS  # smtpd_tls_auth_only: no AUTH in clear
    mechs = set(got["smtp.auth-mechanisms"].details["mechanisms"])
    # Debian's Postfix is built with Cyrus SASL; PLAIN/LOGIN come from libsasl2-modules. Without
    # those plugins Postfix offers no AUTH at all, which is asserted instead (no dovecot here).
    assert mechs == postfix.sasl_mechanisms(), mta.log()
    assert got["smtp.open-relay"].status is Status.PASS


def test_postfix_smtps_implicit_tls(mta: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    got = probe(Target(postfix.NAME, "127.0.0.1", mta.smtps, Mode.IMPLICIT, strict=True), pf_opts)
    assert got["smtp.implicit-tls"].status is Status.PASS
    assert got["smtp.banner"].status is Status.PASS and "smtp.starttls" not in got
    assert got["tls.cert-name"].status is Status.PASS
    assert set(got["smtp.auth-mechanisms"].details["mechanisms"]) == postfix.sasl_mechanisms()


def test_postfix_ports_summary(mta: postfix.PostfixInstance, opts: CheckOptions) -> None:
    roles = ((mta.submission, Mode.STARTTLS), (mta.smtps, Mode.IMPLICIT), (mta.smtp, Mode.STARTTLS))
    found = asyncio.run(smtp.probe_ports(postfix.NAME, ["127.0.0.1"], roles, opts))
    summary = next(f for f in found if f.check == "smtp.ports")
    assert summary.status is Status.PASS
    assert summary.details["working"] == [mta.submission, mta.smtps, mta.smtp]


def test_postfix_untrusted_chain_is_still_read(mta: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    got = probe(Target(postfix.NAME, "127.0.0.1", mta.submission, strict=True), dataclasses.replace(pf_opts, ca_file=None))
    assert got["tls.cert-valid"].status is Status.FAIL
    assert "unable to get local issuer" in got["tls.cert-valid"].details["verify_error"]
    assert got["tls.cert-name"].status is Status.PASS and got["smtp.starttls"].status is Status.PASS


def test_postfix_name_mismatch(mta: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    got = probe(Target("mx.elsewhere.test", "127.0.0.1", mta.smtp), pf_opts)
    assert got["tls.cert-name"].status is Status.FAIL
    assert "mx.postfix.test" in got["tls.cert-name"].summary


@pytest.fixture(scope="module")
def mta_tls12(pki: PKI) -> Iterator[postfix.PostfixInstance]:
    """Postfix held to TLS 1.2, as many older installations are: still a pass, with forward secrecy."""
    reason = postfix.unavailable()
    if reason:
        pytest.skip(reason)
    limit = ">=TLSv1.2, <=TLSv1.2"
    extra = f"smtpd_tls_protocols = {limit}\nsmtpd_tls_mandatory_protocols = {limit}\n"
    with postfix.PostfixInstance(pki.ca, extra=extra) as instance:
        yield instance


def test_postfix_tls12_only(mta_tls12: postfix.PostfixInstance, pf_opts: CheckOptions) -> None:
    got = probe(Target(postfix.NAME, "127.0.0.1", mta_tls12.smtp), pf_opts)
    version = got["smtp.tls-version"]
    assert version.status is Status.PASS and version.details["protocol"] == "TLSv1.2"
    assert "ECDHE" in version.details["cipher"]
    assert got["tls.cert-valid"].status is Status.PASS  # a certificate was presented, not an anonymous suite
