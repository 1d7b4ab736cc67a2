"""Socket Mode: one WebSocket out to Slack that holds, and a small health endpoint.

Why a client of our own (on websocket-client's WebSocketApp, with slack_sdk's envelope handling):
measured against tests/socket_standin.py, slack_sdk 3.47's built-in client acked requests 3.1 s
after Slack's routine `refresh_requested` disconnect and needed ~50-60 s to notice a silently
dropped connection (spinning a core when the peer vanished with a bare FIN); slack_sdk's
websocket-client client needed 0.5 s after a refresh and never noticed a blackholed connection
(it pings without a timeout); the aiohttp client (for a sync Bolt app) answers envelopes one at a
time on its event loop. This one:

- runs every connection on a thread of its own, so a new connection is read at once while the
  old one is still being closed (no request waits for the old socket to time out);
- pings every PING_INTERVAL seconds and replaces a connection on which nothing (no pong, no
  ping, no message) has arrived for STALE_AFTER seconds;
- reconnects at once after a connection that worked, and backs off (1 s … 30 s) while attempts fail;
- logs one line per connection ("Socket Mode connected …") and per reconnect, so an operator can
  tell the state without a health endpoint.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from queue import Queue
from typing import Any

import websocket
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.interval_runner import IntervalRunner

from handlers.slack.surface import AUTH_ERRORS, error_code

log = logging.getLogger("defuse.socket_mode")

PING_INTERVAL = 5.0    # seconds between our pings; Slack answers each with a pong
STALE_AFTER = 15.0     # nothing heard from Slack this long (three pongs missed): the connection is dead
CONNECT_TIMEOUT = 10.0  # a handshake that takes longer is given up
CLOSE_TIMEOUT = 1.0    # how long an old connection may take to answer our close frame
WATCH_EVERY = 1.0      # how often the keeper looks at the connection when nothing wakes it
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
ENVELOPE_THREADS = 16  # envelopes in flight at once; each only waits for its listener's ack


class _Session(websocket.WebSocketApp):
    """One WebSocket connection and when we last heard anything on it."""

    def __init__(self, url: str, **callbacks: Any):
        super().__init__(url, **callbacks)
        self.started = self.last_heard = time.monotonic()


class SteadySocketModeClient(BaseSocketModeClient):
    """slack_sdk's envelope handling (queue, listeners, `disconnect` messages) on connections that
    each run on a thread of their own; a keeper thread replaces the current one when it closes,
    goes silent or never finishes its handshake."""

    def __init__(self, app_token: str, web_client: WebClient, logger: logging.Logger | None = None,
                 ping_interval: float = PING_INTERVAL, stale_after: float = STALE_AFTER):
        self.app_token = app_token
        self.web_client = web_client
        self.logger = logger or log
        self.ping_interval, self.stale_after = ping_interval, stale_after
        self.wss_uri = None  # type: ignore[assignment]
        self.message_queue: Queue = Queue()
        self.message_listeners: list[Any] = []
        self.socket_mode_request_listeners: list[Any] = []
        self.closed = False
        self.connect_operation_lock = threading.Lock()
        self.current_session: _Session | None = None
        self.connections = 0                        # connections Slack said hello on
        self.connected_since: float | None = None   # time.time() of the current connection's hello
        self._open: _Session | None = None           # the last session whose handshake succeeded
        self._ended: _Session | None = None          # the last session whose thread finished
        self._failures = 0
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._keeper: threading.Thread | None = None
        self.message_workers = ThreadPoolExecutor(ENVELOPE_THREADS, thread_name_prefix="socket-envelope")
        self.message_processor = IntervalRunner(self.process_messages, 0.001).start()
        # websocket-client takes socket timeouts from a module default; without one a send or a
        # handshake on a blackholed connection could block its thread for good.
        websocket.setdefaulttimeout(CONNECT_TIMEOUT)

    def issue_new_wss_url(self) -> str:
        """apps.connections.open; errors go to the caller, who retries or stops (the SDK's version
        logs each one and sleeps through rate limits on the caller's thread)."""
        return self.web_client.apps_connections_open(app_token=self.app_token)["url"]

    # ---- state
    def is_connected(self) -> bool:
        session = self.current_session
        return session is not None and session is self._open and session is not self._ended \
            and session.sock is not None

    # ---- connecting
    def connect(self) -> None:
        """Open a new connection (on a fresh URL unless one was just issued); the old one is
        closed on the side, so its last moments never delay the new one."""
        url, self.wss_uri = self.wss_uri or self.issue_new_wss_url(), None
        session = _Session(url, on_open=self._on_open, on_message=self._on_message, on_ping=self._heard,
                           on_pong=self._heard, on_error=self._on_error, on_close=self._on_close)
        old, self.current_session = self.current_session, session
        threading.Thread(target=self._run_session, args=(session,), name="socket-mode-session", daemon=True).start()
        if old is not None:
            threading.Thread(target=self._close_session, args=(old,), name="socket-mode-close", daemon=True).start()
        if self._keeper is None:
            self._keeper = threading.Thread(target=self._keep_connected, name="socket-mode-keeper", daemon=True)
            self._keeper.start()

    def _run_session(self, session: _Session) -> None:
        try:
            session.run_forever(ping_interval=self.ping_interval)
        except Exception as exc:  # run_forever reports through on_error; this is the last net
            self.logger.warning("Socket Mode connection ended unexpectedly: %s", exc)
        self._ended = session
        if session is self.current_session:
            self._wake.set()

    @staticmethod
    def _close_session(session: _Session) -> None:
        try:
            session.close(timeout=CLOSE_TIMEOUT)
        except Exception as exc:  # already gone: nothing to tidy
            log.debug("closing an old Socket Mode connection: %s", exc)

    def _keep_connected(self) -> None:
        """Replace a connection that closed, went silent or never opened: at once after one that
        worked, with a growing pause while attempts fail (no tight loop against a Slack that is down)."""
        while not self._stopping.is_set():
            self._wake.wait(WATCH_EVERY)
            self._wake.clear()
            session = self.current_session
            reason = None if session is None or self._stopping.is_set() else self._why_replace(session)
            if reason is None:
                continue
            if session is not self._open:
                self._failures += 1
            if reason != "closed":
                self.logger.info("Socket Mode: %s; reconnecting", reason)
            delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS)) - 1] if self._failures else 0.0
            if delay and self._stopping.wait(delay):
                return
            self._reconnect()

    def _why_replace(self, session: _Session) -> str | None:
        now = time.monotonic()
        if session is self._ended:
            return "closed"
        if session is self._open and now - session.last_heard > self.stale_after:
            return f"nothing heard from Slack for {now - session.last_heard:.0f} s"
        if session is not self._open and now - session.started > CONNECT_TIMEOUT:
            return f"no handshake after {CONNECT_TIMEOUT:.0f} s"
        return None

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        with self.connect_operation_lock:
            if force or not self.is_connected():
                self.wss_uri = self.issue_new_wss_url()
                self.connect()

    def _reconnect(self) -> None:
        try:
            self.connect_to_new_endpoint(force=True)
        except SlackApiError as exc:
            self._failures += 1
            if error_code(exc) in AUTH_ERRORS:
                self.logger.warning("Socket Mode: Slack refused SLACK_APP_TOKEN (%s); retrying. If this lasts, create "
                                    "a new app-level token with connections:write.", error_code(exc))
            else:
                self.logger.warning("Socket Mode: apps.connections.open answered %s; retrying", error_code(exc))
            self._wake.set()
        except Exception as exc:
            self._failures += 1
            self.logger.warning("Socket Mode: could not reach Slack (%s); retrying", exc)
            self._wake.set()

    # ---- websocket-client callbacks (on the connection's own thread)
    def _heard(self, session: _Session, *_: Any) -> None:
        session.last_heard = time.monotonic()

    def _on_open(self, session: _Session) -> None:
        self._heard(session)
        if session is self.current_session:
            self._open = session

    def _on_message(self, session: _Session, message: str) -> None:
        self._heard(session)
        control = control_message(message)
        if control.get("type") == "hello":
            self._on_hello(session)
        elif control.get("type") == "disconnect":  # the SDK's queue reconnects; we say why
            self.logger.info("Slack asked to reconnect (%s); opening a new connection", control.get("reason"))
        self.enqueue_message(message)

    def _on_hello(self, session: _Session) -> None:
        if session is not self.current_session:
            return
        self._failures = 0
        self.connections += 1
        self.connected_since = time.time()
        word = "connected" if self.connections == 1 else "reconnected"
        self.logger.info("Socket Mode %s (connection %d)", word, self.connections)

    def _on_error(self, session: _Session, error: Exception) -> None:
        if session is self.current_session and not self.closed:
            self.logger.warning("Socket Mode connection problem: %s: %s", type(error).__name__, error)

    def _on_close(self, session: _Session, code: int | None = None, reason: str | None = None) -> None:
        if session is not self.current_session or self.closed:
            return  # an old connection we replaced, or we are stopping
        self.connected_since = None
        self.logger.info("Socket Mode connection closed (code %s); reconnecting", code)

    # ---- sending acks
    def send_message(self, message: str) -> None:
        """Send on the current connection; if it was replaced meanwhile, once more on the new one."""
        try:
            self.current_session.send(message)  # type: ignore[union-attr]
            return
        except (websocket.WebSocketException, OSError, AttributeError):
            pass
        deadline = time.monotonic() + 2.0
        while not self.is_connected() and time.monotonic() < deadline and not self.closed:
            self._stopping.wait(0.05)
        self.current_session.send(message)  # type: ignore[union-attr]

    def disconnect(self) -> None:
        if self.current_session is not None:
            self._close_session(self.current_session)

    def close(self) -> None:
        self.closed = True
        self._stopping.set()
        self._wake.set()
        self.disconnect()
        self.message_processor.shutdown()
        self.message_workers.shutdown(wait=True)


def control_message(raw: str) -> dict[str, Any]:
    """hello or disconnect as a dict; {} for anything else (envelopes are parsed once, later)."""
    head = raw[:64]
    if '"hello"' not in head and '"disconnect"' not in head:
        return {}
    try:
        message = json.loads(raw)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}
