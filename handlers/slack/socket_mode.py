"""Serving Bolt over Socket Mode with our steady client (handlers.slack.socket_client), and the small
health endpoint Socket Mode offers when PORT is set."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.core.config import ConfigError
from handlers.slack.socket_client import RETRY_DELAYS, SteadySocketModeClient
from handlers.slack.surface import AUTH_ERRORS, error_code

log = logging.getLogger("defuse.socket_mode")


class DefuseSocketModeHandler(BaseSocketModeHandler):
    """Bolt's envelope → BoltRequest → ack glue on our client; acks go before queued post-ack work."""

    def __init__(self, app: App, client: SteadySocketModeClient, around_request: Callable[[], Any]):
        self.app = app
        self.client = client
        self._around_request = around_request
        client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        with self._around_request():
            response = run_bolt_app(self.app, req)
        send_response(client, req, response, started)


# --------------------------------------------------------------------------- health endpoint
def health_body(db_ok: bool, connected: bool) -> tuple[int, dict[str, str]]:
    healthy = db_ok and connected
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if db_ok else "unreachable",
        "socket_mode": "connected" if connected else "disconnected",
    }
    return (200 if healthy else 503), body


class _HealthHandler(BaseHTTPRequestHandler):
    server_version = "defuse"
    check: Callable[[], tuple[int, dict[str, str]]]

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/healthz":
            self._reply(404, {"error": "not found"})
            return
        self._reply(*self.check())

    do_HEAD = do_GET

    def _reply(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, *args: Any) -> None:  # health probes every few seconds: keep logs quiet
        pass


def start_health_server(port: int, check: Callable[[], tuple[int, dict[str, str]]]) -> ThreadingHTTPServer:
    handler = type("HealthHandler", (_HealthHandler,), {"check": staticmethod(check)})
    try:
        server = ThreadingHTTPServer(("0.0.0.0", port), handler)
    except OSError as exc:
        raise ConfigError([(f"PORT {port} cannot be used for the Socket Mode health endpoint ({exc.strerror}): "
                            "pick a free port, or unset PORT to run without /healthz.")]) from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="healthz", daemon=True).start()
    log.info("Socket Mode health endpoint on http://0.0.0.0:%s/healthz", port)
    return server


# --------------------------------------------------------------------------- running it
def refused(exc: SlackApiError) -> ConfigError:
    return ConfigError([(f"SLACK_APP_TOKEN was refused by Slack ({error_code(exc)}): create an app-level token "
                         "with connections:write under Basic Information > App-Level Tokens.")])


def connect_first_time(client: SteadySocketModeClient, stop: threading.Event) -> bool:
    """Keep trying until the first URL is issued; a refused token stops the start. False if stopped."""
    attempt = 0
    while not stop.is_set():
        try:
            client.connect()
            return True
        except SlackApiError as exc:
            if error_code(exc) in AUTH_ERRORS:
                raise refused(exc) from None
            reason = error_code(exc)
        except Exception as exc:
            reason = str(exc)
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
        log.warning("Socket Mode connection failed (%s); retrying in %.0f s", reason, delay)
        attempt += 1
        stop.wait(delay)
    return False


def serve(bolt: App, app_token: str, api_url: str, db_ping: Callable[[], bool], stop: threading.Event,
          around_request: Callable[[], Any], health_port: int | None = None) -> None:
    """Run Socket Mode until `stop` is set. Raises ConfigError for a refused app token or a busy PORT."""
    if not log.isEnabledFor(logging.DEBUG):  # websocket-client repeats each problem we already log
        logging.getLogger("websocket").setLevel(logging.CRITICAL)
    web = WebClient(token=app_token, base_url=api_url, timeout=10)
    client = SteadySocketModeClient(app_token, web, logger=log)
    DefuseSocketModeHandler(bolt, client, around_request)
    health = None
    try:
        if health_port is not None:
            health = start_health_server(health_port, lambda: health_body(db_ping(), client.is_connected()))
        if connect_first_time(client, stop):
            while not stop.wait(0.5):  # a short wait keeps the main thread responsive to signals
                pass
    finally:
        client.close()
        if health is not None:
            health.shutdown()
            health.server_close()
