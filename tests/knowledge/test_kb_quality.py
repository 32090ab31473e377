"""Quality of the knowledge base as data (aiosmtpd's `qa` idea) and the measured bars of issue 3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.explain import explain
from knowledge.text import fold
from tests.conftest import CORPUS, SHARED

DATA = Path(__file__).resolve().parents[1] / "data"
REQUIRED = {
    "smtp-auth-failed": "securityerror", "smtp-auth-required": "securityerror", "smtp-auth-methods": None,
    "smtp-ports": None, "port-25-blocked": "networkerror", "connection-timeout": "networkerror",
    "connection-refused": "networkerror", "tls-certificate-invalid": "securityerror",
    "starttls-required": "failedstarttls", "tls-handshake-failed": "failedstarttls", "queue-deferred": None,
    "delivery-expired": "expired", "server-config-checklist": None, "client-software-updates": None,
    "monitoring-logging": None, "diagnostic-tools": None, "smtp-reply-codes": None, "firewall-antivirus": None,
    "smtp-security-practices": None, "relay-access-denied": "norelaying", "open-relay": None,
    "access-denied-policy": "policyviolation", "service-unavailable": "systemerror",
    "temporary-system-problem": "systemerror", "syntax-error": "syntaxerror", "user-unknown": "userunknown",
    "too-many-connections": "toomanyconn", "sender-address-rejected": "rejected",
    "sender-unauthenticated": "authfailure", "spf-setup": None, "dkim-setup": None, "dmarc-setup": None,
    "reverse-dns-ptr": "requireptr", "relay-services": None, "ip-blocklisted": "blocked",
    "sender-reputation": "badreputation", "rate-limited": "speeding", "mailbox-full": "mailboxfull",
    "message-too-large": "mesgtoobig", "host-unknown": "hostunknown", "null-mx": "notaccept",
    "spam-detected": "spamdetected", "virus-detected": "virusdetected", "account-disabled": "suspend",
    "mailbox-moved": "hasmoved", "system-full": "systemfull", "recipient-filtered": "filtered",
    "content-rejected": "contenterror", "not-rfc-compliant": "notcompliantrfc", "greylisting": None,
    "mail-loop": "networkerror", "mta-sts-dane-failure": "failedstarttls", "autoreply": "vacation",
    "abuse-report": "feedback", "delivery-success-notice": "delivered", "suppressed-recipient": "suppressed",
    "recipient-limit-exceeded": "exceedlimit", "local-delivery-failed": "mailererror",
    "unclassified-bounce": "onhold",
}
#: advice that weakens security must never appear in a fix (checked on folded text)
UNSAFE = (
    r"disable (?:tls|ssl|certificate) (?:verification|validation|check)", r"verify\s*=\s*false",
    r"rejectunauthorized\s*:\s*false", r"smtpd_relay_restrictions\s*=\s*permit\b", r"mynetworks\s*=\s*0\.0\.0\.0/0",
    r"turn off (?:the )?(?:firewall|antivirus) permanently", r"allow (?:anonymous|unauthenticated) relay",
    r"wylacz (?:weryfikacje|sprawdzanie) certyfikatu",
)
_PL_DIACRITICS = re.compile(r"[ąćęłńóśźż]", re.IGNORECASE)


def test_required_entries_exist_with_their_reason(kb):
    missing = sorted(set(REQUIRED) - set(kb.entries))
    assert not missing, f"missing required entries: {missing}"
    wrong = {i: kb.entries[i].reason for i, r in REQUIRED.items() if kb.entries[i].reason != r}
    assert not wrong, f"entries with another reason than the issue gives: {wrong}"


def test_entries_have_enough_questions_in_both_languages(kb):
    weak = []
    for e in kb.entries.values():
        if len(e.questions.en) < 4 or len(e.questions.pl) < 4:
            weak.append(f"{e.id}: {len(e.questions.en)} en / {len(e.questions.pl)} pl questions")
        elif e.id in REQUIRED and not any(not _PL_DIACRITICS.search(q) for q in e.questions.pl):
            weak.append(f"{e.id}: no Polish question typed without diacritics")
    assert not weak, "\n".join(weak)


def test_bounce_entries_have_evidence(kb):
    bare = [e.id for e in kb.entries.values() if e.reason and not (e.patterns or e.codes or e.phrases)]
    assert not bare, f"bounce-cause entries with no codes, patterns or phrases: {bare}"


def test_every_example_ranks_its_own_entry_first(kb):
    wrong = []
    for e in kb.entries.values():
        for example in e.examples:
            got = explain(example, kb, top=1).matches
            if not got or got[0].entry.id != e.id:
                wrong.append(f"{e.id}: {example[:70]!r} -> {got[0].entry.id if got else None}")
    assert not wrong, f"{len(wrong)} examples rank another entry first:\n" + "\n".join(wrong)


#: a group with an unbounded quantifier inside, repeated without bound: backtracking can go
#: exponential (or at least quadratic) on a long paste; write {1,N} bounds instead
_NESTED_UNBOUNDED = re.compile(r"\((?:\?:)?[^()]*[+*][^()]*\)(?:[+*]|\{\d*,\})")


def test_patterns_have_no_nested_unbounded_repetition(kb):
    bad = [f"{e.id}: {p}" for e in kb.entries.values() for p in e.patterns if _NESTED_UNBOUNDED.search(p)]
    assert not bad, "\n".join(bad)


def test_references_are_rfcs_or_https(kb):
    bad = [f"{e.id}: {r}" for e in kb.entries.values() for r in e.references
           if r.startswith("http:") or not (r.startswith("https://") or re.search(r"\bRFC\b|\bM3AAWG\b|\bNIST\b|draft-", r))]
    assert len(bad) <= len(kb.entries) // 10, "\n".join(bad)


def test_no_advice_weakens_security(kb):
    found = []
    for e in kb.entries.values():
        for lang in ("en", "pl"):
            for step in e.fixes.get(lang):
                for rx in UNSAFE:
                    if re.search(rx, fold(step)):
                        found.append(f"{e.id} [{lang}]: {step[:100]}")
    assert not found, "\n".join(found)


def test_seed_corrections_are_stated(kb):
    """Where the seed guide is wrong the base says the right thing (seed-topics.md C1, C5, C6, C7)."""
    methods = fold(" ".join((kb.get("smtp-auth-methods").summary.en, *kb.get("smtp-auth-methods").fixes.en,
                             *kb.get("smtp-auth-methods").causes.en)))
    assert "base64" in methods and "tls" in methods
    ports = fold(" ".join((kb.get("smtp-ports").summary.en, *kb.get("smtp-ports").fixes.en, *kb.get("smtp-ports").causes.en)))
    assert "465" in ports and "587" in ports and "8314" in " ".join(kb.get("smtp-ports").references)
    assert "starttls" in ports


def _load(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def test_question_set_is_not_copied_from_the_base(kb):
    base = {fold(q) for e in kb.entries.values() for q in (*e.questions.en, *e.questions.pl)}
    copied = [row["q"] for row in _load("questions.yaml") if fold(row["q"]) in base]
    assert not copied, f"questions copied verbatim from the base: {copied}"


def test_question_set_shape():
    rows = _load("questions.yaml")
    pl = [r for r in rows if r["lang"] == "pl"]
    assert len(rows) >= 150 and len(pl) >= len(rows) * 0.4
    assert sum(1 for r in pl if not _PL_DIACRITICS.search(r["q"])) >= len(pl) / 3


def _top(rows: list[dict], key: str, kb, n: int) -> float:
    hits = 0
    for row in rows:
        ok = {row["id"], *(row.get("alt") or [])}
        got = [m.entry.id for m in explain(row[key], kb, top=n).matches]
        hits += bool(ok & set(got[:n]))
    return hits / len(rows)


# The bars: the question and paste sets, and the public bounce corpus (0.90 raw / 0.85 paste;
# bench/explain.py prints the figures and the confusion of the misses).
QUESTION_TOP1, QUESTION_TOP3, PASTE_TOP1 = 0.85, 0.95, 0.90
CORPUS_RAW, CORPUS_PASTE = 0.90, 0.85
#: provider-bounces.md files texts under its own fixed category list (no failedstarttls,
#: notcompliantrfc or filtered; delay warnings under onhold), so full agreement is not the goal:
#: the floor keeps the patterns from drifting away from the wording they were written from
REFERENCE_FLOOR = 0.85
MTA_BOUNCES_TOP1 = 0.85


def test_question_set_accuracy(kb):
    rows = _load("questions.yaml")
    top1, top3 = _top(rows, "q", kb, 1), _top(rows, "q", kb, 3)
    print(f"questions: top-1 {top1:.1%}, top-3 {top3:.1%}")
    assert top1 >= QUESTION_TOP1 and top3 >= QUESTION_TOP3


def test_paste_set_accuracy(kb):
    rows = _load("pastes.yaml")
    assert len(rows) >= 80
    top1 = _top(rows, "text", kb, 1)
    print(f"pastes: top-1 {top1:.1%}")
    assert top1 >= PASTE_TOP1


@pytest.mark.parametrize(("variant", "bar"), [("file", CORPUS_RAW), ("paste_file", CORPUS_PASTE)])
def test_corpus_reason_accuracy(kb, corpus_index, variant, bar):
    hits = 0
    for row in corpus_index:
        got = explain((CORPUS / row[variant]).read_bytes(), kb).matches
        hits += bool(got) and got[0].entry.reason == row["reason"]
    print(f"{variant}: top-1 reason {hits}/{len(corpus_index)}")
    assert hits / len(corpus_index) >= bar


def test_provider_reference_wording_keeps_its_reason(kb):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_quality", Path(__file__).parents[2] / "bench" / "quality.py")
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    r = quality.reference(kb, SHARED / "ref" / "provider-bounces.md")
    print(f"reference: {r['hits']}/{r['n']}")
    assert r["n"] >= 300 and r["hits"] / r["n"] >= REFERENCE_FLOOR


def test_eval_bounces_are_not_copied_from_the_base(kb):
    examples = {" ".join(fold(x).split()) for e in kb.entries.values() for x in e.examples}
    texts = [row["text"] for row in _load("mta_bounces.yaml")] + [row["text"] for row in _load("pastes.yaml")]
    copied = [t for t in texts if " ".join(fold(t).split()) in examples]
    assert not copied, f"eval bounces copied verbatim from the base's examples: {copied}"


def test_mta_bounce_set_reason_accuracy(kb):
    rows = _load("mta_bounces.yaml")
    assert len(rows) >= 100
    hits = 0
    for row in rows:
        got = explain(row["text"], kb).matches
        hits += bool(got) and got[0].entry.reason == row["reason"]
    print(f"mta bounces: top-1 reason {hits}/{len(rows)}")
    assert hits / len(rows) >= MTA_BOUNCES_TOP1
