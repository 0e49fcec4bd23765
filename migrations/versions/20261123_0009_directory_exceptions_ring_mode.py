"""directory: dated opening exceptions, ring mode

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('organisations', sa.Column('ring_mode', sa.String(length=20),
                                             server_default='simultaneous', nullable=False))
    op.create_table('opening_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('intervals', sa.JSON(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_opening_exceptions_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_exceptions')),
    sa.UniqueConstraint('organisation_id', 'day', name='uq_opening_exceptions_day')
    )


def downgrade() -> None:
    op.drop_table('opening_exceptions')
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.drop_column('ring_mode')
