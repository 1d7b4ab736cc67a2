"""Agents: what Defuse remembers about a person (time zone, working hours, breather)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.models import Agent
from storage.sql import insert_unless_exists, table_of


def get_agent(session: Session, user_id: str) -> Agent | None:
    return session.get(Agent, user_id)


def upsert_agent(session: Session, user_id: str, **fields: Any) -> Agent:
    agent = session.get(Agent, user_id)
    if agent is None:
        agent = Agent(user_id=user_id, **fields)
        session.add(agent)
    else:
        for key, value in fields.items():
            setattr(agent, key, value)
    session.flush()
    return agent


def add_agent_if_missing(session: Session, user_id: str, **fields: Any) -> None:
    """Insert a bare agent row; a concurrent insert of the same user is not an error."""
    table = table_of(Agent)
    values = {"user_id": user_id, "is_bot": False, "deleted": False, **fields}
    session.execute(insert_unless_exists(session, table, values, ["user_id"]))
