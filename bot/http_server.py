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
        wsgi_app(bolt_app), host=host, port=port, threads=threads, ident="smtpbot",
        connection_limit=1000, backlog=1024, channel_timeout=30,
    )
