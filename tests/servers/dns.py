"""A real authoritative DNS server on loopback for tests and benchmarks (UDP and TCP, dnspython wire code).

Zone data is a plain dict, the same shape the RFC 7208 SPF suite uses, so one server serves both the
suite and our own check zones::

    {"example.test": [{"MX": [10, "mx.example.test"]}, {"TXT": "v=spf1 -all"}],
     "mx.example.test": [{"A": "192.0.2.10"}],
     "slow.example.test": [{"SLOW": 2.0}, {"TXT": "late"}],
     "broken.example.test": ["SERVFAIL"],
     "dead.example.test": ["TIMEOUT"]}

Markers (in list order, like pyspf's test driver): ``"TIMEOUT"`` makes queries for every type not
listed *before* it go unanswered; ``"SERVFAIL"`` and ``"REFUSED"`` likewise answer with that rcode;
``{"SLOW": seconds}`` delays every answer for the name; ``"BOGUS"`` plays a validating resolver
facing broken DNSSEC: SERVFAIL, unless the query sets CD (checking disabled). Names under ``secure``
get the AD bit.
Over UDP an answer larger than the client's EDNS payload (512 without EDNS) is sent with the TC bit
and no records, so clients must retry over TCP — as real servers do.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

Zone = Mapping[str, Iterable[Any]]
_MARKERS = {"TIMEOUT", "SERVFAIL", "REFUSED", "BOGUS"}
#: a stuck client must not keep a TCP handler alive for ever
_TCP_IDLE = 10.0


def _key(name: str) -> str | None:
    try:
        return dns.name.from_text(name).to_text(omit_final_dot=True).lower()
    except Exception:  # names the suite lists but no resolver could ask for (labels > 63)
        return None


def _txt(value: Any, rdtype: dns.rdatatype.RdataType) -> dns.rdata.Rdata:
    strings = [value] if isinstance(value, str | bytes) else list(value)
    encoded = [s if isinstance(s, bytes) else str(s).encode("utf-8", "surrogateescape") for s in strings]
    # one character-string holds at most 255 octets (RFC 1035 3.3.14): split longer text like zone tools do
    encoded = [e[i : i + 255] for e in encoded for i in range(0, max(len(e), 1), 255)]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, rdtype, encoded or [b""])


def _rdata(rtype: str, value: Any) -> dns.rdata.Rdata:
    rdtype = dns.rdatatype.from_text(rtype)
    if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        return _txt(value, rdtype)
    if rdtype == dns.rdatatype.MX and isinstance(value, list | tuple):
        pref, exchange = value
        exchange = exchange if str(exchange).endswith(".") else f"{exchange}."
        return dns.rdata.from_text(dns.rdataclass.IN, rdtype, f"{pref} {exchange}")
    text = str(value)
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.PTR, dns.rdatatype.NS) and not text.endswith("."):
        text += "."
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)


class _Entry:
    """The records and markers of one owner name, in the order given."""

    def __init__(self, items: Iterable[Any]):
        self.items: list[tuple[str, Any]] = []
        self.delay = 0.0
        for item in items:
            if isinstance(item, str) and item in _MARKERS:
                self.items.append((item, None))
                continue
            ((rtype, value),) = dict(item).items()
            if rtype == "SLOW":
                self.delay = float(value)
            elif value != "NONE":
                self.items.append((rtype.upper(), value))

    def lookup(self, rtype: str, cd: bool = False) -> tuple[str, list[Any]]:
        """Return (outcome, values): outcome is "ok", "TIMEOUT", "SERVFAIL" or "REFUSED"."""
        seen: list[Any] = []
        for kind, value in self.items:
            if kind == "BOGUS":
                if not cd:
                    return "SERVFAIL", []
                continue
            if kind in _MARKERS:
                if not seen:
                    return kind, []
                continue
            if kind == rtype:
                seen.append(value)
        return "ok", seen


class DnsServer:
    """Authoritative loopback DNS server; use as a context manager, ask `.nameserver` for HOST:PORT."""

    def __init__(
        self,
        zone: Zone | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secure: Iterable[str] = (),
        latency: float = 0.0,
    ):
        self.host = host
        #: added to every answer, to stand in for a real resolver's round trip in benchmarks
        self.latency = latency
        self._want_port = port
        self.port = 0
        self.secure = {k for k in (_key(s) for s in secure) if k}
        self.queries: Counter[tuple[str, str]] = Counter()
        self.protocols: Counter[str] = Counter()
        self._zone: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.load(zone or {})

    # -- zone -------------------------------------------------------------------------------
    def load(self, zone: Zone) -> None:
        """Replace the served data (safe while running)."""
        built: dict[str, _Entry] = {}
        for name, items in zone.items():
            key = _key(name)
            if key is None:
                continue
            entry = _Entry(items)
            if key in built:
                built[key].items.extend(entry.items)
                built[key].delay = max(built[key].delay, entry.delay)
            else:
                built[key] = entry
        with self._lock:
            self._zone = built
            self._names = set(built)
            self._parents = {p for k in built for p in _ancestors(k)}

    @property
    def total_queries(self) -> int:
        return sum(self.queries.values())

    @property
    def nameserver(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> DnsServer:
        self._thread = threading.Thread(target=self._run, name="dns-stub", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("DNS stub did not start")
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(10)

    _error: BaseException | None = None

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to __enter__
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        tcp = await asyncio.start_server(self._tcp_client, self.host, self._want_port)
        self.port = tcp.sockets[0].getsockname()[1]
        udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.host, self.port))
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            udp.close()
            tcp.close()
            # answers still sleeping (SLOW names) or clients still connected: stop them cleanly
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await tcp.wait_closed()

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), _TCP_IDLE))[0]
                wire = await asyncio.wait_for(reader.readexactly(size), _TCP_IDLE)
                reply = await self.answer(wire, "tcp", 65535)
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    # -- answering --------------------------------------------------------------------------
    async def answer(self, wire: bytes, proto: str, limit: int) -> bytes | None:
        """Build the reply bytes for one query; None means stay silent (a timeout for the client)."""
        try:
            query = dns.message.from_wire(wire)
            question = query.question[0]
        except Exception:
            return None
        qname = question.name.to_text(omit_final_dot=True).lower()
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.queries[(qname, qtype)] += 1
        self.protocols[proto] += 1
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        with self._lock:
            outcome, delay = self._fill(response, question.name, qtype, bool(query.flags & dns.flags.CD))
        delay = max(delay, self.latency)
        if delay:
            await asyncio.sleep(delay)
        if outcome == "TIMEOUT":
            return None
        if proto == "udp" and query.edns >= 0:
            limit = max(512, min(query.payload, 65535))
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.additional.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _fill(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: str, cd: bool = False
    ) -> tuple[str, float]:
        name = qname.to_text(omit_final_dot=True).lower()
        delay = 0.0
        for _ in range(9):  # CNAME chain inside the zone, bounded
            entry = self._zone.get(name) or self._wildcard(name)
            if entry is None:
                if name in self._parents:
                    break  # empty non-terminal: NOERROR, no data
                if not response.answer:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
            delay = max(delay, entry.delay)
            outcome, values = entry.lookup(qtype, cd)
            if outcome != "ok":
                if outcome in ("SERVFAIL", "REFUSED"):
                    response.set_rcode(dns.rcode.from_text(outcome))
                return outcome, delay
            owner = dns.name.from_text(name)
            if values:
                rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.from_text(qtype))
                for value in values:
                    rrset.add(_rdata(qtype, value), ttl=300)
                response.answer.append(rrset)
                break
            _, cnames = entry.lookup("CNAME")
            if not cnames or qtype == "CNAME":
                break
            target = _rdata("CNAME", cnames[0])
            response.answer.append(dns.rrset.from_rdata(owner, 300, target))
            name = target.target.to_text(omit_final_dot=True).lower()
        if any(name == s or name.endswith("." + s) for s in self.secure):
            response.flags |= dns.flags.AD
        return "ok", delay

    def _wildcard(self, name: str) -> _Entry | None:
        """RFC 4592 wildcard: `*.<closest encloser>` answers for names that do not exist."""
        if name in self._parents:
            return None
        for parent in _ancestors(name):
            if parent in self._names or parent in self._parents:
                return self._zone.get(f"*.{parent}")
        return None


def _ancestors(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.ensure_future(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = await self.server.answer(data, "udp", 512)
        if reply is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)
