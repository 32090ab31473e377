"""What people say to the bot and what it answers, as data: requests, parsed commands, replies.

Shared by the router (bot/commands.py) and the renderers (Block Kit, terminal text), so none of them
depends on another's internals. The command table is data: help texts are generated from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.checkrun import split_args

#: what `/smtp` accepts; help is generated from this table (name, usage, message key, slow)
COMMANDS: tuple[tuple[str, str, str, bool], ...] = (
    ("help", "help", "cmd.help", False),
    ("explain", "explain TEXT", "cmd.explain", False),
    ("check", "check TARGET", "cmd.check", True),
    ("spf", "spf DOMAIN IP", "cmd.spf", True),
    ("kb", "kb SEARCH", "cmd.kb", False),
    ("kb show", "kb show ID", "cmd.kb_show", False),
    ("lang", "lang pl|en", "cmd.lang", False),
    ("about", "about", "cmd.about", False),
)
NAMES = frozenset(name for name, *_ in COMMANDS if " " not in name)
SLOW = frozenset(name for name, _, _, slow in COMMANDS if slow)
PRIVATE_FLAGS = frozenset({"-p", "--private"})
_PRIVATE = re.compile(r"(?:-p|--private)(?:\s+|$)(.*)", re.S)


@dataclass(frozen=True, slots=True)
class Request:
    """One thing a person said to the bot."""

    text: str
    user: str = "console"
    channel: str = "console"


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command: its name, its arguments, and the text after the name (for explain)."""

    name: str
    args: tuple[str, ...]
    rest: str
    private: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A structured answer; `kind` says which of the optional fields carry it."""

    #: help | explanation | entry | entries | report | spf | note | error
    kind: str
    lang: str
    message: str = ""
    ephemeral: bool = False
    explanation: Any = None
    entry: Any = None
    matches: tuple[Any, ...] = ()
    report: Any = None
    spf: Any = None
    target: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def strip_prefix(text: str) -> str:
    stripped = text.strip()
    return stripped[5:].lstrip() if stripped.lower().startswith("/smtp") else stripped


def _leading_flags(text: str) -> tuple[bool, str]:
    private = False
    while (flag := _PRIVATE.match(text)) is not None:
        private, text = True, flag.group(1)
    return private, text


def parse(text: str) -> Command:
    """Split chat text into a Command; a leading `/smtp` is optional, `-p` asks for privacy."""
    private, body = _leading_flags(strip_prefix(text))
    m = re.match(r"(\S+)\s*(.*)", body, re.S)
    if m is None:
        return Command("help", (), "", private)
    name = m.group(1).lower()
    flagged, after = _leading_flags(m.group(2))
    private = private or flagged
    words = split_args(after.replace("\n", " "))
    args = tuple(w for w in words if w not in PRIVATE_FLAGS)
    if name != "explain":  # a pasted bounce may contain "-p"; only a leading flag counts there
        private = private or len(args) != len(words)
    return Command(name, args, after.strip(), private)


def is_command(text: str) -> bool:
    """True when the text starts with `/smtp` or a command word (else it is a paste or question)."""
    stripped = text.strip()
    if stripped.lower().startswith("/smtp"):
        return True
    _, body = _leading_flags(stripped)
    first = body.split(maxsplit=1)[0].lower() if body.strip() else ""
    return first in NAMES
