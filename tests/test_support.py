"""The shared doubles behave like what they stand for."""

from __future__ import annotations

import pytest

from bot.core.notify import Notify
from bot.core.ports import Message, SlackFailure
from tests.support import Clock, FakeSlack


def test_the_clock_moves_only_when_told() -> None:
    clock = Clock()
    start = clock()
    assert clock() == start
    assert clock.advance(minutes=5) - start == (clock() - start) and (clock() - start).total_seconds() == 300


def test_fake_slack_records_posts_and_fails_once_on_demand() -> None:
    slack = FakeSlack()
    slack.fail("post", "not_in_channel")
    with pytest.raises(SlackFailure) as caught:
        slack.post("CSUPPORT", Message("first"))
    assert caught.value.code == "not_in_channel"
    posted = slack.post("CSUPPORT", Message("second"))
    assert [s.message.text for s in slack.posts("CSUPPORT") if s.message] == ["second"] and posted.ts


def test_notify_over_the_fake_remembers_dm_channels_and_swallows_failures() -> None:
    slack, remembered = FakeSlack(), {}
    notify = Notify(slack, lambda user, channel: remembered.update({user: channel}))
    assert notify.tell("UAGENT", "hello") is True
    assert remembered == {"UAGENT": "DUAGENT"}
    slack.fail("post", "cannot_dm_bot")
    assert notify.tell("UBOT", "hello") is False
    slack.fail("ephemeral", "channel_not_found")
    assert notify.tell_privately("UAGENT", "CSHARED", "only you") is True  # fell back to a DM
    assert slack.texts()[-1] == "only you"
