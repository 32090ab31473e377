"""Benchmark and accuracy of `smtpbot explain` over the public bounce corpus, with Sisimai beside it.

Run: python bench/explain.py [--corpus DIR] [--no-sisimai] [--misses]
Prints: start-up time, emails/s (raw and paste), p50/p99 latency, p99 for a 100 kB input, the worst
of 100 kB adversarial pastes, peak RSS,
top-1 reason accuracy (raw, paste), reply-code/status extraction, the confusion of the misses, and
Sisimai 4.25's throughput over the same files (Debian's libsisimai-perl) with the ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bounces"
#: Sisimai's pseudo status codes (x.0.9xx) name its reason, they are not in the emails
PSEUDO_STATUS = re.compile(r"^\d\.0\.9\d\d$")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def evaluate(corpus: Path) -> dict:
    t0 = time.perf_counter()
    from knowledge.explain import explain
    from knowledge.load import load_kb
    from knowledge.match import Matcher
    from knowledge.reasons import NOT_FAILURES

    t1 = time.perf_counter()
    kb = load_kb()
    Matcher.for_kb(kb)
    startup = time.perf_counter() - t1
    index = [json.loads(line) for line in (corpus / "index.jsonl").open()]
    out: dict = {"startup_ms": startup * 1000, "import_ms": (t1 - t0) * 1000, "n": len(index),
                 "entries": len(kb.entries)}
    for variant, name_of in (("raw", lambda r: r["file"]), ("paste", lambda r: r["paste_file"])):
        lat, hits, misses = [], 0, []
        code_ok = code_n = st_ok = st_n = diag_n = diag_ok = 0
        t_start = time.perf_counter()
        for row in index:
            data = (corpus / name_of(row)).read_bytes()
            t = time.perf_counter()
            expl = explain(data, kb)
            lat.append(time.perf_counter() - t)
            got = expl.matches[0].entry.reason if expl.matches else None
            if got == row["reason"]:
                hits += 1
            else:
                misses.append((row["file"], row["reason"], got, expl.matches[0].entry.id if expl.matches else None))
            if variant == "raw":
                if row["reply_code"]:
                    code_n += 1
                    code_ok += str(row["reply_code"]) == expl.parsed.reply_code
                if row["status"] and not PSEUDO_STATUS.match(row["status"]):
                    st_n += 1
                    st_ok += row["status"] == expl.parsed.status
                if row["reason"] not in NOT_FAILURES:
                    diag_n += 1
                    diag_ok += bool(expl.parsed.diagnostic)
        wall = time.perf_counter() - t_start
        out[variant] = {
            "accuracy": hits / len(index), "hits": hits, "per_s": len(index) / wall,
            "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000, "misses": misses,
        }
        if variant == "raw":
            out["reply_code"] = (code_ok, code_n)
            out["status"] = (st_ok, st_n)
            out["diagnostic"] = (diag_ok, diag_n)
    big = _big_input(corpus, index)
    lat = []
    for _ in range(50):
        t = time.perf_counter()
        explain(big, kb)
        lat.append(time.perf_counter() - t)
    out["big_p99_ms"] = percentile(lat, 99) * 1000
    out["big_kb"] = len(big) // 1024
    times = []
    for unit in ADVERSARIAL:
        text = "550 5.1.1 User unknown\n" + unit * (100 * 1024 // len(unit))
        t = time.perf_counter()
        explain(text, kb)
        times.append((time.perf_counter() - t, unit))
    out["adversarial"] = (percentile([d for d, _ in times], 50) * 1000, max(times))
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


#: units repeated to 100 kB: runs that make a careless regex backtrack (an address pattern facing
#: "a@a@a@...", a line-start pattern facing blank-line floods, reply codes with no text...)
ADVERSARIAL: tuple[str, ...] = (
    "a@", "<" + "a@" * 50, "a@b.c...Deferred:", "x@y.z: ", "<a@b.cc>...", "550 ", "550-", "5.1.1 ", "<<< 550 ",
    "550: 5.1.1 ",
    " \n", "\n", "a_", "0123456789abcdef", "host a.b [192.0.2.1] said: ", "a@b.cc Error, ERROR_CODE :421\n",
    "Diagnostic-Code: smtp; 550 x\n", "-----SMTP command\n", "in reply to RCPT TO command ", "dns error: ",
)


def _big_input(corpus: Path, index: list[dict]) -> bytes:
    """A 100 kB bounce: a real DSN whose returned message carries a large body."""
    base = (corpus / index[0]["file"]).read_bytes()
    filler = b"\n".join(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit %d." % i for i in range(1800))
    return (base + b"\n" + filler)[: 100 * 1024]


def sisimai(corpus: Path, index: list[dict]) -> dict | None:
    """Time Sisimai 4.25 (libsisimai-perl) over the same raw emails in one Perl process."""
    if not shutil.which("perl"):
        return None
    probe = subprocess.run(["perl", "-MSisimai", "-e", "print $Sisimai::VERSION"], capture_output=True, text=True)
    if probe.returncode != 0:
        return {"error": "libsisimai-perl not installed (apt-get install libsisimai-perl)"}
    files = [str(corpus / r["file"]) for r in index]
    script = r"""
