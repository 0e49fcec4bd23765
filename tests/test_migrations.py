"""Migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app import db, models  # noqa: F401
from app.db import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_downgrade_upgrade_round_trip(fresh_database_url):
    config = db.alembic_config(fresh_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = db.make_engine(fresh_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert db.current_revision(engine) == db.head_revision()
    assert {"organisations", "opening_hours", "contacts", "cases"} <= set(
        inspect(engine).get_table_names())
    engine.dispose()


def test_no_column_is_meant_for_a_callers_number_or_name():
    forbidden = ("phone", "number", "msisdn", "name", "from_")
    for table in ("contacts", "cases"):
        for column in Base.metadata.tables[table].columns:
            assert not any(word in column.name for word in forbidden), (table, column.name)
