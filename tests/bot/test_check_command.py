"""`/smtp check` end to end: real loopback DNS, real HTTP, progress edits, limits, and the 3 s ack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.bot.conftest import Running, start_bot
from tests.servers.dns import DnsServer
from tests.servers.slack_api import SlackStub

ZONE = {
    "example.test": [{"MX": [10, "mx.example.test"]}, {"TXT": "v=spf1 ip4:192.0.2.10 -all"}],
    "mx.example.test": [{"A": "192.0.2.10"}],
    # a slow area, so the progress message is edited before the result arrives
    "_dmarc.example.test": [{"SLOW": 2.0}, {"TXT": "v=DMARC1; p=reject; rua=mailto:d@example.test"}],
}


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    with DnsServer(ZONE) as server:
        yield server


def _bot(kb, settings, dns, **overrides) -> tuple[SlackStub, Running, object, threading.Thread]:
    host, port = dns.nameserver.rsplit(":", 1)
    stub = SlackStub().__enter__()
    bot, server, thread = start_bot(
        stub,
        replace(
            settings, api_url=stub.api_url, nameservers=((host, int(port)),), check_timeout=2.0, **overrides
        ),
        kb,
    )
    return stub, Running(f"http://127.0.0.1:{server.effective_port}/slack/events", bot, stub), server, thread


@pytest.fixture
def checking(kb, settings, dns, request) -> Iterator[Running]:
    overrides = getattr(request, "param", {})
    stub, running, server, thread = _bot(kb, settings, dns, **overrides)
    try:
        yield running
    finally:
        server.close()
        thread.join(timeout=5)
        running.bot.shutdown(wait=True)
        stub.__exit__(None, None, None)


def test_check_acks_at_once_posts_progress_and_updates_it_with_the_report(checking):
    resp = checking.command("check example.test --no-smtp")
    assert resp.status == 200 and resp.seconds < 1.0
    assert "example.test" in resp.body
    stub = checking.stub
    post = stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["channel"] == "C1" and "example.test" in post["text"] and "done:" in post["text"]
    final = stub.wait_for(
        lambda s: [
            u for u in s.of("chat.update") if "blocks" in u.body and "DMARC" in json.dumps(u.body["blocks"])
        ]
    )[-1].body
    updates = stub.of("chat.update")
    assert len(updates) >= 2, "expected a progress edit before the result"
    assert "done:" in updates[0].body["text"] and len(updates[0].body["text"]) > len(post["text"])
    blocks = json.dumps(final["blocks"])
    assert "SPF" in blocks and "/smtp kb show reverse-dns-ptr" in blocks and ":x:" in blocks
    assert stub.of("response") == []  # delivered once: by editing the progress message


def test_a_mention_disguised_as_target_never_pings_the_channel(checking):
    # Slack sends what the user typed with <, > and & escaped; the target label is example.test
    resp = checking.command("check &lt;!channel|example.test&gt; --no-smtp")
    assert resp.status == 200 and "<!channel" not in resp.body
    post = checking.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert "<!channel" not in json.dumps(post) and "&lt;!channel|example.test&gt;" in post["text"]


def test_private_check_answers_through_respond_only(checking):
    checking.command("check example.test --no-smtp -p")
    body = checking.stub.wait_for(lambda s: s.of("response"))[0].body
    assert body["response_type"] == "ephemeral" and "spf" in json.dumps(body["blocks"]).lower()
    assert checking.stub.of("chat.postMessage") == []


def test_channel_without_the_bot_gets_the_result_through_respond(checking):
    checking.stub.overrides["/api/chat.postMessage"] = (200, {"ok": False, "error": "not_in_channel"})
    checking.command("check example.test --no-smtp")
    body = checking.stub.wait_for(lambda s: s.of("response"))[0].body
    assert body["response_type"] == "in_channel" and "example.test" in body["text"]


def test_private_targets_are_refused_with_a_friendly_message_and_no_public_trace(checking):
    checking.command("check 127.0.0.1")
    body = checking.stub.wait_for(lambda s: s.of("response"))[0].body
    assert "SMTPBOT_ALLOW_PRIVATE" in body["text"] and body["response_type"] == "ephemeral"
    assert checking.stub.of("chat.postMessage") == []


def test_bad_options_show_usage(checking):
    ack = checking.command("check -p --frobnicate example.test")
    assert "Checking" not in ack.body
    body = checking.stub.wait_for(lambda s: s.of("response"))[0].body
    assert "check TARGET" in body["text"] or "check CEL" in body["text"]


@pytest.mark.parametrize("checking", [{"user_checks_per_min": 1}], indirect=True)
def test_per_user_rate_limit(checking):
    checking.command("check example.test --no-smtp -p", name="a")
    checking.command("check example.test --no-smtp -p", name="b")
    calls = checking.stub.wait_for(lambda s: len(s.of("response")) >= 2 and s.of("response"))
    texts = [c.body["text"] for c in calls]
    assert any("minute" in t for t in texts) and any("example.test" in t and "minute" not in t for t in texts)


@pytest.mark.parametrize("checking", [{"check_workers": 1, "max_checks": 1}], indirect=True)
def test_cap_on_concurrent_checks_answers_busy_in_the_ack(checking):
    first = checking.command("check example.test --no-smtp -p", name="a")
    second = checking.command("check example.test --no-smtp -p", name="b", user="U2")
    assert first.status == second.status == 200
    assert "too many checks" in second.body
    checking.stub.wait_for(lambda s: s.of("response"))


def test_acks_stay_fast_while_checks_run(checking):
    results: list = []
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(
                checking.command("check example.test --no-smtp -p", name=f"n{i}", user=f"U{i}")
            )
        )
        for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12 and all(r.status == 200 for r in results)
    assert max(r.seconds for r in results) < 2.5, sorted(r.seconds for r in results)  # Slack: 3 s
    checking.stub.wait_for(lambda s: len(s.of("response")) >= 12, timeout=30)


def test_run_checks_button_checks_the_domain_in_the_thread(checking):
    resp = checking.button("run_checks", "example.test")
    assert resp.status == 200 and resp.seconds < 1.0
    post = checking.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["thread_ts"] == "1700000000.000001"
    checking.stub.wait_for(
        lambda s: any("DMARC" in json.dumps(u.body.get("blocks", "")) for u in s.of("chat.update"))
    )


def test_check_asked_by_mention_runs_in_the_thread(checking):
    checking.event(
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "U1",
            "ts": "1700000020.000100",
            "text": "<@UBOT> check example.test --no-smtp",
        },
        "EvMentionCheck",
    )
    post = checking.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["thread_ts"] == "1700000020.000100"
    checking.stub.wait_for(
        lambda s: any("DMARC" in json.dumps(u.body.get("blocks", "")) for u in s.of("chat.update"))
    )


def test_refused_check_by_mention_is_answered_in_the_thread(checking):
    checking.event(
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "U1",
            "ts": "1700000021.000100",
            "text": "<@UBOT> check 10.0.0.1",
        },
        "EvMentionRefused",
    )
    post = checking.stub.wait_for(lambda s: s.of("chat.postMessage"))[0].body
    assert post["thread_ts"] == "1700000021.000100" and "SMTPBOT_ALLOW_PRIVATE" in post["text"]


def test_a_secret_in_a_check_command_is_warned_about_and_not_run(checking):
    resp = checking.command("check password=hunter22secret")
    assert resp.status == 200 and "hunter22" not in resp.body and "password" in resp.body.lower()
    time.sleep(1.5)  # a check that ran would have posted its progress by now
    assert checking.stub.of("chat.postMessage") == [] and checking.stub.of("response") == []
