"""The command router shared by Slack and the console: text in, a structured Reply out.

It knows nothing about Slack or terminals. Renderers (`bot/slack_render.py`, `bot/text_reply.py`)
turn a Reply into Block Kit or text, so both front ends answer the same things the same way.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from collections.abc import Callable
from typing import Any

from bot import checkrun
from bot.messages import msg
from bot.model import (  # noqa: F401 (re-exported: the router's vocabulary)
    COMMANDS,
    NAMES,
    SLOW,
    Command,
    Reply,
    Request,
    is_command,
    parse,
    strip_prefix,
)
from bot.settings import Settings
from bot.store import MemoryStore, Store
from knowledge.detect import detect_bounce

log = logging.getLogger("smtpbot.router")

#: explain shows this many ranked entries; kb search lists this many
TOP = 3
KB_LIMIT = 10


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

            path = self.settings.kb_path
            self._kb_loader = lambda: default_kb(path)
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
        """True for well-formed commands that do network work (they go to the bounded check pool).

        A malformed check is answered at once with its usage line, so it is not slow.
        """
        if not is_command(text):
            return False
        cmd = parse(text)
        if cmd.name == "check":
            try:
                checkrun.parse_check(cmd.args)
            except checkrun.ChatArgError:
                return False
        return cmd.name in SLOW and (cmd.name != "spf" or len(cmd.args) == 2)

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
        started = time.monotonic()
        reply = self._dispatch(req, progress)
        # one audit line per request: who asked what, where, with which outcome, how long it took
        log.info(
            "request user=%s channel=%s command=%s reply=%s ms=%d",
            req.user,
            req.channel,
            parse(req.text).name if is_command(req.text) else "paste",
            reply.kind,
            (time.monotonic() - started) * 1000,
        )
        return reply

    def _dispatch(self, req: Request, progress: checkrun.Progress | None) -> Reply:
        if not is_command(req.text):
            return self.explain(req.text, self.lang_for(req.user, req.text))
        cmd = parse(req.text)
        lang = self.lang_for(req.user, cmd.rest if cmd.name == "explain" else "")
        handler = _HANDLERS.get(cmd.name)
        if handler is None:
            text = strip_prefix(req.text)
            if detect_bounce(text).is_bounce:
                return self.explain(text, self.lang_for(req.user, text))
            return self.help(lang, unknown=cmd.name)
        reply = handler(self, req, cmd, lang, progress)
        if cmd.private and not reply.ephemeral:
            reply = Reply(**{**_fields(reply), "ephemeral": True})
        return reply

    def explain(self, text: str, lang: str | None = None) -> Reply:
        """Explain pasted text (bounce, log line, question) with the knowledge base."""
        from knowledge.bounce import BadInput
        from knowledge.explain import explain

        if not text.strip():
            lang = lang or "en"
            return Reply("error", lang, msg("usage.explain", lang), ephemeral=True)
        try:
            expl = explain(text, self.kb(), lang=lang, top=TOP)
        except BadInput as exc:  # binary or unreadable paste: its one-line reason, not a traceback
            lang = lang or "en"
            return Reply("error", lang, msg("explain.unreadable", lang, reason=exc), ephemeral=True)
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
