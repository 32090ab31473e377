"""Event listeners: pasted bounces, @mentions, DMs, the App Home, and the explanation buttons.

Bolt acks events before the listener runs, so these only filter (bots, edits, duplicates, channels)
and hand the explaining to the light pool. A message that mentions the bot arrives twice (`message`
and `app_mention`): the mention path owns it, and both paths dedupe on (channel, ts).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot import slack_render, slackfmt
from bot.messages import msg
from bot.model import Reply, Request
from knowledge.detect import detect_bounce, find_secrets, redact

log = logging.getLogger("smtpbot.slack")

#: message subtypes that are new human text; edits, deletions, joins and bot posts are not
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast"})
SLACKBOT = "USLACKBOT"
MESSAGE_TTL = 3600.0


class EventHandlers:
    """Listener bodies sharing the SlackBot's router, pools and client."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    # -- helpers --------------------------------------------------------------------------------------
    def _first_time(self, channel: str, ts: str) -> bool:
        return self.bot.router.store.first_time(f"msg:{channel}:{ts}", MESSAGE_TTL)

    def _clean(self, event: dict[str, Any], lang_user: str) -> str:
        """Un-formatted, secret-free text of a message; warns the author (ephemerally) about secrets."""
        text = slackfmt.unformat(event.get("text") or "")
        hits = find_secrets(text)
        if hits:
            kinds = ", ".join(sorted({h.kind for h in hits}))
            lang = self.bot.router.lang_for(lang_user, text)
            log.warning("secret (%s) in a message in %s; author warned", kinds, event.get("channel"))
            self._safe(
                self.bot.client.chat_postEphemeral,
                channel=event["channel"],
                user=lang_user,
                text=msg("secret.warning", lang, kinds=kinds),
                thread_ts=event.get("thread_ts"),
            )
            text = redact(text, hits)
        return text

    def _safe(self, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except Exception as exc:  # a failed Slack call is a log line, the listener keeps running
            log.warning("%s failed: %s", getattr(method, "__name__", method), exc)
            return None

    def _post(self, channel: str, thread_ts: str | None, payload: dict[str, Any]) -> None:
        self._safe(
            self.bot.client.chat_postMessage,
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **payload,
        )

    def _submit(self, fn: Any, event: dict[str, Any]) -> None:
        """Answer an event on the light pool; a failure answers in the event's thread (incident id)."""
        lang = self.bot.router.lang_for(event.get("user", ""), event.get("text", ""))
        on_error = self._thread_error(event.get("channel", ""), event.get("thread_ts") or event.get("ts"), lang)
        if not self.bot.light.submit(fn, event, on_error=on_error):
            log.warning("work pool full: dropped %s", getattr(fn, "__name__", fn))

    def _thread_error(self, channel: str, thread_ts: str | None, lang: str) -> Any:
        """A failed job answers in its thread with the incident id (the log has the traceback)."""
        return lambda exc: self._post(channel, thread_ts, slack_render.note(self.bot.friendly_error(lang)))

    # -- messages -------------------------------------------------------------------------------------
    def on_message(self, event: dict[str, Any], context: Any) -> None:
        """Channel messages (pasted bounces) and DMs (everything is addressed to us)."""
        if event.get("subtype") not in HUMAN_SUBTYPES or event.get("bot_id") or event.get("hidden"):
            return
        user = event.get("user")
        if not user or user == SLACKBOT or user == context.get("bot_user_id"):
            return
        is_dm = event.get("channel_type") == "im"
        mentioned = context.get("bot_user_id") and f"<@{context['bot_user_id']}>" in (event.get("text") or "")
        if mentioned and not is_dm:
            return  # the app_mention event answers it
        if not is_dm and not self._passive_allowed(event.get("channel", "")):
            return
        self._submit(self.answer_dm if is_dm else self.answer_paste, event)

    def _passive_allowed(self, channel: str) -> bool:
        s = self.bot.settings
        return s.passive and (not s.channels or channel in s.channels)

    def answer_paste(self, event: dict[str, Any]) -> None:
        """Reply in the thread when a channel message looks like a bounce; silence otherwise."""
        channel, ts = event["channel"], event["ts"]
        text = self._clean(event, event["user"])
        detection = detect_bounce(text)
        if not detection.is_bounce or not self._first_time(channel, ts):
            return
        lang = self.bot.router.lang_for(event["user"], text)
        s = self.bot.settings
        if not self.bot.router.store.allow(f"replies:{channel}", s.channel_replies_per_min, 60.0):
            log.info("reply rate limit reached in %s", channel)
            return
        reply = self.bot.router.explain(text, lang)
        if reply.kind != "explanation":
            return  # nothing in the KB fits: silence beats a wrong answer nobody asked for
        log.info(
            "bounce in %s/%s (score %s): %s",
            channel,
            ts,
            detection.score,
            reply.explanation.matches[0].entry.id,
        )
        self._post(channel, event.get("thread_ts") or ts, slack_render.render(reply))

    def answer_dm(self, event: dict[str, Any]) -> None:
        """A direct message is a command, a question or a paste: always answered."""
        channel, ts = event["channel"], event["ts"]
        if not self._first_time(channel, ts):
            return
        text = self._clean(event, event["user"])
        lang = self.bot.router.lang_for(event["user"], text)
        self._answer(Request(text, event["user"], channel), lang, thread_ts=event.get("thread_ts"))

    def on_mention(self, event: dict[str, Any]) -> None:
        """`@smtpbot <question or command>`: answered in the thread."""
        if event.get("bot_id"):
            return
        self._submit(self.answer_mention, event)

    def answer_mention(self, event: dict[str, Any]) -> None:
        channel, ts = event["channel"], event["ts"]
        if not self._first_time(channel, ts):
            return
        text = self._clean(event, event.get("user", ""))
        lang = self.bot.router.lang_for(event.get("user", ""), text)
        self._answer(
            Request(text, event.get("user", ""), channel), lang, thread_ts=event.get("thread_ts") or ts
        )

    def _answer(self, req: Request, lang: str, thread_ts: str | None) -> None:
        router = self.bot.router
        if router.is_slow(req.text):
            from bot.slack_progress import CheckRun

            if not self.bot.checks.reserve():
                self._post(req.channel, thread_ts, slack_render.note(msg("check.busy", lang)))
                return
            run = CheckRun(self.bot, req, lang, private=False, respond=None, thread_ts=thread_ts)
            self.bot.checks.start(run.run_command, on_error=self._thread_error(req.channel, thread_ts, lang))
            return
        reply = router.handle(req) if req.text.strip() else router.help(lang)
        self._post(req.channel, thread_ts, slack_render.render(reply))

    # -- message shortcut -----------------------------------------------------------------------------
    def explain_shortcut(self, shortcut: dict[str, Any], respond: Any) -> None:
        message = shortcut.get("message", {})
        user = shortcut.get("user", {}).get("id", "")
        event = {
            "text": message.get("text") or "",
            "channel": shortcut.get("channel", {}).get("id", ""),
            "thread_ts": message.get("thread_ts") or message.get("ts"),
        }
        text = self._clean(event, user)
        lang = self.bot.router.lang_for(user, text)
        if text.strip():
            reply = self.bot.router.explain(text, lang)
        else:  # a message of only files or attachments: nothing to read
            reply = Reply("note", lang, msg("explain.none", lang), ephemeral=True)
        respond(
            **slack_render.render(reply),
            response_type="ephemeral",
            replace_original=False,
            unfurl_links=False,
            unfurl_media=False,
        )

    # -- buttons --------------------------------------------------------------------------------------
    def on_other_lang(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "Show fix in Polish/English": the same entry, ephemerally, in the thread."""
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
        except json.JSONDecodeError:
            value = {}
        lang = value.get("lang") if value.get("lang") in ("pl", "en") else "en"
        reply = self.bot.router.entry_reply(str(value.get("id", "")), lang)
        self._ephemeral_in_thread(body, slack_render.render(reply))

    def on_not_helpful(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "Not helpful": a log line for whoever tunes the knowledge base, and a thank-you."""
        ack()
        user = body.get("user", {}).get("id", "")
        channel = body.get("channel", {}).get("id", "")
        log.info("feedback not_helpful entry=%s user=%s channel=%s", action.get("value"), user, channel)
        self._ephemeral_in_thread(
            body, slack_render.note(msg("feedback.thanks", self.bot.router.lang_for(user)))
        )

    def _ephemeral_in_thread(self, body: dict[str, Any], payload: dict[str, Any]) -> None:
        message = body.get("message", {})
        self._safe(
            self.bot.client.chat_postEphemeral,
            channel=body.get("channel", {}).get("id", ""),
            user=body.get("user", {}).get("id", ""),
            thread_ts=message.get("thread_ts") or message.get("ts"),
            **payload,
        )

    # -- App Home -------------------------------------------------------------------------------------
    def on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event.get("user", "")
        entries = list(self.bot.router.kb().entries.values())
        view = slack_render.home_view(self.bot.router.lang_for(user), entries)
        self._safe(self.bot.client.views_publish, user_id=user, view=view)
