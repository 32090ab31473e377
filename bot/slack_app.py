"""The Bolt app: `/smtp`, the message shortcut, buttons and the event listeners, all thin.

`create_app()` is the only place an `App` is built. Listeners ack and hand the work to our own
bounded pools (bot/workers.py); the router does the thinking and slack_render the formatting.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import slack_events, slack_render, slackfmt
from bot.commands import Router
from bot.messages import msg
from bot.model import Request, parse
from bot.settings import Settings
from bot.slack_progress import CheckRun
from bot.workers import BoundedPool
from knowledge.detect import find_secrets, redact

log = logging.getLogger("smtpbot.slack")

#: what this app registers; tests/bot/test_manifest.py checks manifest.yml against it
COMMANDS = ("/smtp",)
SHORTCUTS = ("explain_bounce",)
EVENTS = ("message", "app_mention", "app_home_opened")
ACTIONS = (slack_render.ACTION_RUN_CHECKS, slack_render.ACTION_OTHER_LANG, slack_render.ACTION_NOT_HELPFUL)
#: Bolt's listener threads: they only parse and hand off, so a few more than the default 5
LISTENER_THREADS = 16
LIGHT_WORKERS = 4
LIGHT_PENDING = 2000
DEDUPE_TTL = 3600.0


class SlackBot:
    """The Bolt App plus the pools and router its listeners share."""

    def __init__(self, settings: Settings, router: Router, client: WebClient) -> None:
        self.settings = settings
        self.router = router
        self.client = client
        self.checks = BoundedPool(settings.check_workers, settings.max_checks, "smtpbot-check")
        self.light = BoundedPool(LIGHT_WORKERS, LIGHT_PENDING, "smtpbot-work")
        self.app = App(
            client=client,
            signing_secret=settings.signing_secret or "",
            logger=logging.getLogger("smtpbot.bolt"),
            listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="bolt-listener"),
        )
        self.events = slack_events.EventHandlers(self)
        self._register()

    def _register(self) -> None:
        app = self.app
        app.middleware(self._dedupe)
        (command,), (shortcut,) = COMMANDS, SHORTCUTS
        app.command(command)(self.on_command)
        app.shortcut(shortcut)(self.on_shortcut)
        app.action(slack_render.ACTION_RUN_CHECKS)(self.on_run_checks)
        app.action(slack_render.ACTION_OTHER_LANG)(self.events.on_other_lang)
        app.action(slack_render.ACTION_NOT_HELPFUL)(self.events.on_not_helpful)
        app.event("message")(self.events.on_message)
        app.event("app_mention")(self.events.on_mention)
        app.event("app_home_opened")(self.events.on_home)
        app.error(self._on_error)

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop the pools: running checks finish when `wait`; queued ones are dropped on request."""
        self.checks.shutdown(wait, cancel_pending)
        self.light.shutdown(wait, cancel_pending)

    # -- middleware and errors ---------------------------------------------------------------------
    def _dedupe(self, body: dict[str, Any], next: Any) -> Any:  # noqa: A002 (Bolt's name)
        """Drop a second delivery of an event (Slack retries, Socket Mode reconnects)."""
        event_id = body.get("event_id")
        if event_id and not self.router.store.first_time(f"event:{event_id}", DEDUPE_TTL):
            log.info("duplicate event %s dropped (retry %s)", event_id, body.get("retry_attempt", "?"))
            return BoltResponse(status=200, body="")
        return next()

    def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        incident = uuid.uuid4().hex[:8]
        log.error("listener failed (incident %s): %r", incident, error, exc_info=error)

    def friendly_error(self, lang: str) -> str:
        incident = uuid.uuid4().hex[:8]
        log.error("incident %s", incident)
        return msg("error.internal", lang, incident=incident)

    # -- /smtp ---------------------------------------------------------------------------------------
    def on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        """Ack at once; checks go to the check pool, everything else to the light pool."""
        # slash-command text arrives with &, <, > escaped (should_escape: false escapes only those)
        text = slackfmt.unformat(body.get("text", ""))
        req = Request("/smtp " + text, body.get("user_id", ""), body.get("channel_id", ""))
        lang = self.router.lang_for(req.user)
        if not self.router.is_slow(req.text):
            ack()
            if self.light.reserve():
                self.light.start(
                    self._answer_command, req, respond, on_error=self._respond_error(respond, lang)
                )
            else:
                respond(text=msg("check.busy", lang), response_type="ephemeral")
            return
        hits = find_secrets(req.text)  # a secret typed into a check never runs, nor is echoed back
        if hits:
            ack(text=msg("secret.warning", lang, kinds=", ".join(sorted({h.kind for h in hits}))))
            return
        cmd = parse(req.text)
        if not self.checks.reserve():
            ack(text=msg("check.busy", lang))
            return
        ack(text=msg("check.started", lang, target=slackfmt.escape(cmd.args[0]) if cmd.args else "…"))
        run = CheckRun(self, req, lang, private=cmd.private, respond=respond)
        self.checks.start(run.run_command, on_error=self._respond_error(respond, lang))

    def _answer_command(self, req: Request, respond: Any) -> None:
        hits = find_secrets(req.text)
        if hits:  # warn, and never let the secret reach an in-channel answer
            lang = self.router.lang_for(req.user, req.text)
            respond(
                text=msg("secret.warning", lang, kinds=", ".join(sorted({h.kind for h in hits}))),
                response_type="ephemeral",
            )
            req = Request(redact(req.text, hits), req.user, req.channel)
        reply = self.router.handle(req)
        payload = slack_render.render(reply)
        respond(
            **payload,
            response_type="ephemeral" if reply.ephemeral else "in_channel",
            unfurl_links=False,
            unfurl_media=False,
        )

    def _respond_error(self, respond: Any, lang: str) -> Any:
        return lambda exc: respond(text=self.friendly_error(lang), response_type="ephemeral")

    # -- message shortcut -----------------------------------------------------------------------------
    def on_shortcut(self, ack: Any, shortcut: dict[str, Any], respond: Any) -> None:
        """ "Explain bounce" on any message: an ephemeral explanation for whoever asked."""
        ack()
        user = shortcut.get("user", {}).get("id", "")
        lang = self.router.lang_for(user)
        if self.light.reserve():
            self.light.start(
                self.events.explain_shortcut, shortcut, respond, on_error=self._respond_error(respond, lang)
            )
        else:
            respond(text=msg("check.busy", lang), response_type="ephemeral")

    # -- "Run checks for <domain>" button ---------------------------------------------------------------
    def on_run_checks(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        user = body.get("user", {}).get("id", "")
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id", "")
        message = body.get("message", {})
        thread = message.get("thread_ts") or message.get("ts")
        lang = self.router.lang_for(user)
        if not self.checks.reserve():
            respond(text=msg("check.busy", lang), response_type="ephemeral", replace_original=False)
            return
        req = Request(f"check {action.get('value', '')}", user, channel)
        run = CheckRun(self, req, lang, private=False, respond=respond, thread_ts=thread)
        self.checks.start(run.run_command, on_error=self._respond_error(respond, lang))


def make_client(settings: Settings) -> WebClient:
    """A WebClient on SLACK_API_URL that retries Slack's 429s (slack_sdk retries only connection errors)."""
    client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_app(settings: Settings, router: Router | None = None, client: WebClient | None = None) -> SlackBot:
    """Build the bot (calls auth.test on the Web API, so the API must answer)."""
    router = router or Router(settings)
    return SlackBot(settings, router, client or make_client(settings))
