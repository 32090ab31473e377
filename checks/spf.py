"""SPF evaluation (RFC 7208 check_host()): the answer a receiver would give for one IP and domain.

The linting side (findings about a published record, whatever the client) is in `spf_tree.py`;
both share the parser in `spf_record.py` and the macros in `spf_macro.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from checks._resolver import Resolver
from checks.errors import TargetError
from checks.model import CheckOptions
from checks.spf_macro import MacroContext, expand, shorten
from checks.spf_record import Record, SpfSyntaxError, Term, parse, select

#: RFC 7208 4.6.4: DNS-querying terms (include a mx ptr exists redirect) per evaluation
MAX_LOOKUPS = 10
#: RFC 7208 4.6.4: "void" answers (NXDOMAIN / empty) tolerated per evaluation
MAX_VOID_LOOKUPS = 2
#: RFC 7208 4.6.4: MX hosts (and PTR names) looked at by one `mx` (or `ptr`) term
MAX_HOSTS = 10
#: RFC 7208 4.6.4: "at least 20 seconds" before check_host() may give up with temperror
MAX_SECONDS = 20.0

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class SpfResult:
    """The check_host() result and how it was reached."""

    result: str  # pass | fail | softfail | neutral | none | permerror | temperror
    mechanism: str | None  # the term that decided, None when nothing matched
    explanation: str | None  # the domain's exp= text for fail results
    lookups: int  # DNS-querying terms evaluated
    problem: str | None = None  # why permerror / temperror / none

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "mechanism": self.mechanism,
            "explanation": self.explanation,
            "lookups": self.lookups,
        }


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: str
    mechanism: str | None = None
    explanation: str | None = None
    problem: str | None = None


def valid_domain(domain: str) -> bool:
    """RFC 7208 4.3: a multi-label name, no empty or over-long label, not a literal."""
    name = domain[:-1] if domain.endswith(".") else domain
    labels = name.split(".")
    return len(labels) > 1 and len(name) <= 253 and all(0 < len(x) <= 63 for x in labels)


class Evaluator:
    """One check_host() walk: counts lookups and void lookups across includes and redirects."""

    def __init__(self, resolver: Resolver, ip: IP, sender: str, helo: str):
        self.resolver = resolver
        self.ip = ip
        self.sender = sender
        self.helo = helo
        self.lookups = 0
        self.voids = 0

    async def check_host(self, domain: str) -> _Outcome:
        if not valid_domain(domain):
            return _Outcome("none", problem=f"{domain!r} is not a valid domain name")
        answer = await self.resolver.query(domain, "TXT")
        if answer.failed:
            return _Outcome("temperror", problem=f"{domain} TXT: {answer.error}")
        records = select(answer.texts()) if answer.ok else []
        if not records:
            return _Outcome("none", problem=f"no SPF record at {domain}")
        if len(records) > 1:
            return _Outcome("permerror", problem=f"{len(records)} SPF records at {domain}")
        try:
            return await self._run(parse(records[0]), domain)
        except SpfSyntaxError as exc:
            return _Outcome("permerror", problem=f"{domain}: {exc}")

    async def _run(self, record: Record, domain: str) -> _Outcome:
        ctx = MacroContext(self.sender, domain, self.ip, self.helo)
        for term in record.directives:
            if await self._matches(term, ctx):
                explanation = None
                if term.result == "fail" and record.modifier("exp"):
                    explanation = await self._explain(record.modifier("exp"), ctx)  # type: ignore[arg-type]
                return _Outcome(term.result, term.text, explanation)
        redirect = record.modifier("redirect")
        if redirect is None:
            return _Outcome("neutral")
        self._count()
        inner = await self.check_host(await self._target(redirect.arg or "", ctx))
        if inner.result == "none":
            raise _PermError(f"redirect target of {domain} has no SPF record")
        if inner.result in ("permerror", "temperror"):
            raise (_PermError if inner.result == "permerror" else _TempError)(inner.problem)
        return inner

    def _count(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _PermError(f"more than {MAX_LOOKUPS} DNS-querying terms")

    def _void(self, answer_void: bool) -> None:
        if answer_void:
            self.voids += 1
            if self.voids > MAX_VOID_LOOKUPS:
                raise _PermError(f"more than {MAX_VOID_LOOKUPS} void lookups")

    async def _target(self, spec: str, ctx: MacroContext) -> str:
        if re.search(r"%\{p", spec, re.I):
            ctx = dataclasses.replace(ctx, validated=await self._validated_name(ctx.domain))
        try:
            return shorten(expand(spec, ctx))
        except SpfSyntaxError as exc:
            raise _PermError(str(exc)) from exc

    async def _matches(self, term: Term, ctx: MacroContext) -> bool:
        if term.name == "all":
            return True
        if term.name in ("ip4", "ip6"):
            return _in_network(self.ip, term.arg or "", term.cidr4 if term.name == "ip4" else term.cidr6)
        self._count()
        target = await self._target(term.arg, ctx) if term.arg else ctx.domain
        if term.name == "include":
            return await self._include(target)
        if term.name == "exists":
            answer = await self.resolver.query(target, "A")
            return self._checked(answer)
        if term.name == "ptr":
            return any(_covers(target, name) for name in await self._validated(target))
        hosts = [target] if term.name == "a" else await self._mx_hosts(target)
        for host in hosts:
            if await self._address_match(host, term, count_void=term.name == "a"):
                return True
        return False

    def _checked(self, answer: Any) -> bool:
        if answer.failed:
            raise _TempError(f"{answer.name} {answer.rdtype}: {answer.error}")
        self._void(answer.void)
        return bool(answer.ok)

    async def _include(self, target: str) -> bool:
        inner = await self.check_host(target)
        if inner.result == "pass":
            return True
        if inner.result == "temperror":
            raise _TempError(inner.problem)
        if inner.result in ("permerror", "none"):
            raise _PermError(inner.problem or f"include:{target} has no SPF record")
        return False

    async def _mx_hosts(self, target: str) -> list[str]:
        answer = await self.resolver.query(target, "MX")
        if not self._checked(answer):
            return []
        hosts = [h for h in answer.hosts() if h]
        if len(answer.records) > MAX_HOSTS:
            raise _PermError(f"{target} has more than {MAX_HOSTS} MX records")
        return hosts

    async def _address_match(self, host: str, term: Term, *, count_void: bool) -> bool:
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        answer = await self.resolver.query(host, rdtype)
        if answer.failed:
            raise _TempError(f"{host} {rdtype}: {answer.error}")
        if count_void:
            self._void(answer.void)
        length = term.cidr4 if self.ip.version == 4 else term.cidr6
        return any(_in_network(self.ip, r.address, length) for r in answer.records)

    async def _validated(self, target: str) -> list[str]:
        """RFC 7208 5.5: PTR names of the client that resolve back to it (DNS errors: no match)."""
        answer = await self.resolver.ptr(str(self.ip))
        if not answer.ok:
            return []
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        names = answer.hosts()[:MAX_HOSTS]
        forward = await asyncio.gather(*(self.resolver.query(n, rdtype) for n in names))
        good = [
            n
            for n, a in zip(names, forward, strict=True)
            if any(getattr(r, "address", None) == str(self.ip) for r in a.records)
        ]
        return sorted(good, key=lambda n: not _covers(target, n))

    async def _validated_name(self, domain: str) -> str:
        names = await self._validated(domain)
        return names[0] if names else "unknown"

    async def _explain(self, exp: Term, ctx: MacroContext) -> str | None:
        """RFC 7208 6.2: the exp= text; any problem means "no explanation", never an error."""
        try:
            name = await self._target(exp.arg or "", ctx)
        except _PermError:
            return None
        answer = await self.resolver.query(name, "TXT")
        texts = answer.texts() if answer.ok else []
        if len(texts) != 1:
            return None
        try:
            if re.search(r"%\{p", texts[0], re.I):
                ctx = dataclasses.replace(ctx, validated=await self._validated_name(ctx.domain))
            return expand(texts[0], ctx, exp=True)
        except SpfSyntaxError:
            return None


def _in_network(ip: IP, network: str, length: int | None) -> bool:
    try:
        other = ipaddress.ip_address(network)
    except ValueError:
        return False
    if other.version != ip.version:
        return False
    prefix = length if length is not None else other.max_prefixlen
    return ip in ipaddress.ip_network(f"{other}/{prefix}", strict=False)


def _covers(target: str, name: str) -> bool:
    target, name = target.lower().rstrip("."), name.lower().rstrip(".")
    return name == target or name.endswith("." + target)


def client_ip(text: str) -> IP:
    """Parse the client address; an IPv4-mapped IPv6 address counts as IPv4 (RFC 7208 5)."""
    ip = ipaddress.ip_address(text.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


async def evaluate(
    domain: str,
    ip: str,
    *,
    helo: str | None = None,
    sender: str | None = None,
    opts: CheckOptions,
    resolver: Resolver | None = None,
) -> SpfResult:
    """Run check_host(ip, domain, sender) as a receiver would (RFC 7208 section 4).

    Args:
        domain: the domain whose SPF record is evaluated (MAIL FROM domain, or HELO name).
        ip: the connecting client's address.
        helo: the HELO/EHLO name (default: `domain`), used by the %{h} macro.
        sender: the MAIL FROM address (default: postmaster@`domain`).
        opts: resolver settings; `resolver` may share a run's cache instead.

    Raises:
        TargetError: `ip` is not an IP address.
    """
    try:
        address = client_ip(ip)
    except ValueError as exc:
        raise TargetError(ip, "not an IP address") from exc
    domain = domain.strip()
    sender = sender or f"postmaster@{domain}"
    if "@" not in sender:
        sender = f"postmaster@{sender}"
    if sender.startswith("@"):
        sender = "postmaster" + sender
    walk = Evaluator(resolver or Resolver(opts), address, sender, helo or domain)
    try:
        async with asyncio.timeout(MAX_SECONDS if opts.deadline is None else min(MAX_SECONDS, opts.deadline)):
            out = await walk.check_host(domain)
    except _PermError as exc:
        out = _Outcome("permerror", problem=str(exc))
    except (_TempError, TimeoutError) as exc:
        out = _Outcome("temperror", problem=str(exc) or "SPF evaluation took too long")
    return SpfResult(out.result, out.mechanism, out.explanation, walk.lookups, out.problem)
