"""Kept-alive Web API connections (handlers/slack/keepalive.py) against the stand-in: reused within a
thread while fresh, never reused once the server closed them or they sat idle, one per thread, and
Slack's answers (errors, 429, 5xx) reach WebClient exactly as over a new connection each time."""

from __future__ import annotations

import socket
import threading

import pytest
from slack_sdk.errors import SlackApiError

from handlers.slack import keepalive
from handlers.slack.keepalive import KeepAliveClient
from tests.harness import TOKEN
from tests.slack_standin import SlackStandIn


def client_for(server: SlackStandIn) -> KeepAliveClient:
    return KeepAliveClient(token=TOKEN, base_url=server.url, timeout=5, retry_handlers=[])


def kept_socket(client: KeepAliveClient) -> object:
    (kept,) = client._kept.pool.values()
    return kept.connection.sock


def test_calls_from_one_thread_share_one_connection(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="CSUPPORT", text="one")
    first = kept_socket(client)
    client.chat_postMessage(channel="CSUPPORT", text="two")
    client.conversations_info(channel="CSUPPORT")
    assert kept_socket(client) is first
    assert [m["text"] for m in standin.messages("CSUPPORT")] == ["one", "two"]
    assert len(standin._connections) == 1


def test_each_thread_has_its_own_connection(standin: SlackStandIn) -> None:
    client = client_for(standin)
    sockets: list[object] = []

    def post(n: int) -> None:
        client.chat_postMessage(channel="CSUPPORT", text=f"from thread {n}")
        (kept,) = client._kept.pool.values()  # this thread's own pool
        sockets.append(kept.connection.sock)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len({id(s) for s in sockets}) == 3 and len(standin.messages("CSUPPORT")) == 3


def test_a_connection_the_server_closed_is_not_used_again(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="CSUPPORT", text="before")
    first = kept_socket(client)
    for connection in list(standin._connections):  # the server drops its idle connections
        connection.shutdown(socket.SHUT_RDWR)
    standin.wait_for(lambda: not standin._connections)
    client.chat_postMessage(channel="CSUPPORT", text="after")  # no error: a new connection
    assert kept_socket(client) is not first
    assert [m["text"] for m in standin.messages("CSUPPORT")] == ["before", "after"]


def test_an_idle_connection_is_not_trusted(standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="CSUPPORT", text="before")
    first = kept_socket(client)
    monkeypatch.setattr(keepalive, "FRESH_SECONDS", -1.0)  # every kept connection counts as idle too long
    client.chat_postMessage(channel="CSUPPORT", text="after")
    assert kept_socket(client) is not first


def test_refusals_rate_limits_and_server_errors_come_through_as_before(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.auth_test()
    first = kept_socket(client)
    standin.fail_next("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="CSUPPORT", text="x")
    assert refused.value.response["error"] == "not_in_channel"
    standin.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="CSUPPORT", text="x")
    assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "7"
    standin.take_then_fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="CSUPPORT", text="taken")
    assert failed.value.response.status_code == 503
    client.chat_postMessage(channel="CSUPPORT", text="still fine")
    assert kept_socket(client) is first  # the connection survives all three answers
    assert [m["text"] for m in standin.messages("CSUPPORT")] == ["taken", "still fine"]
