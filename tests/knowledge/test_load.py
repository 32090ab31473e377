"""The loader: the shipped base validates; a broken copy reports every seeded error with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.load import DEFAULT_PATH, KBError, load_kb
from knowledge.reasons import PRECEDENCE, REASONS

GOOD = """\
- id: sample-entry
  reason: userunknown
  title: {en: "Sample", pl: "Przykład"}
  summary: {en: "S", pl: "S"}
  causes: {en: ["c"], pl: ["c"]}
  fixes: {en: ["f"], pl: ["f"]}
  questions: {en: ["q"], pl: ["q"]}
  codes: ["550", "5.1.1", "5.7.2x"]
  patterns: ['user unknown']
"""


def test_shipped_base_validates(kb):
    assert len(kb.entries) >= 60
    assert set(PRECEDENCE) == set(REASONS)
    assert kb.status_codes["X.1.1"].reason == "userunknown"


def test_every_reason_has_an_entry(kb):
    covered = {e.reason for e in kb.entries.values()}
    assert set(REASONS) - covered == set()


def _broken_copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(DEFAULT_PATH, root)
    (root / "reasons" / "zz-broken.yml").write_text(
        GOOD.replace("sample-entry", "user-unknown")  # duplicate id, line 1
        + GOOD.replace("sample-entry", "bad-one").replace("reason: userunknown", "reason: nosuchreason")
        .replace('title: {en: "Sample", pl: "Przykład"}', 'title: {en: "Sample"}')
        .replace("'user unknown'", "'user (unknown'")
        .replace('codes: ["550"', 'colour: red\n  codes: ["550"'),
        encoding="utf-8",
    )
    (root / "howto" / "zz-syntax.yml").write_text("- id: x\n  title: [unclosed\n", encoding="utf-8")
    (root / "howto" / "zz-tag.yml").write_text("- !!python/object:os.system {}\n", encoding="utf-8")
    return root


def test_broken_copy_reports_every_error_with_file_and_line(tmp_path):
    with pytest.raises(KBError) as info:
        load_kb(_broken_copy(tmp_path))
    text = str(info.value)
    assert "reasons/zz-broken.yml:1: user-unknown: id: duplicate id" in text
    assert "reasons/zz-broken.yml:11: bad-one: reason: unknown reason 'nosuchreason'" in text
    assert "reasons/zz-broken.yml:12: bad-one: title: missing language(s): pl" in text
    assert "reasons/zz-broken.yml:17: bad-one: colour: unknown key" in text
    assert "reasons/zz-broken.yml:19: bad-one: patterns: invalid regex" in text
    assert "howto/zz-syntax.yml:3: YAML error" in text
    assert "howto/zz-tag.yml:1: YAML error" in text
    assert len(info.value.problems) == 7


def test_cli_validate_exit_codes(cli, tmp_path):
    ok = cli("kb", "validate")
    assert ok.exit_status == 0 and ok.stdout.startswith("ok: ")
    bad = cli("kb", "validate", str(_broken_copy(tmp_path)))
    assert bad.exit_status == 2
    assert "knowledge base has 7 errors" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = cli("kb", "validate", str(tmp_path / "nope"))
    assert missing.exit_status == 2 and "not a knowledge base directory" in missing.stderr


def test_kb_option_points_commands_at_another_base(cli, tmp_path):
    root = tmp_path / "kb"
    root.mkdir()
    (root / "one.yml").write_text(GOOD, encoding="utf-8")
    r = cli("--kb", str(root), "kb", "validate")
    assert r.exit_status == 0 and "1 entries" in r.stdout
    e = cli("--kb", str(root), "explain", "--json", "550 5.1.1 User unknown")
    assert e.json["matches"][0]["id"] == "sample-entry"  # explain reads the --kb base too
    missing = cli("--kb", str(tmp_path / "nope"), "explain", "550 5.1.1 x")
    assert missing.exit_status == 2 and "not a knowledge base directory" in missing.stderr
