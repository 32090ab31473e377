"""Every regex that reads pasted text, timed against runs built to make a backtracking regex slow.

Run: python bench/regex_sweep.py [--size N] [--slow MS]
Patterns: the knowledge base's bounce patterns, the NDR formats, the reply/command regexes and the
bounce-detection signals. Inputs: a prefix (what a pattern might anchor on) followed by one short
unit repeated to N characters. Prints how many searches were slower than --slow and the worst ones.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import detect, replies  # noqa: E402
from knowledge.load import load_kb  # noqa: E402
from knowledge.match import Matcher  # noqa: E402
from knowledge.ndr import FORMATS  # noqa: E402

UNITS = ("a@", "a.", "a ", "a:", "a-", "5.", "550 ", "a=", "a/", "a'", "a;", "a,", "a\n", " \n", "a]", "(a", "aa",
         "5.1.", "a.a ", "a@a.", "1.1.1.1 ", "::", "ab ", "not ")
PREFIXES = ("", "<", "550 ", "5.7.1 ", "said: ", "a@b.cc: ", "user ", "dns error: ", "connect to ", "mailbox ",
            "domain ", "host ")


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    matcher = Matcher.for_kb(load_kb())
    out = [(item.entry.id, rx) for item in matcher.items for rx, _needs in item.patterns]
    out += [(f"ndr:{name}", rx) for name, rx in FORMATS]
    out += [(f"replies:{name}", rx) for name, rx in vars(replies).items() if isinstance(rx, re.Pattern)]
    out += [(f"detect:{signal.name}", signal.pattern) for signal in detect.rules().signals]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=20_000, help="characters per input (default 20000)")
    ap.add_argument("--slow", type=float, default=50.0, help="report searches slower than this (ms)")
    args = ap.parse_args()
    pats = patterns()
    slow, searches, t0 = [], 0, time.perf_counter()
    for prefix in PREFIXES:
        for unit in UNITS:
            text = (prefix + unit * (args.size // len(unit))).lower()
            for name, rx in pats:
                t = time.perf_counter()
                rx.search(text)
                ms = (time.perf_counter() - t) * 1000
                searches += 1
                if ms > args.slow:
                    slow.append((ms, name, prefix + unit))
    print(f"{len(pats)} regexes x {len(PREFIXES) * len(UNITS)} inputs of {args.size} characters = {searches} searches "
          f"in {time.perf_counter() - t0:.0f} s; slower than {args.slow:.0f} ms: {len(slow)}")
    for ms, name, unit in sorted(slow, reverse=True)[:20]:
        print(f"  {ms:8.0f} ms  {name:32} {unit!r} repeated")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
