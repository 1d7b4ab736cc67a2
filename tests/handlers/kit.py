"""What the listener tests share: recording fakes of Bolt's `ack` and `respond`, a worker that runs post-ack
work at once, every service wired as app.py wires them (over tests.support.FakeSlack, tests.support.Clock
and a fresh SQLite database), payloads shaped like Slack's, and ways to look at what happened.

Listeners are called directly, the way Bolt calls them: with the keyword arguments their signature names
(ack, body, view, command, event, context, respond), and a context the real middleware filled in
(handlers.slack.context.provide), so the ids a payload carries are parsed exactly as in production."""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.config import load_config
from bot.core.textutil import safe
from handlers.slack.context import provide
from storage.db import Database
from tests.support import Clock, FakeSlack, Sent

AGENT, COLLEAGUE, EXPERT = "UAGENT", "UCOLLEAGUE", "UEXPERT"
BOTTY, STRANGER = "UBOTTY", "USTRANGER"
WEST = "UWEST"  # a colleague in Los Angeles
TEAM = "T0001"
CHANNEL, SHARED, ESCALATE, PRODUCT = "CSUPPORT", "CSHARED", "CESCALATE", "CPRODUCT"
PRIVATE = "GPRIVATE"

# User text that must never ping anyone or form markup when it is echoed back into Slack.
NASTY = "Tom & Jerry <b>bold</b> <!channel> <!here> @here <@U1>"
NASTY_SAFE = safe(NASTY)


def content(sent: Sent) -> str:
    """Everything a message shows: its text and its blocks."""
    if sent.message is None:
        return ""
    return sent.message.text + json.dumps(sent.message.blocks or [], ensure_ascii=False)


def shows(sent: Sent, text: str) -> bool:
    """Whether the message shows `text` (multi-line too) in its text or any block."""
    return text in content(sent) or json.dumps(text, ensure_ascii=False)[1:-1] in content(sent)


def assert_escaped(text: str) -> None:
    """`text` echoes NASTY escaped: broadcasts inert, bare markup and ampersands escaped, mentions kept."""
    assert NASTY_SAFE in text, text
    for raw in ("<!channel>", "<!here>", "<b>", "Tom & Jerry"):
        assert raw not in text, (raw, text)


# --- Bolt's arguments --------------------------------------------------------------------------
class Ack:
    """Records every ack(); tests check it was called exactly once and with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))

    @property
    def only(self) -> dict[str, Any]:
        assert len(self.calls) == 1, f"ack() called {len(self.calls)} times: {self.calls}"
        args, kwargs = self.calls[0]
        if args:  # Bolt's ack("text") is ack(text="text")
            kwargs = {"text": args[0], **kwargs}
        return kwargs

    def assert_plain(self) -> None:
        """Acked once with nothing to show: the modal closes, the click is taken."""
        assert self.only == {}, self.only

    @property
    def errors(self) -> dict[str, str]:
        kwargs = self.only
        assert kwargs.get("response_action") == "errors", kwargs
        return kwargs["errors"]


class Respond:
    """Records every respond(...) (response_url messages only the clicker sees)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, text: str | None = None, **kwargs: Any) -> None:
        self.calls.append({"text": text, **kwargs})

    @property
    def texts(self) -> list[str]:
        return [c["text"] for c in self.calls]


class InlineWorker:
    """The post-ack worker, run at once on the calling thread: a job's exception reaches the test
    (the real worker only logs it; a listener is meant to have told the user already)."""

    def __init__(self) -> None:
        self.jobs = 0
        self.slow_saves = False  # True: writes before the ack miss their deadline (a database that hangs)
        self.late: list[tuple[Callable[[], Any], Callable[[Any], None] | None]] = []

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.jobs += 1
        fn(*args, **kwargs)

    def within(self, fn: Callable[[], Any], seconds: float, on_late: Callable[[Any], None] | None = None) -> Any:
        if self.slow_saves:
            self.late.append((fn, on_late))
            return None
        return fn()

    def finish_late(self) -> None:
        """The slow writes finish after all: each hands its result to its `on_late`."""
        for fn, on_late in self.late:
            result = fn()
            if on_late is not None and result is not None:
                on_late(result)
        self.late.clear()

    @contextmanager
    def request(self) -> Iterator[None]:
        yield

    def drain(self, timeout: float) -> bool:
        return True


