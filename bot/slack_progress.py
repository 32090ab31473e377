"""One live check started from Slack: a progress message edited as areas finish, then the result.

Ephemeral slash-command replies cannot be edited, so where the bot is a member of the channel it
posts a normal "Checking example.com…" message and `chat.update`s it (throttled: Slack's Tier 3);
elsewhere, or with `-p`, the result goes back through `respond()`. Either way it is delivered once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import slack_render
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

    def run_command(self) -> None:
        """Post progress (when allowed), run the check on this thread, deliver the result once."""
        if not self.private:
            self.ts = self._post(msg("check.started", self.lang, target=self.target))
        reply = self.bot.router.handle(self.req, progress=self.on_area if self.ts else None)
        payload = slack_render.render(reply)
        with self._lock:
            self._finished = True
            if self.ts and self._edit(payload):
                return
        if self.respond is not None:
            self.respond(
                **payload,
                response_type="ephemeral" if reply.ephemeral or self.private else "in_channel",
                replace_original=False,
                unfurl_links=False,
                unfurl_media=False,
            )

    def on_area(self, area: str, findings: list[Any]) -> None:
        """checks' progress callback: record the area, edit the message at most every EDIT_INTERVAL s."""
        with self._lock:
            self.areas.append(area)
            now = time.monotonic()
            if self._finished or now - self._last_edit < EDIT_INTERVAL:
                return
            self._last_edit = now
            text = msg("check.progress", self.lang, target=self.target, areas=", ".join(self.areas))
            self._edit({"text": text, "blocks": slack_render.sections(text)})

    def _post(self, text: str) -> str | None:
        try:
            resp = self.bot.client.chat_postMessage(
                channel=self.req.channel,
                text=text,
                thread_ts=self.thread_ts,
                unfurl_links=False,
                unfurl_media=False,
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
