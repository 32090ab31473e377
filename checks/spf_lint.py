"""SPF record findings: spf.present, spf.multiple, spf.syntax, spf.lookups, spf.void-lookups, spf.all.

Graded from the whole include/redirect tree (`spf_tree.py`), so they hold for every client, not
just one: the worst-case lookup count, the include that passes the limit, loops, void lookups.
"""

from __future__ import annotations

from checks.context import RunContext, error_finding
from checks.model import Finding, Status
from checks.spf import MAX_LOOKUPS, MAX_VOID_LOOKUPS
from checks.spf_tree import Node, Walker, culprit, flatten

KB = "spf-setup"
#: RFC 7208 3.4: keep the answer within a 512-byte UDP reply
MAX_RECORD_BYTES = 450


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
    nodes = flatten(root)
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
    total, over_at = culprit(root)
    loops = [n.problem for n in nodes if n.problem and "loop" in n.problem]
    mx_over = [n.problem for n in nodes if n.problem and "MX hosts" in n.problem]
    details = {"total": total, "limit": MAX_LOOKUPS, "tree": root.to_json()}
    if loops:
        return Finding(
            "spf.lookups", Status.FAIL, root.domain, f"{loops[0]}: receivers answer permerror", details, KB
        )
    if total > MAX_LOOKUPS:
        details["over_limit_at"] = over_at
        return Finding(
            "spf.lookups",
            Status.FAIL,
            root.domain,
            f"{total} DNS lookups, over the limit of {MAX_LOOKUPS} (RFC 7208 4.6.4); "
            f"the limit is passed at {over_at}",
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
