"""The outbox: every e-mail the app sends is a row written in the transaction of the event that causes it.

A sender (a thread in each web worker, or `faqbot mail send`) delivers due rows. Delivery is claimed with a
conditional UPDATE and a lease, so two senders never take the same row; a failure puts the row back with an
increasing delay, so an SMTP outage delays mail instead of losing it or failing the request that caused it.
This module does not import Flask: staff/workflow.py enqueues from its rules.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..models import OutboxMessage, TicketEvent

KINDS = ("acknowledgment", "reply", "resolved", "unmatched")
# While a sender holds a row it is "sending" until this lease ends: far above the SMTP timeout (10 s), so a live
# sender is never overtaken; a sender that died mid-way is replaced after it.
LEASE = dt.timedelta(minutes=5)
FIRST_RETRY = dt.timedelta(seconds=30)
MAX_RETRY_DELAY = dt.timedelta(hours=1)
# 30 s, 1 min, 2 min … then hourly: 20 attempts span about 14 hours of outage before a row is given up.
MAX_ATTEMPTS = 20


def enqueue(
    session: Session,
    *,
    kind: str,
    to: str,
    now: dt.datetime,
    ticket_id: int | None = None,
    event: TicketEvent | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Add a message to send; it is committed (or rolled back) with the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    row = OutboxMessage(
        kind=kind,
        to_address=to,
        ticket_id=ticket_id,
        message_id=uuid.uuid4().hex,
        dedupe_key=dedupe_key or None,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        last_error="",
    )
    if event is not None:
        session.flush()  # the event's id
        row.event_id = event.id
    session.add(row)
    return row


def retry_delay(attempts: int) -> dt.timedelta:
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY_DELAY)


@dataclass
class Report:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


# compose(session, row, now) -> (EmailMessage, cleanup) where cleanup(session) undoes what composing stored
# (a follow-up token) when the message could not be sent.
Composer = Callable[[Session, OutboxMessage, dt.datetime], tuple]


def claim(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows for this sender (pending and due, or sending with an expired lease)."""
    candidates = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    won = []
    for row_id in candidates:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.status.in_(("pending", "sending")),
                OutboxMessage.next_attempt_at <= now,
            )
            .values(status="sending", next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            won.append(row_id)
    return won


def deliver_due(database, compose: Composer, send: Callable, now: Callable[[], dt.datetime], limit: int = 50) -> Report:
    """Deliver what is due: claim (commit), compose (commit), send with no transaction open, then record."""
    report = Report()
    with database.transaction() as session:
        claimed = claim(session, now(), limit)
    for row_id in claimed:
        cleanup = None
        try:
            with database.transaction() as session:
                row = session.get(OutboxMessage, row_id)
                message, cleanup = compose(session, row, now())
            if message is None:  # nothing to send any more (ticket erased): done, not failed
                with database.transaction() as session:
                    _finish(session, row_id, "dropped", now(), error="plus rien à envoyer (demande effacée)")
                continue
            send(message)
        except Exception as error:  # SMTP down, refused recipient…: retried later, never lost
            with database.transaction() as session:
                if cleanup is not None:
                    cleanup(session)
                row = session.get(OutboxMessage, row_id)
                if row.attempts >= MAX_ATTEMPTS:
                    _finish(session, row_id, "failed", now(), error=f"{type(error).__name__}: {error}")
                    if row.ticket_id is not None:
                        session.add(
                            TicketEvent(ticket_id=row.ticket_id, at=now(), kind="email_failed", body="",
                                        data={"error": f"{type(error).__name__}: {error}"[:300], "outbox_id": row_id})
                        )
                    report.failed.append(row_id)
                else:
                    session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row_id, OutboxMessage.status == "sending")
                        .values(status="pending", next_attempt_at=now() + retry_delay(row.attempts),
                                last_error=f"{type(error).__name__}: {error}"[:300])
                        .execution_options(synchronize_session=False)
                    )
                    report.retried.append(row_id)
            continue
        with database.transaction() as session:
            _finish(session, row_id, "sent", now())
        report.sent.append(row_id)
    return report


def _finish(session: Session, row_id: int, status: str, now: dt.datetime, error: str = "") -> None:
    values = {"status": status, "last_error": error[:300]}
    if status == "sent":
        values["sent_at"] = now
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values).execution_options(synchronize_session=False)
    )


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"))
    ) or 0


def thread_ids(session: Session, ticket_id: int) -> list[str]:
    """Local parts of the Message-IDs already sent for a ticket, oldest first (for References)."""
    return list(
        session.scalars(
            select(OutboxMessage.message_id)
            .where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.status == "sent")
            .order_by(OutboxMessage.id)
        )
    )
