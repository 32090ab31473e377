"""The `smtpbot` command line: one argparse tree, named exit codes, an Environment for tests."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TextIO

from knowledge.load import KBError

#: subcommand modules, each with add_parser(subparsers) that sets func=run(args, env) -> int
SUBCOMMANDS: tuple[str, ...] = (
    "bot.cmd_explain",
    "bot.cmd_check",
    "bot.cmd_kb",
    "bot.cmd_serve",
)


class ExitStatus(IntEnum):
    """Exit codes: a contract for scripts that call smtpbot."""

    #: nothing failed
    OK = 0
    #: a check found a fail or error (or explain found nothing)
    FINDINGS = 1
    #: bad usage, bad input, a refused target, a broken knowledge base
    USAGE = 2
    #: interrupted by Ctrl-C
    INTERRUPTED = 130


@dataclass
class Environment:
    """Where the CLI reads and writes; tests substitute their own streams."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def stdin_isatty(self) -> bool:
        return bool(getattr(self.stdin, "isatty", lambda: False)())

    def error(self, message: str) -> None:
        print(f"smtpbot: error: {message}", file=self.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors keep one code path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="smtpbot",
        description=(
            "Explain SMTP bounces and check mail domains and servers. "
            "Without a command: the Slack bot when Slack tokens are set, else the local console chat."
        ),
        epilog="Examples:\n"
        "  smtpbot explain bounce.eml\n"
        "  echo '550 5.7.26 unauthenticated sender' | smtpbot explain -\n"
        '  smtpbot explain "jak ustawic reverse dns"\n'
        "  smtpbot check example.com\n"
        "  smtpbot spf example.com 192.0.2.1\n"
        "  smtpbot kb list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kb", metavar="PATH", help="knowledge base directory (default: $SMTPBOT_KB or the shipped one)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Entry point of the `smtpbot` console script; returns (and exits with) an ExitStatus."""
    env = env or Environment()
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            with contextlib.redirect_stdout(env.stdout):  # --help goes where the caller reads
                args = build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse's --help/--version
            return int(exc.code or 0)
        if args.kb:
            env.environ["SMTPBOT_KB"] = args.kb
        func = getattr(args, "func", None)
        if func is None:
            from bot.cmd_serve import run_default

            code = run_default(args, env)
        else:
            code = func(args, env)
    except UsageError as exc:
        env.error(str(exc))
        code = ExitStatus.USAGE
    except KBError as exc:
        env.error(str(exc))
        code = ExitStatus.USAGE
    except KeyboardInterrupt:
        code = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        code = ExitStatus.OK
    return int(code)


def console_main() -> None:
    sys.exit(main())
