"""The bounce-reason taxonomy (Sisimai 5 names) and the precedence used to break ties."""

from __future__ import annotations

from dataclasses import dataclass

#: reason id -> one-line description. These ids and nothing else may appear in `reason:`.
REASONS: dict[str, str] = {
    "userunknown": "the recipient's mailbox does not exist",
    "mailboxfull": "the recipient's mailbox is over quota",
    "suspend": "the recipient's account exists but is disabled or suspended",
    "hasmoved": "the mailbox moved and mail is not forwarded (551)",
    "filtered": "the recipient exists but a recipient-side filter refused the message",
    "hostunknown": "the recipient's domain does not exist or has no usable mail host",
    "notaccept": "the destination accepts no mail at all (null MX, RFC 7505)",
    "networkerror": "DNS or network failure reaching the destination",
    "expired": "the sending MTA gave up retrying (queue lifetime ran out)",
    "toomanyconn": "too many connections or connection rate exceeded",
    "speeding": "sending faster than the receiver's rate limit allows",
    "blocked": "refused because of the sending IP address or host",
    "requireptr": "the sending IP has no PTR record or one that does not confirm forward",
    "badreputation": "the sending IP or domain has a bad reputation",
    "authfailure": "SPF, DKIM or DMARC authentication failed",
    "rejected": "refused because of the envelope sender (MAIL FROM address or domain)",
    "norelaying": "the server refused to relay for this destination",
    "securityerror": "a security requirement was not met (authentication or TLS required, bad credentials)",
    "failedstarttls": "STARTTLS failed, or TLS was required and not available",
    "policyviolation": "refused by a policy of the receiving site",
    "spamdetected": "the content was judged to be spam",
    "virusdetected": "a virus scanner refused the message",
    "contenterror": "refused because of the message's header, MIME format or encoding",
    "notcompliantrfc": "the message does not comply with the RFCs",
    "mesgtoobig": "the message is larger than the receiving server accepts",
    "exceedlimit": "the message exceeds a limit set for the recipient",
    "syntaxerror": "the sending side issued an invalid SMTP command or parameter",
    "systemerror": "an error inside the remote system",
    "systemfull": "the remote server's storage is full",
    "mailererror": "a local delivery program (pipe, procmail) failed",
    "onhold": "a bounce without enough detail to decide",
    "undefined": "no reason could be determined",
    "vacation": "an automatic reply (out of office), not a bounce",
    "feedback": "an ARF complaint / abuse report, not a bounce",
    "delivered": "not a failure: the DSN reports successful delivery",
    "suppressed": "the recipient is on the sending service's suppression list",
}

#: Order in which reasons win a tie of equal evidence: specific before generic (sisimai's ClassOrder).
PRECEDENCE: tuple[str, ...] = (
    "delivered", "vacation", "feedback", "suppressed",
    "mailboxfull", "mesgtoobig", "exceedlimit", "systemfull",
    "notaccept", "hasmoved", "suspend", "userunknown", "hostunknown",
    "requireptr", "authfailure", "badreputation", "blocked", "speeding", "toomanyconn",
    "norelaying", "failedstarttls", "securityerror", "virusdetected", "spamdetected",
    "notcompliantrfc", "contenterror", "rejected", "filtered", "policyviolation",
    "syntaxerror", "mailererror", "networkerror", "expired", "systemerror",
    "onhold", "undefined",
)

#: Reasons that describe something other than a failed delivery.
NOT_FAILURES: frozenset[str] = frozenset({"vacation", "feedback", "delivered"})

assert set(PRECEDENCE) == set(REASONS), "every reason needs a place in PRECEDENCE"


def rank(reason: str | None) -> int:
    """Position of a reason in PRECEDENCE (how-to topics, reason None, come last)."""
    if reason is None:
        return len(PRECEDENCE)
    return PRECEDENCE.index(reason)


@dataclass(frozen=True, slots=True)
class StageRule:
    """When the SMTP stage, the status or the report's action proves another cause than the
    wording (or than no wording): a bounce whose top entry is one of `wording` (entry ids, or
    reasons: then only their generic entry, since an entry made for one provider's exact message
    already knows what that message means) is answered by the entry `becomes` when it came after
    one of `commands` or with a status whose subject.detail is in `details` (either, when any is
    given), with a reply or status of `reply_class` and with the report's `action` (when given)."""

    wording: frozenset[str]
    becomes: str
    commands: frozenset[str] = frozenset()
    details: frozenset[str] = frozenset()
    reply_class: str = ""
    action: str = ""
    why: str = ""


