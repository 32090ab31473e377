"""Defaults an operator may override by flag: DNSBL zones and the DKIM selectors we probe.

Kept as data in one place (house style: thresholds in the check modules, lists here).
"""

from __future__ import annotations

#: public DNSBLs that answer free low-volume queries without registration (RFC 5782 layout);
#: `--dnsbl ZONE` replaces them. Barracuda's BRBL is left out: it answers only registered resolvers.
#: Spamhaus refuses queries from public resolvers with 127.255.255.254 (reported as "could not check").
DNSBL_ZONES: tuple[str, ...] = (
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "psbl.surriel.com",
    "bl.mailspike.net",
)

#: selectors per mail provider, chosen from what the provider documents for its customers;
#: the key is matched against MX host names and SPF include targets
PROVIDER_SELECTORS: dict[str, tuple[str, ...]] = {
    "outlook.com": ("selector1", "selector2"),  # Microsoft 365 (CNAMEs to *.onmicrosoft.com)
    "google.com": ("google",),  # Google Workspace default selector
    "googlemail.com": ("google",),
    "mcsv.net": ("k1", "k2", "k3"),  # Mailchimp / Mandrill
    "mandrillapp.com": ("mandrill", "mte1"),
    "amazonses.com": ("amazonses",),  # Amazon SES "Easy DKIM" uses random tokens; this is the legacy name
    "sendgrid.net": ("s1", "s2", "smtpapi"),
    "mailgun.org": ("mx", "k1", "smtp", "pic"),
    "zoho.com": ("zoho", "zmail"),
    "zoho.eu": ("zoho", "zmail"),
    "messagingengine.com": ("fm1", "fm2", "fm3"),  # Fastmail
    "protonmail.ch": ("protonmail", "protonmail2", "protonmail3"),
    "mtasv.net": ("pm",),  # Postmark
    "ovh.net": ("ovhmo1", "ovh"),
}

#: names many self-hosted and smaller providers use
COMMON_SELECTORS: tuple[str, ...] = (
    "default",
    "dkim",
    "mail",
    "selector1",
    "selector2",
    "google",
    "s1",
    "k1",
)
