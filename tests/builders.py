"""Test builders shared by every area: rows with sensible defaults, overridable field by field."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
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
        ticket.events  # loaded now: callers use the ticket after the session closes
    return ticket


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime given in Paris wall-clock time."""
    from zoneinfo import ZoneInfo

    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


def valid_submission(reason_id: str, now: dt.datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A submission every rule accepts at `now`, in the shape of POST /api/tickets (override any key)."""
    from faqbot.triage.deadlines import paris_date

    now = now or utcnow()
    today = paris_date(now)
    day = lambda offset: (today + dt.timedelta(days=offset)).isoformat()  # noqa: E731
    reason = get_reason(reason_id)
    assert reason is not None, reason_id
    fields: dict[str, Any] = {
        "debit-sans-confirmation": {
            "paiement_le": (now - dt.timedelta(hours=2)).isoformat(),
            "email_inscription": "camille.martin@example.test",
            "telephone": "06 12 34 56 78",
            "montant": "229,00",
            "ville_stage": "Lyon",
            "date_stage": day(20),
        },
        "inscription-impossible": {
            "appareil_navigateur": "Ordinateur Windows, Firefox",
            "erreur_affichee": "Paiement refusé",
            "stage_souhaite": "Lyon, le 12 du mois prochain",
        },
        # A cancellation by the centre and a transfer five days ago: the new period is still running.
        "delai-retractation": {
            "date_paiement": day(-40),
            "premier_jour_stage": day(-20),
            "annulation_centre": "oui",
            "date_transfert": day(-5),
            "premier_jour_nouveau_stage": day(30),
        },
        "transfert-non-confirme": {"date_transfert": day(-1), "montant": "30"},
        "remboursement-virement": {
            "titulaire": "Camille Martin",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "bic": "AGRIFRPP",
        },
        "annulation-centre": {"date_stage": day(0), "lieu_stage": "Hôtel Ibis, Lyon", "telephone": "0612345678"},
        "acces-refuse-jour-j": {"date_stage": day(0), "lieu_stage": "Hôtel Ibis, Lyon", "telephone": "+33 6 12 34 56 78"},
        "points-ants": {"numero_demande": "RP-2024-123456", "premier_jour_stage": day(-60), "second_jour_stage": day(-59)},
        "autre": {},
    }[reason_id]
    data: dict[str, Any] = {
        "reason": reason_id,
        "name": "Camille Martin",
        "email": "camille.martin@example.test",
        "message": "Bonjour, voici ma situation, merci de votre aide.",
        "confirmations": [c.id for c in reason.confirmations if c.required],
        "fields": fields,
    }
    data.update(overrides)
    return data


@contextlib.contextmanager
def recorded_transactions(engine):
    """Every transaction's statements as run (the BEGIN itself on SQLite), from SQLAlchemy's events, while inside."""
    import sqlalchemy as sa

    transactions: list[list[str]] = []
    sqlite = engine.dialect.name == "sqlite"  # db.py emits BEGIN [IMMEDIATE] itself: that statement opens one

    def on_begin(connection):
        if not sqlite:
            connection.info["statements"] = statements = []
            transactions.append(statements)

    def on_execute(connection, _cursor, statement, *_args):
        statement = " ".join(statement.split())
        if sqlite and statement.startswith("BEGIN"):
            connection.info["statements"] = []
            transactions.append(connection.info["statements"])
        connection.info.setdefault("statements", []).append(statement)

    sa.event.listen(engine, "begin", on_begin)
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield transactions
    finally:
        sa.event.remove(engine, "begin", on_begin)
        sa.event.remove(engine, "before_cursor_execute", on_execute)


def writes(statements: list[str]) -> set[str]:
    """The tables these statements insert into, update or delete from."""
    tables = set()
    for statement in statements:
        match = re.match(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement)
        if match:
            tables.add(match.group(1))
    return tables
