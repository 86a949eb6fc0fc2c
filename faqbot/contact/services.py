"""What the contact routes and API share: FAQ lookups and the one submission service (its e-mail is queued in the
outbox; its words are mail.compose's)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import current_app, url_for

from .. import knowledge
from ..content import Entry, Faq
from ..db import utcnow
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..models import Ticket
from ..throttle import Verdict
from ..triage import Problem, Reason, Submission
from ..triage.reasons import N_
from ..triage.fields import parse_datetime
from ..triage.model import ReasonModel
from ..triage.redaction import redact_cards
from ..triage.suggest import Suggestion, default_model, suggest, suggest_by_rules
from ..triage.tickets import MAX_IDEMPOTENCY_KEY, new_ticket, record_deflection, store_ticket
from . import limits


def now() -> dt.datetime:
    """The current instant; tests may pin it with the FAQBOT_NOW setting (an ISO 8601 string)."""
    pinned = current_app.config.get("FAQBOT_NOW")
    return parse_datetime(pinned) if pinned else utcnow()


def faq() -> Faq | None:
    return knowledge.faq()


def search_entries(text: str, limit: int = 5) -> list[Entry]:
    service = knowledge.search()
    if service is None or not text.strip():
        return []
    try:
        return [hit.entry for hit in service.search(text, limit).hits][:limit]
    except Exception:  # search is a help here, never a reason to refuse a contact
        current_app.logger.exception("Recherche FAQ indisponible pour le formulaire de contact")
        return []


def triage_model() -> ReasonModel | None:
    """The triage classifier (artefact in TRIAGE_MODEL_DIR, trained once per bank); None if it cannot be had."""
    try:
        return default_model(cache_dir=current_app.config.get("TRIAGE_MODEL_DIR") or None)
    except Exception:  # a suggestion is a help: without the model, the cue rules still answer
        current_app.logger.exception("Classifieur de motifs indisponible : suggestion par les règles seules")
        return None


def suggest_reason(message: str) -> Suggestion:
    """The suggested reason: the triage classifier with the FAQ search's vote (the cue rules alone without it)."""
    model = triage_model()
    if model is None:
        return suggest_by_rules(message)
    return suggest(message, search=search_entries, model=model)


def reason_entries(reason: Reason, limit: int = 3) -> list[Entry]:
    """The FAQ answers that usually solve this reason: the ones it names first, then those linking to it."""
    content = faq()
    if content is None:
        return []
    entries = [content.by_id[entry_id] for entry_id in reason.faq if entry_id in content.by_id]
    entries += [entry for entry in content.for_reason(reason.id) if entry not in entries]
    return entries[:limit]


def entries_by_ids(ids: list[str]) -> list[Entry]:
    content = faq()
    if content is None:
        return []
    return [content.by_id[entry_id] for entry_id in ids if entry_id in content.by_id]


def entry_payload(entry: Entry) -> dict:
    return {"id": entry.id, "question": entry.question, "url": url_for("public.entry", entry_id=entry.id)}


def deflection(reason_id: str, outcome: str, entry_id: str | None = None) -> None:
    """Count a step-2 outcome (resolved | continued | blocked) in its own short transaction."""
    database = current_app.extensions["faqbot.db"]
    with database.transaction() as session:
        record_deflection(session, reason_id, outcome, now=now(), entry_id=entry_id)


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,%d}$" % MAX_IDEMPOTENCY_KEY)


@dataclass(frozen=True)
class Outcome:
    """What one submission came to: created | replayed | conflict | throttled | spam."""

    kind: str
    ticket: Ticket | None = None
    verdict: Verdict | None = None


def valid_idempotency_key(key: object) -> bool:
    """A key we accept: 8 to 80 of « A-Z a-z 0-9 . _ : - », and never a card number (it is stored in clear)."""
    return isinstance(key, str) and bool(IDEMPOTENCY_KEY.match(key)) and redact_cards(key).count == 0


def same_submission(ticket: Ticket, submission: Submission) -> bool:
    """A retry carries the same reason, e-mail and message; anything else is another request (or another person)."""
    return (
        ticket.reason == submission.reason.id
        and ticket.email.lower() == submission.email.lower()
        and ticket.message == submission.message
    )


