"""Socket Mode end to end: `python app.py` with SLACK_APP_TOKEN, driven over a real WebSocket.

The app gets its WebSocket URL from the Web API stand-in (apps.connections.open) and connects to
tests/socket_standin.py, which delivers envelopes and records the acks. No signing secret is set:
Socket Mode does not need one. The reconnect scenarios are Slack's routine `refresh_requested`,
the `warning` disconnect, silently dropped connections (blackholed, or closed without a close
frame) and a refused app token; each is held to Slack's 3 s ack limit.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.harness import ROOT, TOKEN, AppProcess, Reply, SlackSender, http
from tests.socket_standin import SocketModeStandIn

APP_TOKEN = "xapp-1-A0DEFUSE-1-test"
ACK_LIMIT = 3.0        # Slack's
RECONNECT_LIMIT = 30.0  # after a silent drop
TICKS = os.sysconf("SC_CLK_TCK")


class SocketSender(SlackSender):
    """SlackSender's payloads, delivered as Socket Mode envelopes instead of signed HTTP posts.
    The Reply carries the ack's payload as its body and the request-to-ack time as `elapsed`."""

    def __init__(self, server: SocketModeStandIn, standin: Any, team: str = "T0001"):
        super().__init__("http://unused", standin, team)
        self.server = server

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        if content_type == "application/json":
            retry = int((headers or {}).get("X-Slack-Retry-Num", 0))
            envelope = self.server.deliver("events_api", json.loads(body), retry_attempt=retry,
                                           retry_reason=(headers or {}).get("X-Slack-Retry-Reason", ""))
        else:
            fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if "payload" in fields:
                envelope = self.server.deliver("interactive", json.loads(fields["payload"]))
            else:
                envelope = self.server.deliver("slash_commands", fields)
        ack = self.server.wait_ack(envelope.envelope_id, timeout=10)
        payload = b"" if not ack.payload else json.dumps(ack.payload).encode()
        return Reply(200, payload, ack.received_at - envelope.requested_at)


@pytest.fixture
def socket_mode(standin) -> Iterator[SocketModeStandIn]:
    server = SocketModeStandIn().start().attach(standin)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def socket_app(start_app, socket_mode) -> AppProcess:
    """The app in Socket Mode; it is started once its /healthz says the socket is connected."""
    return start_app(SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None)


@pytest.fixture
def sock(socket_app, socket_mode, standin) -> SocketSender:
    return SocketSender(socket_mode, standin)


def top_level(standin, channel: str = "CSUPPORT") -> list[dict[str, Any]]:
    return [m for m in standin.messages(channel) if m.get("thread_ts") in (None, m["ts"])]


