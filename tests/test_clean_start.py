"""A clean start: one line that says what to do for each start-up mistake, and the process exits."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config
from tests.harness import ROOT, TOKEN
from tests.test_config import clean_env, run_app


def config_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_env_example_copied_unchanged_is_refused_naming_each_placeholder(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    code, output, elapsed = run_app(tmp_path, clean_env(SLACK_API_URL="http://127.0.0.1:9/api/"))
    assert code == 2 and elapsed < 5, output
    assert "Traceback" not in output and "listening" not in output
    lines = config_lines(output)
    assert lines and all(line.startswith("config error:") and "example value" in line for line in lines), output
    assert any("SLACK_BOT_TOKEN" in line for line in lines)


@pytest.mark.parametrize(
    "name, value",
    [("SLACK_BOT_TOKEN", "xoxb-your-bot-token"), ("SLACK_SIGNING_SECRET", "your-signing-secret"), ("SLACK_APP_TOKEN", "xapp-...")],
)
def test_placeholder_values_are_a_config_error(name: str, value: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1-2-real", "SLACK_SIGNING_SECRET": "0123abcd", name: value}
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert [p for p in info.value.problems if p.startswith(name)], info.value.problems


def test_real_looking_tokens_are_not_placeholders() -> None:
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-1234-5678-AbCdEf", "SLACK_SIGNING_SECRET": "8f3e0c1d2b"})
    assert config.bot_token == "xoxb-1234-5678-AbCdEf"


def test_unreachable_slack_at_start_is_one_line_and_exit(tmp_path: Path) -> None:
    env = clean_env(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET="s", SLACK_API_URL="http://127.0.0.1:9/api/",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    code, output, elapsed = run_app(tmp_path, env)
    assert code == 2 and elapsed < 5, output
    assert "Traceback" not in output and "listening" not in output
    lines = [line for line in config_lines(output) if line.startswith("config error:")]
    assert len(lines) == 1 and "SLACK_API_URL" in lines[0] and "not reachable" in lines[0], output


def test_busy_port_is_one_line_and_exit(tmp_path: Path, standin) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET="s", SLACK_API_URL=standin.url, PORT=str(port),
                        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
        code, output, elapsed = run_app(tmp_path, env)
    assert code == 2 and elapsed < 5, output
    assert "Traceback" not in output
    lines = [line for line in config_lines(output) if line.startswith("config error:")]
    assert len(lines) == 1 and f"PORT {port}" in lines[0] and "already in use" in lines[0], output


def test_data_directory_that_cannot_be_created_is_one_line(tmp_path: Path, standin) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    env = clean_env(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET="s", SLACK_API_URL=standin.url,
                    DATABASE_URL=f"sqlite:///{blocker / 'data' / 'defuse.db'}")
    code, output, elapsed = run_app(tmp_path, env)
    assert code == 2 and elapsed < 5, output
    assert "Traceback" not in output
    lines = config_lines(output)
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and "cannot be created" in lines[0], output


def test_default_data_directory_is_created(tmp_path: Path, start_app) -> None:  # type: ignore[no-untyped-def]
    app = start_app(database_url="sqlite:///data/defuse.db")  # relative: under the working directory
    assert (tmp_path / "data" / "defuse.db").exists()
    app.stop()


def test_a_normal_start_prints_no_bolt_warnings(app) -> None:  # type: ignore[no-untyped-def]
    log = app.log()
    assert "listening" in log
    assert "will be unused" not in log and "will be ignored" not in log, log
    assert "WARNING" not in log, log


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the migration is forked only on Linux")
def test_the_app_migrates_in_a_child_while_it_still_has_one_thread(app) -> None:  # type: ignore[no-untyped-def]
    assert "database schema is current (migrated in a child process)" in app.log()


def test_an_old_python_gets_one_clear_line(tmp_path: Path) -> None:
    pretend = "import runpy, sys; sys.version_info = (3, 9, 18, 'final', 0); runpy.run_path(sys.argv[1], run_name='__main__')"
    proc = subprocess.run([sys.executable, "-c", pretend, str(ROOT / "app.py")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=20, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == "Defuse needs Python 3.11 or newer; this is Python 3.9.18. Install 3.11+ and recreate .venv with it."
