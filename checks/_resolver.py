"""One resolver per check run: our nameservers only, a per-run cache, and the one place DNS errors map.

Every check asks through `Resolver.query`, which never raises for DNS trouble. It returns an
`Answer` whose `outcome` keeps apart "the name does not exist" (NXDOMAIN), "no record of this
type" (NODATA) and "could not get an answer" (ERROR: timeout, SERVFAIL, refused), so a timeout can
never turn into "record missing" further up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.name
import dns.nameserver
import dns.rcode
import dns.resolver
import dns.reversename

from checks.errors import ResolverConfigError
from checks.model import CheckOptions

#: EDNS0 payload we advertise (DNS Flag Day 2020 value; larger answers come over TCP)
EDNS_PAYLOAD = 1232


class Outcome(StrEnum):
    """What one DNS question came to."""

    #: records of the asked type exist
    OK = "ok"
    #: the name exists but has no record of this type
    NODATA = "nodata"
    #: the name does not exist
    NXDOMAIN = "nxdomain"
    #: no usable answer: timeout, SERVFAIL, REFUSED, network error
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of one (name, type) question, as a value."""

    name: str
    rdtype: str
    outcome: Outcome
    records: tuple[Any, ...] = ()
    #: the AD bit: the resolver validated the answer with DNSSEC
    secure: bool = False
    #: one-line reason when outcome is ERROR
    error: str | None = None
    #: canonical name when the answer came through a CNAME
    cname: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.ERROR

    @property
    def void(self) -> bool:
        """RFC 7208 4.6.4 "void lookup": NXDOMAIN or an empty NOERROR answer."""
        return self.outcome in (Outcome.NXDOMAIN, Outcome.NODATA)

    def texts(self) -> list[str]:
        """TXT records with their character-strings joined without spaces (RFC 7208 3.3)."""
        return [b"".join(r.strings).decode("utf-8", "surrogateescape") for r in self.records]

    def hosts(self) -> list[str]:
        """Targets of MX/CNAME/PTR/NS records as lower-case names without the final dot."""
        out = []
        for r in self.records:
            target = getattr(r, "exchange", None) or getattr(r, "target", None)
            if target is None or target == dns.name.root:
                out.append("")  # RFC 7505 null MX target "."
            else:
                out.append(target.to_text(omit_final_dot=True).lower())
        return out


def parse_nameserver(text: str) -> tuple[str, int]:
    """`HOST[:PORT]` (IPv6 as `[addr]:port` or bare) to (address, port); ValueError if malformed."""
    text = text.strip()
    match = re.fullmatch(
        r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?|([0-9.]+)(?::(\d{1,5}))?|([0-9A-Fa-f:.]+)", text
    )
    try:
        if not match:
            raise ValueError(text)
        host = match.group(1) or match.group(3) or match.group(5)
        port = int(match.group(2) or match.group(4) or 53)
        ipaddress.ip_address(host)
        if not 0 < port < 65536:
            raise ValueError(text)
    except ValueError:
        raise ValueError(
            f"bad --nameserver {text!r}: expected an IP address with an optional :PORT"
        ) from None
    return host, port


def system_nameservers() -> list[str | dns.nameserver.Nameserver]:
    """The machine's resolvers (/etc/resolv.conf); tests replace this to keep off the network."""
    return list(dns.resolver.Resolver(configure=True).nameservers)


def _build(opts: CheckOptions) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    if opts.nameservers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in opts.nameservers]
    else:
        try:
            resolver.nameservers = system_nameservers()
        except dns.resolver.NoResolverConfiguration as exc:
            raise ResolverConfigError(
                "no DNS resolver configured here: pass --nameserver HOST[:PORT]"
            ) from exc
    resolver.timeout = opts.timeout
    # one try per nameserver: the per-run deadline, not retries, bounds slow answers
    resolver.lifetime = opts.timeout * max(1, len(resolver.nameservers)) + 0.05
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    resolver.flags = dns.flags.RD | dns.flags.AD
    resolver.retry_servfail = False
    resolver.cache = None
    return resolver


