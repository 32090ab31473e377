"""Rank knowledge-base entries for a parsed bounce or a question; scores calibrated to 0..1.

Everything is compiled once per knowledge base (Matcher.for_kb caches); matching is pure and
thread-safe. Evidence for a bounce, strongest first: a regex of the entry hits the diagnostic,
the enhanced status equals one of its codes, a typical phrase is fuzzily present. For a question:
fuzzy similarity to the entry's example questions and title in both languages (diacritics folded),
shared word stems, and any code or error text the question quotes.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from rapidfuzz import fuzz, process

from knowledge.load import KnowledgeBase
from knowledge.model import Entry, Match, Parsed
from knowledge.prefilter import compile_pattern
from knowledge.reasons import ABSORBING, LASTING_CAUSES, STAGE_OVERRIDES, YIELDING, rank
from knowledge.text import fold, squash

#: how much a hit in the subject/body excerpt counts against one in the diagnostic itself
SECONDARY_WEIGHT = 0.6
#: phrase similarity (0..100) below which a phrase is no evidence
PHRASE_CUTOFF = 86.0
#: a regex hit this strong settles the text evidence (fuzzy phrases are only tried below it)
STRONG = 0.8
#: the reason, and its (unsure) score, of a bounce in which nothing was recognised
NO_EVIDENCE, NO_EVIDENCE_SCORE = "onhold", 0.2
#: a score given to the default entry of the status code's reason when nothing else matched
STATUS_DEFAULT_SCORE = 0.42
#: a stage rule replacing a bounce with no known wording is as sure as a status code's registry meaning
STAGE_SCORE = STATUS_DEFAULT_SCORE
#: a one-word question matches many entries fully: its similarity counts for less
SHORT_QUESTION_DAMPING = 0.7
#: questions are short; a long paste that reached question matching is compared by its start
QUESTION_CHARS = 300
_WORD = re.compile(r"[a-z0-9][a-z0-9.]*[a-z0-9]|[a-z0-9]")
_STOP = frozenset(
    "the a an to of in on for and or is are my our we i it at with from by be do does did not no "
    "how why what when can could should there this that me you your mail email e-mail message messages "
    "jak co czy nie sie na do w z i a to jest mam mamy po od dla przez o mi my ten ta te".split()
)


def _stem(word: str) -> str:
    """A crude prefix stem: Polish inflects word endings ("zwrotka", "zwrotki", "zwrotke")."""
    return word[:6] if len(word) > 6 else word


def _tokens(text: str) -> set[str]:
    """Content words, stemmed. The documentation names (example.com, example.org: RFC 2606) that
    entries' questions and pasted addresses use say nothing about the topic."""
    return {_stem(w) for w in _WORD.findall(text) if w not in _STOP and not w.startswith("example")}


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry: Entry
    #: (pattern compiled lower-case, literals one of which it needs or None)
    patterns: tuple[tuple[re.Pattern[str], frozenset[str] | None], ...]
    exact: frozenset[str]
    wild: tuple[re.Pattern[str], ...]
    replies: frozenset[str]
    phrases: tuple[str, ...]
    #: every literal the entry's patterns need, when each of them has a prefilter: if none is in a
    #: text, no pattern of the entry can match it (one set test instead of one per pattern)
    needs_any: frozenset[str] | None = None


def _code_regex(code: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(code).replace("x", r"\d+") + "$")


def _compile(entry: Entry) -> _Compiled:
    enhanced = [c for c in entry.codes if "." in c]
    return _Compiled(
        entry=entry,
        patterns=tuple(compile_pattern(p) for p in entry.patterns),
        exact=frozenset(c for c in enhanced if "x" not in c),
        wild=tuple(_code_regex(c) for c in enhanced if "x" in c),
        replies=frozenset(c for c in entry.codes if "." not in c),
        phrases=tuple(fold(p) for p in entry.phrases),
        needs_any=_needs_any(entry.patterns),
    )


def _needs_any(patterns: tuple[str, ...]) -> frozenset[str] | None:
    needs = [compile_pattern(p)[1] for p in patterns]
    if not needs or any(n is None for n in needs):
        return None
    return frozenset().union(*needs)  # type: ignore[arg-type]


