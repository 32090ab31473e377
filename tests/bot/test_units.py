"""Pure parts: mrkdwn in and out, Block Kit limits, the store, the router's parsing and replies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import slack_render, slackfmt
from bot.commands import Reply, Request, Router, is_command, parse
from bot.settings import Settings, load
from bot.store import MemoryStore
from checks.model import Finding, Report, Status


def test_unformat_undoes_slack_formatting():
    raw = (
        "&lt;<mailto:a@b.example|a@b.example>&gt;: host <http://mx.example|mx.example> said &amp; <@U123> hi"
    )
    assert slackfmt.unformat(raw) == "<a@b.example>: host mx.example said &  hi"


@given(st.text())
def test_escape_leaves_no_control_characters(text):
    escaped = slackfmt.escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert slackfmt.unformat(escaped) == text


def test_code_block_cannot_be_closed_early():
    block = slackfmt.code_block("x ``` <!channel>")
    assert block.count("```") == 2 and "<!channel>" not in block


def _report(n: int) -> Report:
    findings = tuple(
        Finding(
            f"area{i % 60}.check",
            Status.PASS if i % 3 else Status.FAIL,
            f"<!here> host{i}",
            "x" * 400 + " <@U1>",
            kb="spf-fail",
        )
        for i in range(n)
    )
    return Report("example.com", "domain", 1234, findings)


@pytest.mark.parametrize("n", [1, 30, 200])
def test_report_respects_block_kit_limits_and_escapes(n):
    payload = slack_render.render(Reply("report", "en", report=_report(n), target="example.com"))
    blocks = payload["blocks"]
    assert payload["text"] and len(blocks) <= slack_render.MAX_BLOCKS
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= slack_render.MAX_SECTION
    dumped = json.dumps(blocks)
    assert "<!here>" not in dumped and "<@U1>" not in dumped
    assert ":x:" in dumped and "/smtp kb show spf-fail" in dumped


def test_sections_split_long_text():
    blocks = slack_render.sections("\n".join(f"line {i} {'y' * 100}" for i in range(200)))
    assert len(blocks) > 1 and all(len(b["text"]["text"]) <= 3000 for b in blocks)


def test_store_dedupe_and_rate_limit_with_a_clock():
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    assert store.first_time("e1", 10) and not store.first_time("e1", 10)
    now[0] = 11
    assert store.first_time("e1", 10)
    assert store.allow("u", 2, 60) and store.allow("u", 2, 60) and not store.allow("u", 2, 60)
    now[0] = 80
    assert store.allow("u", 2, 60)
    store.set_pref("U1", "lang", "pl")
    assert store.get_pref("U1", "lang") == "pl" and store.get_pref("U2", "lang") is None


def test_parse_commands():
    assert parse("/smtp check example.com -p").private and parse("check -p example.com").args == (
        "example.com",
    )
    cmd = parse("/smtp -p check example.com --dkim-selector s1")
    assert (cmd.name, cmd.args, cmd.private) == ("check", ("example.com", "--dkim-selector", "s1"), True)
    assert parse("explain 550 5.1.1 -p inside a paste").private is False
    assert is_command("/smtp") and is_command("kb spf") and not is_command("550 5.1.1 user unknown")


def test_router_replies(kb):
    router = Router(Settings(), kb_loader=lambda: kb)
    assert router.handle(Request("help")).kind == "help"
    unknown = router.handle(Request("/smtp frobnicate"))
    assert unknown.kind == "help" and "frobnicate" in unknown.message
    assert (
        router.handle(
            Request("/smtp 550 5.1.1 The email account that you tried to reach does not exist")
        ).kind
        == "explanation"
    )
    assert router.handle(Request("lang xx")).kind == "error"
    assert router.handle(Request("lang pl", user="U7")).lang == "pl"
    assert router.handle(Request("help", user="U7")).lang == "pl"
    assert router.handle(Request("kb show spf-fail")).entry.id == "spf-fail"
    assert router.handle(Request("spf onlyone")).kind == "error"
    assert (
        "entries" in router.handle(Request("about")).message
        or "wpis" in router.handle(Request("about")).message
    )


def test_settings_from_environment():
    s = load(
        {
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "SMTPBOT_CHANNELS": "C1, C2",
            "SMTPBOT_PASSIVE": "0",
            "SMTPBOT_ALLOW_PRIVATE": "1",
            "SMTPBOT_NAMESERVERS": "127.0.0.1:5353,[::1]:53,10.0.0.1",
            "SMTPBOT_CHECK_WORKERS": "nonsense",
        }
    )
    assert s.api_url == "http://127.0.0.1:9/api/" and s.channels == {"C1", "C2"} and not s.passive
    assert s.allow_private and s.check_workers == 4
    assert s.nameservers == (("127.0.0.1", 5353), ("::1", 53), ("10.0.0.1", 53))
    assert not load({}).has_slack and load({"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y"}).has_slack


@settings(deadline=None, max_examples=150)
@given(
    st.text(max_size=300)
    | st.sampled_from(["/smtp", "/smtp kb", "kb show", "lang", "-p", "/smtp -p -p explain"])
)
def test_any_text_gets_a_reply_that_fits_slack(text):
    from knowledge.load import default_kb

    router = Router(Settings(), kb_loader=default_kb)
    if router.is_slow(text):
        return  # network commands are covered end to end against loopback DNS
    reply = router.handle(Request(text))
    payload = slack_render.render(reply)
    assert payload["text"] and len(payload["blocks"]) <= slack_render.MAX_BLOCKS
    assert all(
        len(b["text"]["text"]) <= slack_render.MAX_SECTION
        for b in payload["blocks"]
        if b["type"] == "section"
    )
    from bot import text_reply

    assert isinstance(text_reply.render(reply), str)


def test_malformed_operator_settings_are_reported_not_guessed():
    from bot.settings import load

    ok = load({"SMTPBOT_NAMESERVERS": "127.0.0.1:5353, [::1]:53", "SMTPBOT_CHECK_TIMEOUT": "2.5"})
    assert ok.problems == () and ok.nameservers == (("127.0.0.1", 5353), ("::1", 53)) and ok.check_timeout == 2.5
    bad = load({"SMTPBOT_NAMESERVERS": "dns.internal", "SMTPBOT_CHECK_TIMEOUT": "inf"})
    assert len(bad.problems) == 2 and bad.check_timeout == 5.0 and bad.nameservers == ()
    from tests.conftest import run_cli

    r = run_cli("serve", environ={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                                  "SMTPBOT_CHECK_TIMEOUT": "nan"})
    assert r.exit_status == 2 and "SMTPBOT_CHECK_TIMEOUT" in r.stderr
