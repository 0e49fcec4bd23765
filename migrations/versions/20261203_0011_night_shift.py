"""night shift: case history, masked call-backs, on-duty operators, escalation alerts,
referral handoff

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 04:00:00.000000

The outbox also carries alerts to operators' own phones, so its message and conversation
become optional. Columns of ``cases`` are added without a batch: recreating the table would
drop the statistics triggers of 0007; nor are those of ``users``, which other tables'
rows refer to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('callback_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('dialling_operator', 'operator_no_answer', 'dialling_caller', 'no_answer', 'not_safe', 'connected', 'completed', 'failed', name='callbackoutcome', native_enum=False, length=20), nullable=False),
    sa.Column('operator_call_sid', sa.String(length=64), nullable=True),
    sa.Column('caller_call_sid', sa.String(length=64), nullable=True),
    sa.Column('started_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callback_requests.id'], name=op.f('fk_callback_attempts_callback_id_callback_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_callback_attempts_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_callback_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts')),
    sa.UniqueConstraint('caller_call_sid', name=op.f('uq_callback_attempts_caller_call_sid')),
    sa.UniqueConstraint('operator_call_sid', name=op.f('uq_callback_attempts_operator_call_sid'))
    )
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempts_callback_id'), ['callback_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_attempts_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_attempt_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_outcome', sa.String(length=20), nullable=True))
    # The caller's language, for the question they hear when called back.
    op.execute("""UPDATE callback_requests SET language = (
                  SELECT contacts.language FROM contacts
                  WHERE contacts.id = callback_requests.contact_id)""")

    op.add_column('cases', sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))
    op.add_column('cases', sa.Column('escalated_at', app.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('reply', 'alert', name='outboxkind', native_enum=False, length=20), server_default='reply', nullable=False))
        batch_op.add_column(sa.Column('recipient_encrypted', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('body_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('message_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('conversation_id',
               existing_type=sa.Uuid(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_case_id_cases'), 'cases', ['case_id'], ['id'])

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('pending', 'accepted', 'declined', name='referralstatus', native_enum=False, length=20), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('responded_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('responded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decline_reason_encrypted', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_referrals_responded_by_id_users'), 'users', ['responded_by_id'], ['id'])

    # Not batch: on SQLite a batch recreates the table, and users is referenced by rows.
    op.add_column('users', sa.Column('on_duty', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('duty_phone_encrypted', sa.String(length=400), nullable=True))
    op.add_column('users', sa.Column('duty_since', app.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    op.drop_column('users', 'duty_since')
    op.drop_column('users', 'duty_phone_encrypted')
    op.drop_column('users', 'on_duty')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_responded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('decline_reason_encrypted')
        batch_op.drop_column('responded_by_id')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('status')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_case_id'))
        batch_op.alter_column('conversation_id',
               existing_type=sa.Uuid(),
               nullable=False)
        batch_op.alter_column('message_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('case_id')
        batch_op.drop_column('body_encrypted')
        batch_op.drop_column('recipient_encrypted')
        batch_op.drop_column('kind')

    op.drop_column('cases', 'escalated_at')
    op.drop_column('cases', 'escalation_level')

    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_column('last_outcome')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('language')

    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempts_case_id'))
        batch_op.drop_index(batch_op.f('ix_callback_attempts_callback_id'))

    op.drop_table('callback_attempts')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
