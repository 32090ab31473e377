"""The local console chat: through a real pty (prompt, paste detection, spinner) and through a pipe."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from tests.bot.test_serve import ENTRY, REPO, _env
from tests.servers.dns import DnsServer

BOUNCE_LINES = [
    "This is the mail system at host mail.example.com.",
    "",
    "<anna@example.net>: host mx.example.net[192.0.2.10] said: 550 5.1.1",
    "    <anna@example.net>: Recipient address rejected: User unknown in virtual",
    "    mailbox table (in reply to RCPT TO command)",
]
ZONE = {
    "example.test": [{"MX": [10, "mx.example.test"]}, {"TXT": "v=spf1 -all"}],
    "mx.example.test": [{"A": "192.0.2.10"}],
    "_dmarc.example.test": [{"SLOW": 0.8}, {"TXT": "v=DMARC1; p=none"}],
}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Pty:
    """smtpbot on a pseudo-terminal; read() collects output until a pattern shows up."""

    def __init__(self, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ENTRY],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=REPO,
            close_fds=True,
        )
        os.close(slave)
        self.output = ""

    def read_until(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        start = len(self.output)
        while time.monotonic() < deadline:
            if re.search(pattern, ANSI.sub("", self.output[start:])):
                return self.output[start:]
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError(f"no {pattern!r} in: {self.output[start:]!r}")

    def write(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        self.write("\x04")
        try:
            return self.proc.wait(timeout=10)
        finally:
            os.close(self.master)


@pytest.fixture
def console():
    with DnsServer(ZONE) as dns:
        term = Pty(_env(SMTPBOT_NAMESERVERS=dns.nameserver, SMTPBOT_CHECK_TIMEOUT="2", TERM="dumb"))
        try:
            yield term
        finally:
            if term.proc.poll() is None:
                term.proc.kill()
                term.proc.wait()


def test_console_chat_in_a_terminal(console):
    console.read_until(r"smtpbot> ")
    console.write("help\n")
    assert "/smtp check TARGET" in console.read_until(r"smtpbot> $")
    # a paste: several lines at once, ended by an empty line
    console.write("\n".join(BOUNCE_LINES) + "\n\n")
    out = console.read_until(r"smtpbot> $")
    assert "user-unknown" in out and "could not find" not in out  # one block despite its empty line
    assert out.count("smtpbot> ") == 1
    # a typed question needs no extra Enter
    console.write("jak ustawić reverse dns?\n")
    assert "PTR" in console.read_until(r"smtpbot> $")
    # a check shows a spinner with finished areas, then the report
    console.write("/smtp check example.test --no-smtp\n")
    out = console.read_until(r"smtpbot> $", timeout=30)
    assert "Checking example.test" in out and "done:" in out
    assert "dmarc" in out.lower() and "spf" in out.lower()
    assert console.close() == 0


def test_console_over_a_pipe_for_scripting(cli):
    script = "help\n" + "\n".join(BOUNCE_LINES[2:]) + "\n\nkb show spf-fail\nfrobnicate\n"
    result = cli(stdin=script)
    assert result.exit_status == 0, result.stderr
    assert "smtpbot>" not in result.stdout  # no prompts when not a terminal
    assert "/smtp check TARGET" in result.stdout and "user-unknown" in result.stdout
    assert "spf-fail" in result.stdout


def test_console_failure_is_one_line_and_the_chat_continues(cli):
    result = cli(stdin="check example.invalid --smtp-port 99999\nkb show spf-fail\n")
    assert result.exit_status == 0
    assert "check TARGET" in result.stdout and "spf-fail" in result.stdout
    assert "Traceback" not in result.stderr
