"""Serving Slack over HTTP: the WSGI application (POST /slack/events behind the request guard, GET /healthz),
bound to its port before anything starts, on waitress."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.core.config import ConfigError
from handlers.slack.guard import SlackGuard

log = logging.getLogger("defuse")
HTTP_THREADS = 16


def wsgi_app(bolt: App, signing_secret: str, team_id: str | None, enterprise_id: str | None,
             healthy: Callable[[], bool], request: Callable[[], AbstractContextManager[Any]]) -> Callable[..., Iterable[bytes]]:
    """`healthy`: the database answers; `request`: marks a request in flight (the post-ack worker yields to it)."""
    slack = SlackGuard(SlackRequestHandler(bolt, path="/slack/events"), signing_secret=signing_secret,
                       team_id=team_id, enterprise_id=enterprise_id)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            ok = healthy()
            body = json.dumps({"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"})
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body.encode()]
        with request():
            return slack(environ, start_response)

    return application


def bind_http(application: Callable[..., Iterable[bytes]], port: int) -> Any:
    """Take the port before anything starts, so a busy port is one line, not a traceback."""
    from waitress import create_server

    try:
        return create_server(
            application, host="0.0.0.0", port=port, threads=HTTP_THREADS, ident="defuse",
            clear_untrusted_proxy_headers=True,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "is already in use by another process (another Defuse?)"
        elif exc.errno == errno.EACCES:
            why = "needs privileges this user does not have (ports below 1024)"
        else:
            why = f"cannot be opened ({exc.strerror})"
        raise ConfigError([f"PORT {port} {why}: stop that process or set PORT to a free port."]) from None


def serve_http(server: Any, port: int) -> None:
    log.info("Defuse listening on http://0.0.0.0:%s (POST /slack/events, GET /healthz)", port)
    try:
        server.run()  # SystemExit from the signal handler ends the loop and stops the worker threads
    finally:
        server.close()