@dataclass
class Call:
    """One listener call: what it was given and what it answered."""

    ack: Ack
    respond: Respond
    context: dict[str, Any]
    body: dict[str, Any]
    returned: Any = None
    sent_before: int = 0
    world: Any = field(default=None, repr=False)

    @property
    def sent(self) -> list[Sent]:
        """What reached Slack during this call."""
        return self.world.slack.sent[self.sent_before:]


# --- the world: services over fakes and a fresh database ---------------------------------------
def migrated_template(folder: Path) -> Path:
    """An empty database at the newest schema, to copy for each test (migrating every time is slower)."""
    path = folder / "template.db"
    database = Database(f"sqlite:///{path}", pool_size=1)
    database.migrate()
    database.dispose()
    return path


class World:
    def __init__(self, tmp_path: Path, template: Path | None = None, **env: str) -> None:
        from app import wire

        self.clock = Clock()
        self.slack = FakeSlack(TEAM)
        seed(self.slack)
        url = f"sqlite:///{tmp_path / 'listeners.db'}"
        settings = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "secret", "DATABASE_URL": url,
                    "FOLLOW_UP_WORKING_HOURS": "off", **env}
        self.config = load_config({k: v for k, v in settings.items() if v is not None})
        if template is not None:
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{template}{suffix}").exists():
                    shutil.copyfile(f"{template}{suffix}", tmp_path / f"listeners.db{suffix}")
        self.db = Database(url, pool_size=2)
        if template is None:
            self.db.migrate()
        self.worker = InlineWorker()
        self.services, self.sweep, self.sender = wire(self.config, self.db, self.slack, self.slack, self.worker,
                                                      self.clock)
        self.cases = self.services.cases
        self._triggers = 0

    def close(self) -> None:
        if self.services.exports is not None:
            self.services.exports._pool.shutdown(wait=True)
        self.db.dispose()

    # --- calling listeners the way Bolt does --------------------------------------------------
    def call(self, listener: Callable[..., Any], body: dict[str, Any], **given: Any) -> Call:
        context: dict[str, Any] = {}
        provide(self.services)(context, body, lambda: None)
        ack, respond = Ack(), Respond()
        offered = {"ack": ack, "respond": respond, "context": context, "body": body, "view": body.get("view"),
                   "command": body if body.get("command") else None, "event": body.get("event"), **given}
        wanted = inspect.signature(listener).parameters
        before = len(self.slack.sent)
        returned = listener(**{name: offered[name] for name in wanted})
        return Call(ack, respond, context, body, returned, before, self)

    def trigger(self) -> str:
        self._triggers += 1
        return f"trigger-{self._triggers}"

    def action(self, action_id: str, value: str | None = None, *, user: str = AGENT, block_id: str | None = None,
               selected: str | None = None, view: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """A block_actions payload for one button (value) or select (selected option's value)."""
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id or "b", "type": "button"}
        if value is not None:
            action["value"] = value
        if selected is not None:
            action.update(type="static_select", selected_option={"value": selected, "text": {"type": "plain_text",
                                                                                              "text": selected}})
        body: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user}, "team": {"id": TEAM}, "trigger_id": self.trigger(),
            "response_url": "https://hooks.slack.test/actions/1", "actions": [action],
            "channel": {"id": CHANNEL}, **extra,
        }
        if view is not None:
            body["view"] = view
        return body

    def submission(self, modal: dict[str, Any], answers: dict[str, Any], *, user: str = AGENT,
                   view_id: str = "V1") -> dict[str, Any]:
        """A view_submission payload for a modal built by a views.py function, filled in with `answers`
        ({block_id: typed text, chosen option value, picked user/conversation or date}); every other
        input is sent empty, as Slack does."""
        view = json.loads(json.dumps(modal))
        view.update(id=view_id, hash="h1", team_id=TEAM, state={"values": state_values(modal, answers)})
        return {"type": "view_submission", "user": {"id": user}, "team": {"id": TEAM}, "view": view}

    def command(self, text: str, *, user: str = AGENT, channel: str = CHANNEL) -> dict[str, Any]:
        return {"command": "/angry", "text": text, "user_id": user, "team_id": TEAM, "channel_id": channel,
                "trigger_id": self.trigger(), "response_url": "https://hooks.slack.test/commands/1"}

    # --- arranging ---------------------------------------------------------------------------
    def open_case(self, *, owner: str = AGENT, customer: str | None = "Acme Corp",
                  summary: str = "charged twice, threatening to cancel", channel: str = CHANNEL,
                  posted: bool = True, **fields: Any) -> int:
        case = self.cases.open(team_id=TEAM, channel_id=channel, flagged_by=owner, customer=customer, summary=summary,
                               **fields)
        if posted:
            assert self.services.publisher.publish(case.id).ok
        return case.id

    def close_case(self, case_id: int, user: str = AGENT) -> None:
        assert self.services.closing.close(case_id, user=user, outcome="resolved",
                                           details={"fix": "refunded", "feedback_asked": True})

    # --- looking -----------------------------------------------------------------------------
    def case_count(self) -> int:
        from sqlalchemy import func, select

        from storage.models import Case

        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Case)) or 0)

    def case(self, case_id: int) -> Any:
        return self.cases.require(case_id)

    def events(self, case_id: int, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.cases.history(case_id) if not kinds or e["kind"] in kinds]

    def dms(self, user: str = AGENT) -> list[str]:
        """Texts of the DMs `user` got."""
        return [s.message.text for s in self.slack.posts(f"D{user}") if s.message is not None]

    def thread(self, case_id: int) -> list[str]:
        """Texts posted in the case's thread (the checklist included)."""
        case = self.case(case_id)
        return [s.message.text for s in self.slack.posts(case.channel_id)
                if s.message is not None and s.thread_ts == case.message_ts]

    def updates(self, channel: str | None = None) -> list[Sent]:
        return [s for s in self.slack.sent if s.method == "update" and (channel is None or s.channel == channel)]

    def opened_views(self) -> list[dict[str, Any]]:
        return [view for key, view in self.slack.views if key.startswith("trigger-")]


