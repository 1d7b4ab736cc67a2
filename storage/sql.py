"""Small typed helpers for Core statements shared by the query modules: a row by its primary key, how
many rows a statement changed, and "insert unless it exists" on both databases."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Executable, Result, Row, Table, select
from sqlalchemy.dialects import postgresql, sqlite


def row_by_key(session: Connection, table: Table, key: Any, *, lock: bool = False) -> Row[Any] | None:
    """The row whose (one-column) primary key is `key`, or None; `lock` takes a row lock on PostgreSQL."""
    (column,) = table.primary_key.columns
    stmt = select(table).where(column == key)
    return session.execute(stmt.with_for_update() if lock else stmt).first()


def changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (execute() returns a cursor result for those)."""
    return cast(CursorResult[Any], result).rowcount


def insert_unless_exists(
    session: Connection, table: Table, values: dict[str, Any], keys: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING in the session's dialect (both spell it the same)."""
    if session.dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)


def new_row_unless_exists(session: Connection, table: Table, keys: tuple[str, ...]) -> Executable:
    """The same INSERT … ON CONFLICT DO NOTHING RETURNING id without values, to run with them as parameters:
    built once per table, so its cache key is computed once rather than for every row."""
    return _unless_exists(session.dialect.name, table, keys)


@cache
def _unless_exists(dialect: str, table: Table, keys: tuple[str, ...]) -> Executable:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c.id)
