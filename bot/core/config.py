"""Runtime configuration, read only from environment variables (the runtime contract the README describes).

`load_config` never raises for a configuration mistake: it collects one readable problem per
variable so the entry point can print them all and exit non-zero.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from bot.core.playbook_file import Playbook, PlaybookError, load_playbook
from bot.core.settings import (
    DEFAULT_DIGEST_SCHEDULE,
    DEFAULT_DIGEST_TIMEZONE,
    DEFAULT_FOLLOW_UP_SCHEDULE,
    DEFAULT_WORKING_HOURS,
    DigestSchedule,
    Leads,
    Offset,
    WorkingHours,
    parse_digest_schedule,
    parse_digest_timezone,
    parse_leads,
    parse_offsets,
    parse_retention_days,
    parse_working_hours,
)
from storage.urls import normalise_database_url

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///data/defuse.db"
_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Config:
    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str
    port: int
    database_url: str
    follow_up_schedule: tuple[Offset, ...]
    working_hours: WorkingHours | None
    breather_minutes: int
    tick_seconds: float
    escalation_channel: str | None
    product_feedback_channel: str | None
    log_level: str
    cases_channel: str | None = None  # where cases flagged in customer-readable conversations live
    playbook: Playbook = field(default_factory=load_playbook)
    leads: Leads = field(default_factory=Leads)
    retention_days: int | None = None
    digest_channel: str | None = None  # unset: no weekly digest
    digest_schedule: DigestSchedule = field(default_factory=lambda: DigestSchedule(0, time(9, 0)))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def is_placeholder(value: str) -> bool:
    """The example values in .env.example and the README (`xoxb-your-bot-token`, `xapp-...`)."""
    return "your-" in value.lower() or value.endswith("...") or "<" in value


def load_config(env: Mapping[str, str]) -> Config:
    """Read and check every variable; raise ConfigError listing every problem found."""
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        problems.append(
            "SLACK_APP_TOKEN must be an app-level token starting with 'xapp-' "
            "(Basic Information > App-Level Tokens, scope connections:write); unset it for HTTP mode."
        )

    bot_token = get("SLACK_BOT_TOKEN")
    if not bot_token:
        problems.append(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) "
            "from OAuth & Permissions after installing the app."
        )
    elif not bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' (OAuth & Permissions).")

    signing_secret = get("SLACK_SIGNING_SECRET")
    for name, value in (("SLACK_BOT_TOKEN", bot_token), ("SLACK_APP_TOKEN", app_token), ("SLACK_SIGNING_SECRET", signing_secret)):
        if value and is_placeholder(value):
            problems.append(f"{name} still holds the example value from .env.example: replace it with the real one from your app's page at api.slack.com/apps.")
    if not app_token and not signing_secret:
        problems.append(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
            "(Basic Information > App Credentials > Signing Secret), or set SLACK_APP_TOKEN for Socket Mode."
        )

    api_url = get("SLACK_API_URL") or DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+", api_url):
        problems.append(f"SLACK_API_URL {api_url!r} is not an http(s) URL; e.g. https://slack.com/api/")
    elif not api_url.endswith("/"):
        api_url += "/"

    port = 3000
    raw_port = get("PORT")
    if raw_port is not None:
        if raw_port.isdigit() and 1 <= int(raw_port) <= 65535:
            port = int(raw_port)
        else:
            problems.append(f"PORT {raw_port!r} is not a port number between 1 and 65535.")

    database_url = DEFAULT_DATABASE_URL
    raw_db = get("DATABASE_URL")
    if raw_db is not None:
        try:
            database_url = normalise_database_url(raw_db)
        except ValueError as exc:
            problems.append(
                f"DATABASE_URL is malformed ({exc}); use e.g. sqlite:///data/defuse.db "
                "or postgresql://user:password@host:5432/dbname."
            )

    schedule: tuple[Offset, ...] = ()
    try:
        schedule = parse_offsets(get("FOLLOW_UP_SCHEDULE") or DEFAULT_FOLLOW_UP_SCHEDULE)
    except ValueError as exc:
        problems.append(f"FOLLOW_UP_SCHEDULE: {exc}; write comma-separated offsets such as 1d,7d,30d (or off).")

    hours: WorkingHours | None = None
    try:
        hours = parse_working_hours(get("FOLLOW_UP_WORKING_HOURS") or DEFAULT_WORKING_HOURS)
    except ValueError as exc:
        problems.append(f"FOLLOW_UP_WORKING_HOURS: {exc}.")

    breather = 15
    raw_breather = get("BREATHER_MINUTES")
    if raw_breather is not None:
        if raw_breather.isdigit() and 1 <= int(raw_breather) <= 240:
            breather = int(raw_breather)
        else:
            problems.append(f"BREATHER_MINUTES {raw_breather!r} must be a whole number of minutes from 1 to 240.")

    tick = 10.0
    raw_tick = get("SCHEDULER_TICK_SECONDS")
    if raw_tick is not None:
        try:
            tick = float(raw_tick)
            if not 0.05 <= tick <= 3600:
                raise ValueError
        except ValueError:
            problems.append(f"SCHEDULER_TICK_SECONDS {raw_tick!r} must be a number of seconds from 0.05 to 3600.")

    channels: dict[str, str | None] = {}
    for name in ("ESCALATION_CHANNEL", "PRODUCT_FEEDBACK_CHANNEL", "CASES_CHANNEL", "DIGEST_CHANNEL"):
        value = get(name)
        if value is not None and not _CHANNEL_RE.match(value):
            problems.append(
                f"{name} {value!r} is not a channel ID: use the ID (like C0123ABCD, from the channel's "
                "details), not its name; or unset it."
            )
            value = None
        channels[name] = value

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if not isinstance(logging.getLevelName(log_level), int):
        problems.append(f"LOG_LEVEL {log_level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")

    playbook: Playbook | None = None
    try:
        raw_playbook = get("PLAYBOOK_FILE")
        playbook = load_playbook(Path(raw_playbook) if raw_playbook else None)
    except PlaybookError as exc:
        problems.extend(exc.problems)

    leads, lead_problems = parse_leads(get("LEADS"))
    problems.extend(lead_problems)
    retention_days, retention_problem = parse_retention_days(get("RETENTION_DAYS"))
    if retention_problem:
        problems.append(retention_problem)

    weekday, at = 0, time(9, 0)
    try:
        weekday, at = parse_digest_schedule(get("DIGEST_SCHEDULE") or DEFAULT_DIGEST_SCHEDULE)
    except ValueError as exc:
        problems.append(f"DIGEST_SCHEDULE: {exc} (the weekly digest's day and time in DIGEST_TIMEZONE).")
    digest_tz = DEFAULT_DIGEST_TIMEZONE
    try:
        digest_tz = parse_digest_timezone(get("DIGEST_TIMEZONE") or DEFAULT_DIGEST_TIMEZONE)
    except ValueError as exc:
        problems.append(f"DIGEST_TIMEZONE: {exc}.")

    if problems:
        raise ConfigError(problems)
    assert playbook is not None
    return Config(
        bot_token=bot_token or "",
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url,
        port=port,
        database_url=database_url,
        follow_up_schedule=schedule,
        working_hours=hours,
        breather_minutes=breather,
        tick_seconds=tick,
        escalation_channel=channels["ESCALATION_CHANNEL"],
        product_feedback_channel=channels["PRODUCT_FEEDBACK_CHANNEL"],
        log_level=log_level,
        cases_channel=channels["CASES_CHANNEL"],
        playbook=playbook,
        leads=leads,
        retention_days=retention_days,
        digest_channel=channels["DIGEST_CHANNEL"],
        digest_schedule=DigestSchedule(weekday, at, digest_tz),
    )
