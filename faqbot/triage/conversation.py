"""The trainee's side of a ticket: messages from the follow-up page or by e-mail, « résolu », satisfaction.

Rules (no Flask, `now` passed in):
- a trainee message is redacted by the caller, recorded as a `trainee_message` event, flags the ticket
  « réponse du stagiaire », and starts the response clock again (`awaiting_team_since`);
- on a resolved ticket it re-opens it (back to the agent in charge, or to the queue); a closed ticket stays closed;
- « Mon problème est résolu » resolves the ticket and stops the clock;
- satisfaction is one answer per ticket, changeable, recorded only once the ticket is resolved.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ..models import Ticket, TicketEvent
from .reasons import N_

CSAT_ANSWERS = ("oui", "non")
MAX_TRAINEE_MESSAGE = 5000  # the contact form's limit (triage.submission.MAX_MESSAGE)


class ConversationError(Exception):
    """A refused trainee action, with the French message shown on the page."""


def _event(session: Session, ticket: Ticket, kind: str, now: dt.datetime, body: str = "", **data: Any) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, actor_id=None, kind=kind, body=body, data=data, at=now)
    session.add(event)
    return event


def add_trainee_message(
    session: Session,
    ticket: Ticket,
    body: str,
    now: dt.datetime,
    *,
    source: str,
    redactions: int = 0,
    message_id: str | None = None,
    attachments: list[str] | None = None,
) -> TicketEvent:
    """Record what the trainee wrote (already redacted); re-open a resolved ticket; the team owes an answer."""
    if ticket.status == "clos":
        raise ConversationError(N_("Cette demande est close : pour une nouvelle question, écrivez-nous depuis la page Contact."))
    data: dict[str, Any] = {"source": source}
    if redactions:
        data["redactions"] = redactions
    if message_id:
        data["message_id"] = message_id
    if attachments:
        data["attachments"] = list(attachments)
    event = _event(session, ticket, "trainee_message", now, body=body.strip(), **data)
    if ticket.status == "resolu":
        previous = ticket.status
        ticket.status = "en_cours" if ticket.assignee_id else "nouveau"
        ticket.resolved_at = None
        _event(session, ticket, "status", now, **{"from": previous, "to": ticket.status, "by": "stagiaire"})
    elif ticket.status == "attente_stagiaire":
        ticket.status = "en_cours" if ticket.assignee_id else "nouveau"
    ticket.trainee_replied = True
    if ticket.awaiting_team_since is None:
        ticket.awaiting_team_since = now
    ticket.updated_at = now
    return event


def trainee_resolves(session: Session, ticket: Ticket, now: dt.datetime) -> bool:
    """« Mon problème est résolu »: resolve the ticket; False when it already was (nothing recorded twice)."""
    if ticket.status in ("resolu", "clos"):
        return False
    previous = ticket.status
    ticket.status = "resolu"
    ticket.resolved_at = now
    ticket.awaiting_team_since = None
    ticket.trainee_replied = False
    ticket.updated_at = now
    _event(session, ticket, "status", now, **{"from": previous, "to": "resolu", "by": "stagiaire"})
    return True


def record_csat(session: Session, ticket: Ticket, answer: str, now: dt.datetime) -> None:
    """« Votre problème est-il résolu ? » — oui/non, once the ticket is resolved; a second answer replaces the first."""
    if answer not in CSAT_ANSWERS:
        raise ConversationError(N_("Choisissez « Oui » ou « Non »."))
    if ticket.status not in ("resolu", "clos"):
        raise ConversationError(N_("Votre demande est encore en cours : vous pourrez donner votre avis une fois qu’elle sera résolue."))
    ticket.csat = answer
    ticket.csat_at = now
    _event(session, ticket, "csat", now, answer=answer)


def exchange(ticket: Ticket) -> list[TicketEvent]:
    """What the trainee may see of the history: their messages and the agents' replies — never internal notes."""
    return [event for event in ticket.events if event.kind in ("trainee_message", "reply")]
