"""TLS findings for SMTP servers: protocol and cipher, certificate trust, expiry and name (RFC 6125).

The handshake itself happens in `checks/smtp.py`; this module builds the client contexts and
turns what the handshake produced into `smtp.tls-version` and `tls.cert-*` findings. The
certificate is parsed with `cryptography`, so a finding can name issuer, dates and names even
when the chain did not verify.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import ssl
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from checks.model import Finding, Status

#: CA/B Forum and RFC 9325 practice: warn two weeks ahead, mention it a month ahead
EXPIRY_WARN_DAYS = 14
EXPIRY_INFO_DAYS = 30
#: RFC 8996 deprecates TLS 1.0 and 1.1; RFC 9325 (BCP 195) wants TLS 1.2 at least
MODERN_PROTOCOLS = {"TLSv1.2", "TLSv1.3"}
#: RFC 9325 §4.1: no NULL, export, RC4 or 3DES suites
WEAK_CIPHER_MARKS = ("NULL", "EXP", "RC4", "DES-CBC3", "3DES", "MD5", "anon")
#: NIST SP 800-57: RSA keys below 2048 bits are too weak since 2013
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class TlsSession:
    """What one TLS handshake produced; `verify_error` is set when the chain did not verify."""

    protocol: str
    cipher: str
    bits: int
    cert_der: bytes | None
    verified: bool
    verify_error: str | None = None


@functools.lru_cache(maxsize=16)
def client_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    """A probe context: verifying (system store plus `ca_file`) or lenient (to read a bad cert).

    Both accept TLS 1.0 and weak suites on purpose, so an old server is measured and reported
    instead of failing the handshake; no secret ever crosses these connections. Host names are
    checked by `name_finding` against the MX name, not by `ssl`.

    Raises:
        OSError, ssl.SSLError: `ca_file` cannot be read or holds no certificate (verify only).
    """
    if verify:
        ctx = ssl.create_default_context(cafile=ca_file)
    else:  # trusts nothing, so `ca_file` plays no part
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    # every suite a server may still pick, except anonymous ones: a server that prefers aNULL
    # (Postfix allows it for opportunistic TLS) would otherwise hide its certificate from us
    ctx.set_ciphers("ALL:!aNULL:!eNULL:@SECLEVEL=0")
    return ctx


def session_of(tls: ssl.SSLObject, verified: bool, verify_error: str | None) -> TlsSession:
    """Snapshot the negotiated protocol, cipher and leaf certificate of a finished handshake."""
    name, _proto, bits = tls.cipher() or ("unknown", "", 0)
    return TlsSession(
        protocol=tls.version() or "unknown",
        cipher=name,
        bits=bits or 0,
        cert_der=tls.getpeercert(binary_form=True),
        verified=verified,
        verify_error=verify_error,
    )


def version_finding(subject: str, s: TlsSession) -> Finding:
    """`smtp.tls-version`: TLS 1.2+ with a forward-secret, non-broken suite passes."""
    details = {"protocol": s.protocol, "cipher": s.cipher, "bits": s.bits}
    if s.protocol not in MODERN_PROTOCOLS:
        return Finding("smtp.tls-version", Status.WARN, subject,
                       f"{s.protocol} negotiated: below TLS 1.2 (deprecated by RFC 8996)",
                       details, "smtp-security-practices")
    weak = [m for m in WEAK_CIPHER_MARKS if m in s.cipher]
    forward_secret = s.protocol == "TLSv1.3" or "DHE" in s.cipher
    if weak or not forward_secret:
        why = f"weak cipher {s.cipher}" if weak else f"{s.cipher} has no forward secrecy"
        return Finding("smtp.tls-version", Status.WARN, subject, f"{s.protocol}, {why}",
                       details, "smtp-security-practices")
    return Finding("smtp.tls-version", Status.PASS, subject, f"{s.protocol}, {s.cipher} ({s.bits} bits)",
                   details, "smtp-security-practices")


def describe(cert: x509.Certificate) -> dict[str, object]:
    """Issuer, subject, dates, names, key and signature of a certificate, for finding details."""
    key = cert.public_key()
    key_desc = (f"RSA {key.key_size}" if isinstance(key, rsa.RSAPublicKey)
                else f"EC {key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey)
                else type(key).__name__)
    hash_alg = cert.signature_hash_algorithm
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "names": dns_names(cert) + [str(a) for a in ip_names(cert)],
        "key": key_desc,
        "signature_hash": hash_alg.name if hash_alg else None,
        "self_signed": cert.issuer == cert.subject,
    }


def cert_findings(subject: str, host: str, s: TlsSession, strict: bool,
                  now: dt.datetime | None = None) -> list[Finding]:
    """`tls.cert-valid`, `tls.cert-expiry` and `tls.cert-name` for the presented leaf.

    Args:
        strict: a submission port, where clients verify (untrusted = fail); on an MX's port 25
            TLS is opportunistic (RFC 7435) and an untrusted chain only hurts MTA-STS/DANE senders.
    """
    if s.cert_der is None:
        return [Finding("tls.cert-valid", Status.FAIL, subject, "server presented no certificate",
                        {}, "tls-certificate-invalid")]
    try:
        cert = x509.load_der_x509_certificate(s.cert_der)
        info = describe(cert)
        return [valid_finding(subject, s, cert, info, strict),
                expiry_finding(subject, cert, info, now or dt.datetime.now(dt.UTC)),
                name_finding(subject, host, cert, info)]
    except (ValueError, UnsupportedAlgorithm) as exc:
        # OpenSSL took the certificate but `cryptography` cannot read it (odd algorithm, bad
        # extension): a finding for this address, never a lost SMTP area
        return [Finding("tls.cert-valid", Status.WARN if s.verified else Status.FAIL, subject,
                        f"certificate could not be analysed: {exc}", {"error": str(exc)},
                        "tls-certificate-invalid")]


def valid_finding(subject: str, s: TlsSession, cert: x509.Certificate, info: dict[str, object],
                  strict: bool) -> Finding:
    details = dict(info, verify_error=s.verify_error)
    if not s.verified:
        status = Status.FAIL if strict else Status.WARN
        summary = f"certificate not trusted: {s.verify_error} (issuer {info['issuer']})"
        if not strict:
            summary += "; MTA-STS or DANE senders will not deliver"
        return Finding("tls.cert-valid", status, subject, summary, details, "tls-certificate-invalid")
    key = cert.public_key()
    if info["signature_hash"] in ("sha1", "md5"):
        return Finding("tls.cert-valid", Status.FAIL, subject,
                       f"certificate signed with {info['signature_hash']}", details, "tls-certificate-invalid")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return Finding("tls.cert-valid", Status.WARN, subject,
                       f"trusted, but RSA key of {key.key_size} bits", details, "tls-certificate-invalid")
    return Finding("tls.cert-valid", Status.PASS, subject, f"trusted chain (issuer {info['issuer']})",
                   details, "tls-certificate-invalid")


def expiry_finding(subject: str, cert: x509.Certificate, info: dict[str, object], now: dt.datetime) -> Finding:
    """`tls.cert-expiry`: expired or not yet valid fail; < 14 days warn; < 30 days info."""
    left = cert.not_valid_after_utc - now
    days = left.total_seconds() / 86400
    details = dict(info, days_left=round(days, 1))
    kb = "tls-certificate-invalid"
    if now < cert.not_valid_before_utc:
        return Finding("tls.cert-expiry", Status.FAIL, subject,
                       f"certificate not valid before {info['not_before']}", details, kb)
    if days < 0:
        return Finding("tls.cert-expiry", Status.FAIL, subject, f"certificate expired on {info['not_after']}",
                       details, kb)
    for limit, status in ((EXPIRY_WARN_DAYS, Status.WARN), (EXPIRY_INFO_DAYS, Status.INFO)):
        if days < limit:
            return Finding("tls.cert-expiry", status, subject,
                           f"certificate expires in {int(days)} days ({info['not_after']})", details, kb)
    return Finding("tls.cert-expiry", Status.PASS, subject, f"valid until {info['not_after']}", details, kb)


def name_finding(subject: str, host: str, cert: x509.Certificate, info: dict[str, object]) -> Finding:
    """`tls.cert-name`: the certificate names the host we connected to (RFC 6125 §6.4)."""
    details = dict(info, host=host)
    if matches(host, cert):
        return Finding("tls.cert-name", Status.PASS, subject, f"certificate covers {host}", details,
                       "tls-certificate-invalid")
    names = ", ".join(info["names"]) or cert.subject.rfc4514_string()  # type: ignore[arg-type]
    return Finding("tls.cert-name", Status.FAIL, subject, f"certificate does not cover {host} (it names {names})",
                   details, "tls-certificate-invalid")


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.DNSName)


def ip_names(cert: x509.Certificate) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.IPAddress)


def matches(host: str, cert: x509.Certificate) -> bool:
    """RFC 6125 matching: IP hosts against iPAddress SANs; names against dNSName SANs, falling
    back to the subject CN only when the certificate has no dNSName at all (§6.4.4)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return ip in ip_names(cert)
    names = dns_names(cert) or [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(name_matches(host, n) for n in names)


def name_matches(host: str, pattern: str) -> bool:
    """One reference identifier against one presented name (RFC 6125 §6.4.3).

    A wildcard is honoured only as the whole left-most label (`*.example.com`), matches exactly
    one label, and never on a pattern with fewer than three labels (`*.com`).
    """
    host_labels = host.lower().rstrip(".").split(".")
    pat_labels = pattern.lower().rstrip(".").split(".")
    if pat_labels[0] != "*":
        return host_labels == pat_labels
    if len(pat_labels) < 3 or "*" in "".join(pat_labels[1:]):
        return False
    return len(host_labels) == len(pat_labels) and host_labels[1:] == pat_labels[1:] and host_labels[0] != ""
