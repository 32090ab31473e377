"""The command router shared by Slack and the console: text in, a structured Reply out.

It knows nothing about Slack or terminals. Renderers (`bot/slack_render.py`, `bot/text_reply.py`)
turn a Reply into Block Kit or text, so both front ends answer the same things the same way.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import checkrun
from bot.detect import detect_bounce
from bot.messages import msg
from bot.settings import Settings
from bot.store import MemoryStore, Store

log = logging.getLogger("smtpbot.router")

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
#: explain shows this many ranked entries; kb search lists this many
TOP = 3
KB_LIMIT = 10


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


def _strip_prefix(text: str) -> str:
    stripped = text.strip()
    return stripped[5:].lstrip() if stripped.lower().startswith("/smtp") else stripped


def _leading_flags(text: str) -> tuple[bool, str]:
    private = False
    while (flag := _PRIVATE.match(text)) is not None:
        private, text = True, flag.group(1)
    return private, text


def parse(text: str) -> Command:
    """Split chat text into a Command; a leading `/smtp` is optional, `-p` asks for privacy."""
    private, body = _leading_flags(_strip_prefix(text))
    m = re.match(r"(\S+)\s*(.*)", body, re.S)
    if m is None:
        return Command("help", (), "", private)
    name = m.group(1).lower()
    flagged, after = _leading_flags(m.group(2))
    private = private or flagged
    words = checkrun.split_args(after.replace("\n", " "))
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


class Router:
    """Executes commands against the knowledge base and the checks."""

    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        kb_loader: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.store: Store = store or MemoryStore()
        self._kb_loader = kb_loader

    # -- shared helpers ---------------------------------------------------------------------------
    def kb(self) -> Any:
        """The knowledge base, loaded once (by default the shipped one, or $SMTPBOT_KB)."""
        if self._kb_loader is None:
            from knowledge.load import default_kb

            self._kb_loader = default_kb
        return self._kb_loader()

    def lang_for(self, user: str, text: str = "") -> str:
        """The user's `lang` preference, else the language of what they wrote."""
        pref = self.store.get_pref(user, "lang")
        if pref:
            return pref
        if not text.strip():
            return "en"
        from knowledge.language import detect_language

        return detect_language(text)

    def is_slow(self, text: str) -> bool:
        """True for commands that do network work (they go to the bounded check pool)."""
        return is_command(text) and parse(text).name in SLOW

    def check_allowed(self, req: Request, lang: str) -> Reply | None:
        """Per-user and per-channel rate limits on checks; a Reply when the limit is hit."""
        s = self.settings
        if not self.store.allow(f"checks:user:{req.user}", s.user_checks_per_min, 60.0):
            return Reply("error", lang, msg("check.rate_user", lang), ephemeral=True)
        if not self.store.allow(f"checks:channel:{req.channel}", s.channel_checks_per_min, 60.0):
            return Reply("error", lang, msg("check.rate_channel", lang), ephemeral=True)
        return None

    # -- entry points -----------------------------------------------------------------------------
    def handle(self, req: Request, progress: checkrun.Progress | None = None) -> Reply:
        """Answer a command; text that is not a command is explained (a paste or a question)."""
        if not is_command(req.text):
            return self.explain(req.text, self.lang_for(req.user, req.text))
        cmd = parse(req.text)
        lang = self.lang_for(req.user, cmd.rest if cmd.name == "explain" else "")
        handler = _HANDLERS.get(cmd.name)
        if handler is None:
            text = _strip_prefix(req.text)
            if detect_bounce(text).is_bounce:
                return self.explain(text, self.lang_for(req.user, text))
            return self.help(lang, unknown=cmd.name)
        reply = handler(self, req, cmd, lang, progress)
        if cmd.private and not reply.ephemeral:
            reply = Reply(**{**_fields(reply), "ephemeral": True})
        return reply

    def explain(self, text: str, lang: str | None = None) -> Reply:
        """Explain pasted text (bounce, log line, question) with the knowledge base."""
        from knowledge.explain import explain

        if not text.strip():
            lang = lang or "en"
            return Reply("error", lang, msg("usage.explain", lang), ephemeral=True)
        expl = explain(text, self.kb(), lang=lang, top=TOP)
        if not expl.matches:
            return Reply("note", expl.lang, msg("explain.none", expl.lang), explanation=expl)
        return Reply("explanation", expl.lang, explanation=expl)

    def help(self, lang: str, unknown: str | None = None) -> Reply:
        """The command list (with a note when the user typed an unknown command)."""
        note = msg("help.unknown", lang, name=unknown) if unknown else ""
        return Reply("help", lang, note, ephemeral=True)

    def entry_reply(self, entry_id: str, lang: str) -> Reply:
        """One KB entry, or a friendly note that it does not exist."""
        entry = self.kb().get(entry_id)
        if entry is None:
            return Reply("error", lang, msg("kb.unknown", lang, id=entry_id), ephemeral=True)
        return Reply("entry", lang, entry=entry)


