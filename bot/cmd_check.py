"""`smtpbot check TARGET` and `smtpbot spf DOMAIN IP` (placeholder until the live-check issue lands)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run live checks on a mail domain, server host:port or IP")
    p.add_argument("target")
    p.set_defaults(func=_unavailable)
    p = sub.add_parser("spf", help="evaluate SPF for DOMAIN and IP as a receiver would")
    p.add_argument("domain")
    p.add_argument("ip")
    p.set_defaults(func=_unavailable)


def _unavailable(args: argparse.Namespace, env) -> int:
    env.error("live checks are not available in this build")
    return 2
