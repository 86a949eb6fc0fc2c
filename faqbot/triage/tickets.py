"""Ticket creation: an unguessable reference, redacted content, the IBAN encrypted, idempotent on a client key."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Deflection, Ticket, TicketEvent
from .banking import encrypt_iban, mask_iban
from .checks import FACTS
from .fields import serialize
from .submission import Submission

# Crockford's base32 without I, L, O, U: easy to read aloud over the phone and to retype.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH = 12  # 60 random bits: references cannot be guessed or enumerated
MAX_IDEMPOTENCY_KEY = 80


def new_ref() -> str:
    """A random public reference like "K7F3-9XQ2-MD4P" (never derived from the sequential id)."""
    # One read of the system's randomness, not one per character; 32 letters: `byte % 32` stays uniform.
    raw = "".join(_REF_ALPHABET[byte % 32] for byte in secrets.token_bytes(REF_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, REF_LENGTH, 4))


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    created: bool  # False when an earlier submission with the same idempotency key is returned


def ticket_fields(submission: Submission) -> dict[str, Any]:
    """The reason's fields as stored: JSON-friendly, the IBAN left out (it is stored encrypted, apart)."""
    return {
        field.id: serialize(field, submission.values.get(field.id))
        for field in submission.reason.fields
        if field.type != "iban" and submission.values.get(field.id) is not None
    }


def new_ticket(
    submission: Submission,
    *,
    now: dt.datetime,
    iban_key: str | bytes,
    idempotency_key: str | None = None,
    source: str = "web",
) -> Ticket:
    """The ticket of a validated submission with its "created" event, built without touching the database.

    Everything a ticket costs in CPU (reference, computed facts, IBAN encryption) is done here, so the caller can
    do it before its write transaction and hold the write lock only for the inserts.
    """
    reason = submission.reason
    computed: dict[str, Any] = {}
    for name in reason.checks:
        if name in FACTS:
            computed.update(FACTS[name](submission, now))
    iban = next((submission.values[f.id] for f in reason.fields if f.type == "iban" and submission.values.get(f.id)), None)
    ticket = Ticket(
        ref=new_ref(),
        reason=reason.id,
        queue=reason.queue,
        priority=reason.priority,
        status="nouveau",
        name=submission.name,
        email=submission.email,
        message=submission.message,
        fields=ticket_fields(submission),
        confirmations=[
            {"id": c.id, "label": c.label, "confirmed_at": serialize(None, now)}
            for c in reason.confirmations
            if c.id in submission.confirmations
        ],
        computed=computed,
        faq_seen=list(submission.faq_seen),
        redactions=submission.redactions,
        iban_encrypted=encrypt_iban(iban, iban_key) if iban else None,
        iban_masked=mask_iban(iban) if iban else None,
        idempotency_key=idempotency_key or None,
        created_at=now,
        updated_at=now,
    )
    ticket.events.append(
        TicketEvent(at=now, kind="created", body="", data={"source": source, "redactions": submission.redactions})
    )
    return ticket


def store_ticket(session: Session, ticket: Ticket) -> None:
    """Add a ticket from `new_ticket` with its "submitted" deflection record (the caller's transaction)."""
    session.add(ticket)
    session.add(Deflection(at=ticket.created_at, reason=ticket.reason, outcome="submitted"))


def create_ticket(
    session: Session,
    submission: Submission,
    *,
    now: dt.datetime,
    iban_key: str | bytes,
    idempotency_key: str | None = None,
    source: str = "web",
) -> Created:
    """Store a validated submission as a ticket with its "created" event and a "submitted" deflection record.

    With an idempotency key, a retry returns the ticket of the first attempt instead of making a second one,
    even when both attempts race (the unique index decides; the loser reads the winner's row).
    """
    if idempotency_key:
        existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is not None:
            return Created(existing, False)
    ticket = new_ticket(submission, now=now, iban_key=iban_key, idempotency_key=idempotency_key, source=source)
    try:
        with session.begin_nested():
            store_ticket(session, ticket)
            session.flush()
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another worker stored the same key between our read and our insert: theirs is the ticket.
        existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return Created(existing, False)
    return Created(ticket, True)


def record_deflection(session: Session, reason_id: str, outcome: str, *, now: dt.datetime, entry_id: str | None = None) -> None:
    """Count what the answer step achieved: resolved | continued | blocked | submitted."""
    session.add(Deflection(at=now, reason=reason_id, outcome=outcome, entry_id=entry_id))
