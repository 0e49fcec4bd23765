"""stats: stored figures of settled months, and the changes that outdate them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:00:00.000000

Triggers count, per month (UTC), every insert, delete or change in a counted column of a
contact, case or routing attempt that started more than 50 minutes ago: stored figures
(``app.stats.rollup``) are used only while their month's count is unchanged. Records
that started later cannot be in stored figures (those stop at least an hour ago), and
skipping them keeps the busy current month's row free of locks; the 10 minutes between
the two allow for clock skew and for a transaction committing a while after its change.
On SQLite, a later batch migration that recreates contacts, cases or routing_attempts
drops these triggers: recreate them there as ``_create_triggers`` does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (columns whose change matters, the record's time as an SQL expression of {row})
WATCHED = {
    "contacts": ("started_at, caller_pseudonym, caller_country, language, channel, outcome, "
                 "answered_at", "{row}.started_at"),
    "cases": ("created_at, caller_pseudonym, caller_country, language", "{row}.created_at"),
    "routing_attempts": ("contact_id, organisation_id, result, answered_at",
                         "(SELECT started_at FROM contacts WHERE id = {row}.contact_id)"),
}
SQLITE_CHANGED = """INSERT INTO stats_changes (month, changes)
    SELECT strftime('%Y-%m', {moment}), 1
    WHERE {moment} < strftime('%Y-%m-%d %H:%M:%f', 'now', '-50 minutes')
    ON CONFLICT (month) DO UPDATE SET changes = changes + 1;"""


def upgrade() -> None:
    op.create_table('stats_changes',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_stats_changes'))
    )
    op.create_table('stats_rollups',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('settled_until', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('built_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month', 'kind', name=op.f('pk_stats_rollups'))
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table('stats_rollups')
    op.drop_table('stats_changes')


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION stats_changed(moment timestamptz) RETURNS void
                      LANGUAGE sql AS $$ INSERT INTO stats_changes (month, changes)
                      SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM'), 1
                      WHERE moment < clock_timestamp() - interval '50 minutes'
                      ON CONFLICT (month) DO UPDATE SET changes = stats_changes.changes + 1
                      $$""")
        op.execute("""CREATE FUNCTION stats_rollups_clear() RETURNS trigger LANGUAGE plpgsql
                      AS $$ BEGIN DELETE FROM stats_rollups; RETURN NULL; END $$""")
        for table, (columns, time) in WATCHED.items():
            op.execute(f"""CREATE FUNCTION stats_changed_{table}() RETURNS trigger
                LANGUAGE plpgsql AS $$ BEGIN
                IF TG_OP <> 'INSERT' THEN PERFORM stats_changed({time.format(row='OLD')}); END IF;
                IF TG_OP <> 'DELETE' THEN PERFORM stats_changed({time.format(row='NEW')}); END IF;
                RETURN NULL; END $$""")
            op.execute(f"""CREATE TRIGGER stats_changed_{table}
                AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table}
                FOR EACH ROW EXECUTE FUNCTION stats_changed_{table}()""")
            op.execute(f"""CREATE TRIGGER stats_changed_{table}_truncate AFTER TRUNCATE
                ON {table} FOR EACH STATEMENT EXECUTE FUNCTION stats_rollups_clear()""")
        return
    for table, (columns, time) in WATCHED.items():
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)),
                            (f"UPDATE OF {columns}", ("OLD", "NEW"))):
            changed = " ".join(SQLITE_CHANGED.format(moment=time.format(row=row))
                               for row in rows)
            op.execute(f"""CREATE TRIGGER stats_changed_{table}_{event.split()[0].lower()}
                AFTER {event} ON {table} BEGIN {changed} END""")


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER stats_changed_{table}_truncate ON {table}")
            op.execute(f"DROP TRIGGER stats_changed_{table} ON {table}")
            op.execute(f"DROP FUNCTION stats_changed_{table}()")
        op.execute("DROP FUNCTION stats_rollups_clear()")
        op.execute("DROP FUNCTION stats_changed(timestamptz)")
        return
    for table in WATCHED:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER stats_changed_{table}_{event}")
