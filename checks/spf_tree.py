"""The include/redirect tree of a domain's SPF record, walked whole for linting.

Unlike check_host() (`spf.py`), which stops at the first match for one client, the walk follows
every include and redirect, counts DNS-querying terms per record and keeps going past the limit
of 10 (bounded by MAX_NODES), so the findings (`spf_lint.py`) can name the include that pushes it
over. A DNS error stays an error on its node, never "no record".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from checks._resolver import Resolver
from checks.spf import MAX_HOSTS, MAX_LOOKUPS
from checks.spf_record import DNS_MECHANISMS, Record, SpfSyntaxError, parse, select

#: a bound on the walk itself, far above anything legitimate (each node costs one TXT query)
MAX_NODES = 40


@dataclass
class Node:
    """One SPF record in the tree and the DNS cost of its own terms."""

    domain: str
    via: str  # "root", "include" or "redirect"
    record: str | None = None
    lookups: int = 0  # DNS-querying terms in this record itself
    voids: list[str] = field(default_factory=list)
    problem: str | None = None  # syntax error, missing record, loop ...
    error: str | None = None  # DNS error: could not check
    children: list[Node] = field(default_factory=list)
    parsed: Record | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"domain": self.domain, "via": self.via, "lookups": self.lookups}
        for key in ("record", "problem", "error"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.voids:
            out["void"] = self.voids
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


class Walker:
    """Builds the include/redirect tree of a domain's SPF record."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.nodes = 0

    async def walk(self, domain: str, via: str = "root", path: tuple[str, ...] = ()) -> Node:
        node = Node(domain, via)
        self.nodes += 1
        if domain in path:
            node.problem = f"{via} loop: {' -> '.join(path + (domain,))}"
            return node
        if self.nodes > MAX_NODES:
            node.problem = f"walk stopped after {MAX_NODES} records"
            return node
        answer = await self.resolver.query(domain, "TXT")
        if answer.failed:
            node.error = answer.error
            return node
        records = select(answer.texts()) if answer.ok else []
        if answer.void and via != "root":
            node.voids.append(f"{via}:{domain}")
        if len(records) != 1:
            node.problem = "no SPF record" if not records else f"{len(records)} SPF records"
            return node
        node.record = records[0]
        try:
            node.parsed = parse(records[0])
        except SpfSyntaxError as exc:
            node.problem = f"syntax: {exc}"
            return node
        await self._terms(node, path + (domain,))
        return node

    async def _terms(self, node: Node, path: tuple[str, ...]) -> None:
        assert node.parsed is not None
        children, probes = [], []
        for term in node.parsed.directives:
            if term.name == "all":
                break  # RFC 7208 5.1: terms after `all` are never evaluated
            if term.name not in DNS_MECHANISMS:
                continue
            node.lookups += 1
            target = term.arg or node.domain
            if "%" in target:
                continue  # macros depend on the sender: counted, not followed
            if term.name == "include":
                children.append(self.walk(target.rstrip("."), "include", path))
            elif term.name in ("a", "mx", "exists"):
                probes.append(self._void_check(node, term.name, target))
        redirect = node.parsed.modifier("redirect")
        has_all = any(t.name == "all" for t in node.parsed.directives)
        if redirect and not has_all:
            node.lookups += 1
            if "%" not in (redirect.arg or ""):
                children.append(self.walk((redirect.arg or "").rstrip("."), "redirect", path))
        voids = await asyncio.gather(*probes)  # independent lookups: ask them all at once
        node.voids.extend(v for v in voids if v)
        node.children = list(await asyncio.gather(*children))

    async def _void_check(self, node: Node, name: str, target: str) -> str | None:
        """The term as `name:target` when its lookup is void (RFC 7208 4.6.4), else None."""
        if name == "mx":
            answer = await self.resolver.query(target, "MX")
            if answer.ok and len(answer.records) > MAX_HOSTS:
                node.problem = f"mx:{target} has {len(answer.records)} MX hosts (limit {MAX_HOSTS})"
            return f"mx:{target}" if answer.void else None
        if name == "exists":
            answer = await self.resolver.query(target, "A")
            return f"exists:{target}" if answer.void else None
        found, answers = await self.resolver.addresses(target)
        return f"a:{target}" if not found and all(a.void for a in answers) else None


def flatten(node: Node) -> list[Node]:
    return [node] + [n for c in node.children for n in flatten(c)]


def culprit(node: Node) -> tuple[int, str | None]:
    """Running count in evaluation order; the path of the record where the count passes 10."""
    total, culprit = 0, None

    def visit(n: Node, trail: tuple[str, ...]) -> None:
        nonlocal total, culprit
        total += n.lookups
        if culprit is None and total > MAX_LOOKUPS:
            culprit = " -> ".join(trail + (f"{n.via}:{n.domain}",))
        for child in n.children:
            visit(child, trail + (f"{n.via}:{n.domain}",) if n.via != "root" else trail)

    visit(node, ())
    return total, culprit
