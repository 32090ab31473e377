"""Benchmark: a full domain check on the loopback zones, smtpbot against checkdmarc, same zones, same run.

Prints wall time and DNS queries sent for each tool at a few simulated resolver latencies, the
ratio, and how long a check takes when the nameserver never answers (it must finish within
--timeout plus a small margin). Network: 127.0.0.0/8 only — the process refuses any other
connection, and host-name lookups outside our resolver (checkdmarc's MTA-STS fetch uses the OS
resolver) are answered from the same zone data.

    /work/venv/bin/python bench/check.py [--timeout 1] [--latency 0 0.03] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks.model import CheckOptions  # noqa: E402
from checks.report import run_check  # noqa: E402
from tests.checks import zones  # noqa: E402
from tests.servers.dns import DnsServer  # noqa: E402
from tests.servers.https import HttpsServer  # noqa: E402
from tests.servers.loopback import guard_sockets, is_loopback  # noqa: E402

#: how far past --timeout a dead-nameserver run may go before we call it a failure
MARGIN = 0.5


def loopback_only(zone: dict[str, list[Any]]) -> None:
    """Refuse non-loopback traffic; answer OS-resolver lookups from the zone (never the real DNS)."""
    real_gai = socket.getaddrinfo

    def refuse(address: object) -> None:
        if not is_loopback(address):
            raise OSError(f"bench: {address!r} is not loopback")

    def getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        try:
            ipaddress.ip_address(str(host))
            return real_gai(host, port, *args, **kw)
        except ValueError:
            pass
        records = [
            r["A"] for r in zone.get(str(host).lower().rstrip("."), []) if isinstance(r, dict) and "A" in r
        ]
        if not records:
            raise socket.gaierror(socket.EAI_NONAME, "not in the bench zone")
        return real_gai(records[0], port, *args, **kw)

    guard_sockets(refuse)
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def smtpbot_run(domain: str, server: DnsServer, web: HttpsServer, timeout: float) -> tuple[float, int, int]:
    opts = CheckOptions(
        nameservers=(("127.0.0.1", server.port),),
        timeout=timeout,
        allow_private=True,
        smtp=False,
        https_port=web.port,
        ca_file=web.ca_file,
        dnsbl_zones=(zones.BL,),
    )
    before = server.total_queries
    start = time.perf_counter()
    report = asyncio.run(run_check(domain, opts))
    return time.perf_counter() - start, server.total_queries - before, len(report.findings)


def checkdmarc_fresh() -> None:
    """Empty checkdmarc's in-process caches (30 min ExpiringDicts) so every run does its real work."""
    import checkdmarc.dnssec
    import checkdmarc.smtp
    import checkdmarc.utils

    for module, names in (
        (checkdmarc.utils, ("DNS_CACHE", "_NAMESERVER_FAILURES")),
        (checkdmarc.dnssec, ("DNSSEC_CACHE", "DNSKEY_CACHE", "TLSA_CACHE")),
        (checkdmarc.smtp, ("TLS_CACHE", "STARTTLS_CACHE")),
    ):
        for name in names:
            getattr(module, name).clear()


def checkdmarc_run(domain: str, server: DnsServer, timeout: float) -> tuple[float, int]:
    import checkdmarc

    checkdmarc_fresh()
    before = server.total_queries
    start = time.perf_counter()
    checkdmarc.check_domains([domain], nameservers=[dns_nameserver(server.port)], timeout=timeout)
    return time.perf_counter() - start, server.total_queries - before


def dns_nameserver(port: int) -> Any:
    import dns.nameserver

    return dns.nameserver.Do53Nameserver("127.0.0.1", port)


def compare(domain: str, latency: float, runs: int, timeout: float, zone: dict[str, list[Any]]) -> None:
    with DnsServer(zone, secure=zones.SECURE, latency=latency) as server, HttpsServer(zones.routes()) as web:
        ours = [smtpbot_run(domain, server, web, timeout) for _ in range(runs)]
        theirs = [checkdmarc_run(domain, server, timeout) for _ in range(runs)]
    t_ours = statistics.median(r[0] for r in ours)
    t_theirs = statistics.median(r[0] for r in theirs)
    print(
        f"{domain:<14} latency {latency * 1000:>4.0f} ms | smtpbot {t_ours:7.3f} s {ours[0][1]:>4} queries "
        f"{ours[0][2]:>3} findings | checkdmarc {t_theirs:7.3f} s {theirs[0][1]:>4} queries | "
        f"checkdmarc/smtpbot time ratio {t_theirs / t_ours:5.1f}x"
    )


