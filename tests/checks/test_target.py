"""Target parsing and the private-range guard: refused before any traffic, one-line reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks._guard import refusal
from checks.errors import CheckError, TargetError
from checks.model import CheckOptions
from checks.report import parse_target

OPTS = CheckOptions()


@pytest.mark.parametrize(
    "text, kind, host, port",
    [
        ("example.com", "domain", "example.com", None),
        ("Example.COM.", "domain", "example.com", None),
        ("żółw.pl", "domain", "xn--w-uga1v8h.pl", None),
        ("mail.example.com:587", "server", "mail.example.com", 587),
        ("8.8.8.8", "ip", "8.8.8.8", None),
        ("2001:4860::8888", "ip", "2001:4860::8888", None),
        ("[2001:4860::8888]:25", "server", "2001:4860::8888", 25),
        ("postmaster@example.com", "domain", "example.com", None),
        ("<mailto:a@example.com|a@example.com>", "domain", "example.com", None),
        ("<http://example.com|example.com>", "domain", "example.com", None),
        ("https://example.com/path", "domain", "example.com", None),
        ("`example.com`,", "domain", "example.com", None),
        ('"mx.example.com:25"', "server", "mx.example.com", 25),
    ],
)
def test_accepted_targets(text: str, kind: str, host: str, port: int | None) -> None:
    target = parse_target(text, OPTS)
    assert (target.kind, target.host, target.port) == (kind, host, port)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("localhost", "local-only"),
        ("mail.localhost", "local-only"),
        ("printer.local", "local-only"),
        ("127.0.0.1", "loopback"),
        ("10.1.2.3:25", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("[::1]:25", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "refused"),
        ("example.com:0", "bad port"),
        ("example.com:70000", "bad port"),
        ("example.com:smtp", "bad port"),
        ("exa mple.com", "without spaces"),
        ("", "without spaces"),
        ("a" * 64 + ".com", "longer than 63"),
        ("a." * 127 + "com", "longer than 253"),
        ("nodots", "fully qualified"),
        ("-bad-.com", "not a valid domain name"),
        ("2002:a00:1::1", "embeds 10.0.0.1"),
        ("2002:7f00:1::", "embeds 127.0.0.1"),
        ("fec0::1", "site-local"),
        ("127.1", "non-standard form"),
        ("0x7f.0.0.1", "non-standard form"),
        ("0177.0.0.1", "non-standard form"),
        ("10.0.0.1.", "non-standard form"),
        ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", "non-standard form"),
        ("example.com:\u00b2", "bad port"),
    ],
)
def test_refused_or_malformed_targets(text: str, reason: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(text, OPTS)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, CheckError)


def test_operator_may_allow_private_targets() -> None:
    allowed = CheckOptions(allow_private=True)
    assert parse_target("127.0.0.1", allowed).kind == "ip"
    assert parse_target("localhost:25", allowed).host == "localhost"
    assert refusal("10.0.0.1", allow_private=True) is None


@given(st.text(max_size=80))
def test_any_text_is_a_target_or_a_target_error(text: str) -> None:
    try:
        target = parse_target(text, OPTS)
    except TargetError as exc:
        assert str(exc) and "\n" not in str(exc).strip("'\"")
    else:
        assert target.kind in ("domain", "server", "ip")
        assert not any(c.isspace() for c in target.host)
