"""stats: call-backs counted in the changes that outdate a month's stored figures

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 03:45:00.000000

Service quality stores each settled month's call-backs (asked for and completed, by the
organisation holding the case and the caller's country) as it stores its calls, so the
month's count of changes (migration 0007) must grow when they change: a call-back asked
for, completed, moved or erased, and a case referred to another organisation or its
caller's country corrected (which moves every call-back of the case, in whatever month
each was asked for). As in 0007, only records from more than 50 minutes ago count. On
SQLite, a later batch migration that recreates callback_requests or cases drops these
triggers: recreate them there as ``upgrade`` does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALLBACK_COLUMNS = "case_id, created_at, completed_at"
CASE_COLUMNS = "organisation_id, caller_country"
SQLITE_CHANGED = """INSERT INTO stats_changes (month, changes)
    SELECT strftime('%Y-%m', created_at), 1 FROM {rows}
    WHERE created_at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-50 minutes')
    ON CONFLICT (month) DO UPDATE SET changes = changes + 1;"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION stats_changed_callback_requests() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
            IF TG_OP <> 'INSERT' THEN PERFORM stats_changed(OLD.created_at); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM stats_changed(NEW.created_at); END IF;
            RETURN NULL; END $$""")
        op.execute(f"""CREATE TRIGGER stats_changed_callback_requests
            AFTER INSERT OR DELETE OR UPDATE OF {CALLBACK_COLUMNS} ON callback_requests
            FOR EACH ROW EXECUTE FUNCTION stats_changed_callback_requests()""")
        op.execute("""CREATE FUNCTION stats_changed_case_callbacks() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
            PERFORM stats_changed(created_at) FROM callback_requests WHERE case_id = NEW.id;
            RETURN NULL; END $$""")
        op.execute(f"""CREATE TRIGGER stats_changed_case_callbacks
            AFTER UPDATE OF {CASE_COLUMNS} ON cases
            FOR EACH ROW EXECUTE FUNCTION stats_changed_case_callbacks()""")
        return
    one = "(SELECT {row}.created_at AS created_at)"
    for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)),
                        (f"UPDATE OF {CALLBACK_COLUMNS}", ("OLD", "NEW"))):
        changed = " ".join(SQLITE_CHANGED.format(rows=one.format(row=row)) for row in rows)
        op.execute(f"""CREATE TRIGGER stats_changed_callback_requests_{event.split()[0].lower()}
            AFTER {event} ON callback_requests BEGIN {changed} END""")
    changed = SQLITE_CHANGED.format(
        rows="(SELECT created_at FROM callback_requests WHERE case_id = NEW.id)")
    op.execute(f"""CREATE TRIGGER stats_changed_case_callbacks
        AFTER UPDATE OF {CASE_COLUMNS} ON cases BEGIN {changed} END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER stats_changed_case_callbacks ON cases")
        op.execute("DROP FUNCTION stats_changed_case_callbacks()")
        op.execute("DROP TRIGGER stats_changed_callback_requests ON callback_requests")
        op.execute("DROP FUNCTION stats_changed_callback_requests()")
        return
    op.execute("DROP TRIGGER stats_changed_case_callbacks")
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER stats_changed_callback_requests_{event}")
