"""`smtpbot check TARGET` (live checks) and `smtpbot spf DOMAIN IP` (an SPF evaluation as a receiver)."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import ssl

from checks._resolver import parse_nameserver
from checks.errors import CheckError
from checks.model import CheckOptions

ALLOW_PRIVATE_ENV = "SMTPBOT_ALLOW_PRIVATE"


def _resolver_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="resolver to use for every lookup (repeatable; default: the system's)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="bound on each network operation in seconds (default 5)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="run live checks on a mail domain, server host:port or IP",
        description="Live DNS/SMTP checks. Exit 0: no fail/error; 1: findings; 2: bad usage "
        "or refused target.",
    )
    p.add_argument("target", metavar="TARGET", help="mail domain, server host:port, or IP address")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _resolver_flags(p)
    p.add_argument(
        "--ca-file", metavar="PEM", help="extra CA certificates to trust (MTA-STS HTTPS, SMTP TLS)"
    )
    p.add_argument(
        "--allow-private",
        action="store_true",
        help=f"allow loopback/private/reserved targets (operator setting; also {ALLOW_PRIVATE_ENV}=1)",
    )
    p.add_argument(
        "--dkim-selector", action="append", default=[], metavar="S", help="DKIM selector (repeatable)"
    )
    p.add_argument("--dnsbl", action="append", default=[], metavar="ZONE", help="DNSBL zone (repeatable)")
    p.add_argument("--smtp-port", type=int, metavar="N", help="SMTP port for MX probes (default 25)")
    p.add_argument("--relay-test", action="store_true", help="opt-in open-relay test (stops at RCPT TO)")
    p.set_defaults(func=run)
    s = sub.add_parser(
        "spf",
        help="evaluate SPF for DOMAIN and IP as a receiver would",
        description="RFC 7208 check_host(). Exit 0 when the result is pass, 1 otherwise, 2 for bad usage.",
    )
    s.add_argument("domain", metavar="DOMAIN", help="domain whose SPF record is evaluated")
    s.add_argument("ip", metavar="IP", help="the connecting client's address")
    s.add_argument("--helo", metavar="H", help="HELO/EHLO name (default: DOMAIN)")
    s.add_argument("--sender", metavar="ADDR", help="MAIL FROM address (default: postmaster@DOMAIN)")
    s.add_argument(
        "--json", action="store_true", help='print {"result", "mechanism", "explanation", "lookups"}'
    )
    _resolver_flags(s)
    s.set_defaults(func=run_spf)


def options(args: argparse.Namespace, env) -> CheckOptions:  # noqa: ANN001 - bot.cli.Environment
    """CheckOptions from flags; ValueError with a one-line reason for bad values."""
    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise ValueError("--timeout must be a positive number of seconds")
    servers = tuple(parse_nameserver(n) for n in args.nameserver)
    port = getattr(args, "smtp_port", None)
    if port is not None and not 0 < port < 65536:
        raise ValueError("--smtp-port must be 1-65535")
    allow = getattr(args, "allow_private", False) or env.environ.get(ALLOW_PRIVATE_ENV, "") in (
        "1",
        "true",
        "yes",
    )
    ca_file = getattr(args, "ca_file", None)
    if ca_file:
        try:  # a bad --ca-file is the operator's mistake, not a defect of the checked domain
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"--ca-file {ca_file}: not a readable PEM CA bundle ({exc})") from exc
    return CheckOptions(
        nameservers=servers,
        timeout=args.timeout,
        ca_file=ca_file,
        allow_private=allow,
        dkim_selectors=tuple(getattr(args, "dkim_selector", ())),
        dnsbl_zones=tuple(getattr(args, "dnsbl", ())),
        smtp_port=port,
        relay_test=getattr(args, "relay_test", False),
    )


def _options_or_error(args: argparse.Namespace, env) -> CheckOptions | None:  # noqa: ANN001
    try:
        return options(args, env)
    except ValueError as exc:
        env.error(str(exc))
        return None


def run(args: argparse.Namespace, env) -> int:  # noqa: ANN001 - bot.cli.Environment
    from bot.text_report import render
    from checks.report import run_check

    opts = _options_or_error(args, env)
    if opts is None:
        return 2
    try:
        report = asyncio.run(run_check(args.target, opts))
    except CheckError as exc:
        env.error(str(exc))
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False), file=env.stdout)
    else:
        print(render(report), file=env.stdout)
    return 0 if report.ok else 1


def run_spf(args: argparse.Namespace, env) -> int:  # noqa: ANN001 - bot.cli.Environment
    from checks.spf import evaluate
    from checks.target import domain_name

    opts = _options_or_error(args, env)
    if opts is None:
        return 2
    try:
        domain = domain_name(args.domain.strip(), underscores=True)
        result = asyncio.run(evaluate(domain, args.ip, helo=args.helo, sender=args.sender, opts=opts))
    except CheckError as exc:
        env.error(str(exc))
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2), file=env.stdout)
    else:
        line = f"spf {domain} {args.ip}: {result.result}"
        if result.mechanism:
            line += f" (matched {result.mechanism})"
        print(f"{line}, {result.lookups} DNS lookup(s)", file=env.stdout)
        if result.explanation:
            print(f"explanation: {result.explanation}", file=env.stdout)
        if result.problem and result.result in ("permerror", "temperror", "none"):
            print(f"why: {result.problem}", file=env.stdout)
    return 0 if result.result == "pass" else 1
