"""One live check started from Slack: a progress message edited as areas finish, then the result.

Ephemeral slash-command replies cannot be edited, so where the bot is a member of the channel it
posts a normal "Checking example.com… done: mx, spf" message and `chat.update`s it (throttled:
Slack's Tier 3), the last time with the report; elsewhere, or with `-p`, the result goes back
through `respond()`. Either way it is delivered once.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import slack_render, slackfmt
from bot.messages import msg
from bot.model import Request, parse

log = logging.getLogger("smtpbot.slack")

#: seconds between progress edits of one message (chat.update is Tier 3, ~50/min per workspace)
EDIT_INTERVAL = 1.5


class CheckRun:
    """State of one check command between its ack and its final answer."""

    def __init__(
        self, bot: Any, req: Request, lang: str, *, private: bool, respond: Any, thread_ts: str | None = None
    ) -> None:
        self.bot, self.req, self.lang = bot, req, lang
        self.private, self.respond, self.thread_ts = private, respond, thread_ts
        cmd = parse(req.text)
        self.target = cmd.args[0] if cmd.args else ""
        self.ts: str | None = None
        self.areas: list[str] = []
        self._lock = threading.Lock()
        self._last_edit = 0.0
        self._finished = False
        #: posting failed once (not a member...): do not try on every area
        self._no_message = False
        #: Slack calls for progress run here, never on the check's event loop (a slow or rate-limited
        #: chat.update would stall every DNS and SMTP timer of the run); one worker keeps them in order
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtpbot-progress")

    def run_command(self) -> None:
        """Run the check on this thread and deliver the result once.

        The progress message is posted when the first area finishes, so a refused target, a rate
        limit or a usage error never leaves a public "Checking…" message behind.
        """
        try:
            reply = self.bot.router.handle(self.req, progress=None if self.private else self.on_area)
        finally:
            self._io.shutdown(wait=True)  # pending progress posted first, so its ts is known
        payload = slack_render.render(reply)
        with self._lock:
            self._finished = True
            if self.ts and self._edit(payload):
                return
        if self.respond is not None:
            ephemeral = reply.ephemeral or self.private
            self.respond(
                **payload,
                response_type="ephemeral" if ephemeral else "in_channel",
                replace_original=False,
                unfurl_links=False,
                unfurl_media=False,
            )
        else:  # @mention, DM or button: no response_url, answer where the request was
            self._post(payload)

    def on_area(self, area: str, findings: list[Any]) -> None:
        """checks' progress callback (on the check's event loop): queue the progress message, posted
        once and then edited at most every EDIT_INTERVAL s, on the progress thread."""
        with self._lock:
            self.areas.append(area)
            now = time.monotonic()
            if self._finished or self._no_message or now - self._last_edit < EDIT_INTERVAL:
                return
            self._last_edit = now
            # the user's own text: escaped, or "<!channel|example.com>" would ping the whole channel
            target = slackfmt.escape(self.target)
            text = msg("check.progress", self.lang, target=target, areas=", ".join(self.areas))
        try:
            self._io.submit(self._show_progress, {"text": text, "blocks": slack_render.sections(text)})
        except RuntimeError:  # the run already finished
            pass

    def _show_progress(self, payload: dict[str, Any]) -> None:
        with self._lock:
            if self._finished or self._no_message:
                return
            if self.ts is None:
                self.ts = self._post(payload)
                self._no_message = self.ts is None
            else:
                self._edit(payload)

    def _post(self, payload: dict[str, Any]) -> str | None:
        try:
            resp = self.bot.client.chat_postMessage(
                channel=self.req.channel,
                thread_ts=self.thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **payload,
            )
        except SlackApiError as exc:  # not a member (not_in_channel), DM, archived...: fall back to respond()
            log.info("no progress message in %s: %s", self.req.channel, exc.response.get("error"))
            return None
        return resp.get("ts")

    def _edit(self, payload: dict[str, Any]) -> bool:
        try:
            self.bot.client.chat_update(channel=self.req.channel, ts=self.ts, **payload)
        except SlackApiError as exc:
            log.warning("chat.update failed in %s: %s", self.req.channel, exc.response.get("error"))
            return False
        return True
