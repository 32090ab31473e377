"""`smtpbot explain`: the JSON contract, languages, exit codes and bad input."""

from __future__ import annotations

from pathlib import Path

from bot.messages import msg

EXAMPLE = Path(__file__).resolve().parents[2] / "bot" / "examples" / "gmail-5.7.26.eml"
KEYS = {"reply_code", "status", "diagnostic", "remote_mta", "recipient", "sender_domain", "action"}


def test_json_contract_for_a_dsn(cli):
    r = cli("explain", "--json", str(EXAMPLE))
    assert r.exit_status == 0, r.stderr
    obj = r.json
    assert obj["input_kind"] == "dsn"
    assert KEYS <= set(obj["parsed"])
    assert obj["parsed"]["status"] == "5.7.26" and obj["parsed"]["sender_domain"] == "example.com"
    assert obj["matches"][0]["id"] == "sender-unauthenticated"
    assert set(obj["matches"][0]) == {"id", "title", "reason", "score"}
    assert 0 <= obj["matches"][0]["score"] <= 1
    assert "spf" in obj["suggested_checks"]
    assert isinstance(obj["parsed"]["recipients"], list)


def test_several_files_give_json_lines(cli, tmp_path):
    other = tmp_path / "line.txt"
    other.write_text("550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table")
    r = cli("explain", "--json", str(EXAMPLE), str(other))
    lines = r.json_lines
    assert [x["file"] for x in lines] == [str(EXAMPLE), str(other)]
    assert lines[1]["input_kind"] == "text" and lines[1]["matches"][0]["reason"] == "userunknown"


def test_stdin_and_human_output(cli):
    r = cli("explain", "-", stdin="550 5.7.1 Relay access denied")
    assert r.exit_status == 0
    assert "relay-access-denied" in r.stdout


def test_question_in_polish_without_diacritics(cli):
    r = cli("explain", "--json", "jak ustawic reverse dns")
    obj = r.json
    assert obj["input_kind"] == "question" and obj["lang"] == "pl"
    assert obj["matches"][0]["id"] == "reverse-dns-ptr"
    text = cli("explain", "jak ustawic reverse dns").stdout
    assert msg("explain.fix", "pl") in text


def test_unauthenticated_reply_line(cli):
    r = cli("explain", "--json", "550 5.7.26 This mail is unauthenticated, which poses a security risk")
    assert r.json["matches"][0]["id"] == "sender-unauthenticated"


def test_lang_option_overrides(cli):
    r = cli("explain", "--lang", "pl", "550 5.1.1 User unknown")
    assert msg("explain.means", "pl") in r.stdout


def test_absent_values_are_null(cli):
    obj = cli("explain", "--json", "how do I set up DKIM?").json
    assert obj["parsed"]["reply_code"] is None and obj["parsed"]["recipient"] is None


def test_bad_input_one_line_error(cli, tmp_path):
    empty = cli("explain", "-", stdin="")
    assert empty.exit_status == 2 and "empty input" in empty.stderr and "Traceback" not in empty.stderr
    binary = tmp_path / "x.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    r = cli("explain", str(binary))
    assert r.exit_status == 2 and "binary" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    bad_top = cli("explain", "--top", "0", "x")
    assert bad_top.exit_status == 2
    unknown = cli("explain", "--nope")
    assert unknown.exit_status == 2 and "unrecognized arguments" in unknown.stderr


def test_huge_paste_is_truncated_with_notice(cli):
    big = ("550 5.1.1 User unknown\n" + "x" * 80 + "\n") * (20 * 1024 * 1024 // 100)
    r = cli("explain", "--json", "-", stdin=big)
    assert r.exit_status == 0
    assert any("truncated" in n for n in r.json["notices"])


def test_help_lists_commands(cli):
    r = cli("--help")
    assert r.exit_status == 0
    for command in ("explain", "check", "spf", "kb", "serve"):
        assert command in r.stdout


def test_mistyped_file_names_are_errors_and_json_lines_stay_aligned(cli, tmp_path):
    missing = cli("explain", str(tmp_path / "bounce.eml"))
    assert missing.exit_status == 2 and "no such file" in missing.stderr
    r = cli("explain", "--json", str(EXAMPLE), str(tmp_path / "gone.eml"))
    lines = r.json_lines
    assert r.exit_status == 2 and len(lines) == 2 and lines[1] == {"file": str(tmp_path / "gone.eml"), "error": "no such file"}
    directory = cli("explain", str(tmp_path))
    assert directory.exit_status == 2 and directory.stderr.count(str(tmp_path)) == 1


def test_a_long_pasted_argument_is_text_not_a_path(cli):
    # a multi-line paste longer than a file name may be (ENAMETOOLONG) used to end in an error
    paste = ("SMTP error from remote mail server after RCPT TO:<a@example.de>:\n"
             + "550-Sent:     RCPT TO:<noreply@example.com>\n" * 8 + "550 5.1.1 User unknown")
    r = cli("explain", "--json", paste)
    assert r.exit_status == 0 and r.json["matches"][0]["id"] == "user-unknown"