def dead_nameserver(timeout: float) -> bool:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        opts = CheckOptions(nameservers=(("127.0.0.1", port),), timeout=timeout, smtp=False)
        start = time.perf_counter()
        report = asyncio.run(run_check("good.test", opts))
        ours = time.perf_counter() - start
        errors = sum(1 for f in report.findings if f.status == "error")
        import checkdmarc

        checkdmarc_fresh()
        start = time.perf_counter()
        checkdmarc.check_domains(["good.test"], nameservers=[dns_nameserver(port)], timeout=timeout)
        theirs = time.perf_counter() - start
    finally:
        silent.close()
    ok = ours <= timeout + MARGIN
    print(
        f"dead nameserver, --timeout {timeout:g}: smtpbot {ours:.3f} s ({errors} 'could not check' findings, "
        f"limit {timeout + MARGIN:g} s: {'OK' if ok else 'TOO SLOW'}) | checkdmarc {theirs:.3f} s | "
        f"ratio {theirs / ours:.1f}x"
    )
    return ok


def hostile_records() -> None:
    """Parse times of 60 kB records padded by a hostile domain owner (published records are input
    smtpbot does not control; a quadratic regex there stalls a check's worker)."""
    from checks import dmarc_record, mta_sts_policy, spf_record

    n = 60_000
    cases = {
        "DMARC rua with 30k labels": lambda: dmarc_record.parse(
            "v=DMARC1; p=none; rua=mailto:x@" + "a." * (n // 2) + "!"),
        "DMARC padded with blanks": lambda: dmarc_record.parse(
            "v=DMARC1; p=none; rua=mailto:a@b.c" + " \t" * (n // 2) + "x"),
        "MTA-STS mx with 30k labels": lambda: mta_sts_policy.parse_policy(
            "version: STSv1\nmx: " + "a." * (n // 2) + "!\n"),
        "SPF with 5k ip4 terms": lambda: spf_record.parse("v=spf1 " + "ip4:192.0.2.1 " * (n // 14) + "-all"),
    }
    print("\n-- hostile published records (60 kB), parse time --")
    for name, parse in cases.items():
        t = time.perf_counter()
        try:
            parse()
        except Exception:  # noqa: BLE001 - a syntax error is an answer too; the time is what is measured
            pass
        print(f"  {name:32} {(time.perf_counter() - t) * 1000:8.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.0, help="per-operation timeout for both tools (s)")
    parser.add_argument(
        "--latency", type=float, nargs="+", default=[0.0, 0.03], help="added per DNS answer (s)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; the median is printed")
    parser.add_argument(
        "--domain", action="append", help="zone domain(s) to check (default good.test, lookups.test)"
    )
    args = parser.parse_args(argv)
    zone = zones.zone()
    loopback_only(zone)
    logging.getLogger("checkdmarc").setLevel(logging.CRITICAL)  # its per-query warnings are not results
    try:
        import checkdmarc  # noqa: F401
    except ImportError:
        print("checkdmarc is not installed: /work/venv/bin/pip install checkdmarc (the `bench` extra)")
        return 2
    for latency in args.latency:
        for domain in args.domain or ["good.test", "lookups.test"]:
            compare(domain, latency, args.runs, args.timeout, zone)
    dead_ok = dead_nameserver(args.timeout)
    hostile_records()
    print("\n-- SMTP/TLS: a domain with 3 MX addresses, one silent (bench/check_smtp.py) --")
    from bench import check_smtp

    smtp_ok = check_smtp.main(["--timeout", str(max(args.timeout, 1.0)), "--rounds", str(args.runs)]) == 0
    return 0 if dead_ok and smtp_ok else 1


if __name__ == "__main__":
    sys.exit(main())
