"""Pasted bounces, mentions, DMs and the noise the bot must ignore, as real signed event callbacks."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from tests.bot.conftest import start_bot
from tests.servers.slack_api import BOT_ID, BOT_USER, SlackStub

BOUNCE = (
    "This is the mail system at host mail.example.com.\n\nI'm sorry to have to inform you that your message "
    "could not\nbe delivered to one or more recipients.\n\n"
    "&lt;<mailto:anna@example.net|anna@example.net>&gt;: "
    "host mx.example.net[192.0.2.10] said: 550 5.1.1\n    &lt;anna@example.net&gt;: "
    "Recipient address rejected: "
    "User unknown in virtual mailbox table (in reply to RCPT TO command)"
)
CHAT = "deploy of 5.1.1 is done, 550 users migrated, smoke tests green"


def _msg(text, ts="1700000000.000100", channel="C1", user="U1", **extra):
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "channel_type": "channel",
        **extra,
    }


def _settle(seconds=0.6):
    time.sleep(seconds)  # for asserting that nothing happens: give the pool time to misbehave


def test_pasted_bounce_gets_one_threaded_reply_with_buttons(running):
    resp = running.event(_msg(BOUNCE), "Ev1")
    assert resp.status == 200 and resp.seconds < 1.0
    post = running.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["channel"] == "C1" and post["thread_ts"] == "1700000000.000100"
    blocks = json.dumps(post["blocks"])
    assert "user-unknown" in blocks
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    assert {e["action_id"] for e in actions["elements"]} >= {"show_other_lang", "not_helpful"}
    assert post["text"] and post["unfurl_links"] in (False, "0", "false")


def test_retry_of_the_same_event_never_replies_twice(running):
    running.event(_msg(BOUNCE), "EvRetry")
    running.stub.wait_for(lambda s: s.of("chat.postMessage"))
    resp = running.event(
        _msg(BOUNCE), "EvRetry", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert resp.status == 200
    _settle()
    assert len(running.stub.of("chat.postMessage")) == 1


def test_same_message_as_message_and_app_mention_gets_one_reply(running):
    text = f"<@{BOT_USER}> {BOUNCE}"
    running.event(_msg(text, ts="1700000001.000200"), "EvA")
    running.event({**_msg(text, ts="1700000001.000200"), "type": "app_mention"}, "EvB")
    running.stub.wait_for(lambda s: s.of("chat.postMessage"))
    _settle()
    posts = running.stub.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].body["thread_ts"] == "1700000001.000200"


def test_mention_with_a_question_is_answered_in_thread(running):
    running.event(
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "U1",
            "ts": "1700000002.000300",
            "text": f"<@{BOT_USER}> jak ustawić reverse dns?",
        },
        "EvQ",
    )
    post = running.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["thread_ts"] == "1700000002.000300"
    assert "reverse-dns-ptr" in json.dumps(post["blocks"])
    assert "Jak naprawić" in json.dumps(post["blocks"], ensure_ascii=False)  # answered in Polish


@pytest.mark.parametrize(
    "event",
    [
        _msg(CHAT),
        _msg(BOUNCE, user=BOT_USER, bot_id=BOT_ID),  # our own message
        _msg(BOUNCE, bot_id="BOTHER", subtype="bot_message"),  # another bot's
        {**_msg(BOUNCE), "subtype": "message_changed", "message": {"text": BOUNCE}},  # an edit
        {"type": "message", "subtype": "message_deleted", "channel": "C1", "ts": "1.2", "deleted_ts": "1.1"},
        _msg(BOUNCE, user="USLACKBOT"),
    ],
    ids=["chat", "self", "other-bot", "edit", "delete", "slackbot"],
)
def test_noise_gets_no_reply(running, event):
    assert running.event(event, "EvNoise").status == 200
    _settle()
    assert running.stub.of("chat.postMessage") == []


def test_secret_in_a_paste_is_warned_about_ephemerally_and_never_echoed(running):
    secret = "hunter2-Sup3rS3cret"
    text = BOUNCE + f"\nAUTH PLAIN AHVzZXIAcGFzc3dvcmQ=\npassword: {secret}"
    running.event(_msg(text, ts="1700000003.000400"), "EvSecret")
    warn = running.stub.wait_for(lambda s: s.of("chat.postEphemeral"))[0].body
    assert warn["user"] == "U1" and "password" in warn["text"]
    post = running.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    everything = json.dumps([c.body for c in running.stub.calls])
    assert secret not in everything and "AHVzZXIAcGFzc3dvcmQ=" not in everything
    assert post["thread_ts"] == "1700000003.000400"


def test_direct_message_is_always_answered(running):
    running.event(
        {
            "type": "message",
            "channel": "D1",
            "channel_type": "im",
            "user": "U1",
            "ts": "1700000004.000500",
            "text": "kb show spf-fail",
        },
        "EvDM",
    )
    post = running.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["channel"] == "D1" and "spf-fail" in json.dumps(post["blocks"])


def test_operator_can_limit_detection_to_channels_or_turn_it_off(kb, settings):
    for overrides, channel, expected in (
        ({"channels": frozenset({"CALLOWED"})}, "COTHER", 0),
        ({"channels": frozenset({"CALLOWED"})}, "CALLOWED", 1),
        ({"passive": False}, "C1", 0),
    ):
        with SlackStub() as stub:
            bot, server, thread = start_bot(stub, replace(settings, api_url=stub.api_url, **overrides), kb)
            try:
                from tests.bot.conftest import Running

                r = Running(f"http://127.0.0.1:{server.effective_port}/slack/events", bot, stub)
                r.event(_msg(BOUNCE, channel=channel), "EvOp")
                _settle(0.8)
                assert len(stub.of("chat.postMessage")) == expected, (overrides, channel)
            finally:
                server.close()
                thread.join(timeout=5)
                bot.shutdown()


def test_home_tab_is_published_with_kb_topics(running):
    running.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}, "EvHome")
    view = running.stub.wait_for(lambda s: s.of("views.publish"))[0].body
    assert view["user_id"] == "U1"
    blocks = view["view"]["blocks"]
    assert len(blocks) <= 100 and "spf-fail" in json.dumps(blocks)