use strict; use warnings; use Sisimai; use Time::HiRes qw(time);
my @files = @ARGV; my $n = 0; my $t0 = time;
for my $f (@files) { my $v = Sisimai->make($f, 'delivered' => 1); $n++; }
printf("%d %.6f\n", $n, time - $t0);
"""
    res = subprocess.run(["perl", "-e", script, *files], capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "perl failed"}
    n, secs = res.stdout.split()
    return {"version": probe.stdout.strip(), "per_s": int(n) / float(secs)}


def sisimai_accuracy(corpus: Path, index: list[dict]) -> float | None:
    path = corpus / "sisimai425.jsonl"
    if not path.exists():
        return None
    answers = {json.loads(line)["file"]: json.loads(line) for line in path.open()}
    hits = sum(1 for r in index if answers.get(r["file"], {}).get("reason") == r["reason"])
    return hits / len(index)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--no-sisimai", action="store_true")
    ap.add_argument("--misses", action="store_true", help="list every miss (file, expected, got, entry)")
    args = ap.parse_args()
    if not (args.corpus / "index.jsonl").exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    r = evaluate(args.corpus)
    print(f"knowledge base start-up (load + validate + compile {r['entries']} entries): {r['startup_ms']:.0f} ms "
          f"(module imports before it: {r['import_ms']:.0f} ms)")
    for v in ("raw", "paste"):
        s = r[v]
        print(f"{v:5}: {r['n']} inputs, {s['per_s']:.0f}/s, p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, "
              f"top-1 reason {s['hits']}/{r['n']} = {s['accuracy']:.1%}")
    print(f"100 kB input: p99 {r['big_p99_ms']:.2f} ms ({r['big_kb']} kB)")
    median, (worst, unit) = r["adversarial"]
    print(f"100 kB adversarial pastes ({len(ADVERSARIAL)}): median {median:.0f} ms, "
          f"worst {worst * 1000:.0f} ms ({unit!r} repeated)")
    (c_ok, c_n), (s_ok, s_n) = r["reply_code"], r["status"]
    print(f"reply code extracted: {c_ok}/{c_n} = {c_ok / c_n:.1%}")
    print(f"status extracted:     {s_ok}/{s_n} = {s_ok / s_n:.1%} (Sisimai pseudo codes x.0.9xx excluded)")
    d_ok, d_n = r["diagnostic"]
    print(f"diagnostic line found in failure notices: {d_ok}/{d_n} = {d_ok / d_n:.1%}")
    print(f"peak RSS: {r['rss_mb']:.0f} MB")
    index = [json.loads(line) for line in (args.corpus / "index.jsonl").open()]
    acc = sisimai_accuracy(args.corpus, index)
    if acc is not None:
        print(f"Sisimai 4.25 top-1 reason on raw emails (sisimai425.jsonl): {acc:.1%}")
    if not args.no_sisimai:
        s = sisimai(args.corpus, index)
        if s is None or "error" in s:
            print(f"Sisimai throughput: not measured ({(s or {}).get('error', 'no perl')})")
        else:
            ratio = r["raw"]["per_s"] / s["per_s"]
            print(f"Sisimai {s['version']}: {s['per_s']:.0f} emails/s; smtpbot {r['raw']['per_s']:.0f}/s; "
                  f"ratio smtpbot/sisimai = {ratio:.2f}x")
    for v in ("raw", "paste"):
        conf = Counter((exp, got) for _f, exp, got, _id in r[v]["misses"])
        print(f"\nconfusion of {v} misses (expected -> got: count):")
        for (exp, got), n in conf.most_common():
            print(f"  {exp} -> {got}: {n}")
        if args.misses:
            for f, exp, got, eid in r[v]["misses"]:
                print(f"    {f}: expected {exp}, got {got} ({eid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
