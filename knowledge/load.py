"""Load and validate the YAML knowledge base: every error at once, each with file:line and field."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.model import LANGS, Entry, Text, TextList
from knowledge.prefilter import compile_pattern
from knowledge.reasons import REASONS

#: the knowledge base shipped inside the package
DEFAULT_PATH = Path(__file__).parent / "kb"

#: libyaml's safe loader when PyYAML was built with it (5-10x faster start-up), else the Python one
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REQUIRED = ("id", "reason", "title", "summary", "causes", "fixes", "questions")
TEXT_FIELDS = ("title", "summary")
LIST_TEXT_FIELDS = ("causes", "fixes", "questions")
STRING_LISTS = ("codes", "patterns", "phrases", "checks", "references", "providers", "examples")
KNOWN_KEYS = frozenset(REQUIRED + STRING_LISTS)
KNOWN_CHECKS = frozenset(
    "mx spf dkim dmarc mta-sts tls-rpt ptr dnsbl smtp tls relay dnssec dane bimi".split()
)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: reply code (550, 55x) or enhanced status (5.7.26, 5.7.2x, 5.x.x); x stands for any digits
_CODE = re.compile(r"^(?:[245](?:\d|x)(?:\d|x)?|[245x]\.(?:\d{1,3}|\d{0,2}x)\.(?:\d{1,3}|\d{0,2}x))$")


class KBError(Exception):
    """The knowledge base has errors; str() lists every one as `file:line: id: field: problem`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def __str__(self) -> str:
        n = len(self.problems)
        return f"knowledge base has {n} error{'s' if n != 1 else ''}:\n" + "\n".join(self.problems)


@dataclass(frozen=True)
class StatusCode:
    """One row of status_codes.yml: the registry meaning of X.S.D and its default reason."""

    code: str
    name: str
    reason: str | None


@dataclass(eq=False)
class KnowledgeBase:
    """Validated entries (in file order) plus the status-code table."""

    path: Path
    entries: dict[str, Entry]
    status_codes: dict[str, StatusCode] = field(default_factory=dict)

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def by_reason(self, reason: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.reason == reason]

    def search(self, text: str, limit: int = 10) -> list:
        """Entries for a free-text search (ids, titles, questions), best first."""
        from knowledge.match import Matcher

        return Matcher.for_kb(self).search(text, limit=limit)


def _lines(node: yaml.Node) -> dict[str, int]:
    """Line (1-based) of each key of a mapping node, and of the node itself under ''."""
    out = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            out[str(key.value)] = key.start_mark.line + 1
    return out


def _check_text(value: Any, lists: bool) -> str | None:
    if not isinstance(value, dict):
        return "must be a mapping with `en` and `pl`"
    missing = [lang for lang in LANGS if lang not in value]
    if missing:
        return f"missing language(s): {', '.join(missing)}"
    extra = [str(k) for k in value if k not in LANGS]
    if extra:
        return f"unknown language(s): {', '.join(extra)}"
    for lang in LANGS:
        item = value[lang]
        if lists:
            if not isinstance(item, list) or not item:
                return f"`{lang}` must be a non-empty list of strings"
            if not all(isinstance(s, str) and s.strip() for s in item):
                return f"`{lang}` has an empty or non-string item"
        elif not isinstance(item, str) or not item.strip():
            return f"`{lang}` must be a non-empty string"
    return None


