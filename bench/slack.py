"""Benchmark: a burst of slash-command checks and pasted-bounce events against the real bot over HTTP.

Starts `smtpbot serve --http --port 0` as its own process (so its RSS is the bot's), with a loopback
stub Slack API and a loopback DNS server whose answers are slowed down so checks are still running
while the burst arrives. Sends N `/smtp check` commands and N pasted-bounce events (plus Slack-style
retries of some events) concurrently, then prints ack latency p50/p99, whether every reply was
delivered exactly once, and the bot's RSS.

    /work/venv/bin/python bench/slack.py [--commands 200] [--events 200] [--retries 20] [--clients 32]

The clients form a closed loop: with C requests always in flight, latency is about C / throughput
(Little's law), so the figure depends on --clients and on the machine; throughput is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers.dns import DnsServer  # noqa: E402
from tests.servers.slack_api import SlackStub, event_body, signed_post, slash_body  # noqa: E402

SECRET = "bench-secret"
ZONE = {
    "example.test": [{"SLOW": 0.3}, {"MX": [10, "mx.example.test"]}, {"TXT": "v=spf1 ip4:192.0.2.10 -all"}],
    "mx.example.test": [{"A": "192.0.2.10"}],
    "_dmarc.example.test": [{"SLOW": 0.8}, {"TXT": "v=DMARC1; p=reject"}],
}
#: bounce wording of real MTAs/providers (ref: shared/ref/provider-bounces.md); addresses invented
BOUNCES = (
    "550 5.1.1 <{user}@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
    "This is the mail system at host mail.example.com.\n\nI'm sorry to have to inform you that your message "
    "could not\nbe delivered to one or more recipients.\n\n"
    "<{user}@example.org>: host mx.example.org[192.0.2.7] "
    "said: 552 5.2.2 Mailbox full",
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders "
    "to authenticate with either SPF or DKIM. {user} - gsmtp",
    "Remote Server returned '550 5.7.1 Service unavailable; Client host [192.0.2.33] blocked using "
    "Spamhaus; To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.33 ({user})'",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_bot(stub: SlackStub, dns: DnsServer, workers: int) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMTPBOT_"))}
    env.update(
        PYTHONPATH=str(REPO),
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=stub.api_url,
        SMTPBOT_NAMESERVERS=dns.nameserver,
        SMTPBOT_CHECK_TIMEOUT="3",
        SMTPBOT_CHECK_WORKERS=str(workers),
        SMTPBOT_MAX_CHECKS="1000",
        SMTPBOT_USER_CHECKS_PER_MIN="1000",
        SMTPBOT_CHANNEL_CHECKS_PER_MIN="1000",
        SMTPBOT_CHANNEL_REPLIES_PER_MIN="1000",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bot.cli import console_main; console_main()",
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--threads",
            "32",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "listening on " in line:
            return proc, line.split("listening on ", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    raise SystemExit(f"bot did not start (exit {proc.poll()})")


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in KiB from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_requests(stub: SlackStub, n_cmd: int, n_ev: int, n_retry: int) -> list[tuple[str, str, str, dict]]:
    reqs = []
    for i in range(n_cmd):
        body = slash_body(
            "check example.test --no-smtp -p", stub.response_url(f"c{i}"), user=f"U{i}", channel=f"C{i % 20}"
        )
        reqs.append(("command", body, "application/x-www-form-urlencoded", {}))
    events = []
    for i in range(n_ev):
        text = random.choice(BOUNCES).format(user=f"user{i}")
        event = {
            "type": "message",
            "channel": f"C{i % 20}",
            "channel_type": "channel",
            "user": f"U{i}",
            "text": text,
            "ts": f"1700000000.{i:06d}",
        }
        events.append((event_body(event, f"Ev{i}"), event))
    reqs += [("event", body, "application/json", {}) for body, _ in events]
    reqs += [
        (
            "retry",
            body,
            "application/json",
            {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        for body, _ in random.sample(events, min(n_retry, len(events)))
    ]
    random.shuffle(reqs)
    return reqs


#: adversarial pastes (floods of blank lines, codes, addresses): detection must stay linear
FLOODS = (
    "\n" * 200_000,
    " \n" * 100_000,
    "550 " * 50_000,
    "5.5.5." * 30_000,
    "<a@b.cc> " * 20_000,
    "a@" * 100_000,
    "password: " * 20_000,
    "334 VXNlcm5hbWU6\n" * 10_000,
    "x" * 200_000,
)


def detection_worst_case() -> tuple[float, float]:
    """(worst, median) milliseconds of bounce + secret detection on 200 KB adversarial pastes."""
    from knowledge.detect import detect_bounce, find_secrets

    times = []
    for text in FLOODS:
        t = time.perf_counter()
        detect_bounce(text)
        find_secrets(text)
        times.append((time.perf_counter() - t) * 1000)
    return max(times), statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=200)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--retries", type=int, default=20)
    ap.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients (closed loop)")
    ap.add_argument("--workers", type=int, default=4, help="bot check workers (default: the bot's own, 4)")
    args = ap.parse_args()
    random.seed(6)
    with DnsServer(ZONE) as dns, SlackStub() as stub:
        proc, url = start_bot(stub, dns, args.workers)
        try:
            rss_idle, _ = rss_kib(proc.pid)
            reqs = build_requests(stub, args.commands, args.events, args.retries)
            cpu_before = cpu_seconds(proc.pid)
            started = time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(
                    pool.map(lambda r: (r[0], signed_post(url, r[1], SECRET, r[2], r[3], timeout=30)), reqs)
                )
            sent = time.monotonic() - started
            cpu_burst = cpu_seconds(proc.pid) - cpu_before
            stub.wait_for(
                lambda s: (
                    len(s.of("response")) >= args.commands and len(s.of("chat.postMessage")) >= args.events
                ),
                timeout=300,
            )
            time.sleep(1.0)  # late duplicates would show up here
            done = time.monotonic() - started
            rss_now, rss_peak = rss_kib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    report(args, results, stub, sent, done, rss_idle, rss_now, rss_peak)
    print(
        f"  bot CPU while the burst was sent: {cpu_burst:.2f} s ({cpu_burst / sent:.0%} of one core, "
        f"{cpu_burst / len(results) * 1000:.1f} ms per request incl. running checks); machine: {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    worst, median = detection_worst_case()
    print(f"  detection on 200 KB adversarial pastes: median {median:.0f} ms, worst {worst:.0f} ms")
    return 0


def report(
    args, results, stub: SlackStub, sent: float, done: float, rss_idle: int, rss_now: int, rss_peak: int
) -> None:
    ok = Counter(kind for kind, r in results if r.status == 200)
    lat = {
        kind: [r.seconds * 1000 for k, r in results if k == kind] for kind in ("command", "event", "retry")
    }
    every = [r.seconds * 1000 for _, r in results]
    per_url = Counter(c.path for c in stub.of("response"))
    per_thread = Counter(
        (c.body.get("channel"), c.body.get("thread_ts")) for c in stub.of("chat.postMessage")
    )
    reports = sum(1 for c in stub.of("response") if "example.test" in str(c.body.get("text", "")))
    print(
        f"smtpbot Slack benchmark: {args.commands} /smtp check + {args.events} pasted bounces "
        f"+ {args.retries} retries, {args.clients} concurrent clients, {args.workers} check workers"
    )
    print(
        f"  HTTP 200: {sum(ok.values())}/{len(results)} ({dict(ok)}); burst sent in {sent:.1f} s "
        f"({len(results) / sent:.0f} requests/s), all replies in {done:.1f} s"
    )
    for kind, values in (*lat.items(), ("all", every)):
        if values:
            print(
                f"  ack latency {kind:<8} p50 {statistics.median(values):7.1f} ms"
                f"   p99 {percentile(values, 0.99):7.1f} ms"
                f"   max {max(values):7.1f} ms"
            )
    print(
        f"  check results via respond(): {len(per_url)} distinct commands answered, "
        f"{sum(n > 1 for n in per_url.values())} answered more than once, {reports} carry a report"
    )
    print(
        f"  bounce replies in threads: {len(per_thread)} threads answered of {args.events}, "
        f"{sum(n > 1 for n in per_thread.values())} answered more than once"
    )
    exactly_once = (
        len(per_url) == args.commands
        and all(n == 1 for n in per_url.values())
        and len(per_thread) == args.events
        and all(n == 1 for n in per_thread.values())
    )
    print(f"  replies delivered exactly once: {'yes' if exactly_once else 'NO'}")
    print(
        f"  bot RSS: idle {rss_idle / 1024:.1f} MiB, after burst {rss_now / 1024:.1f} MiB,"
        f" peak {rss_peak / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
