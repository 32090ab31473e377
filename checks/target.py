"""What the user asked us to check: a mail domain, a server `host:port`, or an IP address.

Validation happens before any network traffic, so a chat message cannot make us probe
`localhost`, a private range or a malformed name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import idna

from checks._guard import name_refusal, refusal
from checks.errors import TargetError
from checks.model import CheckOptions

#: RFC 1035 2.3.4
MAX_NAME = 253
MAX_LABEL = 63
_SLACK_LINK = re.compile(r"^<(?:[a-z]+:)?(?:[^|>]*\|)?([^>]*)>$", re.I)
_LDH = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target. `host` is the IDNA (A-label) name or the address text."""

    text: str
    kind: str  # "domain" | "server" | "ip"
    host: str
    port: int | None = None


def _unwrap(text: str) -> str:
    """Accept what people paste: Slack links, URLs, e-mail addresses, `mailto:`, quotes, a trailing comma."""
    text = text.strip().strip("`'\",;!?")
    match = _SLACK_LINK.match(text)
    if match:
        text = match.group(1).strip()
    text = re.sub(r"^(?:https?|mailto|smtp)://", "", text, flags=re.I)
    text = re.sub(r"^mailto:", "", text, flags=re.I)
    if "@" in text and "/" not in text:
        text = text.rpartition("@")[2]
    return text.split("/", 1)[0] if re.match(r"[^/]+\.[^/]+/", text) else text


def domain_name(text: str, *, underscores: bool = False) -> str:
    """IDNA-encode and validate a host name; TargetError with the reason when it is not one.

    Args:
        underscores: accept ASCII labels with `_` (`_spf.example.com` is a valid DNS name for
            SPF, though never a host we would connect to).
    """
    name = text[:-1] if text.endswith(".") else text
    if not name:
        raise TargetError(text, "empty name")
    if len(name) > MAX_NAME:
        raise TargetError(text, f"name longer than {MAX_NAME} characters")
    if underscores and "_" in name and name.isascii():
        name = name.replace("_", "u")  # validate the rest as LDH, then keep the original spelling
        checked = domain_name(name)
        return "".join(o if o == "_" else c for o, c in zip(text.rstrip(".").lower(), checked, strict=True))
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        labels = name.split(".")
        if any(len(label) > MAX_LABEL for label in labels):
            raise TargetError(text, f"a label is longer than {MAX_LABEL} characters") from exc
        raise TargetError(text, f"not a valid domain name ({exc})") from exc
    labels = ascii_name.split(".")
    if len(ascii_name) > MAX_NAME:
        raise TargetError(text, f"name longer than {MAX_NAME} characters")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise TargetError(text, f"a label is longer than {MAX_LABEL} characters")
        if not _LDH.fullmatch(label):
            raise TargetError(text, f"label {label!r} is not letters, digits and hyphens")
    if len(labels) < 2 and ascii_name != "localhost":
        raise TargetError(text, "not a fully qualified domain name")
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        # 127.1, 0x7f.0.0.1, 0177.0.0.1: an address in a form `ipaddress` does not accept, not a name
        # (a top-level label is never all-numeric, RFC 3696 section 2)
        raise TargetError(text, "looks like an IP address in a non-standard form: write it as a.b.c.d")
    return ascii_name


def _port(text: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 65536:
        raise TargetError(text, f"bad port {value!r} (1-65535)")
    return int(value)


def _ip(text: str, value: str, opts: CheckOptions) -> str:
    why = refusal(value, opts.allow_private)
    if why:
        raise TargetError(text, f"refused: {why} (operator setting SMTPBOT_ALLOW_PRIVATE=1 allows it)")
    return str(ipaddress.ip_address(value))


def parse_target(text: str, opts: CheckOptions) -> Target:
    """Classify and validate `text`.

    Raises:
        TargetError: malformed (spaces, bad port, over-long label, ...) or refused (private
            range, localhost) unless `opts.allow_private`.
    """
    original = text
    text = _unwrap(text)
    if not text or any(c.isspace() for c in text):
        raise TargetError(original, "expected one domain, host:port or IP address without spaces")
    bracketed = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(.*))?", text)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
        address = _ip(original, host, opts) if is_ip(host) else None
        if address is None:
            raise TargetError(original, f"{host!r} is not an IPv6 address")
        if port is None:
            return Target(original, "ip", address)
        return Target(original, "server", address, _port(original, port))
    if is_ip(text):
        return Target(original, "ip", _ip(original, text, opts))
    host, sep, port_text = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    port = _port(original, port_text) if sep else None
    if is_ip(host):
        return Target(original, "server", _ip(original, host, opts), port)
    name = domain_name(host)
    why = name_refusal(name, opts.allow_private)
    if why:
        raise TargetError(original, f"refused: {why}")
    return Target(original, "server" if port else "domain", name, port)


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address literal (no brackets, no port)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
