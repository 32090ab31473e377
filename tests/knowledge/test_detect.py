"""Bounce detection: >= 95 % on the paste sets, 0 % false positives on ordinary chat; secrets.

The figures are printed (run with -s): `pytest tests/knowledge/test_detect.py -s -k figures`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.detect import detect_bounce, find_secrets, redact
from tests.conftest import CORPUS, SHARED

DATA = Path(__file__).resolve().parents[1] / "data"
#: the bar of issue 6
MIN_DETECTION = 0.95


def _chat() -> list[dict]:
    return yaml.safe_load((DATA / "chat_messages.yaml").read_text())


def _pastes() -> list[str]:
    return [item["text"] for item in yaml.safe_load((DATA / "pastes.yaml").read_text())]


def _corpus() -> list[str]:
    """The public bounce corpus' pastes (empty when ../shared is not beside the repo, as in CI)."""
    return [f.read_text(encoding="utf-8", errors="replace") for f in sorted(CORPUS.glob("*.paste.txt"))]


def _reference_lines() -> list[str]:
    """`CODE fragment` one-liners from the provider reference table (empty without ../shared)."""
    ref = SHARED / "ref" / "provider-bounces.md"
    if not ref.exists():
        return []
    lines = []
    for row in ref.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cols) < 6 or not row.startswith("| "):
            continue
        fragments = re.findall(r'"([^"]+)"', cols[2])
        codes = re.findall(r"\b([245]\d\d)(?: ([245]\.\d+\.\d+))?", cols[1])
        if fragments and codes:
            lines.append(" ".join(x for x in codes[0] if x) + " " + fragments[0].replace("…", "x"))
    return lines


def test_one_line_replies_from_the_provider_reference():
    lines = _reference_lines()
    if not lines:
        pytest.skip("shared/ref/provider-bounces.md not beside the repo")
    hits = sum(detect_bounce(line).is_bounce for line in lines)
    rate = hits / len(lines)
    print(f"\none-line replies (code + wording from provider-bounces.md): {hits}/{len(lines)} = {rate:.1%}")
    assert rate >= 0.9


def test_chat_set_is_big_and_bilingual():
    chat = _chat()
    assert len(chat) >= 300
    assert {c["lang"] for c in chat} == {"en", "pl"}
    assert min(sum(c["lang"] == lang for c in chat) for lang in ("en", "pl")) >= 120


def test_no_false_positives_on_ordinary_chat():
    flagged = [
        (c["text"], detect_bounce(c["text"]).signals) for c in _chat() if detect_bounce(c["text"]).is_bounce
    ]
    assert flagged == []


def test_detection_figures():
    chat, pastes, corpus = _chat(), _pastes(), _corpus()
    fp = sum(detect_bounce(c["text"]).is_bounce for c in chat)
    p_hits = sum(detect_bounce(t).is_bounce for t in pastes)
    c_hits = sum(detect_bounce(t).is_bounce for t in corpus)
    combined = (p_hits + c_hits) / (len(pastes) + len(corpus))
    corpus_line = f"corpus .paste.txt {c_hits}/{len(corpus)} = {c_hits / len(corpus):.1%}; " if corpus else ""
    print(
        f"\nbounce detection: tests/data/pastes.yaml {p_hits}/{len(pastes)} = {p_hits / len(pastes):.1%}; "
        f"{corpus_line}all pastes {combined:.1%}; false positives {fp}/{len(chat)} = {fp / len(chat):.1%}"
    )
    assert combined >= MIN_DETECTION
    assert p_hits / len(pastes) >= MIN_DETECTION
    if corpus:  # each paste set on its own, not only together
        assert c_hits / len(corpus) >= MIN_DETECTION


@pytest.mark.parametrize(
    "text",
    [
        "550 5.7.26 This mail has been blocked because the sender is unauthenticated. - gsmtp",
        "Diagnostic-Code: smtp; 550 5.1.1 <anna@example.com>... User Unknown",
        "Niedostarczalne: Faktura 11/2024",
        "status=bounced (host mx.example.net[192.0.2.1] said: 554 5.7.1 Relay access denied "
        "(in reply to RCPT TO command))",
        "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted')",
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
        "Recipient not found by SMTP address lookup'",
    ],
)
def test_typical_pastes_are_bounces(text):
    assert detect_bounce(text).is_bounce


@pytest.mark.parametrize(
    "text",
    [
        "ticket 421 closed",
        "we have 550 users now",
        "deploy 5.1.1 done",
        "logs in index app-prod-2024.11.28",
        "HTTP 421 Misdirected Request from the ingress",
        "my mailbox is full lol",
        "",
    ],
)
def test_plain_chat_is_not(text):
    assert not detect_bounce(text).is_bounce


@pytest.mark.parametrize(
    "text,kind",
    [
        ("password: Zima2024!", "password"),
        ("hasło=Tajne123", "password"),
        ("AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=", "smtp-auth-plain"),
        ("C: AHVzZXIAcGFzc3dvcmQ=", "smtp-auth-plain"),
        ("334 VXNlcm5hbWU6\namFuQGV4YW1wbGUucGw=", "smtp-auth-login"),
        ("SLACK_BOT_TOKEN=xoxb-1234567890-abcdefghijkl", "slack-token"),
        ("aws key AKIAABCDEFGHIJKLMNOP", "aws-access-key"),
        ("api_key: 0123456789abcdef0123456789abcdef", "api-key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "private-key"),
    ],
)
def test_secrets_are_found_and_redacted(text, kind):
    hits = find_secrets(text)
    assert kind in {h.kind for h in hits}
    cleaned = redact(text, hits)
    assert "[redacted]" in cleaned
    for h in hits:
        assert text[h.start : h.end] not in cleaned


def test_ordinary_text_has_no_secrets():
    for c in _chat():
        assert find_secrets(c["text"]) == (), c["text"]


def test_secret_redaction_takes_whole_values_and_skips_lookalikes():
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1L7VLPHCgcX\n-----END RSA PRIVATE KEY-----\nthanks"
    assert redact(key) == "[redacted]\nthanks"
    assert "horse" not in redact('password = "correct horse battery"')
    for harmless in ("bypass: on", "compass: north", "pwd: /home/bob/mail"):
        assert find_secrets(harmless) == (), harmless
