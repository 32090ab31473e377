"""Operator settings of the bot, read once from the environment into a frozen value.

Every knob a deployment may turn lives here with its variable name, so the README, `serve` and the
tests agree on one list, and nothing else in `bot/` reads `os.environ`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: default Web API base of slack_sdk; SLACK_API_URL replaces it (tests, proxies)
SLACK_API_DEFAULT = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the operator configured; defaults are safe for a public workspace."""

    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    #: Web API base URL, always ending in "/" (slack_sdk joins method names with urljoin)
    api_url: str = SLACK_API_DEFAULT
    #: SMTPBOT_ALLOW_PRIVATE=1: checks may probe loopback/private addresses
    allow_private: bool = False
    #: SMTPBOT_PASSIVE=0 turns off answering pasted bounces unasked
    passive: bool = True
    #: SMTPBOT_CHANNELS=C1,C2: pasted-bounce detection only in these channel IDs (empty: all joined)
    channels: frozenset[str] = frozenset()
    #: SMTPBOT_CHECK_WORKERS: threads running live checks (never Bolt's listener pool)
    check_workers: int = 4
    #: SMTPBOT_MAX_CHECKS: running plus queued checks; above it the bot answers "busy"
    max_checks: int = 32
    #: SMTPBOT_USER_CHECKS_PER_MIN / SMTPBOT_CHANNEL_CHECKS_PER_MIN: check rate limits
    user_checks_per_min: int = 5
    channel_checks_per_min: int = 20
    #: SMTPBOT_CHANNEL_REPLIES_PER_MIN: unasked bounce replies per channel and minute
    channel_replies_per_min: int = 30
    #: SMTPBOT_NAMESERVERS=host[:port],...: resolvers for checks (empty: the system's)
    nameservers: tuple[tuple[str, int], ...] = ()
    #: SMTPBOT_CHECK_TIMEOUT: seconds per network operation of a check
    check_timeout: float = 5.0
    #: SMTPBOT_KB (or `smtpbot --kb PATH`): another knowledge base directory
    kb_path: str | None = None
    #: malformed values the operator must fix (the bot refuses to start rather than guess)
    problems: tuple[str, ...] = ()

    @property
    def has_slack(self) -> bool:
        """True when Slack tokens are set: bare `smtpbot` then runs the bot, not the console."""
        return bool(self.bot_token and (self.app_token or self.signing_secret))


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


def _nameservers(value: str | None, problems: list[str]) -> tuple[tuple[str, int], ...]:
    from checks._resolver import parse_nameserver

    servers: list[tuple[str, int]] = []
    for item in (value or "").split(","):
        if item.strip():
            try:
                servers.append(parse_nameserver(item))
            except ValueError as exc:
                problems.append(f"SMTPBOT_NAMESERVERS: {exc}")
    return tuple(servers)


#: the longest per-operation timeout an operator may set; longer would pin check workers
MAX_CHECK_TIMEOUT = 60.0


def _timeout(value: str | None, problems: list[str]) -> float:
    if not value or not value.strip():
        return 5.0
    try:
        timeout = float(value)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= MAX_CHECK_TIMEOUT:  # also rejects nan and inf
        problems.append(f"SMTPBOT_CHECK_TIMEOUT must be a number of seconds in (0, {MAX_CHECK_TIMEOUT:g}]")
        return 5.0
    return timeout


def _api_url(value: str | None) -> str:
    url = (value or "").strip() or SLACK_API_DEFAULT
    return url if url.endswith("/") else url + "/"


def load(environ: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables; malformed resolver and timeout values are listed
    in `problems` (other knobs fall back to their defaults)."""
    problems: list[str] = []
    nameservers = _nameservers(environ.get("SMTPBOT_NAMESERVERS"), problems)
    timeout = _timeout(environ.get("SMTPBOT_CHECK_TIMEOUT"), problems)
    return Settings(
        bot_token=environ.get("SLACK_BOT_TOKEN") or None,
        app_token=environ.get("SLACK_APP_TOKEN") or None,
        signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
        api_url=_api_url(environ.get("SLACK_API_URL")),
        allow_private=_flag(environ.get("SMTPBOT_ALLOW_PRIVATE"), False),
        passive=_flag(environ.get("SMTPBOT_PASSIVE"), True),
        channels=frozenset(c.strip() for c in environ.get("SMTPBOT_CHANNELS", "").split(",") if c.strip()),
        check_workers=_int(environ.get("SMTPBOT_CHECK_WORKERS"), 4),
        max_checks=_int(environ.get("SMTPBOT_MAX_CHECKS"), 32),
        user_checks_per_min=_int(environ.get("SMTPBOT_USER_CHECKS_PER_MIN"), 5),
        channel_checks_per_min=_int(environ.get("SMTPBOT_CHANNEL_CHECKS_PER_MIN"), 20),
        channel_replies_per_min=_int(environ.get("SMTPBOT_CHANNEL_REPLIES_PER_MIN"), 30),
        nameservers=nameservers,
        check_timeout=timeout,
        kb_path=environ.get("SMTPBOT_KB") or None,
        problems=tuple(problems),
    )
