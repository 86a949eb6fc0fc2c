"""Test builders shared by every area: rows with sensible defaults, overridable field by field."""
from __future__ import annotations

import datetime as dt
from typing import Any

from faqbot.db import Database, utcnow
from faqbot.models import Ticket, TicketEvent
from faqbot.triage import get_reason, new_ref


def make_ticket(db: Database, **overrides: Any) -> Ticket:
    """Store a ticket (with its "created" event) as the contact form would, and return it detached.

    `reason` picks queue and priority from the reason's data unless they are overridden too.
    """
    reason = get_reason(overrides.get("reason", "autre"))
    assert reason is not None, f"unknown reason {overrides.get('reason')!r}"
    now = overrides.pop("created_at", None) or utcnow()
    values: dict[str, Any] = {
        "ref": new_ref(),
        "reason": reason.id,
        "queue": reason.queue,
        "priority": reason.priority,
        "status": "nouveau",
        "name": "Camille Martin",
        "email": "camille.martin@example.test",
        "message": "Bonjour, j’ai une question sur mon stage.",
        "fields": {},
        "confirmations": [],
        "computed": {},
        "faq_seen": [],
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    with db.transaction() as session:
        ticket = Ticket(**values)
        ticket.events.append(TicketEvent(at=now, kind="created", data={"source": "test"}))
        session.add(ticket)
        session.flush()
        session.refresh(ticket)
    return ticket


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime given in Paris wall-clock time."""
    from zoneinfo import ZoneInfo

    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))
