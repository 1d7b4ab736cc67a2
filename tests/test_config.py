"""Configuration: bot.core.config.load_config unit tests, and `python app.py` refusing bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
BASE = {"SLACK_BOT_TOKEN": "xoxb-123-456-abc", "SLACK_SIGNING_SECRET": "s3cr3t"}


def cfg(**env: str):
    return load_config({**BASE, **env})


def problems(**env: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config({**BASE, **env})
    return info.value.problems


def problems_of(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    return info.value.problems


# --- defaults and required values ------------------------------------------------------------
def test_defaults():
    config = load_config(BASE)
    assert config.bot_token == BASE["SLACK_BOT_TOKEN"]
    assert config.signing_secret == BASE["SLACK_SIGNING_SECRET"]
    assert config.app_token is None and not config.socket_mode
    assert config.api_url == "https://slack.com/api/"
    assert config.port == 3000
    assert config.database_url.startswith("sqlite:///") and "data/" in config.database_url
    assert [str(o) for o in config.follow_up_schedule] == ["1d", "7d", "30d"]
    assert config.working_hours is not None
    assert (config.working_hours.start, config.working_hours.end) == (clock(9, 0), clock(17, 0))
    assert config.breather_minutes == 15
    assert config.tick_seconds == 10
    assert config.escalation_channel is None and config.product_feedback_channel is None
    assert config.log_level == "INFO"


def test_nothing_set_reports_bot_token_and_signing_secret():
    found = problems_of({})
    assert len(found) == 2
    assert any("SLACK_BOT_TOKEN" in p for p in found)
    assert any("SLACK_SIGNING_SECRET" in p for p in found)


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_blank_required_values_count_as_missing(value):
    found = problems_of({"SLACK_BOT_TOKEN": value, "SLACK_SIGNING_SECRET": value})
    assert len(found) == 2
    assert any("SLACK_BOT_TOKEN" in p for p in found)
    assert any("SLACK_SIGNING_SECRET" in p for p in found)


@pytest.mark.parametrize("token", ["xoxp-user-token", "xapp-1-abc", "abc", "XOXB-123"])
def test_bot_token_must_be_a_bot_token(token):
    found = problems(SLACK_BOT_TOKEN=token)
    assert len(found) == 1 and "SLACK_BOT_TOKEN" in found[0] and "xoxb-" in found[0]


def test_values_are_stripped():
    config = cfg(SLACK_BOT_TOKEN="  xoxb-1  ", SLACK_SIGNING_SECRET=" s ", PORT=" 8080 ")
    assert config.bot_token == "xoxb-1"
    assert config.signing_secret == "s"
    assert config.port == 8080


def test_socket_mode_needs_no_signing_secret():
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A1-abc"})
    assert config.socket_mode
    assert config.app_token == "xapp-1-A1-abc"
    assert config.signing_secret is None


def test_app_token_must_be_app_level():
    found = problems_of({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-not-an-app-token"})
    assert any("SLACK_APP_TOKEN" in p and "xapp-" in p for p in found)


# --- SLACK_API_URL ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://slack-gov.com/api/", "https://slack-gov.com/api/"),
        ("https://slack-gov.com/api", "https://slack-gov.com/api/"),
        ("http://127.0.0.1:8765/api/", "http://127.0.0.1:8765/api/"),
    ],
)
def test_api_url_ends_with_slash(value, expected):
    assert cfg(SLACK_API_URL=value).api_url == expected


@pytest.mark.parametrize("value", ["slack.com/api/", "ftp://slack.com/api/", "https:///api"])
def test_api_url_must_be_http(value):
    found = problems(SLACK_API_URL=value)
    assert len(found) == 1 and "SLACK_API_URL" in found[0]


# --- PORT ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [("1", 1), ("8080", 8080), ("65535", 65535)])
def test_port_valid(value, expected):
    assert cfg(PORT=value).port == expected


@pytest.mark.parametrize("value", ["0", "65536", "abc", "-1", "80.5", "3000a", "+80", "99999999"])
def test_port_invalid(value):
    found = problems(PORT=value)
    assert len(found) == 1 and "PORT" in found[0]


# --- DATABASE_URL ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("postgres://u:pw@db.example.com:5432/defuse", "postgresql+psycopg://u:pw@db.example.com:5432/defuse"),
        ("postgresql://u:pw@db.example.com/defuse", "postgresql+psycopg://u:pw@db.example.com/defuse"),
        ("postgresql+psycopg2://u@db/defuse", "postgresql+psycopg://u@db/defuse"),
        ("postgresql+psycopg://u@db/defuse", "postgresql+psycopg://u@db/defuse"),
        ("postgres://u:p%40ss%2Fword@db:5432/defuse?sslmode=require",
         "postgresql+psycopg://u:p%40ss%2Fword@db:5432/defuse?sslmode=require"),
        ("sqlite:///data/defuse.db", "sqlite:///data/defuse.db"),
        ("sqlite:////var/lib/defuse/defuse.db", "sqlite:////var/lib/defuse/defuse.db"),
    ],
)
def test_database_url_forms(value, expected):
    assert cfg(DATABASE_URL=value).database_url == expected


def test_database_url_password_survives_normalisation():
    from sqlalchemy.engine import make_url

    url = make_url(cfg(DATABASE_URL="postgres://u:p%40ss@db/x").database_url)
    assert url.password == "p@ss"
    assert url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "value",
    ["mysql://u@h/db", "not a url", "://", "oracle://scott@h/x",
     "sqlite://", "sqlite:///:memory:"],  # in-memory SQLite would lose every case on restart
)
def test_database_url_invalid(value):
    found = problems(DATABASE_URL=value)
    assert len(found) == 1 and "DATABASE_URL" in found[0]


# --- FOLLOW_UP_SCHEDULE ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("1d,7d,30d", ["1d", "7d", "30d"]),
        ("45s, 30m ,12h,2w", ["45s", "30m", "12h", "2w"]),
        ("1D,2W", ["1d", "2w"]),
        ("3 d", ["3d"]),
        ("off", []),
        ("OFF", []),
        ("none", []),
    ],
)
def test_follow_up_schedule_valid(value, expected):
    assert [str(o) for o in cfg(FOLLOW_UP_SCHEDULE=value).follow_up_schedule] == expected


def test_follow_up_offsets_units():
    s, m, h, d, w = cfg(FOLLOW_UP_SCHEDULE="45s,30m,12h,3d,2w").follow_up_schedule
    assert s.delta == timedelta(seconds=45) and not s.is_calendar
    assert m.delta == timedelta(minutes=30) and not m.is_calendar
    assert h.delta == timedelta(hours=12) and not h.is_calendar
    assert d.is_calendar and d.days == 3 and d.delta == timedelta(days=3)
    assert w.is_calendar and w.days == 14 and w.delta == timedelta(weeks=2)


@pytest.mark.parametrize("value", ["1x", "1d,,7d", "0d", "-1d", "1.5h", "d", "1d;7d", "1 day", "1d 7d", "7", "tomorrow"])
def test_follow_up_schedule_invalid(value):
    found = problems(FOLLOW_UP_SCHEDULE=value)
    assert len(found) == 1 and "FOLLOW_UP_SCHEDULE" in found[0]


# --- FOLLOW_UP_WORKING_HOURS -----------------------------------------------------------------
@pytest.mark.parametrize(
    "value, start, end",
    [
        ("09:00-17:00", clock(9), clock(17)),
        ("9:30 - 18:15", clock(9, 30), clock(18, 15)),
        ("00:00-24:00", clock(0), clock(23, 59, 59)),
        ("08:00-12:00", clock(8), clock(12)),
    ],
)
def test_working_hours_valid(value, start, end):
    hours = cfg(FOLLOW_UP_WORKING_HOURS=value).working_hours
    assert hours is not None and (hours.start, hours.end) == (start, end)


@pytest.mark.parametrize("value", ["off", "OFF", " off "])
def test_working_hours_off(value):
    assert cfg(FOLLOW_UP_WORKING_HOURS=value).working_hours is None


@pytest.mark.parametrize(
    "value",
    ["17:00-09:00", "09:00-09:00", "25:00-26:00", "09:60-10:00", "9-17", "09:00-24:30", "nine to five", "09:00", "09:00-17:00-18:00"],
)
def test_working_hours_invalid(value):
    found = problems(FOLLOW_UP_WORKING_HOURS=value)
    assert len(found) == 1 and "FOLLOW_UP_WORKING_HOURS" in found[0]


# --- channels, numbers, log level ------------------------------------------------------------
@pytest.mark.parametrize("name", ["ESCALATION_CHANNEL", "PRODUCT_FEEDBACK_CHANNEL"])
@pytest.mark.parametrize("value", ["C0123ABCD", "G0123ABCD", "C01"])
def test_channel_ids_valid(name, value):
    config = cfg(**{name: value})
    attr = "escalation_channel" if name == "ESCALATION_CHANNEL" else "product_feedback_channel"
    assert getattr(config, attr) == value


@pytest.mark.parametrize("name", ["ESCALATION_CHANNEL", "PRODUCT_FEEDBACK_CHANNEL"])
@pytest.mark.parametrize("value", ["#experts", "experts", "c0123abcd", "U0123ABCD", "D0123ABCD", "C", "C0123 ABCD"])
def test_channel_ids_invalid(name, value):
    found = problems(**{name: value})
    assert len(found) == 1 and name in found[0]
    other = "PRODUCT_FEEDBACK_CHANNEL" if name == "ESCALATION_CHANNEL" else "ESCALATION_CHANNEL"
    assert other not in found[0]


def test_blank_channel_is_unset():
    assert cfg(ESCALATION_CHANNEL="  ").escalation_channel is None


@pytest.mark.parametrize("value, ok", [("1", True), ("240", True), ("30", True), ("0", False), ("241", False), ("abc", False), ("1.5", False)])
def test_breather_minutes(value, ok):
    if ok:
        assert cfg(BREATHER_MINUTES=value).breather_minutes == int(value)
    else:
        found = problems(BREATHER_MINUTES=value)
        assert len(found) == 1 and "BREATHER_MINUTES" in found[0]


@pytest.mark.parametrize("value, ok", [("0.2", True), ("10", True), ("3600", True), ("0", False), ("0.01", False),
                                       ("3601", False), ("nan", False), ("inf", False), ("abc", False)])
def test_scheduler_tick_seconds(value, ok):
    if ok:
        assert cfg(SCHEDULER_TICK_SECONDS=value).tick_seconds == float(value)
    else:
        found = problems(SCHEDULER_TICK_SECONDS=value)
        assert len(found) == 1 and "SCHEDULER_TICK_SECONDS" in found[0]


@pytest.mark.parametrize("value, expected", [("debug", "DEBUG"), ("WARNING", "WARNING"), (" error ", "ERROR")])
def test_log_level_valid(value, expected):
    assert cfg(LOG_LEVEL=value).log_level == expected


@pytest.mark.parametrize("value", ["loud", "verbose", "5"])
def test_log_level_invalid(value):
    found = problems(LOG_LEVEL=value)
    assert len(found) == 1 and "LOG_LEVEL" in found[0]


BAD = {
    "SLACK_APP_TOKEN": "nope",
    "SLACK_BOT_TOKEN": "xoxp-user",
    "SLACK_API_URL": "slack.com",
    "PORT": "http",
    "DATABASE_URL": "mysql://u@h/db",
    "FOLLOW_UP_SCHEDULE": "1x",
    "FOLLOW_UP_WORKING_HOURS": "17:00-09:00",
    "BREATHER_MINUTES": "0",
    "SCHEDULER_TICK_SECONDS": "never",
    "ESCALATION_CHANNEL": "#experts",
    "PRODUCT_FEEDBACK_CHANNEL": "feedback",
    "LOG_LEVEL": "loud",
}


def test_every_problem_is_reported_at_once_one_single_line_each():
    found = problems_of(BAD)
    assert len(found) == len(BAD), found
    for name in BAD:
        naming = [p for p in found if p.split()[0].rstrip(":") == name]
        assert len(naming) == 1, (name, found)
    for p in found:
        assert "\n" not in p and p.strip() == p and len(p) > len(p.split()[0]) + 10


# --- python app.py with a bad configuration --------------------------------------------------
def clean_env(**env: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    return {**keep, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env}


def run_app(tmp_path: Path, env: dict[str, str], timeout: float = 20) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def test_app_exits_fast_with_one_line_per_problem(tmp_path):
    bad = {
        "PORT": "abc",
        "FOLLOW_UP_SCHEDULE": "1x",
        "FOLLOW_UP_WORKING_HOURS": "late",
        "ESCALATION_CHANNEL": "#experts",
        "DATABASE_URL": "mysql://u@h/db",
        "SLACK_SIGNING_SECRET": "s",
    }  # and SLACK_BOT_TOKEN missing
    code, output, elapsed = run_app(tmp_path, clean_env(**bad))
    assert code != 0
    assert elapsed < 5
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    expected = ["SLACK_BOT_TOKEN", "PORT", "FOLLOW_UP_SCHEDULE", "FOLLOW_UP_WORKING_HOURS", "ESCALATION_CHANNEL", "DATABASE_URL"]
    assert len(lines) == len(expected), output
    for name in expected:
        assert sum(1 for line in lines if name in line) == 1, (name, output)
    assert not (tmp_path / "data").exists()  # nothing was created


def test_app_reads_dotenv_but_real_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nSLACK_SIGNING_SECRET=s\nPORT=not-a-port\nLOG_LEVEL=loud\n")
    code, output, elapsed = run_app(tmp_path, clean_env(LOG_LEVEL="INFO"))
    assert code != 0 and elapsed < 5
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "PORT" in lines[0], output  # LOG_LEVEL from the environment overrode .env


def test_app_refused_token_is_a_config_error(tmp_path, standin):
    standin.fail_next("auth.test", "invalid_auth")
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=standin.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        PORT="1",
    )
    code, output, elapsed = run_app(tmp_path, env)
    assert code != 0 and elapsed < 5
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip() and "config error" in line]
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0], output
    assert standin.calls_to("auth.test")


def test_app_unreachable_database_is_one_line(tmp_path):
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/defuse",
    )
    code, output, elapsed = run_app(tmp_path, env)
    assert code != 0 and elapsed < 5
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0], output
