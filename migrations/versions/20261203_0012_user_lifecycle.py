"""user lifecycle: one-time passwords an admin sets

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 04:20:00.000000

Not batch: on SQLite a batch recreates the table, and users is referenced by rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(),
                                     server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'must_change_password')
