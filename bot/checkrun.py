"""Running live checks from a chat command: option parsing, the sync bridge, errors as values.

Checks are async functions in `checks/`; the bot runs each one to completion on a worker thread of
its own pool (never on Bolt's listener threads), so this module bridges with `asyncio.run`.
`checks` is imported lazily: the rest of the bot works in a build without it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.settings import Settings

log = logging.getLogger("smtpbot.checks")

#: a finished area: its name and its findings (checks.model.Finding)
Progress = Callable[[str, list[Any]], None]


class ChatArgError(Exception):
    """A chat command's options are malformed (shown to the user as the usage line)."""


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What a `check` command asks for, after parsing."""

    target: str
    dkim_selectors: tuple[str, ...] = ()
    smtp_port: int | None = None
    smtp: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """A check run's result: a report, or a one-line reason it could not run (never both)."""

    value: Any = None
    refused: str | None = None
    unavailable: bool = False


class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ChatArgError(message)


def _check_parser() -> argparse.ArgumentParser:
    p = _ArgParser(prog="check", add_help=False)
    p.add_argument("target")
    p.add_argument("--dkim-selector", action="append", default=[])
    p.add_argument("--smtp-port", type=int)
    p.add_argument("--no-smtp", action="store_true")
    return p


def parse_check(args: tuple[str, ...]) -> CheckRequest:
    """Parse `check` arguments; only options safe for any chat user exist here.

    Raises:
        ChatArgError: for unknown options or a missing target.
    """
    ns = _check_parser().parse_args(list(args))
    if ns.smtp_port is not None and not 0 < ns.smtp_port < 65536:
        raise ChatArgError("--smtp-port must be 1..65535")
    return CheckRequest(ns.target, tuple(ns.dkim_selector), ns.smtp_port, not ns.no_smtp)


def split_args(text: str) -> tuple[str, ...]:
    """Shell-like split that tolerates unbalanced quotes (chat users type them)."""
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return tuple(text.split())


def options(settings: Settings, req: CheckRequest | None = None) -> Any:
    """CheckOptions from operator settings plus the user's own (safe) options."""
    from checks.model import CheckOptions

    opts = CheckOptions(
        nameservers=settings.nameservers,
        timeout=settings.check_timeout,
        allow_private=settings.allow_private,
    )
    if req is not None:
        opts = replace(opts, dkim_selectors=req.dkim_selectors, smtp_port=req.smtp_port, smtp=req.smtp)
    return opts


def _run(coro_factory: Callable[[], Any]) -> Outcome:
    try:
        from checks.errors import CheckError
    except ImportError:
        return Outcome(unavailable=True)
    try:
        return Outcome(value=asyncio.run(coro_factory()))
    except (CheckError, ValueError) as exc:
        # a malformed or refused target (ValueError: e.g. an IP that does not parse)
        return Outcome(refused=str(exc) or type(exc).__name__)


def run_check(settings: Settings, req: CheckRequest, progress: Progress | None = None) -> Outcome:
    """Run `checks.report.run_check` to completion on this thread."""
    try:
        from checks.report import run_check as _run_check
    except ImportError:
        return Outcome(unavailable=True)
    return _run(lambda: _run_check(req.target, options(settings, req), progress))


def run_spf(settings: Settings, domain: str, ip: str) -> Outcome:
    """Evaluate SPF for `domain` and `ip` as a receiver would."""
    try:
        from checks.spf import evaluate
    except ImportError:
        return Outcome(unavailable=True)
    return _run(lambda: evaluate(domain, ip, opts=options(settings)))
