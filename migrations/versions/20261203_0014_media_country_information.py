"""media count on contacts, per-country information messages

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:40:00.000000

A contact counts the media items (MMS pictures, voice notes) its first message carried:
the media itself is never fetched or kept, only that there was some.

Country information: what the information line says and texts in one country (embassies,
local rules, emergency numbers), one short message per row, in order, per language. A
country without rows gets the generic messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('contacts', sa.Column('media', sa.Integer(), server_default='0',
                                        nullable=False))
    op.create_table('country_information',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(country) = 2',
                       name=op.f('ck_country_information_country_alpha2')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_country_information')),
    sa.UniqueConstraint('country', 'language', 'position',
                        name=op.f('uq_country_information_message'))
    )


def downgrade() -> None:
    op.drop_table('country_information')
    op.drop_column('contacts', 'media')
