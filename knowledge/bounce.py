"""Any bounce -> one Parsed record: raw emails and DSNs, NDR text, log lines, exceptions, questions.

Parsers never score; the matcher never parses (house style). Formats differ; Parsed does not.
"""

from __future__ import annotations

import email.errors
import re

from knowledge.detect import detect_bounce
from knowledge.dsn import DsnRecipient, MessageFacts, dsn_in_text, read_message
from knowledge.model import Parsed, Recipient
from knowledge.ndr import TextFacts, read_text
from knowledge.replies import find_command, find_reply, find_status
from knowledge.text import ADDRESS, squash


class BadInput(ValueError):
    """Input smtpbot cannot read at all (empty, binary); str() is the one-line reason."""


_HEADER_START = re.compile(r"\A(?:From \S[^\n]*\n)?(?:[\w-]{2,}:[^\n]*\n(?:[ \t][^\n]*\n)*){2,}")
_KNOWN_HEADERS = re.compile(
    r"^(?:from|to|subject|date|received|return-path|message-id|content-type|mime-version|delivered-to|x-[\w-]+):",
    re.IGNORECASE | re.MULTILINE,
)
_DSN_FIELDS = re.compile(r"^[ \t]*(?:Final-Recipient|Original-Recipient|Action|Status|Diagnostic-Code|Remote-MTA)\s*:",
                         re.IGNORECASE | re.MULTILINE)
_QUESTION = re.compile(
    r"(\?\s*$|^(?:how|why|what|when|where|which|who|can|could|should|is|are|do|does|did|help|jak|dlaczego|czemu|"
    r"co|czy|gdzie|kiedy|ktory|ktora|jaki|jaka|jakie|pomocy|prosze|mam|mamy|dostaje|dostajemy|nie|nasz|nasze)\b)",
    re.IGNORECASE,
)
_AUTOREPLY_SUBJECT = re.compile(
    r"^(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|autosvar|autoreply|out of (?:the )?office|"
    r"odpowied\w* automatyczn|nieobecno|abwesenheit|absence|r[ée]ponse automatique|vacation|on vacation)",
    re.IGNORECASE,
)
_UNSUBSCRIBE = re.compile(r"^[ \t]*unsubscribe\b", re.IGNORECASE)
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery|mdaemon|bounce", re.IGNORECASE)
_ORIGINAL_START = re.compile(
    r"^[-= \t]*(?:-+\s*original message\s*-+|original message follows|this is a copy of the message|"
    r"included is a copy|--- below this line is a copy|the original message (?:follows|is attached|is below)|"
    r"(?:text of the )?original message headers?|headers? of (?:the )?original message|"
    r"content-type: message/rfc822|wiadomo\w+ oryginaln)", re.IGNORECASE | re.MULTILINE,
)
#: beyond these sizes an input is a paste, not a chat question
QUESTION_MAX_LINES = 4
QUESTION_MAX_CHARS = 400
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
_EXCERPT_CHARS = 3000


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def _to_text(data: str | bytes) -> tuple[bytes, str]:
    if isinstance(data, str):
        raw, text = data.encode("utf-8", "surrogateescape"), data
    else:
        raw, text = data, _decode(data)
    if not text.strip():
        raise BadInput("empty input: paste a bounce, an SMTP reply line or a question")
    sample = text[:8192]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > len(sample) * 0.05:
        raise BadInput("binary data: expected a bounce email or text, not a binary file")
    return raw, text.replace("\r\n", "\n").replace("\r", "\n")


#: Japanese mail systems' charsets, used only when the result is mostly Japanese script
JAPANESE_CHARSETS = ("shift_jis", "euc_jp")
#: then Central European (Polish) ones; latin-1 decodes anything
FALLBACK_CHARSETS = ("cp1250", "iso-8859-2", "latin-1")
_POLISH = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # hiragana, katakana, kanji (two bytes each)


def _decode(data: bytes) -> str:
    """UTF-8, or ISO-2022-JP (7-bit, so also valid UTF-8: told by its escape sequences), or Japanese
    when the bytes decode to Japanese script, else Polish."""
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            return data.decode("iso-2022-jp")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = sum(1 for b in data[:8192] if b > 0x7F) or 1
    for charset in JAPANESE_CHARSETS:
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            continue
        if len(_JAPANESE.findall(text[:8192])) * 2 >= high * 0.6:  # a Japanese character is 2 bytes
            return text
    # cp1250 and iso-8859-2 both decode any byte; the one that yields more Polish letters is right
    texts = []
    for charset in FALLBACK_CHARSETS:
        try:
            texts.append(data.decode(charset))
        except UnicodeDecodeError:
            continue
    return max(texts, key=lambda t: len(_POLISH.findall(t[:8192])))


