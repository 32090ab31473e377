"""Benchmark: SMTP/TLS probes of 3 MX addresses at once, one of them silent.

Three loopback addresses (127.0.0.2-4) listen on the same port, as three MX addresses of one
domain would: a good aiosmtpd server with STARTTLS and a trustme certificate, a good server
that delays its greeting (0.75 x timeout, like postscreen), and one that accepts the connection
and never greets. The concurrent probe must cost about one timeout (the silent server's), not
the sum of the three probes.

Run: /work/venv/bin/python bench/check_smtp.py [--timeout S] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks import smtp  # noqa: E402
from checks.model import CheckOptions  # noqa: E402
from tests.servers.smtp import PKI, Script, ServerThread, aiosmtpd_server, scripted_server  # noqa: E402

ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
SLOW = "127.0.0.3"
SILENT = "127.0.0.4"


def shared_port() -> int:
    """A port free on all three loopback addresses (they share one `--smtp-port`)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((ADDRESSES[0], 0))
            port = probe.getsockname()[1]
        if all(_free(a, port) for a in ADDRESSES):
            return port
    raise SystemExit("no common free port on 127.0.0.2-4")


def _free(address: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def start_servers(thread: ServerThread, pki: PKI, port: int, timeout: float) -> None:
    tls = pki.context("mx.bench.test")
    aiosmtpd_server(thread, tls, host=ADDRESSES[0], port=port)
    slow = Script(greeting_delay=0.75 * timeout, starttls=tls, lifetime=60)
    scripted_server(thread, slow, host=SLOW, port=port)
    scripted_server(thread, Script(silent=True, lifetime=60), host=SILENT, port=port)


def domain_check(port: int, pki: PKI, timeout: float) -> tuple[float, int]:
    """A whole `run_check` of a domain whose three MX hosts are the three servers (one silent)."""
    from checks.report import run_check
    from tests.servers.dns import DnsServer

    names = {f"mx{i}.bench.test": a for i, a in enumerate(ADDRESSES, 1)}
    zone = {"bench.test": [{"MX": [10 * i, n]} for i, n in enumerate(names, 1)] + [{"TXT": "v=spf1 mx -all"}],
            "_dmarc.bench.test": [{"TXT": "v=DMARC1; p=reject"}]}
    zone.update({n: [{"A": a}] for n, a in names.items()})
    with DnsServer(zone) as dns:
        opts = CheckOptions(nameservers=(("127.0.0.1", dns.port),), timeout=timeout, allow_private=True,
                            ca_file=pki.ca_path, ehlo_name="bench.smtpbot.test", smtp_port=port,
                            dnsbl_zones=("dnsbl.bench.test",))
        start = time.perf_counter()
        report = asyncio.run(run_check("bench.test", opts))
        return time.perf_counter() - start, len(report.findings)


async def probe_one(address: str, opts: CheckOptions) -> tuple[float, int]:
    start = time.perf_counter()
    found = await smtp.probe_mx("mx.bench.test", address, opts)
    return time.perf_counter() - start, len(found)


async def probe_all(opts: CheckOptions) -> tuple[float, int]:
    start = time.perf_counter()
    with smtp.run_limits():
        results = await asyncio.gather(*(smtp.probe_mx("mx.bench.test", a, opts) for a in ADDRESSES))
    return time.perf_counter() - start, sum(len(r) for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pki = PKI(f"{tmp}/ca.pem")
        pki.ca.cert_pem.write_to_path(pki.ca_path)
        thread = ServerThread()
        try:
            port = shared_port()
            start_servers(thread, pki, port, args.timeout)
            opts = CheckOptions(timeout=args.timeout, ca_file=pki.ca_path, ehlo_name="bench.smtpbot.test",
                                smtp_port=port)
            singles = {a: asyncio.run(probe_one(a, opts)) for a in ADDRESSES}
            rounds = [asyncio.run(probe_all(opts)) for _ in range(args.rounds)]
            full = [domain_check(port, pki, args.timeout) for _ in range(args.rounds)]
        finally:
            thread.stop()
    for address, (secs, count) in singles.items():
        label = {SILENT: "silent", SLOW: "slow greeting"}.get(address, "good")
        print(f"single probe {address} ({label}): {secs:.3f} s, {count} findings")
    walls = [w for w, _ in rounds]
    slowest, total = max(s for s, _ in singles.values()), sum(s for s, _ in singles.values())
    print(f"concurrent probe of 3 MX addresses, timeout {args.timeout:g} s, {args.rounds} rounds: "
          f"median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}), "
          f"{rounds[0][1]} findings")
    print(f"slowest single {slowest:.3f} s, sum of singles {total:.3f} s, "
          f"concurrent/slowest = {statistics.median(walls) / slowest:.2f}")
    full_walls = [w for w, _ in full]
    print(f"full domain check (DNS + SMTP/TLS of the 3 MX addresses), {args.rounds} rounds: median "
          f"{statistics.median(full_walls):.3f} s, {full[0][1]} findings; limit timeout + 1.5 s = "
          f"{args.timeout + 1.5:.1f} s")
    ok = statistics.median(walls) < args.timeout + 0.5 and statistics.median(full_walls) < args.timeout + 1.5
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
