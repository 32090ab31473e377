"""Exceptions of the check engine: only for targets we refuse before any check runs.

Everything a check finds (including "could not check") is a `Finding`, never an exception. A
`TargetError` is the one case a caller must handle: the CLI exits 2 with ``str(exc)``, the bot
shows it to the user.
"""

from __future__ import annotations


class CheckError(Exception):
    """Base of the check engine's exceptions."""


class ResolverConfigError(CheckError):
    """No resolver to ask: no --nameserver given and the system has none configured."""


class TargetError(CheckError):
    """The target is malformed or refused (private range, localhost, bad port, ...).

    ``str(exc)`` is a one-line reason fit to show a user.
    """

    def __init__(self, target: str, reason: str):
        shown = target if len(target) <= 60 else target[:57] + "..."
        super().__init__(f"{shown!r}: {reason}" if target else reason)
        self.target = target
        self.reason = reason
