"""`smtpbot serve` and the default action (placeholder until the Slack issue lands)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the Slack bot (Socket Mode or --http)")
    p.set_defaults(func=_unavailable)


def _unavailable(args: argparse.Namespace, env) -> int:
    env.error("the Slack bot is not available in this build")
    return 2


def run_default(args: argparse.Namespace, env) -> int:
    from bot.cmd_explain import run_demo

    return run_demo(args, env)
