"""two-factor login and national lines

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:40:00.000000

Two-factor login: a TOTP secret per user (encrypted, confirmed once the first code is
entered), the last time step used (a code is accepted once), hashed recovery codes, and
an organisation's choice to require it of its operators.

National lines: each hotline number (the ``To`` of a call or text) with its country, menu
languages and reply sender; a contact and a conversation remember the line they came in on.

Columns are added without batch mode: on SQLite a batch recreates the table, and users,
organisations and contacts are referenced by other rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('totp_secret_encrypted', sa.String(length=400),
                                     nullable=True))
    op.add_column('users', sa.Column('totp_confirmed_at', app.db.UTCDateTime(timezone=True),
                                     nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.add_column('organisations', sa.Column('require_2fa', sa.Boolean(),
                                             server_default=sa.false(), nullable=False))
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'],
                    unique=False)
    op.create_table('national_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('sms_sender', sa.String(length=64), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_national_lines_country_alpha2')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_national_lines')),
    sa.UniqueConstraint('number', name=op.f('uq_national_lines_number'))
    )
    op.add_column('contacts', sa.Column('line', sa.String(length=20), nullable=True))
    op.add_column('conversations', sa.Column('line', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('conversations', 'line')
    op.drop_column('contacts', 'line')
    op.drop_table('national_lines')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_column('organisations', 'require_2fa')
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_confirmed_at')
    op.drop_column('users', 'totp_secret_encrypted')
