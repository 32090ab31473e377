"""Knowledge-base quality figures: question set, paste set and corpus top-1, with the misses.

Run: python bench/quality.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.explain import explain  # noqa: E402
from knowledge.load import load_kb  # noqa: E402


def questions(kb, path: Path) -> dict:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    top1 = top3 = 0
    misses = []
    per_lang = Counter()
    for row in rows:
        ok_ids = {row["id"], *(row.get("alt") or [])}
        got = [m.entry.id for m in explain(row["q"], kb, top=3).matches]
        per_lang[row["lang"]] += 1
        if got[:1] and got[0] in ok_ids:
            top1 += 1
        else:
            misses.append((row["q"], row["id"], got[:3]))
        if ok_ids & set(got[:3]):
            top3 += 1
    return {"n": len(rows), "top1": top1, "top3": top3, "misses": misses, "langs": dict(per_lang)}


def pastes(kb, path: Path) -> dict:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    top1, misses = 0, []
    for row in rows:
        ok_ids = {row["id"], *(row.get("alt") or [])}
        got = [m.entry.id for m in explain(row["text"], kb, top=3).matches]
        if got[:1] and got[0] in ok_ids:
            top1 += 1
        else:
            misses.append((row.get("source", ""), row["id"], got[:3]))
    return {"n": len(rows), "top1": top1, "misses": misses}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args()
    kb = load_kb()
    q = questions(kb, ROOT / "tests" / "data" / "questions.yaml")
    p = pastes(kb, ROOT / "tests" / "data" / "pastes.yaml")
    print(f"questions: {q['n']} ({q['langs']}): top-1 {q['top1'] / q['n']:.1%}, top-3 {q['top3'] / q['n']:.1%}")
    print(f"pastes:    {p['n']}: top-1 {p['top1'] / p['n']:.1%}")
    if args.misses:
        for text, want, got in q["misses"]:
            print(f"  Q {want:28} got {got}  <- {text}")
        for src, want, got in p["misses"]:
            print(f"  P {want:28} got {got}  <- {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
