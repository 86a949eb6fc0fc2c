"""Personal data with a lifetime (RGPD), without Flask: export, erasure and the retention purge.

What is held about a person is found by e-mail address. Each kind of personal data is one `PersonalData` entry in
`PERSONAL_DATA` — its export and its eraser — so a new table linked to an e-mail or a ticket (an outbox, follow-up
tokens…) is covered by adding one entry with `register(...)`, in one place.

Anonymised tickets keep what analytics needs: reason, queue, priority, status, dates, SLA, confirmations' ids,
computed deadlines, FAQ entries seen, the number of redactions. Name, e-mail, message, fields, IBAN, idempotency
key and the conversation's text go.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..models import (
    AuditEvent,
    FeedbackVote,
    FollowupToken,
    InboundMessage,
    OutboxMessage,
    SearchLog,
    ThrottleHit,
    Ticket,
    TicketEvent,
)

ANONYMOUS = ""  # what name and e-mail become
ERASED = "[effacé]"  # what replaces the address where it was written in free text (audit details, searches)
# Event data that says nothing about the person (statuses, assignees' ids, counts); everything else goes.
_SAFE_EVENT_KEYS = {"source", "redactions", "from", "from_id", "to_id", "reason"}
_STATUS_KINDS = {"status"}  # for these, "to" is a status, not a recipient


@dataclass(frozen=True)
class Context:
    """What an eraser may need: the open transaction, the instant, the settings (folders, keys)."""

    session: Session
    now: dt.datetime
    config: Mapping[str, Any]


@dataclass(frozen=True)
class PersonalData:
    name: str
    export: Callable[[Context, str], list[dict]]
    erase: Callable[[Context, str], int]


PERSONAL_DATA: list[PersonalData] = []


def register(item: PersonalData) -> PersonalData:
    """Add a kind of personal data (replacing one of the same name): export and erasure then cover it."""
    PERSONAL_DATA[:] = [existing for existing in PERSONAL_DATA if existing.name != item.name] + [item]
    return item


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value else None


# --- tickets ------------------------------------------------------------------------------------------------


def _tickets_of(context: Context, email: str) -> list[Ticket]:
    return list(context.session.scalars(select(Ticket).where(func.lower(Ticket.email) == normalize(email)).order_by(Ticket.id)))


def _export_tickets(context: Context, email: str) -> list[dict]:
    return [
        {
            "ref": ticket.ref,
            "reason": ticket.reason,
            "queue": ticket.queue,
            "status": ticket.status,
            "name": ticket.name,
            "email": ticket.email,
            "message": ticket.message,
            "fields": ticket.fields,
            "confirmations": ticket.confirmations,
            "computed": ticket.computed,
            "iban": ticket.iban_masked,  # stored encrypted; shown masked, as to the staff
            "created_at": _iso(ticket.created_at),
            "resolved_at": _iso(ticket.resolved_at),
            "events": [
                {"at": _iso(event.at), "kind": event.kind, "body": event.body, "data": event.data}
                for event in ticket.events
            ],
        }
        for ticket in _tickets_of(context, email)
    ]


def anonymise_ticket(session: Session, ticket: Ticket, now: dt.datetime, why: str) -> None:
    """Strip a ticket of everything about its person; keep what analytics needs; say so in its history."""
    ticket.name = ANONYMOUS
    ticket.email = ANONYMOUS
    ticket.message = ""
    ticket.fields = {}
    ticket.iban_encrypted = None
    ticket.iban_masked = None
    ticket.idempotency_key = None
    ticket.confirmations = [{"id": item.get("id"), "confirmed_at": item.get("confirmed_at")} for item in ticket.confirmations or []]
    for event in ticket.events:
        event.body = ""
        data = {key: value for key, value in (event.data or {}).items() if key in _SAFE_EVENT_KEYS}
        if event.kind in _STATUS_KINDS and "to" in (event.data or {}):
            data["to"] = event.data["to"]
        event.data = data
    ticket.events.append(TicketEvent(at=now, kind="anonymised", body="", data={"reason": why}))


def is_anonymised(ticket: Ticket) -> bool:
    return ticket.email == ANONYMOUS


def _erase_tickets(context: Context, email: str) -> int:
    tickets = _tickets_of(context, email)
    for ticket in tickets:
        anonymise_ticket(context.session, ticket, context.now, "erasure")
    return len(tickets)


# --- free text that may quote the address: audit details, search log ----------------------------------------


def _export_audit(context: Context, email: str) -> list[dict]:
    rows = context.session.scalars(select(AuditEvent).where(func.lower(AuditEvent.detail).contains(normalize(email))))
    return [{"at": _iso(row.at), "kind": row.kind, "detail": row.detail} for row in rows]


def _erase_audit(context: Context, email: str) -> int:
    rows = list(context.session.scalars(select(AuditEvent).where(func.lower(AuditEvent.detail).contains(normalize(email)))))
    for row in rows:
        row.detail = _replace_ci(row.detail, normalize(email), ERASED)
    return len(rows)


def _export_searches(context: Context, email: str) -> list[dict]:
    rows = context.session.scalars(select(SearchLog).where(func.lower(SearchLog.query).contains(normalize(email))))
    return [{"at": _iso(row.at), "query": row.query} for row in rows]


def _erase_searches(context: Context, email: str) -> int:
    result = context.session.execute(delete(SearchLog).where(func.lower(SearchLog.query).contains(normalize(email))))
    return result.rowcount or 0


def _replace_ci(text: str, needle: str, replacement: str) -> str:
    lowered, out, start = text.lower(), [], 0
    while (index := lowered.find(needle, start)) >= 0:
        out += [text[start:index], replacement]
        start = index + len(needle)
    return "".join(out) + text[start:]


# --- e-mails written to the outbox folder (no SMTP server configured) ----------------------------------------


def _outbox_files(context: Context, email: str) -> list[Path]:
    from email import message_from_bytes
    from email.utils import getaddresses

    folder = Path(context.config.get("OUTBOX_DIR") or "")
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes())
        recipients = {normalize(address) for _name, address in getaddresses(message.get_all("To", []))}
        if normalize(email) in recipients:
            found.append(path)
    return found


def _export_outbox(context: Context, email: str) -> list[dict]:
    from email import message_from_bytes, policy

    exported = []
    for path in _outbox_files(context, email):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))
        exported.append({"file": path.name, "subject": str(message["Subject"]), "text": body.get_content() if body else ""})
    return exported


def _erase_outbox(context: Context, email: str) -> int:
    files = _outbox_files(context, email)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


# --- mail tables: the outbox's recipients, mail read from the support mailbox, follow-up links -----------------


def _export_outbox_rows(context: Context, email: str) -> list[dict]:
    rows = context.session.scalars(select(OutboxMessage).where(func.lower(OutboxMessage.to_address) == normalize(email)))
    return [{"kind": row.kind, "status": row.status, "created_at": _iso(row.created_at), "sent_at": _iso(row.sent_at)} for row in rows]


def _erase_outbox_rows(context: Context, email: str) -> int:
    """Mail not yet sent to the person is dropped; sent rows keep their kind and dates, not the address."""
    rows = list(context.session.scalars(select(OutboxMessage).where(func.lower(OutboxMessage.to_address) == normalize(email))))
    for row in rows:
        row.to_address = ANONYMOUS
        if row.status in {"pending", "sending", "failed"}:
            row.status = "dropped"
    return len(rows)


def _export_inbound(context: Context, email: str) -> list[dict]:
    rows = context.session.scalars(select(InboundMessage).where(func.lower(InboundMessage.sender) == normalize(email)))
    return [{"received_at": _iso(row.received_at), "subject": row.subject, "body": row.body, "outcome": row.outcome} for row in rows]


def _erase_inbound(context: Context, email: str) -> int:
    rows = list(context.session.scalars(select(InboundMessage).where(func.lower(InboundMessage.sender) == normalize(email))))
    for row in rows:
        row.sender, row.subject, row.body, row.attachments = ANONYMOUS, "", "", []
    return len(rows)


def _export_tokens(context: Context, email: str) -> list[dict]:
    return []  # only hashes are kept: nothing readable to hand over


def _erase_tokens(context: Context, email: str) -> int:
    """Every follow-up link of the person's tickets dies with the erasure (run before the tickets lose the address)."""
    ids = [ticket.id for ticket in _tickets_of(context, email)]
    if not ids:
        return 0
    result = context.session.execute(delete(FollowupToken).where(FollowupToken.ticket_id.in_(ids)))
    return result.rowcount or 0