#: A "user unknown" given in reply to DATA or with the generic mailbox status x.2.0 comes from a
#: recipient-side filter: the mailbox was accepted at RCPT time (sisimai's Filtered rule). A policy
#: status (x.7.1) proves nothing: gateways send it for plain invalid recipients (Proofpoint "550 5.7.1
#: User email address is marked as invalid", Trend Micro "554 5.7.1 ... Invalid-Recipient").
#: An addressing status keeps the wording's reason, except x.1.6, which says the mailbox moved.
#: (Providers send x.2.1 with "user unknown" for plain missing mailboxes, so x.2.1 is no evidence
#: of a suspended one.)
#: "Unknown"/"does not exist" in reply to MAIL FROM is about the sender's address or domain.
#: A permanent refusal at the initial connection, before any command, with no words we know, is
#: the receiver refusing the connecting host (RFC 5321 section 3.1: a 554 greeting).
#: A final failure whose last attempt was a transient connection failure is the sending MTA giving
#: up its retries (Postfix bounces "connect to ...: Connection timed out" with 4.4.1 only when the
#: queue lifetime ran out).
STAGE_OVERRIDES: tuple[StageRule, ...] = (
    StageRule(frozenset({"userunknown"}), "recipient-filtered", commands=frozenset({"DATA"}),
              details=frozenset({"2.0"})),
    StageRule(frozenset({"userunknown"}), "mailbox-moved", details=frozenset({"1.6"})),
    StageRule(frozenset({"userunknown", "hostunknown"}), "sender-address-rejected", commands=frozenset({"MAIL"})),
    StageRule(frozenset({"onhold"}), "host-rejected", commands=frozenset({"CONN"}), reply_class="5"),
    StageRule(frozenset({"connection-timeout", "connection-refused"}), "delivery-expired", reply_class="4",
              action="failed", why="a final failure after transient errors: retries ran out"),
)


#: Reasons that only stand when no cause is named: reason -> (the text evidence another entry needs
#: to win, reasons that do not count as a cause). "expired" is the sending MTA giving up on its own
#: retries: a remote refusal named in the text is the cause, but a transient network or system
#: error is exactly what the retries were for. "onhold" and "undefined" say the bounce was unclear.
TRANSIENT: frozenset[str] = frozenset({"networkerror", "systemerror", "onhold", "undefined"})
YIELDING: dict[str, tuple[float, frozenset[str]]] = {
    "expired": (0.5, TRANSIENT),
    "onhold": (0.5, TRANSIENT),
    "undefined": (0.5, TRANSIENT),
}

#: ...and the other way round: when a transient reason leads but the text also says the sending
#: MTA gave up retrying, the bounce is about the give-up (reason -> the evidence it needs).
ABSORBING: dict[str, tuple[float, frozenset[str]]] = {"expired": (0.5, TRANSIENT - {"onhold", "undefined"})}

#: Transient causes that still name what to fix after the retries ran out, and that retrying rarely
#: fixes: a destination whose DNS kept failing for days needs its DNS fixed (Exchange says so itself:
#: "550 5.4.312 Message expired, DNS query failed"); no route to the host is a routing or firewall
#: problem (typically IPv6 without connectivity). A give-up or delay notice neither absorbs these
#: entries nor stays above them.
LASTING_CAUSES: frozenset[str] = frozenset({"dns-lookup-failure", "network-unreachable"})

#: Reasons whose cause lives at the recipient's domain: live checks should look at that domain
#: (its MX, null MX, DNS), not at the sender's.
RECIPIENT_SIDE: frozenset[str] = frozenset({
    "userunknown", "mailboxfull", "suspend", "hasmoved", "filtered", "hostunknown", "notaccept",
    "networkerror", "systemerror", "systemfull", "mailererror", "toomanyconn", "mesgtoobig",
    "exceedlimit", "expired", "failedstarttls",
})
