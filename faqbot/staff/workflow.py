"""Ticket work without Flask: claim, assign, statuses, notes, replies, SLA, queue summaries, permissions.

Every function takes the SQLAlchemy session and `now` so the rules run the same from routes, CLI and tests.
Who may do what (the roles) is decided here, in one place, and the routes only ask.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..mail import outbox
from ..models import TICKET_STATUSES, OutboxMessage, StaffUser, Ticket, TicketEvent
from ..triage.followup import revoke_tokens
from ..triage.redaction import redact_cards
from ..triage.business_hours import Schedule, add_business_time, business_time_between, schedule_for

# Response targets per priority, counted in business hours of the ticket's queue (triage/business_hours.py):
# urgent 1 h, high 4 h, normal one business day (9 h of a 9:00–18:00 queue: Monday 10:00 → Tuesday 10:00).
# The same target applies to the first response and to each next one after the trainee writes again.
SLA_TARGETS = {
    "urgent": dt.timedelta(hours=1),
    "high": dt.timedelta(hours=4),
    "normal": dt.timedelta(hours=9),
}
# "À risque" once less than this share of the target remains: time to pick it up before it breaks.
SLA_AT_RISK_SHARE = 0.25

OPEN_STATUSES = ("nouveau", "en_cours", "attente_stagiaire")
DONE_STATUSES = ("resolu", "clos")

ROLES = ("agent", "admin")


class WorkflowError(Exception):
    """A refused action, with the French message shown to the staff member."""


# --- Permissions --------------------------------------------------------------------------------------------
# agent: sees every queue and ticket, claims unassigned tickets, adds internal notes anywhere; works (status,
#        reply, IBAN reveal, hand over) only the tickets assigned to them.
# admin: everything an agent does, on any ticket; reassigns any ticket; reopens closed tickets; manages staff
#        accounts; sees the analytics, the CSV exports and the audit log.


def is_admin(user: StaffUser) -> bool:
    return user.role == "admin"


def can_work(user: StaffUser, ticket: Ticket) -> bool:
    """Change status, reply, reveal the IBAN, hand over: the assignee or an admin."""
    return is_admin(user) or (ticket.assignee_id is not None and ticket.assignee_id == user.id)


def can_assign(user: StaffUser, ticket: Ticket) -> bool:
    return can_work(user, ticket)


# --- SLA ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    # ok | a_risque | depasse (an answer is owed) · respecte | en_retard (answered) · en_pause (trainee waited on)
    state: str
    due_at: dt.datetime | None  # when the owed answer is due; None while paused
    remaining: dt.timedelta  # business time left (negative once late); for answered tickets, target minus actual
    kind: str = "premiere"  # premiere | suivante: which response is (or was) due

    @property
    def running(self) -> bool:
        return self.state in {"ok", "a_risque", "depasse"}


def sla_for(ticket: Ticket, now: dt.datetime, schedules: dict[str, Schedule] | None = None) -> Sla:
    """Where the ticket stands against its response target, in the business hours of its queue.

    The clock runs from `awaiting_team_since` (creation, then each trainee message) until an agent replies;
    it is paused while the ticket waits for the trainee and stopped once the ticket is done.
    """
    schedule = schedule_for(ticket.queue, schedules)
    target = SLA_TARGETS.get(ticket.priority, SLA_TARGETS["normal"])
    if ticket.first_response_at is None:
        due_at = add_business_time(ticket.awaiting_team_since or ticket.created_at, target, schedule)
        if ticket.status in DONE_STATUSES:
            # Closed without a reply (duplicate, spam): nothing is waiting any more.
            ended = ticket.resolved_at or now
            return Sla("respecte" if ended <= due_at else "en_retard", due_at, business_time_between(ended, due_at, schedule))
        return _running(due_at, now, target, schedule, "premiere")
    if ticket.awaiting_team_since is not None and ticket.status not in DONE_STATUSES:
        due_at = add_business_time(ticket.awaiting_team_since, target, schedule)
        return _running(due_at, now, target, schedule, "suivante")
    if ticket.status == "attente_stagiaire":
        return Sla("en_pause", None, dt.timedelta(0), "suivante")
    first_due = add_business_time(ticket.created_at, target, schedule)
    state = "respecte" if ticket.first_response_at <= first_due else "en_retard"
    return Sla(state, first_due, business_time_between(ticket.first_response_at, first_due, schedule))


def _running(due_at: dt.datetime, now: dt.datetime, target: dt.timedelta, schedule: Schedule, kind: str) -> Sla:
    remaining = business_time_between(now, due_at, schedule)
    if now >= due_at:
        return Sla("depasse", due_at, remaining, kind)
    if remaining <= target * SLA_AT_RISK_SHARE:
        return Sla("a_risque", due_at, remaining, kind)
    return Sla("ok", due_at, remaining, kind)


@dataclass(frozen=True)
class QueueSummary:
    queue: str
    open_count: int
    unassigned: int
    oldest_created_at: dt.datetime | None
    breached: int
    at_risk: int
    trainee_replies: int = 0  # tickets where the trainee wrote last (« réponse du stagiaire »)

    @property
    def state(self) -> str:
        return "depasse" if self.breached else ("a_risque" if self.at_risk else "ok")


def queue_summaries(
    session: Session, queues: tuple[str, ...], now: dt.datetime, schedules: dict[str, Schedule] | None = None
) -> list[QueueSummary]:
    """One line per queue: open tickets, unassigned, oldest, SLA state (needs only open tickets)."""
    tickets = session.scalars(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).all()
    by_queue: dict[str, list[Ticket]] = {queue: [] for queue in queues}
    for ticket in tickets:
        by_queue.setdefault(ticket.queue, []).append(ticket)
    summaries = []
    for queue, items in by_queue.items():
        states = [sla_for(ticket, now, schedules).state for ticket in items]
        summaries.append(
            QueueSummary(
                queue=queue,
                open_count=len(items),
                unassigned=sum(1 for ticket in items if ticket.assignee_id is None),
                oldest_created_at=min((ticket.created_at for ticket in items), default=None),
                breached=states.count("depasse"),
                at_risk=states.count("a_risque"),
                trainee_replies=sum(1 for ticket in items if ticket.trainee_replied),
            )
        )
    return summaries


# --- Actions ------------------------------------------------------------------------------------------------


def _event(session: Session, ticket_id: int, actor: StaffUser | None, kind: str, now: dt.datetime, body: str = "", **data) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket_id, actor_id=actor.id if actor else None, kind=kind, body=body, data=data, at=now)
    session.add(event)
    return event


def claim(session: Session, ticket_id: int, user: StaffUser, now: dt.datetime) -> bool:
    """Take an unassigned ticket; exactly one of many concurrent claimers wins.

    A single conditional UPDATE: the database serialises writers on the row (PostgreSQL re-checks the WHERE after
    waiting for the other writer; SQLite writers hold the database lock from BEGIN IMMEDIATE), so the second
    claimer updates nothing and loses. Never read-then-write here.
    """
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES))
        .values(assignee_id=user.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    # Starting work moves a new ticket to "en cours"; a ticket waiting for the trainee keeps its status.
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == "nouveau")
        .values(status="en_cours")
        .execution_options(synchronize_session=False)
    )
    _event(session, ticket_id, user, "claimed", now)
    return True


def assign(session: Session, ticket: Ticket, actor: StaffUser, assignee: StaffUser | None, now: dt.datetime) -> None:
    """Hand a ticket to someone else (or back to the queue with None)."""
    if not can_assign(actor, ticket):
        raise WorkflowError("Seul l’agent en charge ou un administrateur peut réattribuer ce ticket.")
    if assignee is not None and not assignee.active:
        raise WorkflowError("Ce compte est désactivé.")
    if ticket.status in DONE_STATUSES and not is_admin(actor):
        raise WorkflowError("Ce ticket est terminé.")
    previous = ticket.assignee_id
    if previous == (assignee.id if assignee else None):
        return
    ticket.assignee_id = assignee.id if assignee else None
    ticket.updated_at = now
    _event(
        session, ticket.id, actor, "assigned", now,
        from_id=previous, to_id=ticket.assignee_id, to_email=assignee.email if assignee else None,
    )


ALLOWED_TARGET_STATUSES = ("en_cours", "attente_stagiaire", "resolu", "clos")


def set_status(session: Session, ticket: Ticket, actor: StaffUser, status: str, now: dt.datetime, *, notify: bool = True) -> None:
    """Change the status; resolving tells the trainee (with the satisfaction question) unless a reply does it."""
    if status not in TICKET_STATUSES or status not in ALLOWED_TARGET_STATUSES:
        raise WorkflowError("Statut inconnu.")
    if not can_work(actor, ticket):
        raise WorkflowError("Prenez d’abord le ticket en charge.")
    if ticket.status == "clos" and not is_admin(actor):
        raise WorkflowError("Un ticket clos ne peut être rouvert que par un administrateur.")
    if status == ticket.status:
        return
    previous = ticket.status
    ticket.status = status
    ticket.updated_at = now
    ticket.resolved_at = now if status in DONE_STATUSES else None
    if status in DONE_STATUSES or status == "attente_stagiaire":
        # Nothing is owed by the team any more: the clock stops (done) or pauses (the trainee is waited on).
        ticket.awaiting_team_since = None
    if status in DONE_STATUSES:
        ticket.trainee_replied = False
    _event(session, ticket.id, actor, "status", now, **{"from": previous, "to": status})
    if notify and status == "resolu" and previous != "resolu":
        outbox.enqueue(session, kind="resolved", to=ticket.email, now=now, ticket_id=ticket.id)


def add_note(session: Session, ticket: Ticket, actor: StaffUser, body: str, now: dt.datetime) -> None:
    body = redact_cards(body.strip()).text
    if not body:
        raise WorkflowError("La note est vide.")
    ticket.updated_at = now
    _event(session, ticket.id, actor, "note", now, body=body)


def reply(
    session: Session,
    ticket: Ticket,
    actor: StaffUser,
    body: str,
    new_status: str | None,
    now: dt.datetime,
    *,
    dedupe_key: str | None = None,
) -> TicketEvent:
    """Record a reply and queue its e-mail in the same transaction; every refusal comes before anything is written.

    A closed ticket (or one the actor may not work) is refused here, so no e-mail exists for a reply that has
    no event; the same form posted twice (same `dedupe_key`) is refused too, so a retry never sends again.
    """
    if not can_work(actor, ticket):
        raise WorkflowError("Seul l’agent en charge ou un administrateur peut répondre à ce ticket.")
    if ticket.status == "clos":
        raise WorkflowError("Ce ticket est clos : la réponse n’a pas été envoyée. Un administrateur peut le rouvrir.")
    if new_status is not None and new_status not in ALLOWED_TARGET_STATUSES:
        raise WorkflowError("Statut inconnu.")
    if dedupe_key and session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        raise WorkflowError("Cette réponse a déjà été envoyée.")
    redacted = redact_cards(body.strip())
    if not redacted.text:
        raise WorkflowError("La réponse est vide.")
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.awaiting_team_since = None
    ticket.trainee_replied = False
    ticket.updated_at = now
    event = _event(
        session, ticket.id, actor, "reply", now, body=redacted.text, to=ticket.email, resolved=new_status == "resolu",
    )
    outbox.enqueue(session, kind="reply", to=ticket.email, now=now, ticket_id=ticket.id, event=event, dedupe_key=dedupe_key)
    if new_status and new_status != ticket.status:
        # The reply itself asks « Votre problème est-il résolu ? »: no second e-mail for the status.
        set_status(session, ticket, actor, new_status, now, notify=False)
    return event


def revoke_links(session: Session, ticket: Ticket, actor: StaffUser, now: dt.datetime) -> int:
    """Cut every follow-up link (and reply address) of the ticket; the next e-mail carries a new one."""
    if not can_work(actor, ticket):
        raise WorkflowError("Seul l’agent en charge ou un administrateur peut révoquer les liens de suivi.")
    count = revoke_tokens(session, ticket.id, now)
    _event(session, ticket.id, actor, "links_revoked", now, count=count)
    return count


def reveal_iban(session: Session, ticket: Ticket, actor: StaffUser, key: str, now: dt.datetime) -> str:
    """Decrypt the ticket's IBAN; the reveal is written to the ticket's history before the value is returned."""
    from cryptography.fernet import Fernet, InvalidToken

    if not can_work(actor, ticket):
        raise WorkflowError("Seul l’agent en charge ou un administrateur peut afficher l’IBAN.")
    if not ticket.iban_encrypted:
        raise WorkflowError("Ce ticket ne contient pas d’IBAN.")
    try:
        iban = Fernet(key.encode() if isinstance(key, str) else key).decrypt(ticket.iban_encrypted).decode("utf-8")
    except InvalidToken as error:
        raise WorkflowError("L’IBAN ne peut pas être déchiffré avec la clé configurée (IBAN_KEY).") from error
    _event(session, ticket.id, actor, "iban_revealed", now)
    return iban


def open_count_by_assignee(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.assignee_id, func.count()).where(Ticket.status.in_(OPEN_STATUSES), Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id)
    ).all()
    return {assignee_id: count for assignee_id, count in rows}
