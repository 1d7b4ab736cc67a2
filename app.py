"""Defuse entry point: `python app.py`.

Reads configuration from the environment (a .env file first), migrates the database, then serves
Slack over HTTP (waitress, POST /slack/events, GET /healthz) or Socket Mode when SLACK_APP_TOKEN
is set. SIGTERM/SIGINT stop it within 10 seconds; scheduled work lives in the database.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from dotenv import load_dotenv
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import handlers
from bot.cases import Cases
from bot.config import Config, ConfigError, load_config
from bot.reminders import ReminderEngine, TickRunner
from bot.service import Defuse
from bot.sweep import Sweep
from bot.worker import Worker
from bot.slack import AUTH_ERRORS, error_code, make_client
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


def check_token(client: WebClient) -> tuple[str | None, str | None]:
    """auth.test once at start, so no request pays for it. A refused token is a config problem."""
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=3)
    try:
        result = probe.auth_test()
        return result.get("user_id"), result.get("bot_id")
    except SlackApiError as exc:
        if error_code(exc) in AUTH_ERRORS:
            raise ConfigError(
                [f"SLACK_BOT_TOKEN was refused by Slack ({error_code(exc)}): reinstall the app and copy a fresh xoxb- token."]
            ) from None
        log.warning("auth.test answered %s; carrying on", error_code(exc))
    except Exception as exc:
        log.warning("Slack is not reachable at start (%s); carrying on, calls will retry", exc)
    return None, None


def build(config: Config) -> Runtime:
    db = Database(config.database_url)
    db.migrate()
    worker = Worker()
    client = make_client(config.bot_token, config.api_url)
    bot_user_id, bot_id = check_token(client)

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None = None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=config.bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
        )

    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    bolt = App(
        client=client,
        signing_secret=config.signing_secret or "",
        authorize=authorize,
        listener_executor=executor,
        logger=logging.getLogger("defuse.bolt"),
    )
    # The reminder tick reschedules on 429 itself instead of sleeping through Retry-After.
    reminder_client = make_client(config.bot_token, config.api_url, timeout=5, retries=False)
    defuse = Defuse(config, Cases(db), client, reminder_client, worker)
    handlers.register(bolt, defuse)
    engine = ReminderEngine(db, defuse.followups.deliver)
    sweep = Sweep(defuse)  # finishes interrupted deliveries: at start (the first tick is at once) and every tick
    scheduler = TickRunner(engine, config.tick_seconds, on_tick=lambda _stats: worker.submit(sweep))
    return Runtime(config, db, client, bolt, defuse, executor, scheduler)


def wsgi_app(runtime: Runtime) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(runtime.bolt, path="/slack/events")

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


def serve_http(runtime: Runtime) -> None:
    from waitress import create_server

    server = create_server(
        wsgi_app(runtime), host="0.0.0.0", port=runtime.config.port, threads=HTTP_THREADS, ident="defuse", clear_untrusted_proxy_headers=True
    )
    log.info("Defuse listening on http://0.0.0.0:%s (POST /slack/events, GET /healthz)", runtime.config.port)
    try:
        server.run()  # SystemExit from the signal handler ends the loop and stops the worker threads
    finally:
        server.close()


def serve_socket_mode(runtime: Runtime, stop: threading.Event) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    web = WebClient(token=runtime.config.app_token, base_url=runtime.config.api_url, timeout=10)
    handler = SocketModeHandler(runtime.bolt, runtime.config.app_token, web_client=web)
    delay = 1.0
    while not stop.is_set():
        try:
            handler.connect()
            break
        except SlackApiError as exc:
            if error_code(exc) in AUTH_ERRORS:
                raise ConfigError(
                    [f"SLACK_APP_TOKEN was refused by Slack ({error_code(exc)}): create an app-level token "
                     "with connections:write under Basic Information > App-Level Tokens."]
                ) from None
            log.warning("Socket Mode connection failed (%s); retrying in %.0f s", error_code(exc), delay)
        except Exception as exc:
            log.warning("Socket Mode connection failed (%s); retrying in %.0f s", exc, delay)
        stop.wait(delay)
        delay = min(delay * 2, 30.0)
    if stop.is_set():
        return
    log.info("Defuse connected over Socket Mode")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        handler.close()


def main() -> int:
    load_dotenv(".env", override=False)
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(config.log_level)))
    try:
        runtime = build(config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        print(f"config error: DATABASE_URL could not be opened or migrated ({exc.__class__.__name__}: {reason}). "
              "Check the URL, that the server is up, and that the user may create tables.", file=sys.stderr)
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
            serve_http(runtime)
    except SystemExit:
        pass
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        code = 2
    finally:
        shutdown(runtime)
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
