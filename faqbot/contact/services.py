"""What the contact routes and API share: FAQ lookups, the ticket transaction and the acknowledgment e-mail."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app, url_for
from flask_babel import gettext as _

from .. import knowledge
from ..content import Entry, Faq
from ..db import session as db_session
from ..db import utcnow
from ..mail import send_email
from ..models import TicketEvent
from ..triage import Reason, Submission, create_ticket
from ..triage.deadlines import format_paris_datetime
from ..triage.fields import parse_datetime
from ..triage.model import ReasonModel
from ..triage.suggest import Suggestion, default_model, suggest, suggest_by_rules
from ..triage.tickets import Created, record_deflection


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


def existing_ticket(idempotency_key: str | None):
    """The ticket an earlier attempt with this key created, if any: a retry is answered without being counted."""
    if not idempotency_key:
        return None
    from sqlalchemy import select

    from ..models import Ticket

    # Its own short transaction: on SQLite every transaction holds the write lock, and the throttle that runs
    # next needs it.
    with current_app.extensions["faqbot.db"].transaction() as session:
        return session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))


def store_ticket(submission: Submission, *, idempotency_key: str | None, source: str) -> Created:
    """One transaction for the ticket, its event and its deflection; then the acknowledgment e-mail."""
    session = db_session()
    try:
        created = create_ticket(
            session,
            submission,
            now=now(),
            iban_key=current_app.config["IBAN_KEY"],
            idempotency_key=idempotency_key,
            source=source,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    if created.created:
        _acknowledge(created)
    return created


def _acknowledge(created: Created) -> None:
    ticket = created.ticket
    try:
        send_email(
            current_app.config,
            to=ticket.email,
            subject=_("Votre demande %(ref)s a bien été reçue", ref=ticket.ref),
            text=acknowledgment_text(ticket),
        )
    except Exception as error:  # the ticket is stored: a mail failure must not lose it nor show an error page
        current_app.logger.exception("Accusé de réception non envoyé pour %s", ticket.ref)
        session = db_session()
        session.add(TicketEvent(ticket_id=ticket.id, at=now(), kind="email_failed", body=type(error).__name__))
        session.commit()


def acknowledgment_text(ticket) -> str:
    """Plain text: the reference, the reason, what we understood (already redacted; the IBAN masked)."""
    from ..triage import get_reason

    reason = get_reason(ticket.reason)
    lines = [
        _("Bonjour %(name)s,", name=ticket.name),
        "",
        _("Nous avons bien reçu votre demande. Sa référence : %(ref)s", ref=ticket.ref),
        _("Motif : %(label)s", label=_(reason.label) if reason else ticket.reason),
        "",
        _("Notre équipe vous répondra par e-mail à cette adresse. Gardez cette référence : elle permet de retrouver votre demande."),
    ]
    if ticket.computed.get("retractation_fin"):
        deadline = parse_datetime(ticket.computed["retractation_fin"])
        lines += ["", _("Fin du délai de rétractation retenue : %(date)s", date=format_paris_datetime(deadline))]
    details = []
    if reason:
        for field in reason.fields:
            value = ticket.fields.get(field.id)
            if value:
                details.append(f"- {_(field.label)} : {value}")
    if ticket.iban_masked:
        details.append(f"- {_('IBAN')} : {ticket.iban_masked}")
    if details:
        lines += ["", _("Ce que vous nous avez indiqué :")] + details
    if ticket.message:
        lines += ["", _("Votre message :"), ticket.message]
    if ticket.redactions:
        lines += [
            "",
            _("Par sécurité, nous avons masqué les numéros de carte bancaire présents dans votre message : ne nous les communiquez jamais."),
        ]
    lines += ["", _("Ceci est un accusé de réception automatique.")]
    return "\n".join(lines)


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