class Matcher:
    """Precompiled matching state for one knowledge base."""

    _cache: WeakKeyDictionary[KnowledgeBase, Matcher] = WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.items = [_compile(e) for e in kb.entries.values()]
        claims: dict[str, int] = {}
        for item in self.items:
            for code in item.exact:
                claims[code] = claims.get(code, 0) + 1
        #: rarer codes are stronger evidence (an inverse document frequency)
        self.code_weight = {c: 1.0 / math.sqrt(n) for c, n in claims.items()}
        #: the generic entry of each reason: the first one in kb/reasons/<reason>.yml (provider files
        #: sort first but hold provider-specific wording, wrong as a default)
        self.default_for_reason: dict[str, Entry] = {}
        generic_first = sorted(kb.entries.values(), key=lambda e: "/reasons/" not in "/" + e.source)
        for e in generic_first:
            if e.reason and e.reason not in self.default_for_reason:
                self.default_for_reason[e.reason] = e
        self.q_texts: list[str] = []
        self.q_owner: list[int] = []
        self.q_tokens: list[set[str]] = []
        for i, e in enumerate(kb.entries.values()):
            for text in (*e.questions.en, *e.questions.pl, e.title.en, e.title.pl):
                self.q_texts.append(fold(text))
                self.q_owner.append(i)
        grouped: list[list[str]] = [[] for _ in self.items]
        for text, owner in zip(self.q_texts, self.q_owner, strict=True):
            grouped[owner].append(text)
        self.entry_tokens = [_tokens(" ".join(texts)) for texts in grouped]
        #: each entry's questions and titles as token sets, to measure how central a term is to it
        self.question_tokens = [[_tokens(t) for t in texts] for texts in grouped]
        #: every prefilter literal of every pattern, checked once per text
        self.literals = sorted({lit for item in self.items for _rx, needs in item.patterns for lit in needs or ()})
        self.p_texts = [p for item in self.items for p in item.phrases]
        self.p_owner = [i for i, item in enumerate(self.items) for _ in item.phrases]
        df: dict[str, int] = {}
        for toks in self.entry_tokens:
            for t in toks:
                df[t] = df.get(t, 0) + 1
        n = max(len(self.items), 1)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}

    @classmethod
    def for_kb(cls, kb: KnowledgeBase) -> Matcher:
        with cls._lock:
            m = cls._cache.get(kb)
            if m is None:
                m = cls._cache[kb] = cls(kb)
            return m

    # ---- evidence -------------------------------------------------------------------------
    def _present(self, lower: str, folded: str | None) -> frozenset[str]:
        if folded is None:
            return frozenset(lit for lit in self.literals if lit in lower)
        return frozenset(lit for lit in self.literals if lit in lower or lit in folded)

    @staticmethod
    def _regex(
        item: _Compiled, lower: str, folded: str | None, present: frozenset[str]
    ) -> tuple[float, str | None]:
        """Best pattern hit in lower-cased text; `folded` (diacritics stripped) too when it differs.

        `present` holds the prefilter literals found in the text: a pattern none of whose needed
        literals is present cannot match and is skipped.
        """
        best, why = 0.0, None
        if item.needs_any is not None and item.needs_any.isdisjoint(present):
            return best, why
        for rx, needs in item.patterns:
            if needs and needs.isdisjoint(present):
                continue
            m = rx.search(lower) or (folded is not None and rx.search(folded))
            if m:
                strength = min(1.0, 0.7 + len(m.group(0)) / 80)
                if strength > best:
                    best, why = strength, f"pattern {rx.pattern!r}"
        return best, why

    def _phrases(self, folded: str) -> dict[int, tuple[float, str]]:
        """Fuzzy presence of every entry's phrases in one pass over the text (rapidfuzz in C)."""
        out: dict[int, tuple[float, str]] = {}
        if not folded or not self.p_texts:
            return out
        for phrase, r, j in process.extract(
            folded, self.p_texts, scorer=fuzz.partial_ratio, score_cutoff=PHRASE_CUTOFF, limit=None
        ):
            i = self.p_owner[j]
            s = 0.5 + (r - PHRASE_CUTOFF) / (100 - PHRASE_CUTOFF) * 0.35
            if s > out.get(i, (0.0, ""))[0]:
                out[i] = (s, f"phrase ~{phrase!r}")
        return out

    def _code(self, item: _Compiled, status: str | None, reply: str | None) -> tuple[float, str | None]:
        score, why = 0.0, None
        if status and not status.endswith(".0.0"):
            if status in item.exact:
                score, why = 0.35 * self.code_weight.get(status, 1.0), f"status {status}"
            elif any(rx.match(status) for rx in item.wild):
                score, why = 0.12, f"status {status} (range)"
        if reply and reply in item.replies:
            score += 0.04
        return score, why

    # ---- bounces --------------------------------------------------------------------------
    def _prepare(self, text: str) -> tuple[str, str, str | None, frozenset[str]]:
        """A text as every pattern reads it: lower-cased, folded (searched too only when it differs
        from the lower-cased one), and the prefilter literals present in either."""
        lower = squash(text).lower()
        folded = fold(lower)
        alt = folded if folded != lower else None
        return lower, folded, alt, self._present(lower, alt)

    def _text_scores(self, text: str) -> list[tuple[float, str | None]]:
        lower, folded, alt, present = self._prepare(text)
        out = [self._regex(item, lower, alt, present) for item in self.items]
        if max(s for s, _ in out) >= STRONG:
            return out  # a pattern recognised the text: fuzzy phrases would not change the winner
        phrases = self._phrases(folded)
        for i, (p, pwhy) in phrases.items():
            if p > out[i][0]:
                out[i] = (p, pwhy)
        return out

    def match_bounce(self, parsed: Parsed, top: int = 3) -> list[Match]:
        n = len(self.items)
        # a pasted text with no recognisable reply line is itself the diagnostic
        first = parsed.diagnostic or (parsed.text if parsed.input_kind == "text" else None)
        primary = self._text_scores(first) if first else [(0.0, None)] * n
        secondary: list[tuple[float, str | None]] = [(0.0, None)] * n
        best = max(range(n), key=lambda i: primary[i][0]) if n else None
        if parsed.text and (best is None or primary[best][0] < 0.7):
            # the diagnostic said nothing recognisable: read the subject and the human text too
            secondary = [(s * SECONDARY_WEIGHT, w) for s, w in self._text_scores(parsed.text)]
        elif parsed.text and best is not None:
            secondary = self._absorbing_evidence(self.items[best].entry.reason, parsed.text, secondary)
        scored: list[Match] = []
        for i, item in enumerate(self.items):
            (p, pwhy), (s, swhy) = primary[i], secondary[i]
            text_score, ev = (p, [pwhy]) if p >= s else (s, [f"{swhy} (in text)"])
            ev = [e for e in ev if e and text_score]
            code_score, cwhy = self._code(item, parsed.status, parsed.reply_code)
            if cwhy:
                ev.append(cwhy)
            score = text_score + code_score if text_score else min(code_score, 0.5)
            if parsed.kind_hint and item.entry.reason == parsed.kind_hint:
                score, ev = score + 1.0, [*ev, f"message is a {parsed.kind_hint} report"]
            if score > 0:
                scored.append(Match(item.entry, score, tuple(ev)))
        self._status_default(parsed, scored)
        ranked = self._yield(self._rank(scored, len(scored)))
        return self._stage_override(parsed, ranked, top)[:top]

    def _absorbing_evidence(
        self, leader: str | None, text: str, secondary: list[tuple[float, str | None]]
    ) -> list[tuple[float, str | None]]:
        """A transient reason leads on the diagnostic: look in the text for an ABSORBING one."""
        wanted = {r for r, (_bar, absorbs) in ABSORBING.items() if leader in absorbs}
        if not wanted:
            return secondary
        lower, _folded, alt, present = self._prepare(text)
        out = list(secondary)
        for i, item in enumerate(self.items):
            if item.entry.reason in wanted:
                s, why = self._regex(item, lower, alt, present)
                out[i] = (s * SECONDARY_WEIGHT, why)
        return out

    @staticmethod
    def _yield(ranked: list[Match]) -> list[Match]:
        """A YIELDING reason on top gives way to the best entry that names an actual cause; an
        ABSORBING one with evidence takes the place of a transient reason on top."""
        if not ranked:
            return ranked
        for absorbing, (bar, absorbs) in ABSORBING.items():
            if ranked[0].entry.reason in absorbs and ranked[0].entry.id not in LASTING_CAUSES:
                for i, m in enumerate(ranked[1:], 1):
                    if m.entry.reason == absorbing and m.score >= bar:
                        return [m, *ranked[:i], *ranked[i + 1:]]
        if ranked[0].entry.reason not in YIELDING:
            return ranked
        bar, not_causes = YIELDING[ranked[0].entry.reason]
        for i, m in enumerate(ranked[1:], 1):
            reason = m.entry.reason
            cause = reason not in not_causes or m.entry.id in LASTING_CAUSES
            if reason and cause and reason != ranked[0].entry.reason and m.score >= bar:
                return [m, *ranked[:i], *ranked[i + 1:]]
        return ranked

    def _stage_override(self, parsed: Parsed, ranked: list[Match], top: int) -> list[Match]:
        """Apply STAGE_OVERRIDES: the command, status or action the refusal came with outranks its words."""
        if not ranked:
            return ranked
        leader = ranked[0]
        detail = (parsed.status or "").partition(".")[2]
        klass = (parsed.status or parsed.reply_code or " ")[0]
        for rule in STAGE_OVERRIDES:
            if leader.entry.id not in rule.wording and not (
                leader.entry.reason in rule.wording and self.default_for_reason.get(leader.entry.reason) is leader.entry
            ):
                continue  # a reason's rule corrects its generic wording, not a provider's exact message
            if detail.startswith("1.") and detail not in rule.details:
                continue  # an addressing status (x.1.x) proves the wording right whatever the stage
            if (rule.commands or rule.details) and parsed.command not in rule.commands and detail not in rule.details:
                continue
            if (rule.reply_class and klass != rule.reply_class) or (rule.action and parsed.action != rule.action):
                continue
            entry = self.kb.entries.get(rule.becomes)
            if entry is None:
                continue
            why = rule.why or (f"given after {parsed.command}" if parsed.command in rule.commands
                               else f"status {parsed.status}")
            first = Match(entry, max(leader.score, STAGE_SCORE), (*leader.evidence, why))
            return [first, *[m for m in ranked if m.entry.id != entry.id]][:top]
        return ranked

    def _status_default(self, parsed: Parsed, scored: list[Match]) -> None:
        """With no textual evidence, the registry meaning of the status code decides; with no
        evidence at all a bounce is "on hold": the entry that says how to find the real reason."""
        if not scored and not parsed.kind_hint and (fallback := self.default_for_reason.get(NO_EVIDENCE)):
            scored.append(Match(fallback, NO_EVIDENCE_SCORE, ("no recognisable reason in the bounce",)))
            return
        if any(m.score >= STATUS_DEFAULT_SCORE for m in scored) or not parsed.status:
            return
        row = self.kb.status_codes.get("X." + parsed.status.split(".", 1)[1])
        entry = self.default_for_reason.get(row.reason) if row and row.reason else None
        if entry:
            scored[:] = [m for m in scored if m.entry.id != entry.id]
            scored.append(Match(entry, STATUS_DEFAULT_SCORE, (f"status {parsed.status}: {row.name}",)))

    @staticmethod
    def _rank(scored: list[Match], top: int) -> list[Match]:
        scored.sort(key=lambda m: (-m.score, rank(m.entry.reason), m.entry.id))
        return [Match(m.entry, min(1.0, round(m.score, 3)), m.evidence) for m in scored[:top]]

    # ---- questions ------------------------------------------------------------------------
    def match_question(self, text: str, top: int = 3, parsed: Parsed | None = None) -> list[Match]:
        lower, q, alt, present = self._prepare(text)
        if not q:
            return []
        fuzzy: dict[int, float] = {}
        for _choice, score, j in process.extract(q[:QUESTION_CHARS], self.q_texts, scorer=fuzz.token_set_ratio, limit=60):
            i = self.q_owner[j]
            fuzzy[i] = max(fuzzy.get(i, 0.0), score)
        qt = _tokens(q)
        norm = sum(self.idf.get(t, 0.0) for t in qt) or 1.0
        scored: list[Match] = []
        for i, item in enumerate(self.items):
            overlap = sum(self.idf.get(t, 0.0) for t in qt & self.entry_tokens[i]) / norm
            fz = max(0.0, (fuzzy.get(i, 0.0) - 50) / 50)
            asked = self.question_tokens[i]
            # share of the entry's own questions that use every word of this one: "zwrotka" alone
            # belongs to the entry that is about bounces, not to each entry that mentions one
            central = sum(1 for toks in asked if qt <= toks) / len(asked) if qt and asked else 0.0
            score = (0.55 * fz + 0.45 * overlap) * (SHORT_QUESTION_DAMPING if len(qt) < 2 else 1.0) + 0.15 * central
            s, why = self._regex(item, lower, alt, present)
            if s:
                score = max(score, 0.5) + 0.25 * s
            code_score, _ = self._code(item, parsed.status if parsed else None, parsed.reply_code if parsed else None)
            score += code_score * 0.8
            if score > 0.05:
                scored.append(Match(item.entry, score, ()))
        return self._rank(scored, top)

    def search(self, text: str, limit: int = 10) -> list[Match]:
        """`kb SEARCH`: an id or id fragment first, then question-style matching."""
        needle = fold(text)
        direct = [Match(e, 1.0, ("id",)) for e in self.kb.entries.values() if needle and needle in e.id]
        seen = {m.entry.id for m in direct}
        rest = [m for m in self.match_question(text, top=limit) if m.entry.id not in seen]
        return (direct + rest)[:limit]
