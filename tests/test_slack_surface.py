"""The Slack surface against the stand-in: what the domain gets back, and the one error policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.ports import Message, SlackFailure, tag
from handlers.slack.surface import SlackSurface, make_client
from tests.conftest import seed_workspace
from tests.harness import TOKEN
from tests.slack_standin import SlackStandIn


@pytest.fixture
def surface() -> Iterator[tuple[SlackSurface, SlackStandIn]]:
    server = SlackStandIn().start()
    seed_workspace(server)
    try:
        yield SlackSurface(make_client(TOKEN, server.url, timeout=5, retries=False)), server
    finally:
        server.stop()


def test_post_returns_where_it_landed_and_carries_the_tag(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, server = surface
    posted = slack.post("CSUPPORT", Message("hello", [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]),
                        tag=tag("case", case_id=7), once=True)
    assert posted.channel == "CSUPPORT" and posted.ts
    [message] = server.messages("CSUPPORT")
    assert message["text"] == "hello" and message["metadata"]["event_payload"] == {"case_id": 7}


def test_a_refusal_is_a_failure_with_slacks_code_and_not_ambiguous(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, server = surface
    server.fail_next("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackFailure) as caught:
        slack.post("CSUPPORT", Message("hello"))
    assert caught.value.code == "not_in_channel" and not caught.value.ambiguous
    assert caught.value.method == "chat.postMessage"


def test_a_5xx_after_the_post_took_effect_is_ambiguous(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, server = surface
    server.take_then_fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackFailure) as caught:
        slack.post("CSUPPORT", Message("once"), once=True)
    assert caught.value.ambiguous and caught.value.code == "internal_error"
    assert len(server.messages("CSUPPORT")) == 1  # Slack has it: a blind repeat would double it


def test_a_429_says_how_long_to_wait(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, server = surface
    server.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackFailure) as caught:
        slack.post("CSUPPORT", Message("later"))
    assert caught.value.rate_limited and caught.value.retry_after == 7.0 and not caught.value.ambiguous


def test_join_and_permalink_answer_instead_of_raising(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, server = surface
    assert slack.join("GPRIVATE") is False  # private channels cannot be joined
    posted = slack.post("CSUPPORT", Message("x"))
    assert slack.permalink("CSUPPORT", posted.ts)
    server.fail_next("chat.getPermalink", "message_not_found")
    assert slack.permalink("CSUPPORT", posted.ts) is None


def test_reading_people_and_conversations(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    slack, _ = surface
    assert slack.user("UAGENT")["tz"] == "Europe/Berlin"
    assert slack.conversation("CSUPPORT")["is_private"] is False
    with pytest.raises(SlackFailure) as hidden:
        slack.conversation("GPRIVATE")  # the bot is not in it
    assert hidden.value.code == "channel_not_found"
    assert slack.open_dm("UAGENT")
    with pytest.raises(SlackFailure) as caught:
        slack.user("UNOBODY")
    assert caught.value.code == "user_not_found"


def test_a_top_level_link_is_built_as_slack_builds_it_without_a_call(surface: tuple[SlackSurface, SlackStandIn]) -> None:
    plain, server = surface
    client = plain.client
    url = str(client.auth_test()["url"])
    built = SlackSurface(client, workspace_url=url)
    posted = built.post("CSUPPORT", Message("the case"))
    reply = built.post("CSUPPORT", Message("its checklist"), thread_ts=posted.ts)
    asked = len(server.calls_to("chat.getPermalink"))

    link = built.permalink("CSUPPORT", posted.ts, top_level=True)
    assert len(server.calls_to("chat.getPermalink")) == asked  # no call
    assert link == plain.permalink("CSUPPORT", posted.ts)  # the same link Slack gives
    # A reply's link carries its thread, and a surface that does not know the address asks: both call.
    assert built.permalink("CSUPPORT", reply.ts) == plain.permalink("CSUPPORT", reply.ts) != link
    assert plain.permalink("CSUPPORT", posted.ts, top_level=True) == link
    assert len(server.calls_to("chat.getPermalink")) == asked + 4
