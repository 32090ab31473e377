"""manifest.yml declares exactly the command, shortcut, events and scopes the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bot import slack_app

REPO = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO / "manifest.yml").read_text())
#: Slack's scope for each bot event and Web API method we use (None: no scope needed)
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "app_mention": "app_mentions:read",
    "app_home_opened": None,
}
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "views_publish": None,
}


def _web_api_methods() -> set[str]:
    source = "\n".join(p.read_text() for p in (REPO / "bot").glob("*.py"))
    return set(
        re.findall(r"\bclient\.((?:chat|views|users|conversations|files|reactions|pins|apps)_\w+)", source)
    )


def test_command_shortcut_and_events_match_the_registered_listeners():
    features = MANIFEST["features"]
    assert tuple(c["command"] for c in features["slash_commands"]) == slack_app.COMMANDS
    assert tuple(s["callback_id"] for s in features["shortcuts"]) == slack_app.SHORTCUTS
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert {e.split(".")[0] for e in events} == set(slack_app.EVENTS)


def test_scopes_are_exactly_what_events_methods_and_commands_need():
    methods = _web_api_methods()
    assert methods <= set(METHOD_SCOPES), f"add the scope of {methods - set(METHOD_SCOPES)} to this table"
    needed = {EVENT_SCOPES[e] for e in MANIFEST["settings"]["event_subscriptions"]["bot_events"]}
    needed |= {METHOD_SCOPES[m] for m in methods}
    needed.add("commands")
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed - {None}


def test_settings_the_features_need():
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"] is True
    assert MANIFEST["features"]["slash_commands"][0]["should_escape"] is False


def test_every_declared_entry_point_reaches_a_listener(running):
    """Bolt answers 404 to a request no listener takes; nothing the manifest declares may get one."""
    assert running.command("help").status == 200
    for kind in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        etype = kind.split(".")[0]
        event = {"type": etype, "user": "U9", "channel": "C9", "ts": "1.1", "text": "hi", "tab": "messages"}
        assert running.event(event, f"Ev-{kind}").status == 200, kind
    for shortcut in MANIFEST["features"]["shortcuts"]:
        payload = {
            "type": "message_action",
            "callback_id": shortcut["callback_id"],
            "trigger_id": "t",
            "team": {"id": "T1"},
            "user": {"id": "U9"},
            "channel": {"id": "C9"},
            "response_url": running.stub.response_url("m"),
            "message": {"ts": "1.1", "text": "hi"},
        }
        assert running.interactive(payload).status == 200
    for action in slack_app.ACTIONS:
        payload = {
            "type": "block_actions",
            "user": {"id": "U9"},
            "team": {"id": "T1"},
            "channel": {"id": "C9"},
            "message": {"ts": "1.1"},
            "response_url": running.stub.response_url("a"),
            "trigger_id": "t",
            "actions": [
                {
                    "action_id": action,
                    "block_id": "b",
                    "type": "button",
                    "value": json.dumps({"id": "spf-fail", "lang": "en"}),
                    "action_ts": "1",
                }
            ],
        }
        assert running.interactive(payload).status == 200, action
