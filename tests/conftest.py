"""Shared fixtures: where ../shared is, and the loaded knowledge base."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpora" / "bounces"


@pytest.fixture(scope="session")
def kb():
    from knowledge.load import load_kb

    return load_kb()


@pytest.fixture(scope="session")
def corpus_index() -> list[dict]:
    if not (CORPUS / "index.jsonl").exists():
        pytest.skip(f"bounce corpus not found at {CORPUS} (tests read ../shared beside the repo)")
    return [json.loads(line) for line in (CORPUS / "index.jsonl").open()]


@dataclass
class CliResult:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def json_lines(self) -> list:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class _BytesStdin(io.TextIOWrapper):
    pass


def run_cli(*args: str, stdin: bytes | str = b"", environ: dict[str, str] | None = None) -> CliResult:
    """Run the real `smtpbot` entry point in process (httpie's `http()` test helper)."""
    from bot.cli import Environment, main

    data = stdin.encode() if isinstance(stdin, str) else stdin
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), stdout=out, stderr=err,
                      environ=dict(environ or {}))
    code = main(list(args), env)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli
