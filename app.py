"""Defuse entry point: `python app.py`.

Reads configuration from the environment (a .env file first), migrates the database, then serves
Slack over HTTP (waitress, POST /slack/events, GET /healthz) or Socket Mode when SLACK_APP_TOKEN
is set. SIGTERM/SIGINT stop it within 10 seconds; scheduled work lives in the database.
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 11):  # checked before any import that needs a newer Python
    found = ".".join(str(part) for part in sys.version_info[:3])
    sys.exit(f"Defuse needs Python 3.11 or newer; this is Python {found}. Install 3.11+ and recreate .venv with it.")

import errno
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url

import handlers
from bot.cases import Cases
from bot.config import Config, ConfigError, load_config
from bot.digest import Digest
from bot.reminders import ReminderEngine, TickRunner
from bot.retention import Retention
from bot.service import Defuse
from bot.slack import AUTH_ERRORS, error_code, make_client
from bot.sweep import Sweep
from bot.worker import Worker
from handlers.services import Services
from handlers.slack.guard import SlackGuard, protect_bolt
from handlers.slack.surface import SlackSurface
from storage.db import Database

log = logging.getLogger("defuse")
LISTENER_THREADS = 32
HTTP_THREADS = 16
STOP_DEADLINE_SECONDS = 9.0


@dataclass
class Runtime:
    config: Config
    db: Database
    client: WebClient
    bolt: App
    defuse: Defuse
    executor: ThreadPoolExecutor
    scheduler: Any = None
    team_id: str | None = None  # this installation's workspace (auth.test); requests from others are refused
    enterprise_id: str | None = None


def check_token(client: WebClient) -> tuple[str | None, str | None, str | None, str | None]:
    """auth.test once at start, so no request pays for it. A refused token is a config problem.
    Returns the bot's user id, bot id, and the team and enterprise it is installed in."""
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=3, retry_handlers=[])
    try:
        result = probe.auth_test()
        return result.get("user_id"), result.get("bot_id"), result.get("team_id"), result.get("enterprise_id")
    except SlackApiError as exc:
        if error_code(exc) in AUTH_ERRORS:
            raise ConfigError(
                [f"SLACK_BOT_TOKEN was refused by Slack ({error_code(exc)}): reinstall the app and copy a fresh xoxb- token."]
            ) from None
        log.warning("auth.test answered %s; carrying on", error_code(exc))
    except Exception as exc:
        # Serving without Slack would only look healthy: a supervisor's restart is the better retry.
        raise ConfigError(
            [f"Slack is not reachable at SLACK_API_URL {client.base_url} ({_one_line(exc)}): check the network, "
             "a proxy (HTTPS_PROXY/NO_PROXY) or the URL, then start again."]
        ) from None
    return None, None, None, None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or exc.__class__.__name__


class _DeliberateSetup(logging.Filter):
    """Drops Bolt's two start-up warnings about our own setup: we pass a client (for SLACK_API_URL and
    retries) and an authorize function (so no request pays for auth.test), and Bolt then notes that
    the SLACK_BOT_TOKEN it also finds in the environment goes unused. That is what we want."""

    EXPECTED = ("`token` will be unused", "will be ignored")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and any(e in record.getMessage() for e in self.EXPECTED))


def check_data_dir(database_url: str) -> None:
    """A SQLite file needs a directory this user can write (the file, its -wal and -shm files)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return
    directory = Path(url.database).resolve().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            [f"DATABASE_URL names a SQLite file in {directory}, which cannot be created ({exc.strerror}): "
             "create the directory, or point DATABASE_URL at a writable place."]
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(
            [f"DATABASE_URL names a SQLite file in {directory}, which this user cannot write: "
             f"give the user running Defuse write access (chown/chmod) or point DATABASE_URL elsewhere."]
        )


def build(config: Config) -> Runtime:
    check_data_dir(config.database_url)
    db = Database(config.database_url)
    db.migrate()
    worker = Worker()
    client = make_client(config.bot_token, config.api_url)
    bot_user_id, bot_id, team_id, enterprise_id = check_token(client)

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None = None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=config.bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
        )

    bolt_logger = logging.getLogger("defuse.bolt")
    bolt_logger.addFilter(_DeliberateSetup())
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    bolt = App(
        client=client,
        signing_secret=config.signing_secret or "",
        authorize=authorize,
        listener_executor=executor,
        logger=bolt_logger,
    )
    # The reminder tick reschedules on 429 itself instead of sleeping through Retry-After.
    reminder_client = make_client(config.bot_token, config.api_url, timeout=5, retries=False)
    surface = SlackSurface(client)
    defuse = Defuse(config, Cases(db, playbook=config.playbook), client, reminder_client, worker, slack=surface)
    handlers.register(bolt, Services(slack=surface, worker=worker, defuse=defuse))
    protect_bolt(bolt)
    engine = ReminderEngine(db, defuse.followups.deliver)
    retention = Retention(db, config.retention_days) if config.retention_days else None
    digest = (Digest(db, reminder_client, config.digest_channel, config.digest_schedule)
              if config.digest_channel else None)
    sweep = Sweep(defuse)  # finishes interrupted deliveries: at start (the first tick is at once) and every tick
    jobs = [job.on_tick for job in (retention, digest) if job is not None]
    scheduler = TickRunner(engine, config.tick_seconds, on_tick=after_tick(worker, sweep, jobs))
    return Runtime(config, db, client, bolt, defuse, executor, scheduler, team_id, enterprise_id)


def after_tick(worker: Worker, sweep: Sweep, jobs: list[Callable[[Any], None]]) -> Callable[[Any], None]:
    """What runs after every reminder tick: the daily and weekly jobs (retention, digest; each returns at
    once, its work runs on its own thread) and the delivery sweep. Each is guarded on its own, so one
    job's trouble never holds up the others or finishing deliveries."""

    def on_tick(stats: Any) -> None:
        for job in jobs:
            try:
                job(stats)
            except Exception:
                log.exception("scheduled job hook failed; the next tick tries again")
        worker.submit(sweep)
    return on_tick


def wsgi_app(runtime: Runtime) -> Callable[..., Iterable[bytes]]:
    slack = SlackGuard(
        SlackRequestHandler(runtime.bolt, path="/slack/events"),
        signing_secret=runtime.config.signing_secret or "",
        team_id=runtime.team_id,
        enterprise_id=runtime.enterprise_id,
    )

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = runtime.db.ping()
            body = json.dumps({"status": "ok" if healthy else "unavailable", "database": "ok" if healthy else "unreachable"})
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body.encode()]
        with runtime.defuse.worker.request():
            return slack(environ, start_response)

    return application


def _stop_watchdog() -> None:
    """Whatever is still running after the deadline, the process ends: the database has the state."""
    timer = threading.Timer(STOP_DEADLINE_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def shutdown(runtime: Runtime) -> None:
    if runtime.scheduler is not None:
        runtime.scheduler.stop()
    runtime.executor.shutdown(wait=True, cancel_futures=True)
    runtime.defuse.worker.drain(timeout=6.0)  # requests already acked: finish them if time allows
    runtime.db.dispose()


def bind_http(runtime: Runtime) -> Any:
    """Take the port before anything starts, so a busy port is one line, not a traceback."""
    from waitress import create_server

    try:
        return create_server(
            wsgi_app(runtime), host="0.0.0.0", port=runtime.config.port, threads=HTTP_THREADS, ident="defuse",
            clear_untrusted_proxy_headers=True,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "is already in use by another process (another Defuse?)"
        elif exc.errno == errno.EACCES:
            why = "needs privileges this user does not have (ports below 1024)"
        else:
            why = f"cannot be opened ({exc.strerror})"
        raise ConfigError([f"PORT {runtime.config.port} {why}: stop that process or set PORT to a free port."]) from None


def serve_http(server: Any, port: int) -> None:
    log.info("Defuse listening on http://0.0.0.0:%s (POST /slack/events, GET /healthz)", port)
    try:
        server.run()  # SystemExit from the signal handler ends the loop and stops the worker threads
    finally:
        server.close()


def serve_socket_mode(runtime: Runtime, stop: threading.Event) -> None:
    from handlers.slack import socket_mode

    health_port = runtime.config.port if os.environ.get("PORT", "").strip() else None  # /healthz only if asked
    socket_mode.serve(runtime.bolt, runtime.config.app_token or "", runtime.config.api_url, runtime.db.ping, stop,
                      runtime.defuse.worker.request, health_port)


def report(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(f"config error: {problem}", file=sys.stderr)


def main() -> int:
    load_dotenv(".env", override=False)
    if sys.argv[1:2] == ["export"]:  # the operators' CSV export: needs only DATABASE_URL
        from bot.export_cli import run

        return run(sys.argv[2:])
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        report(exc)
        return 2
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(config.log_level)))
    try:
        runtime = build(config)
    except ConfigError as exc:
        report(exc)
        return 2
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        print(f"config error: DATABASE_URL could not be opened or migrated ({exc.__class__.__name__}: {reason}). "
              "Check the URL, that the server is up, and that the user may create tables.", file=sys.stderr)
        return 2

    try:
        server = None if config.socket_mode else bind_http(runtime)
    except ConfigError as exc:
        report(exc)
        runtime.db.dispose()
        return 2
    stop = threading.Event()
    runtime.scheduler.start()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            return
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        _stop_watchdog()
        if not config.socket_mode:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    code = 0
    try:
        if config.socket_mode:
            serve_socket_mode(runtime, stop)
        else:
            serve_http(server, config.port)
    except SystemExit:
        pass
    except ConfigError as exc:
        report(exc)
        code = 2
    finally:
        shutdown(runtime)
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
