"""The real `smtpbot serve` process: HTTP mode on waitress and Socket Mode against loopback stubs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.bot.conftest import SECRET
from tests.servers.slack_api import SlackStub, SocketModeStub, event_body, signed_post, slash_body

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENTRY = "from bot.cli import console_main; console_main()"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMTPBOT_"))}
    env.update(extra, PYTHONPATH=REPO)
    return env


@contextmanager
def _process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_line(proc: subprocess.Popen, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if m := re.search(pattern, line):
            return m
    raise AssertionError(f"no {pattern!r} in stderr: {''.join(seen)}")


def test_http_mode_serves_signed_commands_and_stops_on_sigterm():
    with (
        SlackStub() as stub,
        _process(
            ["serve", "--http", "--port", "0", "--host", "127.0.0.1"],
            _env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=stub.api_url),
        ) as proc,
    ):
        port = _wait_line(proc, r"listening on http://127\.0\.0\.1:(\d+)/slack/events").group(1)
        url = f"http://127.0.0.1:{port}/slack/events"
        resp = signed_post(
            url, slash_body("help", stub.response_url("s")), SECRET, "application/x-www-form-urlencoded"
        )
        assert resp.status == 200 and resp.seconds < 1.0
        stub.wait_for(lambda s: s.of("response"))
        assert stub.of("auth.test")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("args", [["serve"], []], ids=["serve", "bare-smtpbot"])
def test_socket_mode_connects_acks_envelopes_and_answers(args):
    with SlackStub() as stub, SocketModeStub() as sm:
        stub.socket_url = sm.url
        with _process(
            args,
            _env(SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-1-test", SLACK_API_URL=stub.api_url),
        ) as proc:
            _wait_line(proc, r"connected to Slack \(Socket Mode\)")
            assert sm.connected.wait(10)
            assert stub.of("apps.connections.open")
            payload = {
                "command": "/smtp",
                "text": "kb show spf-fail",
                "user_id": "U1",
                "channel_id": "C1",
                "team_id": "T1",
                "response_url": stub.response_url("sm"),
                "trigger_id": "t",
                "token": "x",
            }
            sm.push(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": payload,
                }
            )
            body = stub.wait_for(lambda s: s.of("response"))[0].body
            assert "spf-fail" in json.dumps(body["blocks"])
            stub.wait_for(lambda s: any(r.get("envelope_id") == "env-1" for r in sm.received))
            # a pasted bounce, then Slack's redelivery of it after a reconnect: one threaded reply
            event = {
                "type": "message",
                "channel": "C1",
                "channel_type": "channel",
                "user": "U1",
                "ts": "1700000100.000100",
                "text": "550 5.1.1 <a@example.net>: Recipient address rejected: "
                "User unknown in virtual mailbox table",
            }
            callback = json.loads(event_body(event, "EvSock"))
            for n, envelope in enumerate(("env-2", "env-3")):
                sm.push(
                    {
                        "envelope_id": envelope,
                        "type": "events_api",
                        "accepts_response_payload": False,
                        "retry_attempt": n,
                        "retry_reason": "timeout" if n else "",
                        "payload": callback,
                    }
                )
            post = stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
            assert post["thread_ts"] == "1700000100.000100"
            stub.wait_for(lambda s: {"env-2", "env-3"} <= {r.get("envelope_id") for r in sm.received})
            time.sleep(0.5)
            assert len(stub.of("chat.postMessage")) == 1


def test_serve_without_tokens_is_one_line_and_exit_2():
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, "serve", "--http"],
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "SLACK_BOT_TOKEN" in proc.stderr


def test_oauth_variables_are_refused_rather_than_silently_switching_modes():
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, "serve", "--http"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=_env(
            SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", SLACK_CLIENT_ID="1", SLACK_CLIENT_SECRET="2"
        ),
        timeout=60,
    )
    assert proc.returncode == 2 and "SLACK_CLIENT_ID" in proc.stderr
