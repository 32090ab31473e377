"""State shared by the checks of one run: the resolver (with its cache) and facts several checks need.

A fact such as "the MX hosts and their addresses" is computed once, by whichever check asks first,
and the others await the same task; nothing runs twice and nothing waits for what it does not need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from checks._guard import allowed
from checks._resolver import Answer, Resolver
from checks.model import CheckOptions, Finding, Status

T = TypeVar("T")

#: KB entry for every "could not check" finding of a DNS check
KB_DNS_ERROR = "dns-lookup-failure"


@dataclass(frozen=True, slots=True)
class MxHost:
    """One MX target with what we learnt about its addresses."""

    preference: int
    host: str
    addresses: tuple[str, ...] = ()
    #: addresses refused by the private-range guard, with the reason
    refused: tuple[tuple[str, str], ...] = ()
    #: error text when A/AAAA could not be fetched
    error: str | None = None
    #: the host is a CNAME (RFC 2181 10.3 forbids it as an MX target)
    cname: str | None = None

    @property
    def probe_addresses(self) -> tuple[str, ...]:
        """Addresses we may connect to (guard passed)."""
        refused = {a for a, _ in self.refused}
        return tuple(a for a in self.addresses if a not in refused)


@dataclass(frozen=True, slots=True)
class MxInfo:
    """The MX answer of the domain, graded."""

    answer: Answer
    hosts: tuple[MxHost, ...] = ()
    null: bool = False
    #: RFC 5321 5.1 implicit MX: no MX records, the domain's own address is used
    implicit: bool = False


@dataclass
class RunContext:
    """One check run: options, resolver, and memoised shared facts."""

    opts: CheckOptions
    domain: str
    resolver: Resolver = field(init=False)
    _facts: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.opts)

    def close(self) -> None:
        """Cancel shared work still running (the run is over): the bot's event loop lives on."""
        for task in self._facts.values():
            if not task.done():
                task.cancel()
        self.resolver.close()

    def fact(self, key: str, compute: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """Start `compute` once under `key`; every caller awaits the same task."""
        task = self._facts.get(key)
        if task is None:
            task = asyncio.ensure_future(compute())
            self._facts[key] = task
        return asyncio.shield(task)

    async def mx(self) -> MxInfo:
        return await self.fact("mx", lambda: _mx_info(self))


async def _host(ctx: RunContext, preference: int, host: str) -> MxHost:
    addresses, answers = await ctx.resolver.addresses(host)
    errors = [a.error for a in answers if a.failed]
    ok, refused = allowed(addresses, ctx.opts.allow_private)
    cname = next((a.cname for a in answers if a.cname), None)
    return MxHost(
        preference,
        host,
        tuple(addresses),
        tuple(refused.items()),
        "; ".join(e for e in errors if e) or None,
        cname,
    )


async def _mx_info(ctx: RunContext) -> MxInfo:
    answer = await ctx.resolver.query(ctx.domain, "MX")
    if answer.failed:
        return MxInfo(answer)
    if not answer.ok:
        host = await _host(ctx, 0, ctx.domain)
        implicit = bool(host.addresses)
        return MxInfo(answer, (host,) if implicit else (), implicit=implicit)
    pairs = sorted((r.preference, h) for r, h in zip(answer.records, answer.hosts(), strict=True))
    if any(h == "" for _, h in pairs):
        return MxInfo(answer, tuple(MxHost(p, h or ".") for p, h in pairs), null=True)
    hosts = await asyncio.gather(*(_host(ctx, p, h) for p, h in pairs))
    return MxInfo(answer, tuple(hosts))


def error_finding(check: str, subject: str, what: str, error: str | None) -> Finding:
    """A `could not check` finding: DNS did not answer, so we say so rather than guess."""
    return Finding(
        check,
        Status.ERROR,
        subject,
        f"could not check {what}: {error or 'no answer'}",
        {"error": error},
        KB_DNS_ERROR,
    )
