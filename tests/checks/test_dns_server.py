"""The loopback DNS server itself behaves like a real authoritative server (the other tests lean on it)."""

from __future__ import annotations

import socket
import time

import dns.flags
import dns.message
import dns.nameserver
import dns.query
import dns.rcode
import dns.resolver
import pytest

from tests.servers.dns import DnsServer

ZONE = {
    "example.test": [{"MX": [10, "mx.example.test"]}, {"TXT": "v=spf1 -all"}, {"A": "192.0.2.1"}],
    "mx.example.test": [{"A": "192.0.2.10"}],
    "alias.example.test": [{"CNAME": "mx.example.test"}],
    "big.example.test": [{"TXT": f"{i}-" + "x" * 250} for i in range(10)],
    "*.wild.example.test": [{"TXT": "wildcard"}],
    "deep.ent.example.test": [{"A": "192.0.2.2"}],
    "partial.example.test": [{"TXT": "answered"}, "TIMEOUT"],
    "broken.example.test": ["SERVFAIL"],
    "slow.example.test": [{"SLOW": 0.5}, {"A": "192.0.2.3"}],
    "long.example.test": [{"TXT": "y" * 600}],
}


@pytest.fixture(scope="module")
def server():  # noqa: ANN201
    with DnsServer(ZONE, secure=["example.test"]) as srv:
        yield srv


def ask(server: DnsServer, name: str, rdtype: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", timeout=2, port=server.port)


def test_answers_and_authority_flags(server: DnsServer) -> None:
    reply = ask(server, "example.test", "MX")
    assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA and reply.flags & dns.flags.AD
    assert reply.answer[0][0].exchange.to_text() == "mx.example.test."


def test_nxdomain_nodata_and_empty_non_terminal(server: DnsServer) -> None:
    assert ask(server, "nope.example.test", "A").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(server, "mx.example.test", "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    ent = ask(server, "ent.example.test", "A")
    assert ent.rcode() == dns.rcode.NOERROR and not ent.answer


def test_cname_is_followed_inside_the_zone(server: DnsServer) -> None:
    reply = ask(server, "alias.example.test", "A")
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]


def test_wildcard_answers_for_missing_names_only(server: DnsServer) -> None:
    assert ask(server, "anything.wild.example.test", "TXT").answer[0][0].strings == (b"wildcard",)


def test_udp_truncates_and_tcp_carries_large_answers(server: DnsServer) -> None:
    udp = ask(server, "big.example.test", "TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    assert len(ask(server, "big.example.test", "TXT", tcp=True).answer[0]) == 10


def test_long_text_is_split_into_255_octet_strings(server: DnsServer) -> None:
    strings = ask(server, "long.example.test", "TXT").answer[0][0].strings
    assert [len(s) for s in strings] == [255, 255, 90]


def test_servfail_timeout_and_slow_names(server: DnsServer) -> None:
    assert ask(server, "broken.example.test", "A").rcode() == dns.rcode.SERVFAIL
    assert ask(server, "partial.example.test", "TXT").answer  # types listed before TIMEOUT still answer
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(
            dns.message.make_query("partial.example.test", "A"), "127.0.0.1", timeout=0.3, port=server.port
        )
    start = time.monotonic()
    assert ask(server, "slow.example.test", "A").answer
    assert time.monotonic() - start >= 0.5


def test_queries_are_counted_per_name_type_and_protocol(server: DnsServer) -> None:
    before = server.queries[("mx.example.test", "A")]
    ask(server, "mx.example.test", "A")
    assert server.queries[("mx.example.test", "A")] == before + 1
    assert server.protocols["udp"] > 0


def test_stops_and_frees_its_port() -> None:
    with DnsServer(ZONE) as srv:
        port = srv.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))  # free again
