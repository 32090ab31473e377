"""Literal prefilters for regexes: skip a pattern when none of the strings it needs is in the text.

Hundreds of KB patterns are tried on every bounce; most cannot match because a word they require
is absent. From the parse tree of each pattern we take a set of literal strings of which at least
one must occur in any match (RE2's "prefilter" idea, in small). A `str in str` test per literal
is far cheaper than a regex scan.
"""

from __future__ import annotations

import re
from functools import cache

try:  # Python 3.11+: the parser module is private but stable
    from re import _constants as C
    from re import _parser as P
except ImportError:  # pragma: no cover
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

#: literals shorter than this select too little to be worth it
MIN_LITERAL = 3
_INLINE_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")


def lowercase_pattern(pattern: str) -> str:
    """Lower-case a regex's literal text, leaving escapes (\\S, \\W, \\B...) untouched.

    Matching a lower-cased pattern against lower-cased text without IGNORECASE lets the regex
    engine use its fast literal-prefix scan.
    """
    pattern = _INLINE_FLAGS.sub("", pattern)
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("(?P", i):  # (?P<name>...) and (?P=name) keep their capital P and name
            end = pattern.find(">" if pattern.startswith("(?P<", i) else ")", i)
            end = len(pattern) - 1 if end < 0 else end
            out.append(pattern[i : end + 1])
            i = end + 1
            continue
        out.append(pattern[i].lower())
        i += 1
    return "".join(out)


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    good = [o for o in options if o and min(len(s) for s in o) >= MIN_LITERAL]
    return max(good, key=lambda o: (min(len(s) for s in o), -len(o))) if good else None


def _seq(items) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset({"".join(run)}))
            run = []
        sub = _node(op, av)
        if sub:
            candidates.append(sub)
    if run:
        candidates.append(frozenset({"".join(run)}))
    return _best(candidates)


def _node(op, av) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        return _seq(av[-1])
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
        lo, _hi, item = av
        return _seq(item) if lo >= 1 else None
    if op is C.BRANCH:
        parts = [_seq(branch) for branch in av[1]]
        if any(p is None for p in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _seq(av)
    return None


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings of which one must occur in any match of the (lower-cased) pattern; None: unknown."""
    try:
        tree = P.parse(pattern)
    except re.error:
        return None
    return _seq(list(tree))


@cache
def compile_pattern(pattern: str) -> tuple[re.Pattern[str], frozenset[str] | None]:
    """A KB pattern as the matcher runs it: lower-cased, compiled once per process, with its literals.

    The loader validates with this very call, so the matcher finds every pattern compiled.

    Raises:
        re.error: the pattern is not a valid regular expression.
    """
    low = lowercase_pattern(pattern)
    return re.compile(low), required_literals(low)
