"""A stub Slack on loopback: the Web API over HTTP, response_url hooks, and a Socket Mode WebSocket.

Tests and benchmarks point the bot at it with SLACK_API_URL (`stub.api_url`). Every call is
recorded (path, decoded body, time) so tests assert on what the bot posted and updated. Port 0 only;
servers run on daemon threads and stop when the context manager exits.

Also here: `signed_post()`, which sends a request to the bot signed exactly as Slack signs it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.signature import SignatureVerifier

HOST = "127.0.0.1"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class Call:
    """One request the bot made to the stub."""

    path: str
    body: dict[str, Any]
    at: float

    @property
    def method(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path.startswith("/api/") else self.path


@dataclass
class SlackStub:
    """The stub Web API; use as a context manager."""

    calls: list[Call] = field(default_factory=list)
    #: per-path canned answers: path -> (HTTP status, JSON body); e.g. not_in_channel
    overrides: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    socket_url: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer((HOST, 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/commands/{TEAM}/{name}"

    def __enter__(self) -> SlackStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- recording -------------------------------------------------------------------------------
    def record(self, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(Call(path, body, time.monotonic()))

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path in self.overrides:
            return self.overrides[path]
        method = path.rsplit("/", 1)[-1]
        if method == "auth.test":
            return 200, {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "team": "Test",
                "user": "smtpbot",
                "url": "https://test.slack.com/",
            }
        if method == "chat.postMessage":
            return 200, {
                "ok": True,
                "channel": body.get("channel"),
                "ts": f"{time.time():.0f}.{next(self._ts):06d}",
                "message": {"text": body.get("text")},
            }
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}
        return 200, {"ok": True}

    def of(self, method: str) -> list[Call]:
        """Recorded calls of one Web API method (or response_url posts with method "response")."""
        with self._lock:
            if method == "response":
                return [c for c in self.calls if c.path.startswith("/commands/")]
            return [c for c in self.calls if c.path == f"/api/{method}"]

    def wait_for(self, predicate: Callable[[SlackStub], Any], timeout: float = 10.0) -> Any:
        """Poll until predicate(stub) is truthy; AssertionError with the call log on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate(self)
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError(f"timed out; calls: {[c.path for c in self.calls]}")


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    text = raw.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        return json.loads(text)
    fields = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "view", "attachments"):  # slack_sdk form-encodes these as JSON strings
        if isinstance(fields.get(key), str) and fields[key][:1] in "[{":
            fields[key] = json.loads(fields[key])
    return fields


def _handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = _decode(raw, self.headers.get("Content-Type", ""))
            stub.record(self.path, body)
            status, answer = stub.answer(self.path, body) if self.path.startswith("/api/") else (200, None)
            data = json.dumps(answer).encode() if answer is not None else b"ok"
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if answer is not None else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


# -- signed requests to the bot -----------------------------------------------------------------------
@dataclass(frozen=True)
class Response:
    status: int
    body: str
    seconds: float


def signed_post(
    url: str,
    body: str,
    secret: str,
    content_type: str,
    headers: dict[str, str] | None = None,
    timestamp: int | None = None,
    timeout: float = 10.0,
) -> Response:
    """POST `body` to the bot with Slack's v0 signature; returns status, body and the time to answer."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        },
    )
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return Response(resp.status, resp.read().decode(), time.monotonic() - start)
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read().decode(), time.monotonic() - start)


def slash_body(text: str, response_url: str, user: str = "U1", channel: str = "C1") -> str:
    return urllib.parse.urlencode(
        {
            "token": "x",
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": "ola",
            "command": "/smtp",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
            "api_app_id": "A1",
        }
    )


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


# -- Socket Mode: a minimal RFC 6455 WebSocket server ----------------------------------------------------
class SocketModeStub:
    """Accepts the bot's WebSocket, says hello, pushes envelopes, and records the acks it sends back."""

    def __init__(self) -> None:
        self._sock = socket.create_server((HOST, 0))
        self._sock.settimeout(0.2)
        self.received: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self._sock.getsockname()[1]}/link"

    def __enter__(self) -> SocketModeStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def push(self, envelope: dict[str, Any]) -> None:
        """Send one envelope (events_api, slash_commands, interactive) to the connected bot."""
        assert self._conn is not None, "bot not connected"
        self._send(0x1, json.dumps(envelope).encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        header += (
            bytes([n])
            if n < 126
            else (bytes([126]) + struct.pack("!H", n) if n < 65536 else bytes([127]) + struct.pack("!Q", n))
        )
        with self._send_lock:
            assert self._conn is not None
            self._conn.sendall(header + payload)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        request = b""
        while b"\r\n\r\n" not in request and not self._stop.is_set():
            try:
                request += conn.recv(4096)
            except TimeoutError:
                continue
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key")
        )
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._conn = conn
        self._send(
            0x1,
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}).encode(),
        )
        self.connected.set()
        self._read_frames(conn)

    def _read_frames(self, conn: socket.socket) -> None:
        buf = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while (frame := _parse_frame(buf)) is not None:
                opcode, payload, buf = frame
                if opcode == 0x9:
                    self._send(0xA, payload)
                elif opcode == 0x8:
                    return
                elif opcode == 0x1:
                    self.received.append(json.loads(payload))


def _parse_frame(buf: bytes) -> tuple[int, bytes, bytes] | None:
    """One client frame (masked, per RFC 6455) from the buffer, or None when incomplete."""
    if len(buf) < 2:
        return None
    opcode, length, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if length == 126:
        if len(buf) < 4:
            return None
        length, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif length == 127:
        if len(buf) < 10:
            return None
        length, pos = struct.unpack("!Q", buf[2:10])[0], 10
    masked = buf[1] & 0x80
    mask = buf[pos : pos + 4] if masked else b""
    pos += 4 if masked else 0
    if len(buf) < pos + length:
        return None
    data = buf[pos : pos + length]
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data, buf[pos + length :]
