"""DMARC record parsing under both readings receivers use: RFC 7489 and RFC 9989 (DMARCbis, May 2026).

RFC 7489 receivers (OpenDMARC, mox) reject bad `adkim`/`aspf`/`pct`/`ri`/`rf` values and want
`p` right after `v`, but keep a record with a bad or missing `p`/`sp` as `p=none` when `rua` is
valid (7489 6.6.3). DMARCbis receivers (checkdmarc 6) drop `pct`/`rf`/`ri`, fall back to defaults
for bad alignment values, read a missing `p` as `none`, and know `np`, `psd` and `t`. We parse
both ways and report where they disagree instead of picking one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.errors import TargetError
from checks.target import domain_name

POLICIES = ("none", "quarantine", "reject")
_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):([^!\s]+)(?:!(\d+)([kmgtKMGT]?))?$")
_LOCAL_PART = re.compile(r"[^@\s/]+")
_LDH = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?")
#: the value is the rest, stripped in code: a lazy `(.*?)\s*` is quadratic on a record padded with blanks
_TAG = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)", re.S)
#: tags DMARCbis removed
REMOVED = ("pct", "rf", "ri")
KNOWN_7489 = {"v", "p", "sp", "adkim", "aspf", "pct", "fo", "rf", "ri", "rua", "ruf"}
KNOWN_BIS = {"v", "p", "sp", "np", "adkim", "aspf", "fo", "rua", "ruf", "psd", "t"}


@dataclass
class DmarcRecord:
    """A parsed record: tags, and what each reading makes of it."""

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    strict_errors: list[str] = field(default_factory=list)  # RFC 7489
    bis_errors: list[str] = field(default_factory=list)  # DMARCbis
    warnings: list[str] = field(default_factory=list)
    strict_p: str | None = None
    bis_p: str | None = None

    @property
    def valid_7489(self) -> bool:
        return not self.strict_errors

    @property
    def valid_bis(self) -> bool:
        return not self.bis_errors

    @property
    def policy(self) -> str | None:
        """The `p` a receiver applies: RFC 7489's reading when it has one, else DMARCbis'."""
        return self.strict_p if self.valid_7489 else self.bis_p if self.valid_bis else None

    def uris(self, tag: str) -> list[str]:
        return [u.strip() for u in self.tags.get(tag, "").split(",") if u.strip()]


def _mailbox_ok(text: str) -> bool:
    """local@domain.tld, the domain by the same rules as a check's target (one regex over the whole
    address was quadratic on a long run of labels, and a record is whatever the domain owner publishes)."""
    local, at, domain = text.rpartition("@")
    if not (at and _LOCAL_PART.fullmatch(local)):
        return False
    try:
        return "." in domain_name(domain)
    except TargetError:
        return False


def is_dmarc(text: str) -> bool:
    """Records that start with a `v=DMARC1` tag (RFC 7489 6.6.3 record selection)."""
    return bool(re.match(r"\s*[vV]\s*=\s*DMARC1\s*(;|$)", text))


def _split(text: str, rec: DmarcRecord) -> list[tuple[str, str]] | None:
    parts = text.split(";")
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    pairs = []
    for part in parts:
        match = _TAG.fullmatch(part)
        if not match:
            problem = "empty tag" if not part.strip() else f"bad tag {part.strip()[:80]!r}"
            rec.strict_errors.append(problem)
            rec.bis_errors.append(problem)
            return None
        pairs.append((match.group(1).lower(), match.group(2).strip()))
    return pairs


def _uri_problems(values: str, tag: str) -> tuple[list[str], list[str], list[str]]:
    """(7489 errors, DMARCbis errors, warnings) for a comma-separated DMARC URI list."""
    strict, bis, warn = [], [], []
    if not values.strip():
        return [f"{tag}= is empty"], [f"{tag}= is empty"], []
    for uri in (u.strip() for u in values.split(",")):
        match = _URI.fullmatch(uri)
        if not match or (match.group(3) and int(match.group(3)) >= 2**63):
            strict.append(f"{tag}: {uri!r} is not a DMARC URI")
        # DMARCbis dropped the `!size` suffix: its receivers ignore whatever follows "!"
        base, bang, _ = uri.partition("!")
        bis_match = _URI.fullmatch(base)
        if not bis_match:
            bis.append(f"{tag}: {uri!r} is not a DMARC URI")
            continue
        if bang:
            warn.append(f"{tag}: size limit in {uri!r} is obsolete in RFC 9989")
        scheme, rest = bis_match.group(1).lower(), bis_match.group(2)
        if scheme != "mailto":
            warn.append(f"{tag}: {uri!r}: receivers only send reports to mailto: URIs")
        elif not _mailbox_ok(rest):
            warn.append(f"{tag}: {uri!r} is not a valid mail address")
            bis.append(f"{tag}: {uri!r} is not a valid mail address")
    return strict, bis, warn


def _check_values(tags: dict[str, str], rec: DmarcRecord) -> None:
    for name in ("adkim", "aspf"):
        if name in tags and tags[name].lower() not in ("r", "s"):
            rec.strict_errors.append(f"{name}={tags[name]!r} is not r or s")
            rec.warnings.append(f"{name}={tags[name]!r} is not r or s; RFC 9989 receivers use the default r")
    if "pct" in tags and not (re.fullmatch(r"\d{1,3}", tags["pct"]) and int(tags["pct"]) <= 100):
        rec.strict_errors.append(f"pct={tags['pct']!r} is not 0-100")
    if "ri" in tags and not (re.fullmatch(r"\d{1,10}", tags["ri"]) and int(tags["ri"]) < 2**32):
        rec.strict_errors.append(f"ri={tags['ri']!r} is not a number of seconds")
    # RFC 7489 6.4: rf = Keyword *(":" Keyword); unknown formats are allowed by the ABNF
    if "rf" in tags and not all(_LDH.fullmatch(v.strip()) for v in tags["rf"].split(":")):
        rec.strict_errors.append(f"rf={tags['rf']!r} is not a list of report format names")
    if "fo" in tags and not re.fullmatch(r"[01ds](?:\s*:\s*[01ds])*", tags["fo"]):
        rec.strict_errors.append(f"fo={tags['fo']!r} is not 0, 1, d or s")
        rec.bis_errors.append(f"fo={tags['fo']!r} is not 0, 1, d or s")
    for name, allowed in (("t", ("y", "n")), ("psd", ("y", "n", "u")), ("np", POLICIES)):
        if name in tags and tags[name].lower() not in allowed:
            rec.bis_errors.append(f"{name}={tags[name]!r} is not one of {', '.join(allowed)}")
    for name in REMOVED:
        if name in tags:
            rec.warnings.append(f"`{name}` is removed in RFC 9989; RFC 7489 receivers still apply it")
            if not tags[name]:
                rec.bis_errors.append(f"{name}= is empty")
    for name in ("rua", "ruf"):
        if name in tags:
            strict, bis, warn = _uri_problems(tags[name], name)
            rec.strict_errors += strict
            rec.bis_errors += bis
            rec.warnings += warn


def _policies(pairs: list[tuple[str, str]], tags: dict[str, str], rec: DmarcRecord) -> None:
    p, sp = tags.get("p", "").lower(), tags.get("sp", "").lower()
    rua_ok = "rua" in tags and not _uri_problems(tags["rua"], "rua")[0]
    broken = [
        m
        for m in (
            ("p" not in tags and "p is missing") or (p not in POLICIES and f"p={p!r} is invalid"),
            "sp" in tags and sp not in POLICIES and f"sp={sp!r} is invalid",
        )
        if m
    ]
    if len(pairs) > 1 and pairs[1][0] != "p" and "p" in tags:
        rec.strict_errors.append("p must come right after v (RFC 7489 6.3)")
    if broken and not rua_ok:
        rec.strict_errors += broken
    rec.strict_p = "none" if broken else p
    if "p" not in tags:
        rec.bis_p = "none"
        rec.warnings.append("p is missing: RFC 9989 reads it as p=none; RFC 7489 needs it")
    elif p in POLICIES:
        rec.bis_p = p
    else:
        rec.bis_errors.append(f"p={p!r} is invalid")
    if "sp" in tags and sp not in POLICIES:
        rec.bis_errors.append(f"sp={sp!r} is invalid")


def parse(text: str) -> DmarcRecord:
    """Parse one TXT string as a DMARC record under both readings."""
    rec = DmarcRecord(text)
    if not is_dmarc(text):
        rec.strict_errors.append("does not start with v=DMARC1")
        rec.bis_errors.append("does not start with v=DMARC1")
        return rec
    if text[:1].isspace():
        rec.warnings.append("leading whitespace before v=DMARC1")
    if ";" not in text:
        rec.strict_errors.append("v=DMARC1 must be followed by ';' (RFC 7489 6.4)")
    pairs = _split(text, rec)
    if pairs is None:
        return rec
    names = [n for n, _ in pairs]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        rec.strict_errors.append(f"tag {dup} appears more than once")
        rec.bis_errors.append(f"tag {dup} appears more than once")
    rec.tags = {n: v for n, v in reversed(pairs)}
    empty = [n for n, v in pairs if not v and n not in REMOVED]
    for name in empty:
        rec.strict_errors.append(f"{name}= has no value")
        rec.bis_errors.append(f"{name}= has no value")
    unknown = sorted(set(names) - KNOWN_7489 - KNOWN_BIS)
    if unknown:
        rec.warnings.append(f"unknown tag(s) ignored: {', '.join(unknown)}")
    _check_values(rec.tags, rec)
    _policies(pairs, rec.tags, rec)
    return rec
