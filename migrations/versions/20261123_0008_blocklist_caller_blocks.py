"""blocklist: caller blocks by pseudonym

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:30:00.000000

A new table only: contacts keep their columns (the outcome ``blocked`` is one more string
in a non-native enum), so the stats triggers of 0007 are untouched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('caller_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('reason_encrypted', sa.Text(), nullable=False),
    sa.Column('until', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('lifted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                            name=op.f('fk_caller_blocks_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_caller_blocks_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'],
                            name=op.f('fk_caller_blocks_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caller_blocks'))
    )
    op.create_index(op.f('ix_caller_blocks_case_id'), 'caller_blocks', ['case_id'],
                    unique=False)
    op.create_index('ix_caller_blocks_lookup', 'caller_blocks', ['caller_pseudonym', 'until'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_caller_blocks_lookup', table_name='caller_blocks')
    op.drop_index(op.f('ix_caller_blocks_case_id'), table_name='caller_blocks')
    op.drop_table('caller_blocks')
