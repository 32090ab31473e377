"""Fixtures for the Slack side: the stub Slack API and the real Bolt app on waitress over loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from bot.commands import Router
from bot.http_server import ServerThread, make_server
from bot.settings import Settings
from bot.slack_app import SlackBot, create_app
from tests.servers.slack_api import (
    SlackStub,
    event_body,
    interactive_body,
    signed_post,
    slash_body,
)

SECRET = "test-secret"


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads SLACK_* itself (SLACK_CLIENT_ID+SECRET switch it to OAuth): tests start clean."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SMTPBOT_")):
            monkeypatch.delenv(name)


@dataclass
class Running:
    """A running bot: its URL, the SlackBot, and the stub it talks to."""

    url: str
    bot: SlackBot
    stub: SlackStub

    def command(self, text: str, name: str = "r1", user: str = "U1", channel: str = "C1") -> Any:
        return signed_post(
            self.url,
            slash_body(text, self.stub.response_url(name), user, channel),
            SECRET,
            "application/x-www-form-urlencoded",
        )

    def event(self, event: dict[str, Any], event_id: str, headers: dict[str, str] | None = None) -> Any:
        return signed_post(self.url, event_body(event, event_id), SECRET, "application/json", headers)

    def interactive(self, payload: dict[str, Any]) -> Any:
        return signed_post(self.url, interactive_body(payload), SECRET, "application/x-www-form-urlencoded")

    def button(self, action_id: str, value: str) -> Any:
        """Click a button of the explanation posted at 1700000005.000100 in thread 1700000000.000001."""
        return self.interactive({
            "type": "block_actions",
            "user": {"id": "U1"},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "channel": {"id": "C1"},
            "container": {"type": "message", "channel_id": "C1", "message_ts": "1.5"},
            "message": {"ts": "1700000005.000100", "thread_ts": "1700000000.000001", "text": "x"},
            "response_url": self.stub.response_url("act"),
            "trigger_id": "t",
            "actions": [
                {"action_id": action_id, "block_id": "explain_actions", "type": "button", "value": value,
                 "action_ts": "1"}
            ],
        })


class _Closer:
    """Adapts ServerThread to the (server.close(), thread.join()) pair the tests call."""

    def __init__(self, runner: ServerThread) -> None:
        self.runner = runner
        self.effective_port = runner.port

    def close(self) -> None:
        self.runner.stop()

    def join(self, timeout: float | None = None) -> None:
        pass


def start_bot(stub: SlackStub, settings: Settings, kb: Any) -> tuple[SlackBot, Any, Any]:
    bot = create_app(settings, Router(settings, kb_loader=lambda: kb))
    closer = _Closer(ServerThread(make_server(bot.app, "127.0.0.1", 0, threads=8)).start())
    return bot, closer, closer


@pytest.fixture
def settings() -> Settings:
    return Settings(bot_token="xoxb-test", signing_secret=SECRET)


@pytest.fixture
def running(kb: Any, settings: Settings) -> Iterator[Running]:
    with SlackStub() as stub:
        bot, server, thread = start_bot(stub, replace(settings, api_url=stub.api_url), kb)
        try:
            yield Running(f"http://127.0.0.1:{server.effective_port}/slack/events", bot, stub)
        finally:
            server.close()
            thread.join(timeout=5)
            bot.shutdown(wait=True)