def looks_like_message(text: str) -> bool:
    head = text.lstrip("\n")[:4096]
    m = _HEADER_START.match(head)
    return bool(m) and len(_KNOWN_HEADERS.findall(m.group(0))) >= 2


def parse(data: str | bytes) -> Parsed:
    """Parse any supported input; raises BadInput only for empty or binary input."""
    raw, text = _to_text(data)
    if looks_like_message(text):
        try:
            return _from_message(raw)
        except RecursionError:
            raise BadInput("MIME parts nested too deeply to read") from None
        except (email.errors.MessageError, LookupError, ValueError):
            pass  # a message too broken for the email package: read it as text
    return _from_text(text)


def _excerpt(body: str) -> str:
    m = _ORIGINAL_START.search(body)
    return (body[: m.start()] if m else body)[:_EXCERPT_CHARS]


def _kind_hint(facts: MessageFacts) -> str | None:
    ctype = facts.headers.get("content-type", "").lower()
    if facts.feedback_type or "feedback-report" in ctype or _UNSUBSCRIBE.match(facts.subject):
        return "feedback"  # an automatic unsubscribe request (RFC 8058 mailto) is a recipient's feedback
    actions = {r.action for r in facts.dsn if r.action}
    if actions and actions <= _SUCCESS_ACTIONS:
        return "delivered"
    auto = facts.headers.get("auto-submitted", "").lower()
    autoreply = (
        "auto-replied" in auto or "x-autoreply" in facts.headers or "x-autorespond" in facts.headers
        or facts.headers.get("precedence", "").lower() == "auto_reply"
        or bool(_AUTOREPLY_SUBJECT.match(facts.subject))
    )
    if autoreply and not facts.has_dsn and not _BOUNCE_SENDER.search(facts.headers.get("from", "")):
        return "vacation"
    return None


def _rows(dsn: list[DsnRecipient]) -> list[Recipient]:
    return [
        Recipient(
            recipient=r.recipient,
            action=r.action,
            status=r.status,
            reply_code=find_reply(r.diagnostic or "")[0],
            diagnostic=r.diagnostic,
            remote_mta=r.remote_mta,
        )
        for r in dsn
    ]


def _pick(dsn_rows: list[Recipient]) -> Recipient | None:
    for wanted in ("failed", "delayed"):
        for r in dsn_rows:
            if r.action == wanted:
                return r
    return dsn_rows[0] if dsn_rows else None


def _specific(status: str | None, other: str | None) -> str | None:
    """Prefer a specific status over a catch-all x.0.0 one."""
    if status and other and status.endswith(".0.0") and not other.endswith(".0.0") and status[0] == other[0]:
        return other
    return status or other


def _from_message(raw: bytes) -> Parsed:
    facts = read_message(raw)
    if not facts.dsn:
        facts.dsn = dsn_in_text(facts.body)
    excerpt = _excerpt(facts.body)
    tf = read_text(excerpt) if excerpt.strip() else read_text(facts.subject or " ")
    rows = _rows(facts.dsn)
    chosen = _pick(rows)
    diag = (chosen.diagnostic if chosen else None) or tf.diagnostic
    code, dstatus = find_reply(diag or "")
    status = _specific(chosen.status if chosen else None, dstatus or find_status(diag or "") or tf.status)
    if not rows and tf.recipient:
        rows = [Recipient(tf.recipient, tf.action, status, code or tf.reply_code, diag, tf.remote_mta)]
    sender = facts.original_from or _addr_of(facts.headers.get("to", ""))
    hint = _kind_hint(facts)
    return Parsed(
        input_kind="dsn" if facts.has_dsn else "mime",
        reply_code=code or tf.reply_code,
        status=status,
        diagnostic=diag,
        remote_mta=(chosen.remote_mta if chosen else None) or tf.remote_mta,
        recipient=(chosen.recipient if chosen else None) or tf.recipient
        or facts.headers.get("x-failed-recipients") or None,
        sender_domain=sender.rpartition("@")[2].lower() if sender and "@" in sender else None,
        action=(chosen.action if chosen else None) or (None if hint else tf.action),
        sending_ip=facts.feedback_ip or facts.original_ip,
        recipients=tuple(rows),
        kind_hint=hint,
        text="\n".join(x for x in (facts.subject, excerpt) if x),
        command=find_command(excerpt) or tf.command,
    )


