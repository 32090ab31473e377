"""HTTP mode: Bolt's WSGI handler on waitress (multi-threaded), plus `/healthz` for load balancers.

Bolt's own `app.start()` is a single-threaded development server bound to 0.0.0.0; a burst of
slash commands would be refused there. waitress queues and serves them on a thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

#: Bolt's path for events, commands and interactivity alike
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: waitress threads: each only parses, verifies and waits for an ack (work runs on our pools)
DEFAULT_THREADS = 16


def wsgi_app(bolt_app: Any) -> Callable[..., Iterable[bytes]]:
    """A WSGI callable: `/healthz` answers ok, everything else goes to Bolt."""
    slack = SlackRequestHandler(bolt_app)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


def make_server(bolt_app: Any, host: str, port: int, threads: int = DEFAULT_THREADS) -> Any:
    """A waitress server (not yet running); `.effective_port` is the bound port (port 0 picks one)."""
    from waitress import create_server

    return create_server(
        wsgi_app(bolt_app),
        host=host,
        port=port,
        threads=threads,
        ident="smtpbot",
        connection_limit=1000,
        backlog=1024,
        channel_timeout=30,
    )


class ServerThread:
    """Runs a waitress server on a thread and stops it from the loop's own thread (no EBADF races)."""

    #: seconds per loop turn: how quickly stop() is noticed
    TICK = 0.2

    def __init__(self, server: Any) -> None:
        import threading

        self.server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="waitress", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        from waitress import wasyncore

        server = self.server
        while not self._stop.is_set() and server._map:
            wasyncore.loop(timeout=self.TICK, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown(timeout=5)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close connections, let running requests finish."""
        self._stop.set()
        self._thread.join(timeout)
