"""SPF record findings (spf.present, spf.multiple, spf.syntax, spf.lookups, spf.void-lookups, spf.all).

Unlike check_host() (`spf.py`), which stops at the first match for one client, this walks the
whole include/redirect tree, keeps counting past the limit of 10 so the report can name the
include that pushes it over, and never turns a DNS error into "no record".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from checks._resolver import Resolver
from checks.context import RunContext, error_finding
from checks.model import Finding, Status
from checks.spf import MAX_HOSTS, MAX_LOOKUPS, MAX_VOID_LOOKUPS
from checks.spf_record import DNS_MECHANISMS, Record, SpfSyntaxError, parse, select

KB = "spf-setup"
#: RFC 7208 3.4: keep the answer within a 512-byte UDP reply
MAX_RECORD_BYTES = 450
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


def _flatten(node: Node) -> list[Node]:
    return [node] + [n for c in node.children for n in _flatten(c)]


def _culprit(node: Node) -> tuple[int, str | None]:
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


async def check(ctx: RunContext) -> list[Finding]:
    """All spf.* findings for the run's domain."""
    root = await Walker(ctx.resolver).walk(ctx.domain)
    domain = ctx.domain
    if root.error:
        return [error_finding("spf.present", domain, "the SPF record", root.error)]
    if root.problem == "no SPF record":
        return [
            Finding(
                "spf.present",
                Status.FAIL,
                domain,
                "no SPF record: receivers cannot tell which servers may send as this domain",
                {},
                KB,
            )
        ]
    findings = [Finding("spf.present", Status.PASS, domain, "SPF record found", {"record": root.record}, KB)]
    if root.problem and root.problem.endswith("SPF records"):
        findings.append(
            Finding(
                "spf.multiple",
                Status.FAIL,
                domain,
                f"{root.problem} at {domain}: receivers answer permerror (RFC 7208 4.5)",
                {},
                KB,
            )
        )
        return findings
    findings.append(Finding("spf.multiple", Status.PASS, domain, "exactly one SPF record", {}, KB))
    nodes = _flatten(root)
    findings += _syntax(nodes, root)
    findings += _includes(nodes)
    findings.append(_lookups(root, nodes))
    findings.append(_voids(nodes))
    findings.append(_all(root))
    return findings


def _syntax(nodes: list[Node], root: Node) -> list[Finding]:
    bad = [n for n in nodes if n.problem and n.problem.startswith("syntax")]
    out = [
        Finding(
            "spf.syntax",
            Status.FAIL,
            n.domain,
            f"SPF record of {n.domain}: {n.problem} -> permerror",
            {"record": n.record},
            KB,
        )
        for n in bad
    ]
    if bad:
        return out
    notes = []
    if root.record and len(root.record.encode()) > MAX_RECORD_BYTES:
        notes.append(
            f"record is {len(root.record.encode())} bytes; keep it under {MAX_RECORD_BYTES} (RFC 7208 3.4)"
        )
    if any(t.name == "ptr" for n in nodes if n.parsed for t in n.parsed.directives):
        notes.append("uses the `ptr` mechanism, which RFC 7208 5.5 says not to use (slow, unreliable)")
    status = Status.WARN if notes else Status.PASS
    return [
        Finding(
            "spf.syntax",
            status,
            root.domain,
            "; ".join(notes) or "valid RFC 7208 syntax",
            {"record": root.record, "notes": notes},
            KB,
        )
    ]


def _includes(nodes: list[Node]) -> list[Finding]:
    out = []
    for n in nodes[1:]:
        if n.error:
            out.append(error_finding("spf.lookups", n.domain, f"the SPF record of {n.via} target", n.error))
        elif n.problem and (n.problem == "no SPF record" or n.problem.endswith("SPF records")):
            out.append(
                Finding(
                    "spf.present",
                    Status.FAIL,
                    n.domain,
                    f"{n.via}:{n.domain} -> {n.problem}: receivers answer permerror (RFC 7208 5.2)",
                    {},
                    KB,
                )
            )
    return out


def _lookups(root: Node, nodes: list[Node]) -> Finding:
    total, culprit = _culprit(root)
    loops = [n.problem for n in nodes if n.problem and "loop" in n.problem]
    mx_over = [n.problem for n in nodes if n.problem and "MX hosts" in n.problem]
    details = {"total": total, "limit": MAX_LOOKUPS, "tree": root.to_json()}
    if loops:
        return Finding(
            "spf.lookups", Status.FAIL, root.domain, f"{loops[0]}: receivers answer permerror", details, KB
        )
    if total > MAX_LOOKUPS:
        details["over_limit_at"] = culprit
        return Finding(
            "spf.lookups",
            Status.FAIL,
            root.domain,
            f"{total} DNS lookups, over the limit of {MAX_LOOKUPS} (RFC 7208 4.6.4); "
            f"the limit is passed at {culprit}",
            details,
            KB,
        )
    if mx_over:
        return Finding("spf.lookups", Status.FAIL, root.domain, mx_over[0], details, KB)
    if any(n.error for n in nodes):
        return Finding(
            "spf.lookups",
            Status.ERROR,
            root.domain,
            f"at least {total} DNS lookups; part of the tree could not be fetched",
            details,
            "dns-lookup-failure",
        )
    return Finding(
        "spf.lookups", Status.PASS, root.domain, f"{total} of {MAX_LOOKUPS} DNS lookups", details, KB
    )


def _voids(nodes: list[Node]) -> Finding:
    voids = [v for n in nodes for v in n.voids]
    root = nodes[0].domain
    if len(voids) > MAX_VOID_LOOKUPS:
        return Finding(
            "spf.void-lookups",
            Status.FAIL,
            root,
            f"{len(voids)} terms point at names with no records (limit {MAX_VOID_LOOKUPS}, "
            "RFC 7208 4.6.4): receivers may answer permerror",
            {"void": voids},
            KB,
        )
    if voids:
        return Finding(
            "spf.void-lookups",
            Status.WARN,
            root,
            f"{len(voids)} term(s) point at names with no records: {', '.join(voids)}",
            {"void": voids},
            KB,
        )
    return Finding("spf.void-lookups", Status.PASS, root, "no void lookups", {"void": []}, KB)


def _all(root: Node) -> Finding:
    node = root
    while (
        node.parsed
        and not any(t.name == "all" for t in node.parsed.directives)
        and node.children
        and node.children[-1].via == "redirect"
    ):
        node = node.children[-1]
    term = next((t for t in node.parsed.directives if t.name == "all"), None) if node.parsed else None
    domain = root.domain
    if term is None:
        if node.parsed is None:
            return Finding(
                "spf.all",
                Status.ERROR if node.error else Status.FAIL,
                domain,
                "the final record (after redirect) could not be read",
                {},
                KB,
            )
        return Finding(
            "spf.all",
            Status.WARN,
            domain,
            "no `all` at the end: unlisted senders get `neutral`; end with `-all` or `~all`",
            {},
            KB,
        )
    verdict = {
        "+": (Status.FAIL, "`+all` authorises every server on the Internet to send as this domain"),
        "?": (Status.WARN, "`?all` gives no protection: unlisted senders get `neutral`"),
        "~": (Status.PASS, "`~all`: unlisted senders soft-fail"),
        "-": (Status.PASS, "`-all`: unlisted senders fail"),
    }[term.qualifier]
    return Finding("spf.all", verdict[0], domain, verdict[1], {"all": term.text}, KB)