def _error_text(exc: Exception, timeout: float) -> str:
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, dns.resolver.NoNameservers):
        # errors: (server, tcp, port, error text or rcode name, response) per nameserver tried
        reasons = sorted({str(e[3]) for e in exc.kwargs.get("errors", []) if len(e) > 3})
        return "nameserver answered " + "/".join(reasons) if reasons else "no nameserver could answer"
    if isinstance(exc, dns.resolver.YXDOMAIN):
        return "name too long after DNAME substitution"
    return f"DNS error: {type(exc).__name__}"


@dataclass
class Resolver:
    """Asks our nameservers, once per (name, type) per run, and counts what it sends."""

    opts: CheckOptions
    sent: int = 0
    #: responses received / queries that timed out, for the dead-nameserver short cut
    answered: int = 0
    timeouts: int = 0
    _cache: dict[tuple[str, str, bool], asyncio.Future[Answer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._resolver = _build(self.opts)
        self._cd: dns.asyncresolver.Resolver | None = None

    def _cd_resolver(self) -> dns.asyncresolver.Resolver:
        if self._cd is None:
            self._cd = _build(self.opts)
            self._cd.flags = dns.flags.RD | dns.flags.CD
        return self._cd

    def close(self) -> None:
        """Cancel questions still in flight (after the deadline): nothing outlives its run."""
        for future in self._cache.values():
            if not future.done():
                future.cancel()

    async def query(self, name: str, rdtype: str, *, checking_disabled: bool = False) -> Answer:
        """Ask once for `name`/`rdtype`; concurrent and repeated callers share the answer.

        Args:
            checking_disabled: set the CD bit (RFC 4035 3.2.2): a validating resolver answers even
                when DNSSEC validation fails, which tells "bogus" apart from other SERVFAILs.
        """
        key = (name.lower().rstrip("."), rdtype.upper(), checking_disabled)
        future = self._cache.get(key)
        if future is None:
            future = asyncio.ensure_future(self._ask(*key))
            self._cache[key] = future
        return await asyncio.shield(future)

    async def _ask(self, name: str, rdtype: str, checking_disabled: bool = False) -> Answer:
        try:
            qname = dns.name.from_text(name)
        except dns.exception.DNSException:
            return Answer(name, rdtype, Outcome.NXDOMAIN, error="not a valid DNS name")
        if self.timeouts and not self.answered:
            # nothing has answered this run and something already timed out: the nameservers are
            # dead, and asking again would only stack another timeout onto dependent checks
            return Answer(
                name, rdtype, Outcome.ERROR, error="nameserver not answering (earlier queries timed out)"
            )
        self.sent += 1
        try:
            resolver = self._cd_resolver() if checking_disabled else self._resolver
            answer = await resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            self.answered += 1
            return Answer(name, rdtype, Outcome.NXDOMAIN, secure=_ad(exc))
        except (dns.exception.DNSException, OSError) as exc:
            if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
                self.timeouts += 1
            else:
                self.answered += 1
            return Answer(name, rdtype, Outcome.ERROR, error=_error_text(exc, self.opts.timeout))
        self.answered += 1
        secure = bool(answer.response.flags & dns.flags.AD)
        records = tuple(answer.rrset) if answer.rrset is not None else ()
        canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
        cname = canonical if canonical != name else None
        outcome = Outcome.OK if records else Outcome.NODATA
        return Answer(name, rdtype, outcome, records, secure, cname=cname)

    async def addresses(self, host: str) -> tuple[list[str], list[Answer]]:
        """A and AAAA of `host`: (addresses, the two answers) — callers grade errors themselves."""
        a, aaaa = await asyncio.gather(self.query(host, "A"), self.query(host, "AAAA"))
        found = [r.address for ans in (a, aaaa) for r in ans.records if hasattr(r, "address")]
        return found, [a, aaaa]

    async def ptr(self, address: str) -> Answer:
        return await self.query(dns.reversename.from_address(address).to_text(), "PTR")


def _ad(exc: dns.resolver.NXDOMAIN) -> bool:
    try:
        return any(bool(r.flags & dns.flags.AD) for r in exc.responses().values())
    except Exception:
        return False


def combined_error(answers: list[Answer]) -> str | None:
    """The error text when any of `answers` could not be obtained, else None."""
    errors = [f"{a.name} {a.rdtype}: {a.error}" for a in answers if a.failed]
    return "; ".join(errors) if errors else None
