"""SMTP client I/O for the probes (RFC 5321): bounded replies, timeouts, TLS upgrade, per-run limits.

Everything here is transport: it knows how to talk SMTP safely (every read bounded in size and
time, never more than a few connections per host) but not what the answers mean; the checks in
`checks/smtp.py`, `checks/tls.py` and `checks/relay.py` judge them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

#: RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets; allow generous slack for odd servers
MAX_LINE = 4096
#: a multi-line reply longer than this is not an SMTP server talking (EHLO lists are ~15 lines)
MAX_LINES = 200
#: polite bound on simultaneous connections to one address in one run (Postfix's anvil and
#: postscreen punish clients that open many; a probe needs at most 3, one per submission port)
PER_HOST_CONNECTIONS = 3

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EADDRNOTAVAIL}


class SmtpIOError(Exception):
    """A conversation step could not finish; `kind` says how (timeout, closed, garbage, tls)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply: the code and the text of every line (without the code prefix)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines).strip()

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    """Why a TCP connection did not open: `refused`, `timeout` or `unreachable` (or `error`)."""

    reason: str
    message: str
    elapsed_ms: int


class ConnectionLimiter:
    """Caps simultaneous connections per address for one check run.

    One limiter belongs to one run: the engine enters `run_limits()` around the run (a
    contextvar, so concurrent runs in one bot process never share slots); a probe called
    outside it makes its own limiter, which still bounds that probe's own connections.
    """

    def __init__(self, per_host: int = PER_HOST_CONNECTIONS) -> None:
        self.per_host = per_host
        self._sems: dict[str, asyncio.Semaphore] = {}

    def slot(self, address: str) -> asyncio.Semaphore:
        """The semaphore guarding connections to `address` (created on first use)."""
        if address not in self._sems:
            self._sems[address] = asyncio.Semaphore(self.per_host)
        return self._sems[address]


_RUN_LIMITER: contextvars.ContextVar[ConnectionLimiter | None] = contextvars.ContextVar(
    "smtpbot_connection_limiter", default=None
)


@contextlib.contextmanager
def run_limits(per_host: int = PER_HOST_CONNECTIONS) -> Iterator[ConnectionLimiter]:
    """Share one per-address connection limit among all probes started inside the block."""
    limiter = ConnectionLimiter(per_host)
    token = _RUN_LIMITER.set(limiter)
    try:
        yield limiter
    finally:
        _RUN_LIMITER.reset(token)


def current_limiter() -> ConnectionLimiter:
    """The run's limiter if the engine set one, else a fresh one for this probe only."""
    return _RUN_LIMITER.get() or ConnectionLimiter()


def classify_connect_error(exc: BaseException) -> str:
    """Map a connect exception to `refused`, `timeout`, `unreachable` or `error`."""
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return "unreachable"
    if isinstance(exc, OSError) and exc.errno == errno.ETIMEDOUT:
        return "timeout"
    return "error"


class SmtpConnection:
    """A client-side SMTP conversation over asyncio streams; every read is bounded."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float,
                 deadline: float | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self._timeout = timeout
        #: monotonic time after which every operation times out at once (the probe's budget)
        self.deadline = deadline
        self.tls: ssl.SSLObject | None = None

    @property
    def timeout(self) -> float:
        """The bound on the next operation: `--timeout`, or less when the budget runs out."""
        if self.deadline is None:
            return self._timeout
        return max(0.0, min(self._timeout, self.deadline - time.monotonic()))

    @classmethod
    async def open(cls, address: str, port: int, timeout: float,
                   deadline: float | None = None) -> SmtpConnection | ConnectFailure:
        """Open TCP to `address:port` within `timeout`; failures come back as values."""
        start = time.monotonic()
        limit = timeout if deadline is None else max(0.0, min(timeout, deadline - start))
        try:
            async with asyncio.timeout(limit):
                reader, writer = await asyncio.open_connection(address, port, limit=MAX_LINE)
        except (OSError, TimeoutError) as exc:
            elapsed = int((time.monotonic() - start) * 1000)
            return ConnectFailure(classify_connect_error(exc), str(exc) or type(exc).__name__, elapsed)
        return cls(reader, writer, timeout, deadline)

    async def read_reply(self, timeout: float | None = None) -> Reply:
        """Read one (possibly multi-line) reply; the whole reply must arrive within the timeout."""
        lines: list[str] = []
        timeout = min(timeout, self.timeout) if timeout is not None else self.timeout
        try:
            async with asyncio.timeout(timeout):
                while True:
                    code, last, text = self._parse(await self._readline())
                    lines.append(text)
                    if last:
                        return Reply(code, tuple(lines))
                    if len(lines) >= MAX_LINES:
                        raise SmtpIOError("garbage", f"reply longer than {MAX_LINES} lines")
        except TimeoutError:
            raise SmtpIOError("timeout", f"no complete reply within {timeout:.3g} s") from None

    async def _readline(self) -> bytes:
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise SmtpIOError("garbage", f"reply line longer than {MAX_LINE} octets") from None
        except asyncio.IncompleteReadError:
            raise SmtpIOError("closed", "server closed the connection") from None
        except (ConnectionError, ssl.SSLError) as exc:
            raise SmtpIOError("closed", f"connection lost: {exc}") from None
        return line.rstrip(b"\r\n")

    @staticmethod
    def _parse(raw: bytes) -> tuple[int, bool, str]:
        text = raw.decode("utf-8", "replace")
        if len(text) < 3 or not text[:3].isdigit() or (len(text) > 3 and text[3] not in " -"):
            raise SmtpIOError("garbage", f"not an SMTP reply: {text[:80]!r}")
        return int(text[:3]), len(text) == 3 or text[3] == " ", text[4:]

    async def command(self, line: str) -> Reply:
        """Send one command line (never pipelined) and read its reply."""
        await self.send(line)
        return await self.read_reply()

    async def send(self, line: str) -> None:
        try:
            self.writer.write(line.encode("ascii") + b"\r\n")
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except (ConnectionError, TimeoutError) as exc:
            raise SmtpIOError("closed", f"could not send: {exc or type(exc).__name__}") from None

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str | None) -> None:
        """TLS handshake on the open connection (after STARTTLS's 220, or at once for port 465)."""
        timeout = self.timeout
        try:
            async with asyncio.timeout(timeout):
                await self.writer.start_tls(
                    context, server_hostname=server_hostname, ssl_handshake_timeout=max(timeout, 0.001)
                )
        except TimeoutError:
            raise SmtpIOError("timeout", f"TLS handshake did not finish within {timeout:.3g} s") from None
        except ssl.SSLCertVerificationError:
            raise
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            raise SmtpIOError("tls", f"TLS handshake failed: {exc}") from None
        self.tls = self.writer.get_extra_info("ssl_object")

    def abort(self) -> None:
        """Drop the connection at once, without QUIT (the task is being cancelled)."""
        self.writer.transport.abort()

    async def close(self, quit_first: bool = True) -> None:
        """Say QUIT when the session is still usable, then close; never raises."""
        if quit_first:
            with contextlib.suppress(SmtpIOError, OSError, ValueError):
                await self.send("QUIT")
                await self.read_reply(min(self.timeout, 2.0))
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(min(self.timeout, 2.0)):
                await self.writer.wait_closed()
