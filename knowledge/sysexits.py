"""Local delivery programs' exit codes (sysexits.h) in DSNs: "Diagnostic-Code: X-Unix; 71".

Sendmail reports a failed local mailer (a pipe to procmail, maildrop, a script) by its exit code
alone; the table in sysexits.yml gives the code its name and meaning.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

_TABLE = Path(__file__).with_name("sysexits.yml")


@cache
def _codes() -> dict[int, tuple[str, str]]:
    data = yaml.safe_load(_TABLE.read_text(encoding="utf-8"))
    return {int(code): (str(name), str(meaning)) for code, (name, meaning) in data.items()}


def describe(diagnostic_type: str, value: str) -> str | None:
    """The diagnostic a person can read for an X-Unix exit code, else None (other types, text)."""
    if diagnostic_type.strip().lower() != "x-unix" or not value.strip().isdigit():
        return None
    code = int(value.strip())
    name, meaning = _codes().get(code, ("", "unknown exit code"))
    label = f"{name}, {meaning}" if name else meaning
    return f"local delivery program exited with status {code} ({label})"
