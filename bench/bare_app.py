"""A bare Bolt app on Defuse's server stack: the baseline for bench/ack_latency.py.

Same construction as app.py — `App(client=..., signing_secret=..., authorize=..., listener_executor=
ThreadPoolExecutor(32), logger=...)`, Bolt's WSGI adapter at /slack/events, waitress with threads=16 —
but its listeners (`/angry`, any button, `app_home_opened`) only ack. Whatever ack latency Defuse shows beyond this app's is
Defuse's own doing (its listeners, middleware and, above all, its post-ack work competing for CPU).

Configured like app.py through the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL,
PORT, LOG_LEVEL. It listens on 127.0.0.1 only. GET /healthz answers 200. SIGTERM/SIGINT stop it.

    SLACK_BOT_TOKEN=xoxb-x SLACK_SIGNING_SECRET=s SLACK_API_URL=http://127.0.0.1:9999/api/ PORT=3001 \
        python bench/bare_app.py
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

# The same numbers as app.py (LISTENER_THREADS, HTTP_THREADS).
LISTENER_THREADS = 32
HTTP_THREADS = 16

log = logging.getLogger("bare")


def build() -> App:
    token = os.environ["SLACK_BOT_TOKEN"]
    api_url = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
    client = WebClient(token=token, base_url=api_url, timeout=15)

    # Like app.py: auth.test once at start so that no request pays for it.
    bot_user_id = bot_id = None
    try:
        probe = WebClient(token=token, base_url=api_url, timeout=3).auth_test()
        bot_user_id, bot_id = probe.get("user_id"), probe.get("bot_id")
    except Exception as exc:  # not fatal, as in app.py
        log.warning("auth.test failed at start (%s); carrying on", exc)

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None = None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=token, bot_user_id=bot_user_id, bot_id=bot_id
        )

    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    bolt = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        authorize=authorize,
        listener_executor=executor,
        logger=logging.getLogger("bare.bolt"),
    )

    @bolt.command("/angry")
    def angry(ack: Ack) -> None:
        ack()

    @bolt.action(re.compile(".*"))  # every button: the step click baseline
    def any_action(ack: Ack) -> None:
        ack()

    @bolt.event("app_home_opened")  # Bolt acks events itself
    def home_opened() -> None:
        return None

    return bolt


def wsgi_app(bolt: App) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(bolt, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = b'{"status": "ok"}'
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return application


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    from waitress import create_server

    bolt = build()
    port = int(os.environ.get("PORT", "3000"))
    server = create_server(
        wsgi_app(bolt), host="127.0.0.1", port=port, threads=HTTP_THREADS, ident="bare", clear_untrusted_proxy_headers=True
    )

    def on_signal(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("bare Bolt app listening on http://127.0.0.1:%s", port)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
