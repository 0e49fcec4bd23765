"""audit hash chain, reporting consent

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 19:30:00.000000

Existing audit entries are chained here, in id order, with the service's
``HOTLINE_AUDIT_KEY`` (as ``hotline serve`` resolves it): set it before upgrading a
production database that has entries. The append-only triggers (0004) are dropped for that
backfill and created again.
"""

from collections.abc import Sequence
from types import ModuleType, SimpleNamespace

import sqlalchemy as sa
from alembic import context, op

import app.db
from app.audit import chain
from app.config import Settings, resolve

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT = sa.table("audit_events", sa.column("id", sa.Integer()),
                 sa.column("at", app.db.UTCDateTime()), sa.column("username", sa.String()),
                 sa.column("role", sa.String()), sa.column("organisation_id", sa.Integer()),
                 sa.column("action", sa.String()), sa.column("case_id", sa.Uuid()),
                 sa.column("detail", sa.JSON()), sa.column("prev_hash", sa.String()),
                 sa.column("entry_hash", sa.String()))


def _append_only() -> ModuleType:
    """Migration 0004, whose helpers create and drop the audit log's triggers."""
    return context.script.get_revision("0004").module


def upgrade() -> None:
    op.add_column('cases', sa.Column('reporting_consent', sa.Boolean(),
                                     server_default=sa.false(), nullable=False))
    _append_only()._drop_append_only("audit_events")
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('entry_hash', sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_audit_events_prev_hash'), ['prev_hash'],
                              unique=True)
    _append_only()._make_append_only("audit_events")


def downgrade() -> None:
    _append_only()._drop_append_only("audit_events")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_prev_hash'))
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
    _append_only()._make_append_only("audit_events")
    # Not batch: recreating cases would drop the statistics triggers of 0007.
    op.drop_column('cases', 'reporting_consent')


def _chain_existing_entries() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).all()
    if not rows:
        return
    key = resolve(Settings()).audit_key.encode()
    previous = chain.GENESIS
    for row in rows:
        entry = SimpleNamespace(**{**row._mapping, "prev_hash": previous})
        entry_hash = chain.seal(entry, key)
        bind.execute(sa.update(AUDIT).where(AUDIT.c.id == row.id)
                     .values(prev_hash=previous, entry_hash=entry_hash))
        previous = entry_hash
