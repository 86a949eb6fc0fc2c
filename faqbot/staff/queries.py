"""Ticket lookups of the console: one ticket by its public reference, the filtered list."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, or_, select

from ..db import session as db_session
from ..models import TICKET_STATUSES, StaffUser, Ticket
from . import workflow
from .params import bounded_int

# The list shows at most this many tickets after filtering: beyond, narrow the filters (or export).
LIST_CAP = 1000
MAX_ID = 2**31 - 1  # an id or page beyond what the database column holds is a 400, not an overflow


def ticket_or_404(ref: str) -> Ticket:
    # Looked up by the random public reference: sequential ids never appear in staff URLs either.
    ticket = db_session().scalar(select(Ticket).where(Ticket.ref == ref))
    if ticket is None:
        abort(404)
    return ticket


def active_staff() -> list[StaffUser]:
    return list(db_session().scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.email)))


@dataclass
class ListFilters:
    status: str = "ouverts"
    queue: str = ""
    reason: str = ""
    assignee: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> ListFilters:
        status = args.get("status", "ouverts")
        if status not in TICKET_STATUSES and status not in ("ouverts", "tous", "reponse_stagiaire"):
            status = "ouverts"
        return cls(status, args.get("queue", ""), args.get("reason", ""), args.get("assignee", ""), args.get("q", "").strip()[:254])

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "queue": self.queue, "reason": self.reason, "assignee": self.assignee, "q": self.q}


def filtered_tickets(filters: ListFilters, current_user_id: int) -> list[Ticket]:
    """Tickets matching the filters, newest first, at most LIST_CAP (the caller sorts by urgency)."""
    query = select(Ticket)
    if filters.status == "ouverts":
        query = query.where(Ticket.status.in_(workflow.OPEN_STATUSES))
    elif filters.status == "reponse_stagiaire":
        query = query.where(Ticket.status.in_(workflow.OPEN_STATUSES), Ticket.trainee_replied.is_(True))
    elif filters.status in TICKET_STATUSES:
        query = query.where(Ticket.status == filters.status)
    if filters.queue:
        query = query.where(Ticket.queue == filters.queue)
    if filters.reason:
        query = query.where(Ticket.reason == filters.reason)
    if filters.assignee == "moi":
        query = query.where(Ticket.assignee_id == current_user_id)
    elif filters.assignee == "personne":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee:  # an id: anything else (« ² », 30 digits) is a 400, never an overflow
        query = query.where(Ticket.assignee_id == bounded_int(filters.assignee, default=0, low=1, high=MAX_ID))
    if filters.q:
        pattern = "%" + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Ticket.ref == filters.q, func.lower(Ticket.email).like(pattern, escape="\\")))
    return list(db_session().scalars(query.order_by(Ticket.created_at.desc()).limit(LIST_CAP)))