def key_reused() -> Problem:
    return Problem(
        "idempotence-reutilisee",
        N_("Cette clé d’idempotence a déjà servi pour une autre demande : renvoyez votre demande, elle recevra une nouvelle clé."),
        "idempotency_key",
    )


class _Refused(Exception):
    """Raised inside the ticket's transaction when the limiter refuses: the ticket is rolled back."""

    def __init__(self, verdict: Verdict):
        super().__init__("throttled")
        self.verdict = verdict


def _replay(existing: Ticket, submission: Submission) -> Outcome:
    return Outcome("replayed" if same_submission(existing, submission) else "conflict", existing)


def submit(submission: Submission, *, idempotency_key: str | None, source: str) -> Outcome:
    """The one submission service of the HTML form and the API.

    1. A read (no write lock): the idempotency lookup and the limiter's committed count. A key already used by
       the same submission replays its ticket (not counted, no second e-mail); by a different one it is refused
       — never another visitor's ticket. A client already over its limit is refused here, without writing.
    2. The ticket built outside any transaction (reference, facts, IBAN encryption).
    3. One short write transaction: the ticket with its event and deflection, its acknowledgment queued in the
       outbox, and the submission counted last (PostgreSQL holds the limiter's lock only until the commit right
       after). A refusal rolls the ticket back; a key stored meanwhile by another worker (the unique index says
       so) rolls everything back, the count too, and replays that ticket.
    The sender builds and sends the acknowledgment after the commit.
    """
    database = current_app.extensions["faqbot.db"]
    with database.read() as session:
        if idempotency_key:
            existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
            if existing is not None:
                return _replay(existing, submission)
        refused = limits.already_refused(session)
    if refused is not None:
        return Outcome("throttled", verdict=refused)
    at = now()
    ticket = new_ticket(submission, now=at, iban_key=current_app.config["IBAN_KEY"],
                        idempotency_key=idempotency_key, source=source)
    try:
        with database.transaction() as session:
            store_ticket(session, ticket)
            session.flush()  # the ticket's id for the outbox row
            _acknowledge(session, ticket, at)
            verdict = limits.count_submission(session)
            if not verdict.allowed:
                raise _Refused(verdict)
    except _Refused as refusal:
        return Outcome("throttled", verdict=refusal.verdict)
    except IntegrityError:
        if not idempotency_key:
            raise
        with database.read() as session:  # another worker stored the same key between our read and our insert
            existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return _replay(existing, submission)
    from ..mail import notify_sender

    notify_sender(current_app)
    return Outcome("created", ticket)


def _acknowledge(session, ticket: Ticket, at: dt.datetime) -> None:
    """Queue the acknowledgment in the outbox, in the ticket's own transaction; the sender builds and sends it
    after the request. The request neither builds the text nor talks to the mail server, and an SMTP outage
    delays the e-mail instead of losing it — and no e-mail exists for a ticket that was not stored.
    """
    from ..mail.outbox import enqueue

    enqueue(session, kind="acknowledgment", to=ticket.email, now=at, ticket_id=ticket.id)


def mask_email(address: str) -> str:
    local, _sep, domain = address.partition("@")
    return (local[:1] + "•••" if local else "") + "@" + domain


def clean_faq_ids(raw: object) -> list[str]:
    # Any JSON value may arrive from the API (true, 5, {…}): only a string or a list can carry ids.
    items = raw.split(",") if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    return [item for item in (str(i).strip() for i in items) if re.fullmatch(r"[a-z0-9-]{1,120}", item)][:20]


def record_search_contact(reference: str | None) -> None:
    """Remember that the logged search `reference` was followed by the contact form (the content loop lists it)."""
    from ..models import SearchContact
    from ..public.searchlog import at_of

    at = at_of(reference)
    if at is None:
        return
    database = current_app.extensions["faqbot.db"]
    with database.transaction() as session:
        session.add(SearchContact(search_at=at, at=now()))
