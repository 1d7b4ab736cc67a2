"""Small typed helpers for Core statements shared by the query modules: a model's table, how many
rows a statement changed, and "insert unless it exists" on both databases."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def table_of(model: type[DeclarativeBase]) -> Table:
    """The model's table, for Core statements (the ORM's bookkeeping costs more than a bulk UPDATE)."""
    return cast(Table, model.__table__)


def changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (execute() returns a cursor result for those)."""
    return cast(CursorResult[Any], result).rowcount


def insert_unless_exists(
    session: Session, table: Table, values: dict[str, Any], keys: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING in the session's dialect (both spell it the same)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)


def new_row_unless_exists(session: Session, table: Table, keys: tuple[str, ...]) -> Executable:
    """The same INSERT … ON CONFLICT DO NOTHING RETURNING id without values, to run with them as parameters:
    built once per table, so its cache key is computed once rather than for every row."""
    return _unless_exists(session.get_bind().dialect.name, table, keys)


@cache
def _unless_exists(dialect: str, table: Table, keys: tuple[str, ...]) -> Executable:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c.id)
