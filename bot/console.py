"""The local console chat: the bot's commands and answers in a terminal, or over a pipe.

Same router and same replies as Slack, rendered as text. A command is one line; anything else
(a pasted bounce, a question) is a block that ends with an empty line, at end of input, or — in a
terminal — when no more pasted lines are waiting, so a typed question needs no extra Enter.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import os
import select
import sys
import threading
from dataclasses import replace
from typing import Any, TextIO

from bot import text_reply
from bot.commands import Router
from bot.messages import msg
from bot.model import Request, is_command, parse
from bot.settings import Settings

log = logging.getLogger("smtpbot.console")

PROMPT = "smtpbot> "
#: in a terminal, a paste's lines arrive within milliseconds of each other; typing does not
PASTE_GAP = 0.08
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
UNLIMITED = 10**9
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit"})


class LineReader:
    """Line input that can tell whether more input is already waiting (for paste detection)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self._buf = ""
        self._eof = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def readline(self) -> str | None:
        """The next line without its newline, or None at end of input."""
        if self.fd is None:
            line = self.stream.readline()
            return line.rstrip("\r\n") if line else None
        while "\n" not in self._buf and not self._eof:
            chunk = os.read(self.fd, 65536)
            self._eof = not chunk
            self._buf += self._decoder.decode(chunk, final=self._eof)
        if not self._buf:
            return None
        line, _, self._buf = self._buf.partition("\n")
        return line.rstrip("\r")

    def pending(self, timeout: float) -> bool:
        """True when another line is already buffered or arrives within `timeout` seconds."""
        if self._buf:
            return True
        if self.fd is None or self._eof:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return bool(ready)


def read_block(reader: LineReader, interactive: bool) -> str | None:
    """One command line, or one multi-line paste/question; None at end of input."""
    first = reader.readline()
    while first is not None and not first.strip():
        first = reader.readline()
    if first is None:
        return None
    if first.strip().lower() in QUIT_WORDS or (is_command(first) and parse(first).name != "explain"):
        return first
    lines = [first]
    while not interactive or reader.pending(PASTE_GAP):
        line = reader.readline()
        if line is None:
            break
        # an empty line ends the block, unless (in a terminal) more of the paste is still arriving
        if not line.strip() and not (interactive and reader.pending(PASTE_GAP)):
            break
        lines.append(line)
    return "\n".join(lines).strip("\n")


class Spinner:
    """A one-line spinner with the finished check areas, on a terminal's stderr."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label = stream, label
        self.areas: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def __enter__(self) -> Spinner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.stream.write("\r\x1b[K")
        self.stream.flush()

    def progress(self, area: str, findings: list[Any]) -> None:
        self.areas.append(area)

    def _spin(self) -> None:
        for frame in itertools.cycle(SPINNER_FRAMES):
            done = f" done: {', '.join(self.areas)}" if self.areas else ""
            self.stream.write(f"\r\x1b[K{frame} {self.label}{done}")
            self.stream.flush()
            if self._stop.wait(0.1):
                return


def answer(router: Router, text: str, stderr: TextIO, interactive: bool) -> str:
    """The text reply to one block (checks show a spinner on a terminal)."""
    req = Request(text)
    if router.is_slow(text) and interactive:
        cmd = parse(text)
        lang = router.lang_for(req.user)
        with Spinner(stderr, msg("check.started", lang, target=cmd.args[0] if cmd.args else "")) as spin:
            reply = router.handle(req, progress=spin.progress)
    else:
        reply = router.handle(req)
    return text_reply.render(reply)


def run_console(env: Any, settings: Settings, router: Router | None = None) -> int:
    """The chat loop; returns an exit status (0 at end of input)."""
    # the console is the operator's own terminal: chat rate limits would only get in the way
    local = replace(settings, user_checks_per_min=UNLIMITED, channel_checks_per_min=UNLIMITED)
    router = router or Router(local)
    interactive = env.stdin_isatty
    out: TextIO = env.stdout
    lang = "pl" if env.environ.get("LANG", "").lower().startswith("pl") else "en"
    if interactive:
        print(msg("console.banner", lang), file=out, flush=True)
    reader = LineReader(env.stdin if env.stdin is not None else sys.stdin)
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        block = read_block(reader, interactive)
        if block is None or block.strip().lower() in QUIT_WORDS:
            break
        try:
            print(answer(router, block, env.stderr, interactive), file=out, flush=True)
        except Exception as exc:  # a failure is one line; the chat keeps running
            log.debug("console reply failed", exc_info=True)
            print(f"smtpbot: error: {type(exc).__name__}: {exc}".splitlines()[0], file=env.stderr, flush=True)
        if interactive:
            print(file=out, flush=True)
    return 0
