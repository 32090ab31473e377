"""DKIM key check (RFC 6376, RFC 8301, RFC 8463): dkim.key per selector.

Selectors cannot be listed from DNS, so without `--dkim-selector` we probe the ones the domain's
mail provider (seen in MX and SPF) documents, plus a few common names.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from checks._resolver import Answer
from checks.context import RunContext, error_finding
from checks.defaults import COMMON_SELECTORS, PROVIDER_SELECTORS
from checks.model import Finding, Status
from checks.spf_record import select

KB = "dkim-setup"
#: RFC 8301 3.2: signers MUST use at least 1024-bit RSA keys, SHOULD use 2048
RSA_MINIMUM = 1024
RSA_RECOMMENDED = 2048
#: RFC 8463: an Ed25519 public key is 32 bytes
ED25519_BYTES = 32


async def provider_selectors(ctx: RunContext) -> tuple[str, ...]:
    """Selectors documented by the providers seen in the domain's MX hosts and SPF includes."""
    info, txt = await asyncio.gather(ctx.mx(), ctx.resolver.query(ctx.domain, "TXT"))
    names = [h.host for h in info.hosts]
    for record in select(txt.texts()) if txt.ok else []:
        names += re.findall(r"(?:include|redirect)[:=]([^\s]+)", record, re.I)
    chosen: list[str] = []
    for key, sels in PROVIDER_SELECTORS.items():
        if any(n.lower().rstrip(".") == key or n.lower().rstrip(".").endswith("." + key) for n in names):
            chosen += [s for s in sels if s not in chosen]
    return tuple(chosen)


def _tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), re.sub(r"\s+", "", value))
    return tags


def grade(text: str) -> tuple[Status, str, dict[str, object]]:
    """Judge one key record: (status, summary, details)."""
    tags = _tags(text)
    details: dict[str, object] = {"record": text, "k": tags.get("k", "rsa")}
    if "v" in tags and tags["v"] != "DKIM1":
        return Status.FAIL, f"v={tags['v']} is not DKIM1", details
    if "p" not in tags:
        return Status.FAIL, "no p= tag: not a DKIM key record", details
    if tags["p"] == "":
        return Status.FAIL, "key revoked (empty p=): signatures with this selector fail", details
    try:
        raw = base64.b64decode(tags["p"], validate=True)
    except (binascii.Error, ValueError):
        return Status.FAIL, "p= is not valid base64", details
    status, summary = _key(tags.get("k", "rsa").lower(), raw, details)
    notes = []
    hashes = [h.lower() for h in tags.get("h", "").split(":") if h]
    if hashes and "sha256" not in hashes:
        status, summary = Status.FAIL, summary + "; h= allows only sha1, which RFC 8301 forbids"
    if "y" in tags.get("t", "").lower().split(":"):
        notes.append("t=y: testing mode, receivers may treat failures as unsigned")
    if notes and status is Status.PASS:
        status = Status.WARN
    return status, "; ".join([summary] + notes), details


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


#: AlgorithmIdentifier for rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")


def _rsa_key(raw: bytes) -> object | None:
    """SubjectPublicKeyInfo (what signers publish), or a bare PKCS#1 RSAPublicKey, which RFC 6376
    3.6.1 literally names and some older keys use: wrap it in SPKI and try again."""
    try:
        return load_der_public_key(raw)
    except ValueError:
        pass
    bits = b"\x00" + raw
    spki_body = _RSA_ALGORITHM + b"\x03" + _der_length(len(bits)) + bits
    try:
        return load_der_public_key(b"\x30" + _der_length(len(spki_body)) + spki_body)
    except ValueError:
        return None


def _key(k: str, raw: bytes, details: dict[str, object]) -> tuple[Status, str]:
    if k == "ed25519":
        if len(raw) != ED25519_BYTES:
            return Status.FAIL, f"Ed25519 key is {len(raw)} bytes, not {ED25519_BYTES}"
        return Status.PASS, "Ed25519 key (RFC 8463)"
    if k != "rsa":
        return Status.FAIL, f"unknown key type k={k}"
    key = _rsa_key(raw)
    if key is None:
        return Status.FAIL, "p= does not hold a public key"
    if not isinstance(key, rsa.RSAPublicKey):
        return Status.FAIL, "k=rsa but p= is not an RSA key"
    bits = key.key_size
    details["bits"] = bits
    if bits < RSA_MINIMUM:
        return Status.FAIL, f"RSA key of {bits} bits: receivers ignore keys under {RSA_MINIMUM} (RFC 8301)"
    if bits < RSA_RECOMMENDED:
        return Status.WARN, f"RSA key of {bits} bits: use {RSA_RECOMMENDED} (RFC 8301)"
    return Status.PASS, f"RSA key of {bits} bits"


async def check(ctx: RunContext) -> list[Finding]:
    """dkim.key for the named selectors, or for common and provider selectors found to exist."""
    named = bool(ctx.opts.dkim_selectors)
    first = ctx.opts.dkim_selectors or COMMON_SELECTORS
    # the common selectors do not depend on the MX answer: ask them while it is on its way
    results = await asyncio.gather(_look(ctx, first), provider_selectors(ctx) if not named else _none())
    extra = tuple(s for s in results[1] if s not in first)
    found = results[0] + (await _look(ctx, extra) if extra else [])
    tried = first + extra
    findings = []
    for name, answer in found:
        keys = [t for t in answer.texts() if "p=" in t] if answer.ok else []
        if answer.failed and named:
            findings.append(error_finding("dkim.key", name, "the DKIM key", answer.error))
        elif not keys and named and not answer.failed:
            findings.append(Finding("dkim.key", Status.FAIL, name, "no DKIM key at this selector", {}, KB))
        elif keys:
            status, summary, details = grade(keys[0])
            findings.append(Finding("dkim.key", status, name, summary, details, KB))
    if findings:
        return findings
    failed = [a for _, a in found if a.failed]
    if failed:  # "no key found" would be a guess while some selectors could not be asked
        names = ", ".join(a.name.split(".", 1)[0] for a in failed)
        return [error_finding("dkim.key", ctx.domain, f"DKIM selectors {names}", failed[0].error)]
    return [
        Finding(
            "dkim.key",
            Status.INFO,
            ctx.domain,
            f"no DKIM key at the {len(tried)} selectors we tried; name yours with --dkim-selector",
            {"tried": list(tried)},
            KB,
        )
    ]


async def _none() -> tuple[str, ...]:
    return ()


async def _look(ctx: RunContext, sels: tuple[str, ...]) -> list[tuple[str, Answer]]:
    names = [f"{s}._domainkey.{ctx.domain}" for s in sels]
    answers = await asyncio.gather(*(ctx.resolver.query(n, "TXT") for n in names))
    return list(zip(names, answers, strict=True))
