"""The domain's one port to Slack.

The domain says *what* to send (a `Message`: the fallback text and, optionally, Block Kit built on the
Slack side) and *where*; the adapter in handlers/slack/surface.py says how, and turns every way a call
can fail into one exception, `SlackFailure`. Nothing in bot/ imports slack_sdk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Blocks = Sequence[Mapping[str, Any]]
Tag = Mapping[str, Any]  # message metadata: {"event_type": ..., "event_payload": {...}}

# Errors that mean "the bot can't see or post in that conversation".
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"})


@dataclass(frozen=True)
class Message:
    """What to post: `text` is the notification and the fallback; `blocks` the layout, if any."""

    text: str
    blocks: Blocks | None = None


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class SlackFailure(Exception):
    """Slack refused a call or could not be reached.

    `code`: Slack's error (`not_in_channel`), `http_503`, or a transport name (`timeout`).
    `ambiguous`: Slack may have acted although no success came back (a 5xx, a timeout after sending),
    so blindly repeating a post could double it. `retry_after`: seconds Slack asked us to wait (429).
    """

    def __init__(self, code: str, *, ambiguous: bool = False, retry_after: float | None = None, method: str = ""):
        super().__init__(f"{method}: {code}" if method else code)
        self.code = code
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.method = method

    @property
    def rate_limited(self) -> bool:
        return self.retry_after is not None


def tag(what: str, **ids: Any) -> dict[str, Any]:
    """Message metadata that lets us find this message again (see bot.delivery)."""
    return {"event_type": f"defuse_{what}", "event_payload": dict(ids)}


class Slack(Protocol):
    """Everything the domain asks of Slack. Every method raises SlackFailure, nothing else."""

    # --- writing -----------------------------------------------------------------------------
    def post(self, channel: str, message: Message, *, thread_ts: str | None = None, tag: Tag | None = None,
             once: bool = False) -> Posted:
        """chat.postMessage. `once`: never repeated after an unclear answer (raises an ambiguous failure)."""
        ...

    def update(self, channel: str, ts: str, message: Message) -> None: ...

    def ephemeral(self, channel: str, user: str, message: Message) -> None: ...

    def respond(self, response_url: str, message: Message, *, replace_original: bool = False) -> None:
        """A follow-up through a slash command's or button's response_url (only the agent sees it)."""
        ...

    def join(self, channel: str) -> bool:
        """Join a public channel; False when that is not possible (private, archived, refused)."""
        ...

    def permalink(self, channel: str, ts: str, *, top_level: bool = False) -> str | None:
        """A link to the message; None when Slack cannot give one. `top_level`: a message we posted at the top
        of a channel (not in a thread), whose link follows Slack's format and may be built without a call."""
        ...

    def open_dm(self, user: str) -> str: ...

    def upload(self, channel: str, files: Sequence[tuple[str, str]], *, comment: str) -> list[str]:
        """Upload files (path, filename) into a conversation with one comment; their file ids."""
        ...

    # --- reading -----------------------------------------------------------------------------
    def team_id(self) -> str | None:
        """This installation's workspace (auth.test)."""
        ...

    def conversation(self, channel: str) -> Mapping[str, Any]:
        """conversations.info's `channel` object."""
        ...

    def members(self, channel: str, cursor: str | None = None) -> tuple[list[str], str | None]: ...

    def user(self, user: str) -> Mapping[str, Any]:
        """users.info's `user` object."""
        ...

    def group_members(self, group: str) -> list[str]: ...

    def history(self, channel: str, *, oldest: str | None = None, latest: str | None = None,
                limit: int = 15, cursor: str | None = None, inclusive: bool = False) -> Mapping[str, Any]: ...

    def replies(self, channel: str, ts: str, *, oldest: str | None = None, limit: int = 15) -> Mapping[str, Any]: ...
