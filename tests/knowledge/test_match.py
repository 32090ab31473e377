"""Matcher behaviour: evidence precedence, stage overrides, yielding reasons, calibration."""

from __future__ import annotations

from knowledge.bounce import parse
from knowledge.explain import explain
from knowledge.match import Matcher


def _top(kb, text: str) -> tuple[str, str | None]:
    m = explain(text, kb).matches[0]
    return m.entry.id, m.entry.reason


SENDMAIL_DATA = """\
   ----- The following addresses had permanent fatal errors -----
<anna@example.net>
    (reason: 550 5.2.0 <anna@example.net>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.example.net.:
>>> DATA
<<< 550 5.2.0 <anna@example.net>... User unknown
"""


def test_user_unknown_after_data_is_a_recipient_filter(kb):
    p = parse(SENDMAIL_DATA)
    assert p.command == "DATA"
    assert _top(kb, SENDMAIL_DATA)[1] == "filtered"


def test_addressing_status_keeps_user_unknown_whatever_the_stage(kb):
    text = SENDMAIL_DATA.replace("5.2.0", "5.1.1")
    assert _top(kb, text)[1] == "userunknown"


def test_a_provider_entry_is_not_overridden_by_the_stage(kb):
    # Microsoft's directory-based edge blocking, reported by a gateway as answering DATA
    text = ("-------server message\n550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
            "[AM4PEPF00027A6C.eurprd04.prod.outlook.com]\n-------SMTP command\nDATA\n")
    e = explain(text, kb)
    assert e.parsed.command == "DATA"
    assert e.matches[0].entry.id == "m365-dbeb-recipient-rejected"


def test_user_unknown_with_a_policy_status_stays_user_unknown(kb):
    # security gateways answer plain invalid recipients with 5.7.1 (Proofpoint, Trend Micro)
    assert _top(kb, "550 5.7.1 User email address is marked as invalid")[0] == "user-unknown"
    assert _top(kb, "554 5.7.1 <anna@example.org>: Recipient address rejected: Invalid-Recipient")[0] == "user-unknown"


def test_a_give_up_after_dns_failures_is_about_the_dns(kb):
    # the cause outlived the retries and says what to fix (Exchange writes it in one line)
    assert _top(kb, "550 5.4.312 Message expired, DNS query failed")[0] == "dns-lookup-failure"
    sendmail = ("   ----- The following addresses had permanent fatal errors -----\n<ewa@example.co.jp>\n"
                "   ----- Transcript of session follows -----\n<ewa@example.co.jp>... Deferred: Name server: "
                "example.co.jp.: host name lookup failure\nMessage could not be delivered for 5 days\n"
                "Message will be deleted from queue\n")
    assert _top(kb, sendmail)[0] == "dns-lookup-failure"
    assert _top(kb, sendmail.replace("Name server: example.co.jp.: host name lookup failure",
                                     "Connection timed out with mx.example.co.jp."))[0] == "delivery-expired"


def test_user_unknown_with_the_moved_status_is_a_moved_mailbox(kb):
    assert _top(kb, "551 5.1.6 <anna@example.net>... not our customer")[0] == "mailbox-moved"


EXIM_AT_CONNECT = """\
A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:
  bob@example.com
    SMTP error from remote mail server after initial connection:
    host mx.example.com [192.0.2.2]:
    554 mx.example.com : XYZ : code 4411 for 203.0.113.7
"""


def test_an_unknown_refusal_at_the_greeting_is_a_refused_host(kb):
    e = explain(EXIM_AT_CONNECT, kb)
    assert e.parsed.command == "CONN"
    assert e.matches[0].entry.id == "host-rejected"
    assert not e.confident  # the stage says who was refused, not why
    temporary = EXIM_AT_CONNECT.replace("554 mx", "421 mx")
    assert explain(temporary, kb).matches[0].entry.id != "host-rejected"


def test_a_final_failure_after_connection_timeouts_is_an_expiry(kb):
    dsn = """\
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<bob@example.com>: connect to mx.example.com[192.0.2.1]:25: Connection timed out

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org

Final-Recipient: rfc822; bob@example.com
Action: {action}
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection timed out

--B--
"""
    assert _top(kb, dsn.format(action="failed")) == ("delivery-expired", "expired")
    assert _top(kb, dsn.format(action="delayed"))[0] != "delivery-expired"


def test_a_local_mailer_failure_outranks_the_delay_notice(kb):
    text = """\
Subject: Warning: could not send message for past 4 hours
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B

    **      THIS IS A WARNING MESSAGE ONLY      **

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org

Final-Recipient: RFC822; bob@example.org
X-Actual-Recipient: X-Unix; |/usr/local/bin/deliver
Action: delayed
Status: 4.5.0
Diagnostic-Code: X-Unix; 71

--B--
"""
    assert _top(kb, text)[0] == "local-delivery-failed"


