"""Loopback SMTP servers for the probe tests: a good aiosmtpd server and scripted fault servers.

All servers listen on 127.0.0.1 port 0 inside one event loop running in a daemon thread, so the
probe under test (in pytest's own loop) talks to them over real sockets. Scripted servers log
every command they receive, so tests can prove the probe never sent DATA or AUTH, and each
connection ends by itself after `Script.lifetime` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
MX_NAME = "mx.test"


class ServerThread:
    """An asyncio loop in a daemon thread that hosts loopback servers until `stop()`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="smtp-servers", daemon=True)
        self._thread.start()
        self._servers: list[asyncio.Server] = []

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def listen(self, factory: Any, tls: ssl.SSLContext | None = None, host: str = HOST, port: int = 0) -> int:
        """Start a server (a protocol factory) on `host` (loopback), port 0 by default; return its port."""
        async def start() -> asyncio.Server:
            return await self.loop.create_server(factory, host, port, ssl=tls)

        server = self.call(start())
        self._servers.append(server)
        return server.sockets[0].getsockname()[1]

    def serve(self, handler: Any, tls: ssl.SSLContext | None = None, host: str = HOST, port: int = 0) -> int:
        """Start a stream server whose connections run `handler(reader, writer)`; return its port."""
        async def start() -> asyncio.Server:
            return await asyncio.start_server(handler, host, port, ssl=tls)

        server = self.call(start())
        self._servers.append(server)
        return server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close_all() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            self.call(close_all(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()


# --- certificates -------------------------------------------------------------------------


@dataclass
class PKI:
    """A trustme CA (written to `ca_path` for `--ca-file`) and server contexts for each cert case."""

    ca_path: str
    ca: trustme.CA = field(default_factory=trustme.CA)

    def context(self, *names: str, days: float = 365, past: bool = False, tls10_only: bool = False,
                static_rsa: bool = False) -> ssl.SSLContext:
        """A server context for a leaf from the test CA: valid, expired (`past`), expiring in
        `days`, TLS 1.0 only, or TLS 1.2 with RSA key exchange only (no forward secrecy)."""
        now = dt.datetime.now(dt.UTC)
        start, end = (now - dt.timedelta(days=90), now - dt.timedelta(days=2)) if past else \
            (now - dt.timedelta(days=1), now + dt.timedelta(days=days))
        key_type = trustme.KeyType.RSA if static_rsa else trustme.KeyType.ECDSA
        leaf = self.ca.issue_cert(*names, not_before=start, not_after=end, key_type=key_type)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(ctx)
        if static_rsa:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("AES128-GCM-SHA256")
        if tls10_only:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        return ctx

    @staticmethod
    def self_signed(name: str, directory: str) -> ssl.SSLContext:
        """A leaf signed by its own key: what `make-ssl-cert` and appliance defaults produce."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(key, hashes.SHA256()))
        path = f"{directory}/self-signed.pem"
        with open(path, "wb") as fh:
            fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
            fh.write(cert.public_bytes(serialization.Encoding.PEM))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(path)
        return ctx


def tls10_supported() -> str | None:
    """None when this OpenSSL can still speak TLS 1.0 with itself, else the reason it cannot."""
    ca = trustme.CA()
    server = PKI("", ca).context("tls10.test", tls10_only=True)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    client.minimum_version = ssl.TLSVersion.TLSv1
    client.set_ciphers("ALL:@SECLEVEL=0")
    a, b = socket.socketpair()
    result: list[str] = []
    thread = threading.Thread(target=lambda: _wrap_quietly(server, a, result))
    thread.start()
    try:
        with client.wrap_socket(b) as tls_sock:
            version = tls_sock.version()
    except (ssl.SSLError, OSError) as exc:
        version = f"error: {exc}"
    thread.join(5)
    a.close()
    return None if version == "TLSv1" else f"local OpenSSL ({ssl.OPENSSL_VERSION}) refuses TLS 1.0: {version}"


def _wrap_quietly(ctx: ssl.SSLContext, sock: socket.socket, result: list[str]) -> None:
    try:
        with ctx.wrap_socket(sock, server_side=True) as s:
            result.append(s.version() or "")
    except (ssl.SSLError, OSError) as exc:
        result.append(str(exc))


# --- the good server (aiosmtpd) -----------------------------------------------------------------


class RelayRefusingHandler:
    """aiosmtpd handler: local recipients only, like any well-configured MX."""

    local_domains = ("mx.test", "example.test")

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.rpartition("@")[2].lower() not in self.local_domains:
            return "554 5.7.1 <%s>: Relay access denied" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"


def aiosmtpd_server(thread: ServerThread, tls: ssl.SSLContext | None, host: str = HOST, port: int = 0,
                    **kw: Any) -> int:
    """A real aiosmtpd server with STARTTLS (and AUTH only after it, aiosmtpd's default)."""
    handler = kw.pop("handler", RelayRefusingHandler())
    factory = lambda: SMTP(handler, hostname=MX_NAME, tls_context=tls, loop=thread.loop, **kw)  # noqa: E731
    return thread.listen(factory, host=host, port=port)


# --- scripted fault servers ----------------------------------------------------------------------


@dataclass
class Script:
    """What a scripted server does; the defaults are a plain, well-behaved ESMTP server."""

    greeting: str = f"220 {MX_NAME} ESMTP scripted"
    greeting_delay: float = 0.0
    #: accept the connection and never say a word
    silent: bool = False
    #: after the greeting starts, stream one endless line
    endless: bool = False
    ehlo_reply: str | None = None
    helo_reply: str = f"250 {MX_NAME}"
    #: the answer to STARTTLS when the server does not really do TLS (`starttls` unset)
    starttls_reply: str = "502 5.5.2 Error: command not recognized"
    extensions: tuple[str, ...] = ("PIPELINING", "SIZE 10240000", "8BITMIME")
    #: STARTTLS advertised and performed with this context
    starttls: ssl.SSLContext | None = None
    rcpt_reply: str = "554 5.7.1 Relay access denied"
    #: wait this long before every reply after the greeting (a tarpit)
    reply_delay: float = 0.0
    #: every connection is closed after this many seconds, whatever happens
    lifetime: float = 20.0
    #: connections after this many are closed at once, without a word
    accept_limit: int | None = None
    accepted: int = 0
    commands: list[str] = field(default_factory=list)
    #: connections open now, and the most ever open at once (the probe's per-host limit)
    active: int = 0
    max_active: int = 0


def scripted_server(thread: ServerThread, script: Script, implicit: ssl.SSLContext | None = None,
                    host: str = HOST, port: int = 0) -> int:
    """Start a scripted SMTP server; with `implicit`, TLS starts at the first byte (port 465 style)."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.active += 1
        script.max_active = max(script.max_active, script.active)
        script.accepted += 1
        try:
            if script.accept_limit is not None and script.accepted > script.accept_limit:
                return
            async with asyncio.timeout(script.lifetime):
                await _converse(script, reader, writer)
        except (TimeoutError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # ServerThread.stop(): end quietly, the loop is going away
            pass
        finally:
            script.active -= 1
            writer.close()

    return thread.serve(handler, implicit, host=host, port=port)


async def _converse(script: Script, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    if script.silent:
        await reader.read()  # until the client gives up
        return
    await asyncio.sleep(script.greeting_delay)
    if script.endless:
        writer.write(b"220-")
        while True:
            writer.write(b"x" * 8192)
            await writer.drain()
            await asyncio.sleep(0.001)
    await _say(writer, script.greeting)
    tls_on = False
    while line := (await reader.readline()).decode("ascii", "replace").strip():
        script.commands.append(line)
        verb = line.split(" ", 1)[0].upper()
        await asyncio.sleep(script.reply_delay)
        if verb == "QUIT":
            await _say(writer, "221 2.0.0 Bye")
            return
        if verb == "STARTTLS" and script.starttls and not tls_on:
            await _say(writer, "220 2.0.0 Ready to start TLS")
            await writer.start_tls(script.starttls)
            tls_on = True
            continue
        await _say(writer, _answer(script, verb, tls_on))


def _answer(script: Script, verb: str, tls_on: bool) -> str:
    if verb == "EHLO":
        if script.ehlo_reply:
            return script.ehlo_reply
        ext = list(script.extensions) + (["STARTTLS"] if script.starttls and not tls_on else [])
        return "\r\n".join([f"250-{MX_NAME}"] + [f"250-{e}" for e in ext[:-1]] + [f"250 {ext[-1]}"])
    return {"HELO": script.helo_reply, "STARTTLS": script.starttls_reply, "MAIL": "250 2.1.0 Ok", "RCPT": script.rcpt_reply,
            "RSET": "250 2.0.0 Ok", "NOOP": "250 2.0.0 Ok", "DATA": "354 go ahead (the probe must never get here)",
            "AUTH": "535 5.7.8 no"}.get(verb, "502 5.5.2 Error: command not recognized")


async def _say(writer: asyncio.StreamWriter, text: str) -> None:
    writer.write(text.encode("ascii") + b"\r\n")
    await writer.drain()


# --- ports that refuse or drop ------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Blackhole:
    """A listener whose one-slot accept queue is full, so further SYNs are dropped: connects time out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.filler = socket.create_connection((HOST, self.port), timeout=2)

    def close(self) -> None:
        self.filler.close()
        self.sock.close()
