"""SPF record syntax (RFC 7208 section 12 ABNF): record selection and parsing into terms.

The parser checks the whole record before anything is evaluated, because RFC 7208 4.6 says a
syntax error anywhere makes the record a permerror, whatever the client's address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

#: mechanisms that cost one DNS lookup toward the limit of 10 (RFC 7208 4.6.4); plus `redirect`
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
MECHANISMS = DNS_MECHANISMS | {"all", "ip4", "ip6"}
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}

_MACRO_EXPAND = r"%\{[slodiphcrtvSLODIPHCRTV][0-9]*[rR]?[.\-+,/_=]*\}|%%|%_|%-"
_MACRO_STRING = re.compile(rf"(?:{_MACRO_EXPAND}|[\x21-\x24\x26-\x7e])*")
#: RFC 7208 6.2 explain-string = *( macro-string / SP )
_EXPLAIN_STRING = re.compile(rf"(?:{_MACRO_EXPAND}|[\x20-\x24\x26-\x7e])*")
_TOPLABEL = re.compile(r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9\-_.]*)=(.*)", re.S)
_CIDR = re.compile(r"(?:/(0|[1-9][0-9]{0,2}))?(?://(0|[1-9][0-9]{0,2}))?$")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}")


class SpfSyntaxError(ValueError):
    """The record breaks the RFC 7208 ABNF; the message names the term."""


@dataclass(frozen=True, slots=True)
class Term:
    """One directive (`qualifier` + mechanism) or modifier (`name=value`)."""

    text: str
    name: str  # mechanism or modifier name, lower case
    qualifier: str = "+"
    arg: str | None = None  # domain-spec / network / modifier value
    cidr4: int | None = None
    cidr6: int | None = None
    modifier: bool = False

    @property
    def result(self) -> str:
        return QUALIFIERS[self.qualifier]


@dataclass(frozen=True, slots=True)
class Record:
    text: str
    terms: tuple[Term, ...]

    @property
    def directives(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.modifier)

    def modifier(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.modifier and t.name == name), None)


def is_spf(text: str) -> bool:
    """RFC 7208 4.5: the record starts with exactly "v=spf1", ended by a space or the end."""
    head = text[:7].lower()
    return head == "v=spf1" or head == "v=spf1 "


def select(texts: list[str]) -> list[str]:
    """The SPF records among a name's TXT records."""
    return [t for t in texts if is_spf(t)]


def check_macro_string(text: str, *, exp: bool = False) -> None:
    """Raise SpfSyntaxError unless `text` is a macro-string (c, r, t only allowed in exp text)."""
    pattern = _EXPLAIN_STRING if exp else _MACRO_STRING
    if not pattern.fullmatch(text):
        raise SpfSyntaxError(f"bad macro string {text!r}")
    if not exp and re.search(r"%\{[crtCRT]", text):
        raise SpfSyntaxError(f"macro c, r or t outside exp in {text!r}")
    if re.search(r"%\{.0", text):
        raise SpfSyntaxError(f"zero transformer in {text!r}")


def check_domain_spec(spec: str) -> None:
    """domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand."""
    if not spec:
        raise SpfSyntaxError("empty domain-spec")
    check_macro_string(spec)
    if re.search(rf"(?:{_MACRO_EXPAND})$", spec) and not spec.endswith("%%"):
        return
    body = spec[:-1] if spec.endswith(".") else spec
    head, dot, top = body.rpartition(".")
    if not dot or not _TOPLABEL.fullmatch(top) or head.endswith("."):
        raise SpfSyntaxError(f"domain {spec[:80]!r} does not end in a valid top label")


def _cidr(arg: str, term: str) -> tuple[str, int | None, int | None]:
    match = _CIDR.search(arg)
    assert match is not None  # the pattern matches the empty suffix
    c4, c6 = match.group(1), match.group(2)
    if (c4 and int(c4) > 32) or (c6 and int(c6) > 128):
        raise SpfSyntaxError(f"CIDR length out of range in {term!r}")
    return arg[: match.start()], int(c4) if c4 else None, int(c6) if c6 else None


def _directive(text: str) -> Term:
    qualifier = text[0] if text[0] in QUALIFIERS else "+"
    body = text[1:] if text[0] in QUALIFIERS else text
    name, sep, arg = re.match(r"([A-Za-z0-9]*)([:/]?)(.*)", body, re.S).groups()  # type: ignore[union-attr]
    name = name.lower()
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {text!r}")
    rest = sep + arg
    if name == "all":
        if rest:
            raise SpfSyntaxError(f"'all' takes no argument: {text!r}")
        return Term(text, name, qualifier)
    if name in ("ip4", "ip6"):
        return _network(text, name, qualifier, rest)
    domain, c4, c6 = _cidr(rest, text) if name in ("a", "mx") else (rest, None, None)
    if domain.startswith(":"):
        domain = domain[1:]
        check_domain_spec(domain)
    elif domain:
        raise SpfSyntaxError(f"bad term {text!r}")
    elif name in ("include", "exists"):
        raise SpfSyntaxError(f"{name} needs a domain: {text!r}")
    return Term(text, name, qualifier, domain or None, c4, c6)


def _network(text: str, name: str, qualifier: str, rest: str) -> Term:
    if not rest.startswith(":"):
        raise SpfSyntaxError(f"{name} needs an address: {text!r}")
    addr, slash, length = rest[1:].partition("/")
    limit = 32 if name == "ip4" else 128
    if slash and not re.fullmatch(r"0|[1-9][0-9]{0,2}", length) or slash and int(length) > limit:
        raise SpfSyntaxError(f"bad CIDR length in {text!r}")
    try:
        if name == "ip4" and not _IP4.fullmatch(addr):
            raise ValueError(addr)
        ipaddress.ip_address(addr) if name == "ip4" else ipaddress.IPv6Address(addr)
    except ValueError as exc:
        raise SpfSyntaxError(f"bad address in {text!r}") from exc
    cidr = int(length) if slash else limit
    return Term(text, name, qualifier, addr, cidr if name == "ip4" else None, cidr if name == "ip6" else None)


def _modifier(text: str, match: re.Match[str]) -> Term:
    name, value = match.group(1).lower(), match.group(2)
    if name in ("redirect", "exp"):
        check_domain_spec(value)
    else:
        check_macro_string(value)
    return Term(text, name, "+", value, modifier=True)


def parse(text: str) -> Record:
    """Parse a whole `v=spf1 ...` record; SpfSyntaxError names the first bad term."""
    if not is_spf(text):
        raise SpfSyntaxError("not an SPF record")
    terms: list[Term] = []
    for part in text[6:].split(" "):
        if not part:
            continue
        match = _MODIFIER.fullmatch(part)
        if match and not re.match(r"[+\-~?]", part):
            terms.append(_modifier(part, match))
        else:
            terms.append(_directive(part))
    for name in ("redirect", "exp"):
        if sum(1 for t in terms if t.modifier and t.name == name) > 1:
            raise SpfSyntaxError(f"more than one {name}= modifier")
    return Record(text, tuple(terms))
