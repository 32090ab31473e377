"""MTA-STS record and policy syntax (RFC 8461 3.1, 3.2) and TLS-RPT records (RFC 8460 3).

Pure parsing: the fetch and the findings are in `mta_sts.py` and `tls_rpt.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.errors import TargetError
from checks.target import domain_name

#: RFC 8461 3.2: max_age is at most 31557600 seconds (one year)
MAX_AGE_LIMIT = 31557600
#: below one day a policy barely outlives a DNS change; RFC 8461 suggests weeks
MAX_AGE_SHORT = 86400
MODES = ("enforce", "testing", "none")
#: values are the rest of the field or line, stripped in code (a lazy `(.*?)\s*` is quadratic on blanks)
_FIELD = re.compile(r"\s*([A-Za-z0-9_\-.]{1,32})\s*=([^;]*)")
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_LINE = re.compile(r"([A-Za-z0-9_\-.]{1,32}):(.*)")


def _mx_pattern_ok(value: str) -> bool:
    """A host name or `*.domain` (RFC 8461 3.2), by the same rules as a check's target."""
    try:
        return "." in domain_name(value[2:] if value.startswith("*.") else value)
    except TargetError:
        return False


@dataclass
class TagRecord:
    """A `v=...; k=v` TXT record (MTA-STS or TLS-RPT): tags and problems."""

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _tags(text: str, version: str, rec: TagRecord) -> None:
    parts = [p for p in text.split(";")]
    while parts and not parts[-1].strip():
        parts.pop()
    for i, part in enumerate(parts):
        match = _FIELD.fullmatch(part)
        if not match:
            rec.errors.append(f"bad field {part.strip()[:80]!r}")
            continue
        name, value = match.group(1), match.group(2).strip()
        if i == 0 and (name != "v" or value != version):
            rec.errors.append(f"record must start with v={version}")
        if name in rec.tags:
            rec.warnings.append(f"field {name} repeated; the first value is used")
            continue
        rec.tags[name] = value


def is_record(text: str, version: str) -> bool:
    """RFC 8461 3.1 / RFC 8460 3: records that start with `v=<version>` (others are ignored)."""
    return bool(re.match(rf"v={version}\s*(;|$)", text.lstrip()))


def parse_sts_record(text: str) -> TagRecord:
    rec = TagRecord(text)
    _tags(text, "STSv1", rec)
    if "id" not in rec.tags:
        rec.errors.append("id= is missing")
    elif not _ID.fullmatch(rec.tags["id"]):
        rec.errors.append(f"id={rec.tags['id']!r} must be 1-32 letters or digits")
    return rec


def parse_tlsrpt_record(text: str) -> TagRecord:
    rec = TagRecord(text)
    _tags(text, "TLSRPTv1", rec)
    if "rua" not in rec.tags:
        rec.errors.append("rua= is missing")
        return rec
    for uri in (u.strip() for u in rec.tags["rua"].split(",")):
        if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://[^\s/]+\.[^\s/]+(/\S*)?", uri):
            rec.errors.append(f"rua {uri!r} is not a mailto: or https: URI")
    return rec


@dataclass
class Policy:
    """A parsed policy file."""

    version: str | None = None
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_policy(body: str) -> Policy:
    """Parse `key: value` lines (CRLF or LF); unknown keys are ignored (RFC 8461 3.2)."""
    policy = Policy()
    seen: set[str] = set()
    for number, line in enumerate(re.split(r"\r?\n", body), 1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if not match:
            policy.errors.append(f"line {number}: not a `key: value` line")
            continue
        key, value = match.group(1), match.group(2).strip(" \t")
        if key == "mx":
            policy.mx.append(value)
            if not _mx_pattern_ok(value):
                policy.errors.append(f"mx pattern {value[:80]!r} is not a host name or *.domain")
            continue
        if key in seen and key in ("version", "mode", "max_age"):
            policy.warnings.append(f"{key} repeated; the first value is used")
            continue
        seen.add(key)
        _field(policy, key, value)
    _required(policy)
    return policy


def _field(policy: Policy, key: str, value: str) -> None:
    if key == "version":
        policy.version = value
    elif key == "mode":
        policy.mode = value
    elif key == "max_age":
        if re.fullmatch(r"[0-9]{1,10}", value) and int(value) <= MAX_AGE_LIMIT:
            policy.max_age = int(value)
        else:
            policy.errors.append(f"max_age {value!r} is not a whole number 0-{MAX_AGE_LIMIT}")
    else:
        policy.warnings.append(f"unknown key {key!r} ignored")


def _required(policy: Policy) -> None:
    if policy.version != "STSv1":
        policy.errors.append(
            "version: STSv1 is missing"
            if policy.version is None
            else f"version {policy.version!r} is not STSv1"
        )
    if policy.mode not in MODES:
        policy.errors.append(
            "mode is missing"
            if policy.mode is None
            else f"mode {policy.mode!r} is not one of " + ", ".join(MODES)
        )
    if policy.max_age is None and not any(e.startswith("max_age") for e in policy.errors):
        policy.errors.append("max_age is missing")
    if policy.mode in ("enforce", "testing") and not policy.mx:
        policy.errors.append(f"mode {policy.mode} needs at least one mx: line")


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 4.1: exact match, or `*.` standing for exactly one leftmost label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host