def _check_list(key: str, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        return "must be a list of non-empty strings"
    for item in value:
        if key == "codes" and not _CODE.match(item):
            return f"invalid code {item!r} (use 550, 5.1.1, 5.7.2x)"
        if key == "checks" and item not in KNOWN_CHECKS:
            return f"unknown check {item!r} (known: {', '.join(sorted(KNOWN_CHECKS))})"
        if key == "patterns":
            try:
                compile_pattern(item)
            except re.error as exc:
                return f"invalid regex {item!r}: {exc}"
    return None


def _validate(raw: dict[str, Any], lines: dict[str, int], where: str) -> list[str]:
    eid = raw.get("id") if isinstance(raw.get("id"), str) else "?"
    problems: list[str] = []

    def bad(key: str, msg: str) -> None:
        problems.append(f"{where}:{lines.get(key, lines[''])}: {eid}: {key or 'entry'}: {msg}")

    for key in raw:
        if key not in KNOWN_KEYS:
            bad(str(key), "unknown key")
    for key in REQUIRED:
        if key not in raw:
            bad("", f"missing required key `{key}`")
    if "id" in raw and (not isinstance(raw["id"], str) or not _ID.match(raw["id"])):
        bad("id", "must be lower-case words joined by '-'")
    reason = raw.get("reason")
    if reason is not None and (not isinstance(reason, str) or reason not in REASONS):
        bad("reason", f"unknown reason {reason!r} (one id from knowledge/reasons.py, or null)")
    for key in TEXT_FIELDS + LIST_TEXT_FIELDS:
        if key in raw and (msg := _check_text(raw[key], key in LIST_TEXT_FIELDS)):
            bad(key, msg)
    for key in STRING_LISTS:
        if key in raw and raw[key] is not None and (msg := _check_list(key, raw[key])):
            bad(key, msg)
    return problems


def _entry(raw: dict[str, Any], source: str) -> Entry:
    def lst(key: str) -> tuple[str, ...]:
        return tuple(s.strip() for s in raw.get(key) or ())

    return Entry(
        id=raw["id"],
        reason=raw["reason"],
        title=Text(raw["title"]["en"].strip(), raw["title"]["pl"].strip()),
        summary=Text(raw["summary"]["en"].strip(), raw["summary"]["pl"].strip()),
        causes=TextList(tuple(raw["causes"]["en"]), tuple(raw["causes"]["pl"])),
        fixes=TextList(tuple(raw["fixes"]["en"]), tuple(raw["fixes"]["pl"])),
        questions=TextList(tuple(raw["questions"]["en"]), tuple(raw["questions"]["pl"])),
        codes=lst("codes"),
        patterns=tuple(raw.get("patterns") or ()),
        phrases=lst("phrases"),
        checks=lst("checks"),
        references=lst("references"),
        providers=lst("providers"),
        examples=lst("examples"),
        source=source,
    )


def _load_file(path: Path, root: Path) -> tuple[list[tuple[dict[str, Any], str]], list[str]]:
    rel = path.relative_to(root.parent) if root.parent in path.parents else path
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_SafeLoader)
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{rel}:1: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return [], [f"{rel}:{line}: YAML error: {getattr(exc, 'problem', exc)}"]
    if data is None:
        return [], []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        return [], [f"{rel}:1: the file must be a YAML list of entries"]
    out, problems = [], []
    for item, item_node in zip(data, node.value, strict=True):
        lines = _lines(item_node)
        if not isinstance(item, dict):
            problems.append(f"{rel}:{lines['']}: ?: entry: must be a mapping")
            continue
        errs = _validate(item, lines, str(rel))
        problems.extend(errs)
        if not errs:
            out.append((item, f"{rel}:{lines['']}"))
    return out, problems


def _load_status_codes(path: Path) -> tuple[dict[str, StatusCode], list[str]]:
    if not path.exists():
        return {}, []
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or []  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path.name}:1: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [f"{path.name}:{mark.line + 1 if mark else 1}: YAML error: {getattr(exc, 'problem', exc)}"]
    if not isinstance(data, list):
        return {}, [f"{path.name}:1: must be a YAML list of {{code, name, reason}} rows"]
    table, problems = {}, []
    for i, row in enumerate(data, 1):
        if not isinstance(row, dict) or not isinstance(row.get("code"), str):
            problems.append(f"{path.name}: row {i}: must be a mapping with a string `code`")
            continue
        code, reason = row["code"], row.get("reason")
        if reason is not None and (not isinstance(reason, str) or reason not in REASONS):
            problems.append(f"{path.name}: {code}: unknown reason {reason!r}")
            continue
        table[code] = StatusCode(code, str(row.get("name", "")), reason)
    return table, problems


def load_kb(path: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load every `*.yml` below PATH (default: the shipped base); raise KBError listing all errors."""
    root = Path(path) if path else DEFAULT_PATH
    if not root.is_dir():
        raise KBError([f"{root}: not a knowledge base directory"])
    problems: list[str] = []
    entries: dict[str, Entry] = {}
    seen: dict[str, str] = {}
    for file in sorted(root.rglob("*.yml")):
        if file.name == "status_codes.yml":
            continue
        items, errs = _load_file(file, root)
        problems.extend(errs)
        for raw, source in items:
            if raw["id"] in seen:
                problems.append(f"{source}: {raw['id']}: id: duplicate id (first defined at {seen[raw['id']]})")
                continue
            seen[raw["id"]] = source
            entries[raw["id"]] = _entry(raw, source)
    codes, errs = _load_status_codes(root / "status_codes.yml")
    problems.extend(errs)
    if not entries and not problems:
        problems.append(f"{root}: no entries found")
    if problems:
        raise KBError(problems)
    return KnowledgeBase(path=root, entries=entries, status_codes=codes)


_cache: dict[str, KnowledgeBase] = {}
_lock = threading.Lock()


def default_kb(path: str | None = None) -> KnowledgeBase:
    """The knowledge base at `path` (else $SMTPBOT_KB, else the shipped one), loaded once per process."""
    key = path or os.environ.get("SMTPBOT_KB") or str(DEFAULT_PATH)
    with _lock:
        if key not in _cache:
            _cache[key] = load_kb(key)
        return _cache[key]
