"""The outbox: every e-mail the app sends is a row written in the transaction of the event that causes it.

A sender (a thread in each web worker, or `faqbot mail send`) delivers due rows. Delivery is claimed with a
conditional UPDATE and a lease, so two senders never take the same row; a failure puts the row back with an
increasing delay, so an SMTP outage delays mail instead of losing it or failing the request that caused it.
This module does not import Flask: staff/workflow.py enqueues from its rules.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from ..models import OutboxMessage, Ticket, TicketEvent
from .transport import random_local_part

log = logging.getLogger(__name__)

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
        message_id=random_local_part(),
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


def _due(now: dt.datetime):
    return (OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.next_attempt_at <= now)


def claim(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows (pending and due, or sending with an expired lease) for this sender, in one
    statement. The conditions are repeated outside the subquery: on PostgreSQL a concurrent sender's UPDATE
    waits for our row locks, then re-checks them and skips what we took."""
    oldest = select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(oldest.scalar_subquery()), *_due(now))
        .values(status="sending", next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def has_due(session: Session, now: dt.datetime) -> bool:
    """Whether any row is due (a read: an idle sender checks this without taking SQLite's write lock)."""
    return session.scalar(select(OutboxMessage.id).where(*_due(now)).limit(1)) is not None


@dataclass
class _Composed:
    row_id: int
    message: object = None  # None: nothing to send any more (ticket erased)
    cleanup: Callable | None = None
    stored: list = field(default_factory=list)  # what composing adds (a follow-up token), stored at the claim
    error: Exception | None = None


def _compose_all(session: Session, compose: Composer, row_ids: list[int], now: dt.datetime) -> list[_Composed]:
    """Build every message in a read: what composing adds is taken out of the session, to be stored with the claim."""
    results = []
    # The batch's rows, tickets and their events in three queries; compose's lookups then come from the session.
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(row_ids))).all()
    ticket_ids = {row.ticket_id for row in rows if row.ticket_id is not None}
    if ticket_ids:
        session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)).options(selectinload(Ticket.events))).all()
    with session.no_autoflush:
        for row_id in row_ids:
            before = set(session.new)
            result = _Composed(row_id)
            try:
                result.message, result.cleanup = compose(session, session.get(OutboxMessage, row_id), now)
            except Exception as error:  # a bug in one message's words: that row is retried, the others go
                result.error = error
            result.stored = [item for item in session.new if item not in before]
            for item in result.stored:
                session.expunge(item)
            if result.error is not None:
                result.stored, result.message = [], None
            results.append(result)
    return results


def deliver_due(database, compose: Composer, send: Callable, now: Callable[[], dt.datetime], limit: int = 50) -> Report:
    """Deliver what is due, a batch at a time, holding the write lock only for short writes:

    0. a read: nothing due, nothing else done — an idle sender never takes SQLite's write lock from the requests;
    1. claim the batch (one UPDATE; what another sender took is not ours);
    2. a read: every message built (CPU) without any lock;
    3. store what composing created (the follow-up tokens the messages link to);
    4. send, no transaction open;
    5. record every outcome (sent, or retried later with a growing delay: never lost).
    Three short write transactions per batch, not three per e-mail, and no message built twice.
    """
    report = Report()
    with database.read() as session:
        if not has_due(session, now()):
            return report
    with database.transaction() as session:
        claimed = claim(session, now(), limit)
    if not claimed:
        return report
    with database.read() as session:
        composed = _compose_all(session, compose, claimed, now())
    with database.transaction() as session:
        for item in composed:
            session.add_all(item.stored)
            if item.message is None and item.error is None:
                _finish(session, [item.row_id], "dropped", now(), error="plus rien à envoyer (demande effacée)")
    sent, failures = [], []
    for item in composed:
        if item.error is not None:
            failures.append((item.row_id, item.error, None))
            continue
        if item.message is None:
            continue
        try:
            send(item.message)
        except Exception as error:  # SMTP down, refused recipient…: retried later, never lost
            failures.append((item.row_id, error, item.cleanup))
            continue
        sent.append(item.row_id)
    if not sent and not failures:
        return report
    with database.transaction() as session:
        if sent:
            _finish(session, sent, "sent", now())
            report.sent.extend(sent)
        for row_id, error, cleanup in failures:
            _failed_attempt(session, row_id, error, cleanup, now(), report)
    return report


def _failed_attempt(session: Session, row_id: int, error: Exception, cleanup, now: dt.datetime, report: Report) -> None:
    """Put a row back with a growing delay, or give it up after MAX_ATTEMPTS (with an event on its ticket)."""
    if cleanup is not None:
        cleanup(session)
    row = session.get(OutboxMessage, row_id)
    described = f"{type(error).__name__}: {error}"[:300]
    # The type only: the message may name a recipient. The full text is in the row's last_error.
    log.warning("outbox row %s, attempt %s failed: %s", row_id, row.attempts, type(error).__name__)
    if row.attempts >= MAX_ATTEMPTS:
        _finish(session, [row_id], "failed", now, error=described)
        if row.ticket_id is not None:
            session.add(
                TicketEvent(ticket_id=row.ticket_id, at=now, kind="email_failed", body="",
                            data={"error": described, "outbox_id": row_id})
            )
        report.failed.append(row_id)
    else:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == "sending")
            .values(status="pending", next_attempt_at=now + retry_delay(row.attempts), last_error=described)
            .execution_options(synchronize_session=False)
        )
        report.retried.append(row_id)


def _finish(session: Session, row_ids: list[int], status: str, now: dt.datetime, error: str = "") -> None:
    values = {"status": status, "last_error": error[:300]}
    if status == "sent":
        values["sent_at"] = now
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(row_ids)).values(**values).execution_options(synchronize_session=False)
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