def _fields(reply: Reply) -> dict[str, Any]:
    return {name: getattr(reply, name) for name in Reply.__dataclass_fields__}


def _cmd_help(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    return router.help(lang)


def _cmd_explain(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    return router.explain(cmd.rest, router.store.get_pref(req.user, "lang"))


def _cmd_kb(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    if cmd.args[:1] == ("show",):
        if len(cmd.args) != 2:
            return Reply("error", lang, msg("usage.kb_show", lang), ephemeral=True)
        return router.entry_reply(cmd.args[1], lang)
    query = " ".join(cmd.args)
    kb = router.kb()
    if not query:
        entries = tuple(kb.entries.values())
        return Reply(
            "entries",
            lang,
            msg("kb.list", lang),
            ephemeral=True,
            extra={"query": ""},
            matches=tuple(_as_match(e) for e in entries),
        )
    matches = tuple(kb.search(query, KB_LIMIT))
    if not matches:
        return Reply("note", lang, msg("kb.none", lang, query=query), ephemeral=True)
    return Reply(
        "entries", lang, msg("kb.list", lang), ephemeral=True, matches=matches, extra={"query": query}
    )


def _as_match(entry: Any) -> Any:
    from knowledge.model import Match

    return Match(entry=entry, score=1.0)


def _cmd_lang(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    choice = cmd.args[0].lower() if cmd.args else ""
    if choice not in ("pl", "en"):
        return Reply("error", lang, msg("lang.usage", lang), ephemeral=True)
    router.store.set_pref(req.user, "lang", choice)
    return Reply("note", choice, msg("lang.set", choice), ephemeral=True)


def _cmd_about(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    try:
        version = importlib.metadata.version("smtpbot")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    text = msg("about.text", lang, version=version, entries=len(router.kb().entries))
    return Reply("note", lang, text, ephemeral=True)


def _outcome_error(outcome: checkrun.Outcome, lang: str) -> Reply | None:
    if outcome.unavailable:
        return Reply("error", lang, msg("check.unavailable", lang), ephemeral=True)
    if outcome.refused is not None:
        return Reply("error", lang, msg("check.refused", lang, reason=outcome.refused), ephemeral=True)
    return None


def _cmd_check(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    try:
        creq = checkrun.parse_check(cmd.args)
    except checkrun.ChatArgError:
        return Reply("error", lang, msg("usage.check", lang), ephemeral=True)
    limited = router.check_allowed(req, lang)
    if limited is not None:
        return limited
    outcome = checkrun.run_check(router.settings, creq, progress)
    return _outcome_error(outcome, lang) or Reply("report", lang, report=outcome.value, target=creq.target)


def _cmd_spf(router: Router, req: Request, cmd: Command, lang: str, progress: Any) -> Reply:
    if len(cmd.args) != 2:
        return Reply("error", lang, msg("usage.spf", lang), ephemeral=True)
    limited = router.check_allowed(req, lang)
    if limited is not None:
        return limited
    domain, ip = cmd.args
    outcome = checkrun.run_spf(router.settings, domain, ip)
    return _outcome_error(outcome, lang) or Reply(
        "spf", lang, spf=outcome.value, target=domain, extra={"domain": domain, "ip": ip}
    )


_HANDLERS: dict[str, Callable[..., Reply]] = {
    "help": _cmd_help,
    "explain": _cmd_explain,
    "check": _cmd_check,
    "spf": _cmd_spf,
    "kb": _cmd_kb,
    "lang": _cmd_lang,
    "about": _cmd_about,
}
