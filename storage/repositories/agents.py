"""Agents: what Defuse remembers about a person (time zone, working hours, breather)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, update

from storage.models import Agent
from storage.sql import insert_unless_exists, row_by_key


def get_agent(session: Connection, user_id: str) -> Row[Any] | None:
    return row_by_key(session, Agent, user_id)


def upsert_agent(session: Connection, user_id: str, **fields: Any) -> Row[Any]:
    """Write these fields of the agent's row, adding the row first if there is none."""
    add_agent_if_missing(session, user_id)
    if fields:
        session.execute(update(Agent).where(Agent.c.user_id == user_id).values(**fields))
    agent = get_agent(session, user_id)
    assert agent is not None  # added above, in this transaction
    return agent


def add_agent_if_missing(session: Connection, user_id: str, **fields: Any) -> None:
    """Insert a bare agent row; a concurrent insert of the same user is not an error."""
    values = {"user_id": user_id, "is_bot": False, "deleted": False, **fields}
    session.execute(insert_unless_exists(session, Agent, values, ["user_id"]))
