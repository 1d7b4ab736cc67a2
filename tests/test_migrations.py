"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String

from storage.db import MIGRATIONS
from storage.models import metadata


def test_migrations_form_one_line_of_history() -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}; chain the newest migration on the other"
    assert len(script.get_bases()) == 1


def test_migrated_schema_matches_the_models(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, metadata)
    assert differences == [], "models and migrations disagree (write a migration):\n" + "\n".join(map(str, differences))


def test_the_comparison_notices_a_column_without_a_migration(db) -> None:  # type: ignore[no-untyped-def]
    drifted = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["cases"].append_column(Column("forgotten", String(10)))
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), drifted)
    assert [d[0] for d in differences] == ["add_column"] and differences[0][3].name == "forgotten"


def test_upgrading_keeps_every_row_of_an_old_database(database_url: str) -> None:
    """SQLite rebuilds tables in batch migrations: nothing may cascade away on the way to head."""
    from alembic import command
    from sqlalchemy import text

    from storage.db import Database

    db = Database(database_url, pool_size=1)
    try:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.execute(text(
                "INSERT INTO cases (id, channel_id, summary, flagged_by, owner_id, status, opened_at, updated_at, hard_nudged)"
                " VALUES (1, 'C1', 'old', 'U1', 'U1', 'open', '2026-11-01 09:00:00', '2026-11-01 09:00:00', false)"))
            conn.execute(text("INSERT INTO case_steps (case_id, step, done) VALUES (1, 1, true), (1, 2, false)"))
            conn.execute(text("INSERT INTO case_events (case_id, actor, kind, at, data) VALUES (1, 'U1', 'note', '2026-11-01 09:05:00', '{}')"))
        db.migrate()
        with db.engine.connect() as conn:
            counts = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ("cases", "case_steps", "case_events")]
            if db.is_sqlite:
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
        assert counts == [1, 2, 1]
    finally:
        db.dispose()
