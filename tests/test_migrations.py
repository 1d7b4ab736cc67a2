"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from storage.db import MIGRATIONS
from storage.models import Base


def test_migrations_form_one_line_of_history() -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}; chain the newest migration on the other"
    assert len(script.get_bases()) == 1


def test_migrated_schema_matches_the_models(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations disagree (write a migration):\n" + "\n".join(map(str, differences))


def test_the_comparison_notices_a_column_without_a_migration(db) -> None:  # type: ignore[no-untyped-def]
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["cases"].append_column(Column("forgotten", String(10)))
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), drifted)
    assert [d[0] for d in differences] == ["add_column"] and differences[0][3].name == "forgotten"
