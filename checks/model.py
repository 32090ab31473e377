"""Results of live checks: Status, Finding, Report, and the options every check run shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Outcome of one check; the JSON strings are these values."""

    #: the check ran and found nothing wrong
    PASS = "pass"
    #: worth knowing, not a defect
    INFO = "info"
    #: a weakness that may cause trouble
    WARN = "warn"
    #: the check found a defect
    FAIL = "fail"
    #: the check could not finish (timeout, SERVFAIL, refused connection to the resolver...)
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result line: which check, how it went, about what, and the KB entry that explains the fix."""

    check: str
    status: Status
    subject: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    kb: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": str(self.status),
            "subject": self.subject,
            "summary": self.summary,
            "details": self.details,
            "kb": self.kb,
        }


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Settings for one check run (CLI flags, bot command options, operator settings)."""

    #: resolvers as (host, port); empty means the system's resolvers
    nameservers: tuple[tuple[str, int], ...] = ()
    #: bound on each network operation (one DNS try, one TCP connect, one SMTP reply), seconds
    timeout: float = 5.0
    #: deadline for the whole run, seconds (None: derived from timeout)
    deadline: float | None = None
    #: extra CA bundle (PEM) trusted for MTA-STS HTTPS and SMTP TLS
    ca_file: str | None = None
    #: operator permission to probe loopback/private/reserved addresses
    allow_private: bool = False
    dkim_selectors: tuple[str, ...] = ()
    #: DNSBL zones; empty means the default list in checks/defaults.py
    dnsbl_zones: tuple[str, ...] = ()
    #: SMTP port for MX probes (25 unless overridden)
    smtp_port: int | None = None
    #: opt-in open-relay test (MAIL FROM/RCPT TO outside domains, never DATA)
    relay_test: bool = False
    #: name sent in EHLO; None means the machine's FQDN
    ehlo_name: str | None = None
    #: run the SMTP/TLS probes of MX hosts as part of a domain check
    smtp: bool = True
    #: HTTPS port for MTA-STS policy fetches (None: 443; labs and tests use a loopback port)
    https_port: int | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """All findings of one `smtpbot check TARGET` run."""

    target: str
    kind: str  # "domain" | "server" | "ip"
    duration_ms: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.status in (Status.FAIL, Status.ERROR) for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "duration_ms": self.duration_ms,
            "findings": [f.to_json() for f in self.findings],
        }
