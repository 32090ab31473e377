"""Knowledge-base quality figures: question, paste and MTA-bounce sets, and the provider reference table.

Run: python bench/quality.py [--misses] [--reference PATH]

The reference table (shared/ref/provider-bounces.md, the wording the KB's patterns are written from)
gives each provider/MTA text a category. Its fixed category list has no `failedstarttls`,
`notcompliantrfc` or `filtered`, and it files delay warnings and greylisting under `onhold`: the
agreement printed counts those as the reference names them, so it is a floor, not an accuracy.
"""

from __future__ import annotations

import argparse
import re
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


def mta_bounces(kb, path: Path) -> dict:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    top1, misses = 0, []
    for row in rows:
        got = explain(row["text"], kb, top=1).matches
        reason = got[0].entry.reason if got else None
        if reason == row["reason"]:
            top1 += 1
        else:
            misses.append((row["source"], row["reason"], reason, got[0].entry.id if got else None))
    return {"n": len(rows), "top1": top1, "misses": misses}


DEFAULT_REFERENCE = ROOT.parent / "shared" / "ref" / "provider-bounces.md"
_QUOTED = re.compile(r'"([^"]+)"')


def reference_rows(path: Path) -> list[tuple[str, str, str]]:
    """(provider, reply code + first quoted fragment, category) for each table row with a fragment."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 6 or cells[0] in ("provider", "---"):
            continue
        provider, code, fragment, category = cells[0], cells[1], cells[2], cells[5]
        quoted = _QUOTED.findall(fragment)
        if not quoted:
            continue
        reply = "" if code in ("—", "-") else code.split("/")[0].split("(")[0].strip()
        rows.append((provider, f"{reply} {quoted[0].replace('…', ' ').strip()}".strip(), category))
    return rows


def reference(kb, path: Path) -> dict:
    rows = reference_rows(path)
    hits, misses = 0, []
    for provider, text, category in rows:
        got = explain(text, kb, top=1).matches
        reason = got[0].entry.reason if got else None
        if reason == category:
            hits += 1
        else:
            misses.append((provider, category, reason, got[0].entry.id if got else None, text))
    return {"n": len(rows), "hits": hits, "misses": misses}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = ap.parse_args()
    kb = load_kb()
    q = questions(kb, ROOT / "tests" / "data" / "questions.yaml")
    p = pastes(kb, ROOT / "tests" / "data" / "pastes.yaml")
    print(f"questions: {q['n']} ({q['langs']}): top-1 {q['top1'] / q['n']:.1%}, top-3 {q['top3'] / q['n']:.1%}")
    print(f"pastes:    {p['n']}: top-1 {p['top1'] / p['n']:.1%}")
    m = mta_bounces(kb, ROOT / "tests" / "data" / "mta_bounces.yaml")
    print(f"mta set:   {m['n']}: top-1 reason {m['top1'] / m['n']:.1%}")
    r = reference(kb, args.reference) if args.reference.exists() else None
    if r:
        conf = Counter((want, got) for _p, want, got, _id, _t in r["misses"])
        print(f"reference: {r['n']} provider/MTA texts: reason as the table files it {r['hits'] / r['n']:.1%}"
              f" (differences: {', '.join(f'{w}->{g} {n}' for (w, g), n in conf.most_common(6))}...)")
    if args.misses:
        for text, want, got in q["misses"]:
            print(f"  Q {want:28} got {got}  <- {text}")
        for src, want, got in p["misses"]:
            print(f"  P {want:28} got {got}  <- {src}")
        for src, want, got, entry in m["misses"]:
            print(f"  M {want:15} got {got!s:15} {entry!s:28} <- {src}")
        for provider, want, got, entry, text in r["misses"] if r else ():
            print(f"  R {want:15} got {got!s:15} {entry!s:28} <- {provider}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
