"""`smtp.open-relay` (opt-in `--relay-test`): would this server relay for a stranger? (RFC 5321 §3.9, RFC 2505)

From an unauthenticated session the probe names a sender and a recipient in domains the server
has nothing to do with and stops at the RCPT reply: RSET follows at once, DATA never does, so no
message can ever leave the server.
"""

from __future__ import annotations

import contextlib
import re

from checks._smtpio import SmtpConnection, SmtpIOError
from checks.model import Finding, Status

#: RFC 2606 reserved names: they belong to no customer, so "outside domains" for any target
PROBE_DOMAINS = ("example.net", "example.org", "example.com")
PROBE_LOCAL_PART = "smtpbot-relay-probe"


def probe_addresses(host: str) -> tuple[str, str]:
    """A sender and a recipient in two reserved domains neither of which is the target's own."""
    own = host.lower().rstrip(".")
    outside = [d for d in PROBE_DOMAINS if not (own == d or own.endswith("." + d))]
    return f"{PROBE_LOCAL_PART}@{outside[0]}", f"{PROBE_LOCAL_PART}@{outside[1]}"


#: how servers say "I do not relay for you" (Postfix, Exim, Sendmail, Exchange, qmail): status
#: 5.7.1 or 5.7.54 (Exchange "unable to relay"), or relay wording in the text
_RELAY_REFUSAL = re.compile(
    r"\b5\.7\.(?:1|54)\b|relay|not permitted|not allowed to send|"
    r"not (?:a )?(?:local|valid) (?:recipient|domain)|not in my list of allowed rcpthosts|"
    r"authentication required|must (?:be )?authenticat", re.IGNORECASE,
)


async def open_relay(conn: SmtpConnection, subject: str, host: str) -> Finding:
    """Run MAIL FROM / RCPT TO / RSET on an open session and judge the RCPT reply.

    2xx to RCPT: open relay (fail). 5xx: relaying denied (pass). 4xx: inconclusive, often
    greylisting (info). A refused MAIL FROM means the relay question was never asked (info).
    """
    sender, recipient = probe_addresses(host)
    details: dict[str, object] = {"mail_from": sender, "rcpt_to": recipient}
    try:
        mail = await conn.command(f"MAIL FROM:<{sender}>")
        details["mail_reply"] = str(mail)
        if mail.code // 100 != 2:
            await _rset(conn)
            return Finding("smtp.open-relay", Status.INFO, subject,
                           f"relay not tested: MAIL FROM refused ({mail})", details, "relay-access-denied")
        rcpt = await conn.command(f"RCPT TO:<{recipient}>")
        details["rcpt_reply"] = str(rcpt)
        await _rset(conn)
    except SmtpIOError as exc:
        details["error"] = exc.message
        return Finding("smtp.open-relay", Status.ERROR, subject, f"relay test did not finish: {exc.message}",
                       details, "connection-timeout" if exc.kind == "timeout" else "diagnostic-tools")
    return _judge(subject, rcpt.code, str(rcpt), details)


def _judge(subject: str, code: int, reply: str, details: dict[str, object]) -> Finding:
    if code // 100 == 2:
        return Finding("smtp.open-relay", Status.FAIL, subject,
                       f"OPEN RELAY: accepted a recipient outside its domains ({reply})", details, "open-relay")
    if code // 100 == 5 and _RELAY_REFUSAL.search(reply):
        return Finding("smtp.open-relay", Status.PASS, subject, f"relaying denied ({reply})", details,
                       "relay-access-denied")
    if code // 100 == 5:
        # refused for another reason (our probe sender's null-MX domain, our EHLO name, a block
        # list): the server never said whether it would relay, so no verdict either way
        return Finding("smtp.open-relay", Status.INFO, subject,
                       f"inconclusive: the test recipient was refused for another reason ({reply})", details,
                       "open-relay")
    return Finding("smtp.open-relay", Status.INFO, subject,
                   f"inconclusive: temporary refusal ({reply}), perhaps greylisting", details,
                   "relay-access-denied")


async def _rset(conn: SmtpConnection) -> None:
    with contextlib.suppress(SmtpIOError):
        await conn.command("RSET")
