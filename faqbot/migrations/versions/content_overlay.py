"""content loop: proposals (overlay on data/faq.yaml), overlay version, dismissed queries, searches followed by a contact

Revision ID: content_overlay
Revises: 0001
Create Date: 2026-11-26 06:40:00
"""
from alembic import op
import sqlalchemy as sa
import faqbot.db


revision = "content_overlay"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("signal", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("proposed_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", faqbot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("exported_at", faqbot.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["proposed_by"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["reviewed_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("content_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_change_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_change_status"), ["status"], unique=False)
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "query_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("dismissed_by", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dismissed_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("query"),
    )
    op.create_table(
        "search_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", faqbot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("search_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_contact_search_at"), ["search_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_contact_search_at"))
    op.drop_table("search_contact")
    op.drop_table("query_dismissal")
    op.drop_table("content_version")
    with op.batch_alter_table("content_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_change_status"))
        batch_op.drop_index(batch_op.f("ix_content_change_entry_id"))
    op.drop_table("content_change")
