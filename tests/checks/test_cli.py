"""The `smtpbot check` and `smtpbot spf` contracts: flags, JSON shapes, human output, exit codes."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import Environment, main
from bot.text_report import SYMBOLS, render
from checks.model import Finding, Report, Status
from tests.checks.conftest import Lab


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ=environ or {})
    code = main(argv, env)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


def test_check_json_shape(lab: Lab) -> None:
    code, out, err = run(["check", "good.test", "--json", *lab.cli_args(), "--dnsbl", "bl.test"])
    data = json.loads(out)
    assert set(data) == {"target", "kind", "duration_ms", "findings"}
    assert data["target"] == "good.test" and data["kind"] == "domain"
    assert isinstance(data["duration_ms"], int)
    assert all(set(f) == {"check", "status", "subject", "summary", "details", "kb"} for f in data["findings"])
    assert {f["status"] for f in data["findings"]} <= {"pass", "info", "warn", "fail", "error"}
    # MX addresses are in documentation ranges: refused without --allow-private, so never probed
    assert code == 1
    assert any(f["check"] == "mx.resolve" and f["status"] == "fail" for f in data["findings"])
    assert err == ""


def test_check_exit_0_when_nothing_fails(lab: Lab) -> None:
    code, out, _ = run(["check", "null.test", *lab.cli_args(), "--dnsbl", "bl.test"])
    assert code == 0, out
    assert "MX" in out and "✔ mx.null" in out and "kb: null-mx" in out


def test_check_human_output_groups_by_area_with_kb_ids(lab: Lab) -> None:
    code, out, _ = run(["check", "plusall.test", *lab.cli_args(), "--dnsbl", "bl.test"])
    assert code == 1
    lines = out.splitlines()
    spf = lines.index("SPF")
    assert lines.index("MX") < spf < lines.index("DMARC")
    assert any(line.strip().startswith("✘ spf.all") and line.endswith("-> kb: spf-setup") for line in lines)
    assert lines[-1].startswith("Problems: ")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["check", "localhost"], "local-only"),
        (["check", "10.0.0.1"], "private"),
        (["check", "example.com:99999"], "bad port"),
        (["check", "exa mple.com"], "without spaces"),
        (["check", "example.com", "--nameserver", "resolver.example"], "bad --nameserver"),
        (["check", "example.com", "--timeout", "0"], "--timeout"),
        (["check", "example.com", "--timeout", "soon"], "invalid float"),
        (["check", "example.com", "--smtp-port", "70000"], "--smtp-port"),
        (["spf", "example.com", "not-an-ip"], "not an IP address"),
        (["spf", "bad domain", "192.0.2.1"], "not a valid domain name"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], words: str) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert out == ""
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_refused_target_is_allowed_by_operator_setting(lab: Lab) -> None:
    # 127.0.0.9 has no PTR and nothing listens on its SMTP ports: the check runs and reports, exit 1
    code, out, err = run(
        ["check", "127.0.0.9", "--json", *lab.cli_args(), "--dnsbl", "bl.test"],
        environ={"SMTPBOT_ALLOW_PRIVATE": "1"},
    )
    assert code == 1, err
    data = json.loads(out)
    assert data["kind"] == "ip"
    assert any(f["check"] == "ptr.match" and f["status"] == "fail" for f in data["findings"])


def test_spf_json_contract(lab: Lab) -> None:
    code, out, _ = run(["spf", "good.test", "198.51.100.7", "--json", *lab.cli_args()[:4]])
    assert code == 0
    assert json.loads(out) == {
        "result": "pass",
        "mechanism": "include:_spf.provider.test",
        "explanation": None,
        "lookups": 2,
    }


def test_spf_human_output_and_exit(lab: Lab) -> None:
    code, out, _ = run(
        [
            "spf",
            "good.test",
            "203.0.113.9",
            "--helo",
            "mail.example",
            "--sender",
            "a@good.test",
            *lab.cli_args()[:4],
        ]
    )
    assert code == 1
    assert out.startswith("spf good.test 203.0.113.9: fail (matched -all)")


def test_render_symbols_and_summary() -> None:
    findings = tuple(
        Finding(c, s, "example.com", "text", {}, "spf-setup")
        for c, s in [("spf.all", Status.FAIL), ("mx.present", Status.ERROR), ("dkim.key", Status.INFO)]
    )
    text = render(Report("example.com", "domain", 1234, findings))
    assert text.splitlines()[0] == "smtpbot check example.com (domain) in 1.2 s"
    assert text.index("MX") < text.index("SPF") < text.index("DKIM")
    assert f"{SYMBOLS[Status.ERROR]} mx.present" in text
    assert text.endswith("Problems: 1 fail, 1 could not check, 1 info")


def test_no_resolver_configured_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import dns.resolver

    import checks._resolver

    def none() -> list[str]:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(checks._resolver, "system_nameservers", none)
    code, out, err = run(["check", "example.com"])
    assert code == 2 and out == ""
    assert "--nameserver" in err and "Traceback" not in err


def test_a_bad_ca_file_is_a_usage_error(tmp_path) -> None:
    from tests.conftest import run_cli

    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    for path in (str(junk), str(tmp_path / "missing.pem")):
        r = run_cli("check", "example.com", "--ca-file", path)
        assert r.exit_status == 2 and "--ca-file" in r.stderr and "Traceback" not in r.stderr
