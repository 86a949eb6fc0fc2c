"""Database models of every area: tickets and their history, deflections, staff accounts, throttling, search log.

Kept in one module so the schema reads in one place and Alembic sees it whole; the rules that act on these rows
live in their areas (`triage/`, `staff/`, `index/`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, utcnow

TICKET_STATUSES = ("nouveau", "en_cours", "attente_stagiaire", "resolu", "clos")


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout-everywhere, password change or deactivation: sessions carrying an older value are dead.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference shown to the visitor: random, never derived from the sequential id.
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="nouveau", index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    message: Mapped[str] = mapped_column(Text, default="")  # already redacted (card numbers)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # reason fields, redacted, IBAN excluded
    confirmations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{id, label, confirmed_at}]
    computed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # computed facts, e.g. deadlines (ISO UTC)
    faq_seen: Mapped[list[str]] = mapped_column(JSON, default=list)  # FAQ entry ids shown before writing
    redactions: Mapped[int] = mapped_column(Integer, default=0)
    iban_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    iban_masked: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Lets a client retry a submission without creating a second ticket.
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    assignee: Mapped[StaffUser | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """Audit trail and conversation of a ticket: who did what, when."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    # created | claimed | assigned | status | note | reply | iban_revealed | email_failed
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[StaffUser | None] = relationship()


class Deflection(Base):
    """A visitor shown a reason's answer: did it solve the problem, or did they go on to write?"""

    __tablename__ = "deflection"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # resolved | continued | blocked | submitted
    entry_id: Mapped[str | None] = mapped_column(String(120), nullable=True)


class AuditEvent(Base):
    """Security-relevant staff actions not tied to a ticket (login, logout, account changes, exports)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class ThrottleHit(Base):
    """Attempts counted in one slice of time (a fifteenth of the window) for one rate-limit key.

    Shared by every worker through the database; one row per slice, so a check reads at most 16 rows per key
    whatever the traffic.
    """

    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))  # e.g. "login", "contact"
    key: Mapped[str] = mapped_column(String(200))  # hashed client address or account
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)  # start of the slice
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SearchLog(Base):
    """One search: what was typed and what came back. No personal data (no address, no session)."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    query: Mapped[str] = mapped_column(String(200))
    corrected_query: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    top_entry_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    clicked_entry_id: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)


class FeedbackVote(Base):
    """"Cette réponse vous a-t-elle aidé ?" — one vote."""

    __tablename__ = "feedback_vote"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