def _addr_of(value: str) -> str | None:
    m = ADDRESS.search(value)
    return m.group(0) if m else None


def asks(text: str) -> bool:
    """The text is phrased as a question (a question word first, or a question mark)."""
    stripped = text.strip()
    first = stripped.splitlines()[0] if stripped else ""
    return bool(_QUESTION.search(first) or "?" in stripped)


def is_question(text: str, tf: TextFacts) -> bool:
    """A chat question, not a pasted bounce: no reply structure, or a short sentence asking."""
    stripped = text.strip()
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > QUESTION_MAX_LINES or len(stripped) > QUESTION_MAX_CHARS:
        return False  # people ask in a sentence or two; longer text was pasted from somewhere
    if _DSN_FIELDS.search(stripped) or tf.fmt not in (None, "reply-line", "bare-reply", "status-line", "phpmailer"):
        return False
    if tf.fmt in ("reply-line", "bare-reply", "status-line") and re.match(r"^[ \t]*[<>]*\s*[45](?:\d\d|\.\d)", stripped):
        return False
    notice = detect_bounce(stripped).is_bounce  # the same rules by which the bot answers a paste unasked
    if notice and len(stripped) > 120:
        return False
    asking = asks(stripped)
    if tf.reply_code is None and tf.status is None:
        return asking or not notice
    return len(stripped) < 300 and asking


def _from_text(text: str) -> Parsed:
    tf = read_text(text)
    if is_question(text, tf):
        return Parsed(input_kind="question", reply_code=tf.reply_code, status=tf.status, text=squash(text))
    rows = _rows(dsn_in_text(text))
    first = _pick(rows)
    if first:  # pasted DSN fields: every value from the first failed recipient's own block
        status = _specific(first.status, find_status(first.diagnostic or "") or tf.status)
        row = Recipient(first.recipient, first.action, status, first.reply_code or tf.reply_code,
                        first.diagnostic or tf.diagnostic, first.remote_mta or tf.remote_mta)
    else:
        row = Recipient(tf.recipient, tf.action, tf.status, tf.reply_code, tf.diagnostic, tf.remote_mta)
    # success only on explicit evidence: DSN actions, or a Postfix "status=sent" log line
    delivered = (rows and all(r.action in _SUCCESS_ACTIONS for r in rows)) or (
        not rows and tf.fmt in ("postfix-log", "postfix-log-short") and tf.action == "delivered")
    hint = "delivered" if delivered else None
    return Parsed(
        input_kind="text",
        reply_code=row.reply_code,
        status=row.status,
        diagnostic=row.diagnostic,
        remote_mta=row.remote_mta,
        recipient=row.recipient,
        action=row.action,
        sending_ip=_client_ip(text, exclude=tf.remote_ip),
        recipients=tuple(rows) or ((row,) if (row.recipient or row.diagnostic) else ()),
        kind_hint=hint,
        text=text[:_EXCERPT_CHARS * 2],
        command=find_command(text) or _command_name(tf.command),
    )


_CLIENT_IP = re.compile(
    r"(?:client host|your ip|ip address|sending ip|originating ip|\bip)\s*[:=]?\s*\[?((?:\d{1,3}\.){3}\d{1,3})",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_NAMES_CLIENT = re.compile(r"blocked|listed|ptr|reverse", re.IGNORECASE)


def _client_ip(text: str, exclude: str | None = None) -> str | None:
    """The sending IP when the text names it (blocklist and PTR refusals quote the client's address);
    never the receiving server's own address (`host mx[192.0.2.5] said:`)."""
    m = _CLIENT_IP.search(text)
    if m and m.group(1) != exclude:
        return m.group(1)
    if not _NAMES_CLIENT.search(text):
        return None
    return next((ip for ip in _IPV4.findall(text) if ip != exclude), None)


def _command_name(cmd: str | None) -> str | None:
    """"RCPT TO" / "MAIL FROM" / "end of DATA" as the verbs find_command uses."""
    return find_command(f"in reply to {cmd}") if cmd else None
