"""The process contract: configuration errors, health, signals, Socket Mode start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.harness import ROOT, TOKEN, http


def run_app(env: dict[str, str], cwd, timeout: float = 15) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=cwd, env={**base, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigterm_stops_within_ten_seconds_and_keeps_nothing_in_memory(start_app):
    app = start_app()
    started = time.monotonic()
    code = app.stop(signal.SIGTERM)
    assert time.monotonic() - started < 10
    assert code == 0
    assert "stopped" in app.log()


def test_sigint_stops_too(start_app):
    app = start_app()
    started = time.monotonic()
    assert app.stop(signal.SIGINT) == 0
    assert time.monotonic() - started < 10


def test_healthz_is_503_when_the_database_is_gone(start_app, pg_url):
    import psycopg

    from tests.conftest import PG_ADMIN_URL, _libpq

    app = start_app(database_url=pg_url)
    assert http("GET", app.url + "/healthz").status == 200
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        reply = http("GET", app.url + "/healthz", timeout=15)
        assert reply.status == 503
        assert reply.json == {"status": "unavailable", "database": "unreachable"}
    finally:
        with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert http("GET", app.url + "/healthz").status == 200


def test_unknown_path_is_404(app):
    assert http("GET", app.url + "/nope").status == 404
    assert http("GET", app.url + "/slack/events").status == 404


def test_socket_mode_keeps_retrying_then_stops_on_sigterm(standin, tmp_path):
    proc = run_app({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-1-test", "SLACK_API_URL": standin.url,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "NO_PROXY": "127.0.0.1"}, tmp_path)
    try:
        standin.wait_for(lambda: standin.calls_to("apps.connections.open"), timeout=15)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Socket Mode connection failed" in out
    assert "Traceback" not in out


def test_socket_mode_refused_app_token_is_a_config_error(standin, tmp_path):
    standin.fail_next("apps.connections.open", "invalid_auth", times=5)
    proc = run_app({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-1-revoked", "SLACK_API_URL": standin.url,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "NO_PROXY": "127.0.0.1"}, tmp_path)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "SLACK_APP_TOKEN was refused" in out
    assert "Traceback" not in out


def test_refused_bot_token_is_a_config_error(standin, tmp_path):
    standin.fail_next("auth.test", "invalid_auth")
    proc = run_app({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": standin.url,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "NO_PROXY": "127.0.0.1"}, tmp_path)
    started = time.monotonic()
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2 and time.monotonic() - started < 5
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in out
    assert "Traceback" not in out


def test_unreachable_database_is_reported_in_one_line(standin, tmp_path):
    proc = run_app({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": standin.url,
                    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "NO_PROXY": "127.0.0.1"}, tmp_path)
    started = time.monotonic()
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2 and time.monotonic() - started < 5
    lines = [line for line in out.splitlines() if line.startswith("config error:")]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]
    assert "Traceback" not in out