def seed(slack: FakeSlack) -> None:
    """The workspace: channels with who reads them, and people (a stranger from another organisation)."""
    slack.conversations.update({
        CHANNEL: {"id": CHANNEL, "name": "support", "is_channel": True},
        SHARED: {"id": SHARED, "name": "acme-shared", "is_channel": True, "is_ext_shared": True},
        ESCALATE: {"id": ESCALATE, "name": "experts", "is_channel": True},
        PRODUCT: {"id": PRODUCT, "name": "product-feedback", "is_channel": True},
        PRIVATE: {"id": PRIVATE, "name": "vip-support", "is_channel": True, "is_private": True},
    })
    for user, name, tz in ((AGENT, "alex", "Europe/Berlin"), (COLLEAGUE, "sam", "America/New_York"),
                           (EXPERT, "robin", "Europe/London"), (WEST, "lee", "America/Los_Angeles")):
        slack.users[user] = {"id": user, "name": name, "team_id": TEAM, "tz": tz, "profile": {"display_name": name}}
    slack.users[BOTTY] = {"id": BOTTY, "name": "otherbot", "team_id": TEAM, "is_bot": True, "profile": {}}
    slack.users[STRANGER] = {"id": STRANGER, "name": "jane", "team_id": "TOTHER", "is_stranger": True,
                             "tz": "America/Los_Angeles", "profile": {"display_name": "jane"}}


def state_values(modal: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """view.state.values for `modal`'s input blocks, in the shape Slack sends them."""
    unknown = set(answers) - {b.get("block_id") for b in modal["blocks"] if b["type"] == "input"}
    assert not unknown, f"no input block {sorted(unknown)} in the {modal.get('callback_id')} modal"
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        element, answer = block["element"], answers.get(block["block_id"])
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in ("static_select", "radio_buttons"):
            option = next((o for o in element.get("options", []) if o["value"] == answer), None)
            if answer is not None and option is None:  # a value the form does not offer (a forged payload)
                option = {"value": answer, "text": {"type": "plain_text", "text": str(answer)}}
            state["selected_option"] = option
        elif kind == "users_select":
            state["selected_user"] = answer
        elif kind == "conversations_select":
            state["selected_conversation"] = answer
        elif kind == "channels_select":
            state["selected_channel"] = answer
        elif kind == "datepicker":
            state["selected_date"] = answer
        elif kind == "checkboxes":
            state["selected_options"] = [{"value": v} for v in answer or []]
        else:
            state["value"] = answer
        values[block["block_id"]] = {element["action_id"]: state}
    return values