def test_unknown_in_reply_to_mail_from_is_about_the_sender(kb):
    text = ("<ola@example.jp>: host mx.example.jp[192.0.2.3] said: 553 shop.example.net does not exist "
            "(in reply to MAIL FROM command)")
    assert _top(kb, text) == ("sender-address-rejected", "rejected")
    assert _top(kb, text.replace("MAIL FROM", "RCPT TO"))[1] == "hostunknown"


def test_a_domain_that_does_not_exist_is_no_dns_failure(kb):
    gmail = "DNS Error: 27622991 DNS type 'mx' lookup of example.org responded with code NXDOMAIN"
    assert _top(kb, gmail)[0] == "host-unknown"
    assert _top(kb, gmail.replace("NXDOMAIN", "SERVFAIL"))[0] == "dns-lookup-failure"
    postfix = "<a@example.org>: Name service error for name=example.org type=MX: Host not found"
    assert _top(kb, postfix)[0] == "host-unknown"
    assert _top(kb, postfix + ", try again")[0] == "dns-lookup-failure"


def test_no_route_to_the_host_outranks_the_delay_notice(kb):
    warning = ("This is the mail system at host mail.example.org.\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED "
               "TO RESEND YOUR MESSAGE. #\nYour message could not be delivered for more than 4 hour(s).\n"
               "It will be retried until it is 5 day(s) old.\n<a@example.com>: connect to "
               "mx.example.com[2001:db8::25]:25: {error}\n")
    assert _top(kb, warning.format(error="Network is unreachable"))[0] == "network-unreachable"
    assert _top(kb, warning.format(error="Connection timed out"))[0] == "delivery-delayed"


QMAIL_EXPIRED_HELO = """\
Hi. This is the qmail-send program at mail.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<bob@example.com>:
Connected to 192.0.2.30 but my name was rejected.
Remote host said: 501 5.0.0 Invalid domain name
I'm not going to try again; this message has been in the queue too long.
"""


def test_expired_yields_to_a_refusal_named_in_the_text(kb):
    assert _top(kb, QMAIL_EXPIRED_HELO)[1] == "blocked"


def test_expired_stays_when_the_last_error_was_transient(kb):
    text = QMAIL_EXPIRED_HELO.replace(
        "Connected to 192.0.2.30 but my name was rejected.\nRemote host said: 501 5.0.0 Invalid domain name",
        "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)",
    )
    assert _top(kb, text)[1] == "expired"


def test_a_bounce_with_no_evidence_is_on_hold_and_unsure(kb):
    expl = explain("Delivery to the following recipients failed.\n\n   someone@example.com\n", kb)
    assert expl.input_kind == "text"
    assert expl.matches[0].entry.reason == "onhold" and not expl.confident


def test_status_code_alone_uses_the_registry_meaning(kb):
    expl = explain("Status: 5.2.2\nAction: failed\nFinal-Recipient: rfc822; a@example.com\n", kb)
    assert expl.matches[0].entry.reason == "mailboxfull"


def test_default_entry_of_a_reason_is_the_generic_one(kb):
    m = Matcher.for_kb(kb)
    for reason, entry in m.default_for_reason.items():
        assert "/reasons/" in "/" + entry.source, (reason, entry.id, entry.source)


def test_polish_questions_without_diacritics(kb):
    assert _top(kb, "nie dochodza maile")[0] == "mail-not-arriving"
    assert _top(kb, "blad uwierzytelniania smtp")[0] == "smtp-auth-failed"
    assert _top(kb, "jak ustawic reverse dns")[0] == "reverse-dns-ptr"
    assert _top(kb, "zwrotka 550 5.1.1")[1] == "userunknown"


def test_one_word_questions_are_not_overconfident(kb):
    expl = explain("dkim", kb)
    # "dkim" alone fits the set-up guide and the failure entry equally: say so, show both
    assert {m.entry.id for m in expl.matches[:2]} == {"dkim-setup", "dkim-fail"}
    assert not expl.confident


def test_unsubscribe_request_is_feedback(kb):
    msg = (b"From: anna@example.net\nTo: list-unsubscribe@example.com\nSubject: unsubscribe\n"
           b"Auto-Submitted: auto-replied\n\nThis message was automatically generated by the mail client.\n")
    assert explain(msg, kb).matches[0].entry.reason == "feedback"


def test_documentation_addresses_are_no_topic(kb):
    # words nobody asks about around an example.com address: nothing to answer, not a how-to
    assert not explain("ユーザー Neko (kijitora@example.co.jp) Domino", kb).matches


def test_matching_is_thread_safe_and_pure(kb):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["550 5.1.1 User unknown", "552 5.2.2 Mailbox full", "jak ustawic spf", "554 5.7.1 Relay access denied"] * 25
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: explain(t, kb).matches[0].entry.id, texts))
    assert got == [explain(t, kb).matches[0].entry.id for t in texts]
