"""`smtpbot serve` (Socket Mode, or `--http --port P`) and what bare `smtpbot` does.

Bare `smtpbot` runs the Slack bot when Slack tokens are set and the local console chat otherwise,
so the README's one run command works both on a laptop and in a deployment.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from bot.settings import Settings, load
from knowledge.load import default_kb

log = logging.getLogger("smtpbot.serve")

#: GIL switch interval while serving Slack (seconds); see _serve
SWITCH_INTERVAL = 0.001


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN, or --http)",
        description="Run the Slack bot. Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; "
        "--http needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
        "and serves POST /slack/events and GET /healthz.",
    )
    p.add_argument("--http", action="store_true", help="HTTP mode (Events API) instead of Socket Mode")
    p.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000; 0 picks a free one)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    p.add_argument("--threads", type=int, default=16, help="HTTP server threads (default 16)")
    p.set_defaults(func=run)


def _problem(settings: Settings, http: bool, environ: dict[str, str]) -> str | None:
    if settings.problems:
        return "; ".join(settings.problems)
    if environ.get("SLACK_CLIENT_ID") and environ.get("SLACK_CLIENT_SECRET"):
        # Bolt would silently switch to OAuth and drop the bot token
        return "unset SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: smtpbot runs with a bot token (single workspace)"
    if not settings.bot_token:
        return "SLACK_BOT_TOKEN is not set"
    if http and not settings.signing_secret:
        return "HTTP mode needs SLACK_SIGNING_SECRET"
    if not http and not settings.app_token:
        return "Socket Mode needs SLACK_APP_TOKEN (or use --http with SLACK_SIGNING_SECRET)"
    return None


def run(args: argparse.Namespace, env: Any) -> int:
    """`smtpbot serve`: exit 2 with one line when a token is missing, else serve until a signal."""
    settings = load(env.environ)
    problem = _problem(settings, args.http, env.environ)
    if problem:
        env.error(problem)
        return 2
    default_kb(settings.kb_path)  # a broken knowledge base stops start-up (KBError: exit 2, every error)
    if not 0 <= args.port < 65536:
        env.error("--port must be 0..65535")
        return 2
    return _serve(settings, env, http=args.http, host=args.host, port=args.port, threads=args.threads)


def run_default(args: argparse.Namespace, env: Any) -> int:
    """Bare `smtpbot`: the Slack bot when tokens are set, else the console chat."""
    settings = load(env.environ)
    if settings.problems:
        env.error("; ".join(settings.problems))
        return 2
    default_kb(settings.kb_path)  # load (and validate) once before the first question
    if not settings.has_slack:
        from bot.console import run_console

        if settings.bot_token:
            env.error("SLACK_BOT_TOKEN is set without SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: console chat")

        return run_console(env, settings)
    http = not settings.app_token
    problem = _problem(settings, http, env.environ)
    if problem:
        env.error(problem)
        return 2
    port = int(env.environ.get("PORT", "3000")) if env.environ.get("PORT", "3000").isdigit() else 3000
    return _serve(settings, env, http=http, host="0.0.0.0", port=port, threads=16)


def _serve(settings: Settings, env: Any, *, http: bool, host: str, port: int, threads: int) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.slack_app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # acks are short I/O-bound turns; with the default 5 ms GIL slices they queue behind check threads
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        bot = create_app(settings)
    except (SlackApiError, OSError) as exc:
        env.error(f"cannot reach Slack at {settings.api_url}: {exc}")
        return 2
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    try:
        if http:
            return _serve_http(bot, env, host, port, threads, stop)
        return _serve_socket(bot, env, settings, stop)
    finally:
        # graceful: the server stopped accepting; let running checks answer, drop the queue
        bot.shutdown(wait=True, cancel_pending=True)


def _serve_http(bot: Any, env: Any, host: str, port: int, threads: int, stop: threading.Event) -> int:
    from bot.http_server import ServerThread, make_server

    runner = ServerThread(make_server(bot.app, host, port, threads)).start()
    print(f"smtpbot: listening on http://{host}:{runner.port}/slack/events", file=env.stderr, flush=True)
    stop.wait()
    runner.stop()
    return 0


def _serve_socket(bot: Any, env: Any, settings: Settings, stop: threading.Event) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bot.app, settings.app_token)
    handler.connect()
    print("smtpbot: connected to Slack (Socket Mode)", file=env.stderr, flush=True)
    stop.wait()
    handler.close()
    return 0