def open_case(sock: SocketSender, standin, text: str = "Acme Corp: charged twice") -> tuple[dict, dict]:
    before = len(top_level(standin))
    reply = sock.command(text)
    assert reply.elapsed < ACK_LIMIT
    parent = standin.wait_for(lambda: top_level(standin)[before])
    checklist = standin.wait_for(lambda: standin.thread("CSUPPORT", parent["ts"])[0])
    return parent, checklist


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def some_requests(sock: SocketSender, standin, count: int = 3) -> list[Reply]:
    """`count` requests at once: slash commands and an App Home event."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(sock.command, f"Customer {i}: refresh test") for i in range(count - 1)]
        futures.append(pool.submit(sock.event, {"type": "app_home_opened", "user": "UAGENT", "tab": "home"}))
        return [f.result() for f in futures]


def report(label: str, numbers: list[float]) -> None:
    print(f"\n[socket-mode] {label}: " + ", ".join(f"{n:.3f}" for n in numbers))


# --- the stand-in itself ---------------------------------------------------------------------
def test_standin_speaks_rfc6455_and_slack_envelopes(socket_mode, standin):
    import websocket
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    url = WebClient(token=APP_TOKEN, base_url=standin.url).apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith(f"ws://127.0.0.1:{socket_mode.port}/link/?ticket=")
    ws = websocket.create_connection(url, timeout=5)
    hello = json.loads(ws.recv())
    assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A0DEFUSE"
    envelope = socket_mode.deliver("slash_commands", {"command": "/angry", "text": "help"})
    sent = json.loads(ws.recv())
    assert sent == {"envelope_id": envelope.envelope_id, "payload": {"command": "/angry", "text": "help"},
                    "type": "slash_commands", "accepts_response_payload": True}
    ws.send(json.dumps({"envelope_id": envelope.envelope_id, "payload": {"text": "hi"}}))
    assert socket_mode.wait_ack(envelope.envelope_id).payload == {"text": "hi"}
    ws.ping(b"p1")
    socket_mode.wait_for(lambda: socket_mode.current().client_pings == [b"p1"], what="the client's ping")
    ws.close()
    with pytest.raises(websocket.WebSocketBadStatusException):  # a URL is good for one connection
        websocket.create_connection(url, timeout=5)
    with pytest.raises(SlackApiError) as wrong_token:  # Slack wants the app-level token here
        WebClient(token=TOKEN, base_url=standin.url).apps_connections_open(app_token=TOKEN)
    assert wrong_token.value.response["error"] == "not_allowed_token_type"


# --- the product over the socket ------------------------------------------------------------
def test_angry_opens_a_case_over_the_socket_without_a_signing_secret(sock, socket_app, standin):
    assert "SLACK_SIGNING_SECRET" not in socket_app.env
    parent, checklist = open_case(sock, standin, "Acme Corp: charged twice, threatening to cancel")
    assert "Acme Corp" in json.dumps(parent["blocks"]) and "0/6" in json.dumps(parent["blocks"])
    assert sum(1 for b in checklist["blocks"] if b.get("accessory", {}).get("action_id") == "step_set") == 6
    assert "Socket Mode connected (connection 1)" in socket_app.log()


def test_help_is_answered_in_the_ack_payload(sock):
    reply = sock.command("help")
    assert reply.elapsed < ACK_LIMIT
    assert "/angry" in reply.json["text"]


def test_checklist_click_over_the_socket(sock, standin):
    parent, checklist = open_case(sock, standin)
    value = next(b["accessory"]["value"] for b in checklist["blocks"] if b.get("accessory"))
    reply = sock.click({**checklist, "channel": "CSUPPORT"}, "step_set", value)
    assert reply.elapsed < ACK_LIMIT
    standin.wait_for(lambda: "1/6" in json.dumps(top_level(standin)[0]["blocks"]))
    done = standin.wait_for(lambda: "— <@UAGENT>" in json.dumps(  # texts.STEP_DONE_LINE: "✅ 1. <title> — <@user>"
        standin.thread("CSUPPORT", parent["ts"])[0]["blocks"], ensure_ascii=False))
    assert done


def test_modal_errors_come_back_in_the_ack(sock, standin):
    sock.command("")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = next(v for v in standin.views().values() if v["callback_id"] == "intake")
    reply = sock.submit(view, {"customer": "", "summary": "", "link": "not a url", "channel": "CSUPPORT"})
    assert reply.elapsed < ACK_LIMIT
    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"customer", "summary", "link"}
    assert top_level(standin) == []
    reply = sock.submit(view, {"customer": "Acme", "summary": "fixed", "link": None, "channel": "CSUPPORT"})
    assert not reply.body  # a plain ack closes the modal
    standin.wait_for(lambda: top_level(standin))


def test_app_home_is_published(sock, standin):
    reply = sock.event({"type": "app_home_opened", "user": "UAGENT", "channel": "DUAGENT", "tab": "home"})
    assert reply.elapsed < ACK_LIMIT
    home = standin.wait_for(lambda: standin.home("UAGENT"))
    assert home["type"] == "home" and home["blocks"]


def test_healthz_reports_the_socket(socket_app, socket_mode):
    reply = http("GET", socket_app.url + "/healthz")
    assert reply.status == 200
    assert reply.json == {"status": "ok", "database": "ok", "socket_mode": "connected"}
    assert http("GET", socket_app.url + "/slack/events").status == 404  # Socket Mode serves no Slack endpoint
    # Slack refuses the token while the connection is down: /healthz says so until it is back
    socket_mode.refuse(APP_TOKEN)
    socket_mode.drop("fin")
    deadline = time.monotonic() + 10
    while (reply := http("GET", socket_app.url + "/healthz")).status != 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reply.status == 503 and reply.json["socket_mode"] == "disconnected"
    socket_mode.accept(APP_TOKEN)
    socket_mode.wait_connected(after=1, timeout=RECONNECT_LIMIT)
    deadline = time.monotonic() + 5
    while (reply := http("GET", socket_app.url + "/healthz")).status != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reply.status == 200


def test_failing_reconnects_back_off(socket_app, socket_mode, standin):
    """While Slack refuses, attempts get further apart instead of hammering apps.connections.open."""
    socket_mode.refuse(APP_TOKEN)
    before = len(standin.calls_to("apps.connections.open"))
    socket_mode.drop("fin")
    calls = standin.wait_for(lambda: standin.calls_to("apps.connections.open")[before:before + 3][2:] and
                             standin.calls_to("apps.connections.open")[before:before + 3], timeout=15)
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(calls)]
    assert all(c.response["error"] == "invalid_auth" for c in calls)
    assert 0.9 <= gaps[0] < gaps[1], gaps
    assert "Traceback" not in socket_app.log()


def test_healthz_is_503_when_the_database_is_gone(start_app, socket_mode, pg_url):
    import psycopg

    from tests.conftest import PG_ADMIN_URL, _libpq

    app = start_app(database_url=pg_url, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None)
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        reply = http("GET", app.url + "/healthz", timeout=15)
        assert reply.status == 503
        assert reply.json == {"status": "unavailable", "database": "unreachable", "socket_mode": "connected"}
    finally:
        with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert http("GET", app.url + "/healthz").status == 200


# --- connections that come and go -----------------------------------------------------------
def test_refresh_requested_keeps_every_ack_within_the_limit(sock, socket_mode, standin, socket_app):
    """Slack's routine refresh, three times; requests sent the moment it is asked for."""
    acks: list[float] = []
    for _ in range(3):
        old = socket_mode.disconnect("refresh_requested")
        replies = some_requests(sock, standin)
        acks += [r.elapsed for r in replies]
        new = socket_mode.wait_connected(after=old.id)
        assert all(socket_mode.envelope(a.envelope_id).connection == new.id for a in socket_mode.acks[-3:])
        socket_mode.wait_closed(old)  # the app closed the old connection itself
    report("ack seconds after refresh_requested", acks)
    assert max(acks) < ACK_LIMIT
    assert "Slack asked to reconnect (refresh_requested)" in socket_app.log()


