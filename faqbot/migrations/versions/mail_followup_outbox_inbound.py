"""follow-up tokens, mail outbox, inbound mail, ticket conversation state and satisfaction

Revision ID: mail_followup
Revises: 0001
Create Date: 2026-11-26 06:20:00
"""
from alembic import op
import sqlalchemy as sa
import faqbot.db


revision = "mail_followup"
down_revision = "content_overlay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_team_since", faqbot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("trainee_replied", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("csat", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("csat_at", faqbot.db.UTCDateTime(timezone=True), nullable=True))
    # Tickets still waiting for their first answer owe it since their creation.
    op.execute("UPDATE ticket SET awaiting_team_since = created_at WHERE first_response_at IS NULL AND status IN ('nouveau', 'en_cours')")

    op.create_table(
        "followup_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", faqbot.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("followup_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_token_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", faqbot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["ticket_event.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_message_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_message_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_message_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_message_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_message")
    op.drop_table("outbox_message")
    op.drop_table("followup_token")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("csat_at")
        batch_op.drop_column("csat")
        batch_op.drop_column("trainee_replied")
        batch_op.drop_column("awaiting_team_since")
