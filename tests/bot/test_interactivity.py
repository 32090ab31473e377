"""The message shortcut and the explanation's buttons, as signed interactivity payloads."""

from __future__ import annotations

import json
import logging

from tests.bot.test_message_event import BOUNCE


def _shortcut(running, key: str, ts: str, text: str) -> dict:
    """A message_action payload for the "Explain this bounce" shortcut on a message with `text`."""
    return {
        "type": "message_action",
        "callback_id": "explain_bounce",
        "trigger_id": "t",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "response_url": running.stub.response_url(key),
        "message": {"type": "message", "user": "U2", "ts": ts, "text": text},
    }


def test_shortcut_explains_the_message_ephemerally(running):
    payload = _shortcut(running, "sc", "1700000006.000100", BOUNCE)
    resp = running.interactive(payload)
    assert resp.status == 200 and resp.seconds < 1.0
    body = running.stub.wait_for(lambda s: s.of("response"))[0].body
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    assert "user-unknown" in json.dumps(body["blocks"])


def test_shortcut_on_an_empty_message_still_answers(running):
    payload = _shortcut(running, "sc2", "1700000006.000200", "")
    running.interactive(payload)
    body = running.stub.wait_for(lambda s: s.of("response"))[0].body
    assert "could not find" in body["text"] and body["response_type"] == "ephemeral"


def test_show_fix_in_other_language(running):
    resp = running.button("show_other_lang", json.dumps({"id": "user-unknown", "lang": "pl"}))
    assert resp.status == 200
    body = running.stub.wait_for(lambda s: s.of("chat.postEphemeral"))[0].body
    assert body["user"] == "U1" and body["thread_ts"] == "1700000000.000001"
    assert "Jak naprawić" in json.dumps(body["blocks"], ensure_ascii=False)


def test_not_helpful_is_logged_and_thanked(running, caplog):
    with caplog.at_level(logging.INFO, logger="smtpbot.slack"):
        running.button("not_helpful", "user-unknown")
        body = running.stub.wait_for(lambda s: s.of("chat.postEphemeral"))[0].body
    assert "noted" in body["text"]
    assert any("not_helpful entry=user-unknown" in r.getMessage() for r in caplog.records)
