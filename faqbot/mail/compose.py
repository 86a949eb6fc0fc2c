"""The words of every e-mail, built when it is sent (in French, dates and amounts formatted by Babel).

Needs an application context (gettext, settings). A ticket e-mail carries a fresh follow-up link and, when
MAIL_REPLY_TO is set, a per-ticket reply address; its In-Reply-To/References chain it to the ticket's thread.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import OutboxMessage, Ticket, TicketEvent
from ..triage.deadlines import format_paris_datetime
from ..triage.fields import parse_datetime
from ..triage.followup import forget_token, issue_token
from . import outbox
from .transport import build_message, full_message_id


def public_url(config: Mapping, path: str) -> str:
    return config["PUBLIC_URL"].rstrip("/") + path


def followup_url(config: Mapping, token: str) -> str:
    return public_url(config, f"/suivi/{token}")


def reply_address(config: Mapping, token: str) -> str | None:
    """support@exemple.fr → support+<token>@exemple.fr (plus addressing: one mailbox, one address per ticket)."""
    base = config.get("MAIL_REPLY_TO") or ""
    local, at, domain = base.partition("@")
    if not at:
        return None
    return f"{local}+{token}@{domain}"


def _latest_inbound_id(ticket: Ticket) -> str | None:
    for event in reversed(ticket.events):
        if event.kind == "trainee_message" and event.data.get("message_id"):
            return event.data["message_id"]
    return None


def compose(session: Session, row: OutboxMessage, now: dt.datetime):
    """The EmailMessage for an outbox row, and how to undo what composing stored if it is not sent."""
    config = current_app.config
    message_id = full_message_id(row.message_id, config)
    if row.kind == "unmatched":
        return _unmatched(config, row, message_id), None
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    if ticket is None:
        return None, None
    token = issue_token(session, ticket.id, now)
    link = followup_url(config, token)
    if row.kind == "acknowledgment":

        subject, text = acknowledgment_subject(ticket), acknowledgment_text(ticket, followup_link=link)
    elif row.kind == "reply":
        event = session.get(TicketEvent, row.event_id) if row.event_id else None
        if event is None:
            return None, None
        subject, text = _reply(ticket, event, link)
    else:
        subject, text = _resolved(ticket, link)
    earlier = [full_message_id(local, config) for local in outbox.thread_ids(session, ticket.id)]
    inbound = _latest_inbound_id(ticket)
    references = earlier + ([inbound] if inbound else [])
    message = build_message(
        config,
        to=row.to_address,
        subject=subject,
        text=text,
        reply_to=reply_address(config, token),
        message_id=message_id,
        in_reply_to=references[-1] if references else None,
        references=references or None,
        automatic=None if row.kind == "reply" else "auto-generated",
    )

    def cleanup(session: Session) -> None:
        forget_token(session, token)

    return message, cleanup


def _followup_lines(link: str) -> list[str]:
    return [
        _("Suivez votre demande, ajoutez un message ou dites-nous que c’est réglé sur votre page privée :"),
        link,
        _("Ce lien est personnel : ne le transférez pas."),
    ]


def _reply(ticket: Ticket, event: TicketEvent, link: str) -> tuple[str, str]:
    subject = _("[%(ref)s] Réponse à votre demande", ref=ticket.ref)
    lines = [event.body, "", "-- "]
    if event.data.get("resolved"):
        lines += [_("Votre problème est-il résolu ? Répondez en un clic sur votre page de suivi :"), link, ""]
    lines += [
        _("Référence de votre demande : %(ref)s", ref=ticket.ref),
        _("Pour nous répondre, répondez simplement à ce message."),
        "",
        *_followup_lines(link),
    ]
    return subject, "\n".join(lines)


def _resolved(ticket: Ticket, link: str) -> tuple[str, str]:
    subject = _("[%(ref)s] Votre demande est résolue", ref=ticket.ref)
    lines = [
        _("Bonjour %(name)s,", name=ticket.name),
        "",
        _("Nous avons marqué votre demande %(ref)s comme résolue.", ref=ticket.ref),
        "",
        _("Votre problème est-il résolu ? Répondez en un clic sur votre page de suivi :"),
        link,
        "",
        _("Si ce n’est pas le cas, répondez à ce message ou écrivez-nous sur cette page : votre demande sera rouverte."),
        _("Ce lien est personnel : ne le transférez pas."),
    ]
    return subject, "\n".join(lines)


def _unmatched(config: Mapping, row: OutboxMessage, message_id: str):
    subject = _("Votre message n’a pas pu être rattaché à une demande")
    lines = [
        _("Bonjour,"),
        "",
        _("Nous avons bien reçu votre message, mais nous ne parvenons pas à le rattacher à une demande en cours."),
        _("Pour que notre équipe puisse vous répondre, envoyez votre demande depuis notre formulaire de contact :"),
        public_url(config, "/contact"),
        "",
        _("Les réponses aux questions les plus fréquentes sont aussi dans notre aide en ligne :"),
        public_url(config, "/"),
        "",
        _("Ceci est une réponse automatique : nous n’en envoyons qu’une par jour à la même adresse."),
    ]
    return build_message(config, to=row.to_address, subject=subject, text="\n".join(lines), message_id=message_id, automatic="auto-replied")


def queued_for(session: Session, ticket_id: int) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id).order_by(OutboxMessage.id)))


def acknowledgment_subject(ticket) -> str:
    return _("Votre demande %(ref)s a bien été reçue", ref=ticket.ref)


def acknowledgment_text(ticket, followup_link: str | None = None) -> str:
    """Plain text: the reference, the reason, what we understood (already redacted; the IBAN masked).

    Dates, times (Europe/Paris) and amounts are written the French way, as the trainee typed them.
    """
    from ..i18n import format_field_value
    from ..triage import get_reason

    reason = get_reason(ticket.reason)
    lines = [
        _("Bonjour %(name)s,", name=ticket.name),
        "",
        _("Nous avons bien reçu votre demande. Sa référence : %(ref)s", ref=ticket.ref),
        # The card's short title, not the long certification sentence (« Autre demande » says more than « Aucun de ces cas »).
        _("Motif : %(label)s", label=_(reason.label if reason.id == "autre" else reason.short) if reason else ticket.reason),
        "",
        _("Notre équipe vous répondra par e-mail à cette adresse. Gardez cette référence : elle permet de retrouver votre demande."),
    ]
    if followup_link:
        lines += [
            "",
            _("Suivez votre demande, ajoutez un message ou dites-nous que c’est réglé sur votre page privée :"),
            followup_link,
            _("Ce lien est personnel : ne le transférez pas."),
        ]
    if ticket.computed.get("retractation_fin"):
        deadline = parse_datetime(ticket.computed["retractation_fin"])
        lines += ["", _("Fin du délai de rétractation retenue : %(date)s", date=format_paris_datetime(deadline))]
    details = []
    if reason:
        for field in reason.fields:
            value = ticket.fields.get(field.id)
            if value:
                details.append(f"- {_(field.label)} : {format_field_value(field, value)}")
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
