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
    # Since when the team owes an answer (creation, then each trainee message); None while the trainee is waited
    # on or after the team answered: the SLA clock runs only while this is set.
    awaiting_team_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The trainee wrote last (follow-up page or e-mail): « réponse du stagiaire » in the queues until an agent replies.
    trainee_replied: Mapped[bool] = mapped_column(Boolean, default=False)
    # Satisfaction after resolution: "oui" | "non", recorded by a POST on the follow-up page only.
    csat: Mapped[str | None] = mapped_column(String(8), nullable=True)
    csat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

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


# --- The content loop (faqbot/content/overlay.py): proposals from the console, served as an overlay on the file ---


class ContentChange(Base):
    """A proposed FAQ change: a query attached as a variant of an entry, or a new entry; reviewed by an admin.

    Accepted changes are the overlay every worker applies on top of data/faq.yaml; `faqbot content export`
    writes them into the file (exported_at) for the repository's history.
    """

    __tablename__ = "content_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # variant | entry
    entry_id: Mapped[str] = mapped_column(String(120), index=True)  # the entry given a variant, or the new entry's id
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"variant": …} or the new entry's fields
    query: Mapped[str] = mapped_column(String(200), default="")  # the logged search it came from
    signal: Mapped[str] = mapped_column(String(16), default="")  # zero | contact | no-vote | unclicked | manual
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)  # proposed | accepted | rejected
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    exported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ContentVersion(Base):
    """One row: the overlay's version, bumped in the transaction that changes what is served."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueryDismissal(Base):
    """A logged query an agent marked as noise: it leaves the content loop's lists."""

    __tablename__ = "query_dismissal"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200), unique=True)  # lower-cased and trimmed, as the lists group them
    dismissed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    dismissed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchContact(Base):
    """A visitor opened the contact form from a search's results: the search (by its `at`) did not answer them."""

    __tablename__ = "search_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowupToken(Base):
    """A private link to a ticket's follow-up page (and its reply address); only the SHA-256 of the token is kept."""

    __tablename__ = "followup_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxMessage(Base):
    """One e-mail to send, written in the transaction of the event that causes it; the sender delivers it.

    The text is built when it is sent, from the ticket and the event: nothing personal is copied here, and the
    follow-up token in the mail exists in clear only in the mail itself.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # acknowledgment | reply | resolved | unmatched
    kind: Mapped[str] = mapped_column(String(24))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), nullable=True, index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_event.id", ondelete="CASCADE"), nullable=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # Fixed at enqueue time: a retry after a crash re-sends the same Message-ID, which mail clients deduplicate.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # A form's one-time key: the same reply posted twice is stored (and sent) once.
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sending | sent | failed | dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")


class InboundMessage(Base):
    """An e-mail read from the IMAP mailbox, recorded once by Message-ID (a second fetch skips it)."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sender: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    # threaded | unmatched | ignored (auto-reply, bounce)
    outcome: Mapped[str] = mapped_column(String(12), index=True)
    matched_by: Mapped[str] = mapped_column(String(16), default="")  # address | headers | subject
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), nullable=True, index=True)
    # Unmatched messages keep their (redacted, stripped) text so that staff can route them by hand.
    body: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)  # names only: files are not stored yet
    answered: Mapped[bool] = mapped_column(Boolean, default=False)  # the polite "we could not match" answer went out
