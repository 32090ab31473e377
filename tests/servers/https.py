"""A real HTTPS server on loopback with a test CA (trustme), for MTA-STS policy fetches.

Routes are keyed by the Host header (`mta-sts.<domain>`), so one server on one random port serves
every test domain. Per host, the certificate can be made bad the two ways senders meet: signed by
an untrusted CA, or not naming the host. Use as a context manager; `ca_file` is the PEM to pass
as `--ca-file`.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Route:
    """What the server answers for one host."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/plain"
    #: "valid", "untrusted" (another CA) or "wrong-name" (certificate for another host)
    cert: str = "valid"
    headers: tuple[tuple[str, str], ...] = ()


class HttpsServer:
    """Loopback HTTPS server; `.port`, `.ca_file`, `.requests` (hosts asked, in order)."""

    def __init__(self, routes: Mapping[str, Route], *, host: str = "127.0.0.1"):
        self.routes = {k.lower(): v for k, v in routes.items()}
        self.host = host
        self.port = 0
        self.requests: list[str] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="smtpbot-https-")
        self.ca = trustme.CA()
        self.ca_file = str(Path(self._tmp.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._contexts = self._build_contexts(self.routes)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _context(self, ca: trustme.CA, names: Iterable[str]) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        return context

    def _build_contexts(self, routes: Mapping[str, Route]) -> dict[str, ssl.SSLContext]:
        other_ca = trustme.CA()
        contexts = {}
        for name, route in routes.items():
            if route.cert == "untrusted":
                contexts[name] = self._context(other_ca, [name])
            elif route.cert == "wrong-name":
                contexts[name] = self._context(self.ca, ["wrong-name.invalid"])
            else:
                contexts[name] = self._context(self.ca, [name])
        return contexts

    def __enter__(self) -> HttpsServer:
        default = self._context(self.ca, ["default.invalid"])

        def pick(sock: ssl.SSLSocket, server_name: str | None, _ctx: ssl.SSLContext) -> None:
            chosen = self._contexts.get((server_name or "").lower())
            if chosen is not None:
                sock.context = chosen

        default.sni_callback = pick
        server = _QuietServer((self.host, 0), _handler(self))
        server.daemon_threads = True
        server.socket = default.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="https-stub", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(10)
        self._tmp.cleanup()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that reject our bad certificates are the point of some tests: no tracebacks."""


def _handler(owner: HttpsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a stuck client must not pin a thread for ever

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            owner.requests.append(host)
            route = owner.routes.get(host)
            if route is None or self.path != "/.well-known/mta-sts.txt":
                route = Route(b"not found", status=404)
            body = route.body.encode() if isinstance(route.body, str) else route.body
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in route.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence test output
            pass

    return Handler