def test_warning_disconnect_moves_to_a_new_connection(sock, socket_mode, standin, socket_app):
    old = socket_mode.disconnect("warning")
    replies = some_requests(sock, standin)
    new = socket_mode.wait_connected(after=old.id)
    if old.state not in ("closed", "dropped"):
        socket_mode.close_connection(old, 1001, "going away")  # Slack's close that follows the warning
    socket_mode.wait_closed(old)
    replies += some_requests(sock, standin)
    report("ack seconds around a warning disconnect", [r.elapsed for r in replies])
    assert max(r.elapsed for r in replies) < ACK_LIMIT
    assert socket_mode.current() is new
    assert "Slack asked to reconnect (warning)" in socket_app.log()


def test_pings_are_answered_and_sent(socket_app, socket_mode):
    assert socket_mode.ping(b"are-you-there") < 1.0
    conn = socket_mode.current()
    socket_mode.wait_for(lambda: conn.client_pings, timeout=15, what="a ping from the app")


@pytest.mark.parametrize("mode", ["blackhole", "fin", "rst"])
def test_silent_drop_reconnects_quickly_without_spinning(start_app, socket_mode, standin, mode):
    app = start_app(SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None, SCHEDULER_TICK_SECONDS="5")
    sock = SocketSender(socket_mode, standin)
    assert sock.command("help").elapsed < ACK_LIMIT
    pid = app.proc.pid  # type: ignore[union-attr]
    cpu_before, dropped_at = cpu_seconds(pid), time.monotonic()
    old = socket_mode.drop(mode)
    new = socket_mode.wait_connected(after=old.id, timeout=RECONNECT_LIMIT + 5)
    outage, cpu = new.hello_at - dropped_at, cpu_seconds(pid) - cpu_before  # type: ignore[operator]
    report(f"silent drop ({mode}): reconnect seconds, CPU seconds", [outage, cpu])
    assert outage < RECONNECT_LIMIT
    assert cpu < max(1.0, 0.2 * outage), f"{cpu:.2f} CPU seconds in a {outage:.1f} s outage: a busy loop"
    assert sock.command("help").elapsed < ACK_LIMIT


def test_sigterm_stops_socket_mode_promptly(socket_app, socket_mode):
    conn = socket_mode.current()
    started = time.monotonic()
    assert socket_app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    socket_mode.wait_closed(conn)
    assert "Traceback" not in socket_app.log()


# --- start-up -------------------------------------------------------------------------------
def run_app(env: dict[str, str], cwd) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "PORT"}
    return subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=cwd, env={**base, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def socket_env(standin, tmp_path, **extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": standin.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "NO_PROXY": "127.0.0.1", **extra}


def test_refused_app_token_is_one_clear_line(standin, socket_mode, tmp_path):
    socket_mode.refuse(APP_TOKEN)
    proc = run_app(socket_env(standin, tmp_path), tmp_path)
    out, _ = proc.communicate(timeout=20)
    exited = time.time()
    calls = standin.calls_to("apps.connections.open")
    assert proc.returncode == 2
    assert [c.response["error"] for c in calls] == ["invalid_auth"]  # asked once: no retrying a refused token
    assert exited - calls[0].time < 2.0  # and it stops at once (start-up itself is timed in test_e2e_process)
    problems = [line for line in out.splitlines() if "error" in line.lower()]
    assert problems == [("config error: SLACK_APP_TOKEN was refused by Slack (invalid_auth): create an app-level "
                         "token with connections:write under Basic Information > App-Level Tokens.")], out
    assert "Traceback" not in out


def test_without_port_there_is_no_health_endpoint_and_the_log_says_connected(standin, socket_mode, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "PORT"}
    log_path = tmp_path / "app.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=tmp_path,
                                env={**base, **socket_env(standin, tmp_path)}, stdout=out, stderr=subprocess.STDOUT)
    try:
        socket_mode.wait_connected(timeout=20)
        deadline = time.monotonic() + 10  # the operator's sign: one log line once Slack said hello
        while "Socket Mode connected (connection 1)" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = log_path.read_text()
    assert proc.returncode == 0
    assert "Socket Mode connected (connection 1)" in log
    assert "/healthz" not in log


def test_busy_health_port_is_one_clear_line(standin, socket_mode, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_app(socket_env(standin, tmp_path, PORT=str(port)), tmp_path)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2
    lines = [line for line in out.splitlines() if line.startswith("config error:")]
    assert len(lines) == 1 and f"PORT {port}" in lines[0]
    assert "Traceback" not in out