register(PersonalData("followup_links", _export_tokens, _erase_tokens))
register(PersonalData("tickets", _export_tickets, _erase_tickets))
register(PersonalData("audit", _export_audit, _erase_audit))
register(PersonalData("searches", _export_searches, _erase_searches))
register(PersonalData("outbox_files", _export_outbox, _erase_outbox))
register(PersonalData("outbox", _export_outbox_rows, _erase_outbox_rows))
register(PersonalData("inbound_mail", _export_inbound, _erase_inbound))


# --- the three operations ------------------------------------------------------------------------------------


def export_person(context: Context, email: str) -> dict:
    """Everything held about the person with this address, as JSON-ready data."""
    return {
        "email": normalize(email),
        "exported_at": _iso(context.now),
        **{item.name: item.export(context, email) for item in PERSONAL_DATA},
    }


def erase_person(context: Context, email: str) -> dict[str, int]:
    """Anonymise the person's tickets, destroy IBANs, keys and texts; the audit keeps that it happened (no address)."""
    counts = {item.name: item.erase(context, email) for item in PERSONAL_DATA}
    return counts


def subtract_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same instant `months` calendar months earlier (the 31st falls back to the month's last day)."""
    import calendar

    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def purge(context: Context) -> dict[str, int]:
    """Apply the retention settings: finished tickets anonymised, search log, votes and throttle rows deleted."""
    config = context.config
    ticket_limit = subtract_months(context.now, int(config["RETENTION_TICKET_MONTHS"]))
    search_limit = context.now - dt.timedelta(days=int(config["RETENTION_SEARCH_DAYS"]))
    session = context.session
    old = list(
        session.scalars(
            select(Ticket).where(
                Ticket.status.in_(("resolu", "clos")),
                func.coalesce(Ticket.resolved_at, Ticket.updated_at) < ticket_limit,
                Ticket.email != ANONYMOUS,
            )
        )
    )
    for ticket in old:
        anonymise_ticket(session, ticket, context.now, "retention")
    searches = session.execute(delete(SearchLog).where(SearchLog.at < search_limit)).rowcount or 0
    votes = session.execute(delete(FeedbackVote).where(FeedbackVote.at < search_limit)).rowcount or 0
    # Throttle rows only matter inside their window (a day at most): older ones are dead weight.
    throttles = session.execute(delete(ThrottleHit).where(ThrottleHit.at < context.now - dt.timedelta(days=1))).rowcount or 0
    return {"tickets": len(old), "searches": searches, "votes": votes, "throttle": throttles}


def audit(session: Session, actor_id: int | None, kind: str, detail: str, now: dt.datetime) -> None:
    """Every privacy action is in the audit log — never with the person's address in it."""
    session.add(AuditEvent(actor_id=actor_id, kind=kind, detail=detail[:2000], at=now))


def summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} : {count}" for name, count in counts.items())


