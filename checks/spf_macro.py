"""SPF macro expansion (RFC 7208 section 7): `%{ir}.%{v}._spf.%{d}` and friends."""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass

from checks.spf_record import SpfSyntaxError, check_macro_string

_TOKEN = re.compile(r"%\{([a-zA-Z])([0-9]*)([rR]?)([.\-+,/_=]*)\}|%%|%_|%-|[^%]+|%")
#: RFC 7208 4.6.4 / 7.3: longest name we query; longer expansions lose labels on the left
MAX_NAME = 253


@dataclass(frozen=True, slots=True)
class MacroContext:
    """The values the macro letters stand for during one check_host() walk."""

    sender: str
    domain: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    helo: str
    validated: str = "unknown"  # %{p}, filled in lazily by the evaluator
    receiver: str = "unknown"  # %{r}

    @property
    def local(self) -> str:
        return self.sender.rpartition("@")[0] or "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    def letter(self, letter: str) -> str:
        ip = self.ip
        values = {
            "s": self.sender,
            "l": self.local,
            "o": self.sender_domain,
            "d": self.domain,
            # nibbles in upper case, as pyspf and the RFC 7208 suite (test v-macro-ip6) write them
            "i": ".".join(ip.exploded.replace(":", "").upper()) if ip.version == 6 else str(ip),
            "p": self.validated,
            "h": self.helo,
            "v": "in-addr" if ip.version == 4 else "ip6",
            "c": str(ip),
            "r": self.receiver,
            "t": str(int(time.time())),
        }
        return values[letter]


def _transform(value: str, digits: str, reverse: str, delimiters: str) -> str:
    parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
    if reverse:
        parts.reverse()
    if digits:
        count = int(digits)
        if count == 0:
            raise SpfSyntaxError("zero transformer")
        parts = parts[-count:]
    return ".".join(parts)


def expand(text: str, ctx: MacroContext, *, exp: bool = False) -> str:
    """Expand a macro-string; SpfSyntaxError on bad syntax (c, r, t are for exp text only)."""
    check_macro_string(text, exp=exp)
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "%%":
            out.append("%")
        elif token == "%_":
            out.append(" ")
        elif token == "%-":
            out.append("%20")
        elif match.group(1):
            letter = match.group(1)
            value = _transform(ctx.letter(letter.lower()), match.group(2), match.group(3), match.group(4))
            out.append(urllib.parse.quote(value, safe="-._~") if letter.isupper() else value)
        else:
            out.append(token)
    return "".join(out)


def shorten(name: str) -> str:
    """RFC 7208 7.3: drop labels from the left until the name fits in 253 octets."""
    name = name.rstrip(".")
    while len(name) > MAX_NAME and "." in name:
        name = name.split(".", 1)[1]
    return name
