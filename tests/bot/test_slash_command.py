"""/smtp over real HTTP: signed requests to the Bolt app on waitress, answers at the stub Slack API."""

from __future__ import annotations

import json

from tests.servers.slack_api import signed_post, slash_body

#: Slack's limit is 3 s; on loopback an ack must come far sooner
ACK_BUDGET = 1.0


def _responses(stub, n=1):
    return stub.wait_for(lambda s: len(s.of("response")) >= n and s.of("response"))


def test_help_is_acked_at_once_and_answered_ephemerally(running):
    resp = running.command("help")
    assert resp.status == 200 and resp.seconds < ACK_BUDGET
    body = _responses(running.stub)[0].body
    assert body["response_type"] == "ephemeral"
    assert "/smtp check TARGET" in json.dumps(body["blocks"])
    assert body["text"]


def test_empty_command_shows_help(running):
    running.command("")
    assert "/smtp explain" in json.dumps(_responses(running.stub)[0].body["blocks"])


def test_unknown_command_answers_with_help_not_silence(running):
    running.command("frobnicate now")
    body = _responses(running.stub)[0].body
    assert "frobnicate" in body["blocks"][0]["text"]["text"]
    assert "/smtp kb SEARCH" in json.dumps(body["blocks"])


def test_explain_posts_in_channel_with_entry_and_escapes_user_text(running):
    running.command(
        "explain 550 5.7.26 <!channel> This mail has been blocked because the sender "
        "is unauthenticated. gsmtp"
    )
    body = _responses(running.stub)[0].body
    assert body["response_type"] == "in_channel"
    dumped = json.dumps(body["blocks"])
    assert "sender-unauthenticated" in dumped
    assert "<!channel>" not in dumped
    assert body.get("unfurl_links") is False


def test_private_flag_makes_the_answer_ephemeral(running):
    running.command("-p explain 550 5.1.1 The email account that you tried to reach does not exist")
    body = _responses(running.stub)[0].body
    assert body["response_type"] == "ephemeral"
    assert "user-unknown" in json.dumps(body["blocks"])


def test_kb_show_and_unknown_entry(running):
    running.command("kb show spf-fail", name="a")
    running.command("kb show no-such-entry", name="b")
    calls = _responses(running.stub, 2)
    by_url = {c.path.rsplit("/", 1)[-1]: c.body for c in calls}
    assert "spf-fail" in json.dumps(by_url["a"]["blocks"])
    assert "no-such-entry" in by_url["b"]["text"]


def test_lang_preference_switches_reply_language(running):
    running.command("lang pl", name="a", user="UPL")
    running.stub.wait_for(lambda s: s.of("response"))
    running.command("help", name="b", user="UPL")
    calls = _responses(running.stub, 2)
    help_body = next(c.body for c in calls if c.path.endswith("/b"))
    assert "komend" in json.dumps(help_body["blocks"], ensure_ascii=False)


def test_bad_signature_is_refused(running):
    body = slash_body("help", running.stub.response_url("x"))
    resp = signed_post(running.url, body, "wrong-secret", "application/x-www-form-urlencoded")
    assert resp.status == 401
    assert running.stub.of("response") == []


def test_url_verification_echoes_challenge(running):
    resp = signed_post(
        running.url,
        json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}),
        "test-secret",
        "application/json",
    )
    assert resp.status == 200 and "abc123" in resp.body


def test_healthz(running):
    import urllib.request

    with urllib.request.urlopen(running.url.replace("/slack/events", "/healthz"), timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"ok\n"


def test_secret_in_an_explain_command_is_warned_about_and_not_echoed(running):
    running.command("explain 535 5.7.8 Username and Password not accepted. password: Zima2024!x")
    calls = _responses(running.stub, 2)
    assert any(c.body.get("response_type") == "ephemeral" and "password" in c.body["text"] for c in calls)
    assert "Zima2024!x" not in json.dumps([c.body for c in running.stub.calls])


class _BrokenKB:
    """A knowledge base whose search fails: the bot must answer politely and keep serving."""

    entries: dict = {}

    def search(self, text, limit):
        raise RuntimeError("disk on fire")

    def get(self, entry_id):
        return None


def test_a_failure_is_a_friendly_reply_and_the_bot_keeps_running(settings, caplog):
    from dataclasses import replace

    from tests.bot.conftest import Running, start_bot
    from tests.servers.slack_api import SlackStub

    with SlackStub() as stub:
        bot, server, _ = start_bot(stub, replace(settings, api_url=stub.api_url), _BrokenKB())
        try:
            r = Running(f"http://127.0.0.1:{server.effective_port}/slack/events", bot, stub)
            assert r.command("kb spf", name="a").status == 200
            body = stub.wait_for(lambda s: s.of("response"))[0].body
            assert "incident" in body["text"] and body["response_type"] == "ephemeral"
            assert "disk on fire" not in body["text"]
            r.command("help", name="b")
            stub.wait_for(lambda s: len(s.of("response")) >= 2)
        finally:
            server.close()
            bot.shutdown()
    assert any("disk on fire" in (r.exc_text or "") or "incident" in r.getMessage() for r in caplog.records)
