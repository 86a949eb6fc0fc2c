"""/suivi/<token>: no account, the token is the key. Unknown, malformed or revoked → the site's ordinary 404.

Answers are POST only: mail scanners and link previews open every link of an e-mail, so nothing a GET does
counts (no satisfaction vote, no « résolu »).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..contact import limits
from ..db import session as db_session
from ..db import utcnow
from ..models import Ticket
from ..triage import get_reason
from ..triage.conversation import CSAT_ANSWERS, ConversationError, add_trainee_message, exchange, record_csat, trainee_resolves
from ..triage.followup import ticket_for_token
from ..triage.reasons import N_
from ..triage.redaction import redact_cards
from .forms import ActionForm, FollowupMessageForm

bp = Blueprint("followup", __name__)

# What the trainee reads for each status: who has the ball, in plain French.
TRAINEE_STATUS = {
    "nouveau": N_("Reçue : elle attend qu’un conseiller la prenne en charge."),
    "en_cours": N_("En cours : un conseiller s’en occupe."),
    "attente_stagiaire": N_("Nous attendons votre réponse."),
    "resolu": N_("Résolue."),
    "clos": N_("Close."),
}


def now():
    """The current instant; tests may pin it with FAQBOT_NOW, as in the contact area."""
    from flask import current_app

    from ..triage.fields import parse_datetime

    pinned = current_app.config.get("FAQBOT_NOW")
    return parse_datetime(pinned) if pinned else utcnow()


def _ticket_or_404(token: str) -> Ticket:
    ticket = ticket_for_token(db_session(), token)
    if ticket is None:
        abort(404)
    return ticket


@bp.after_request
def _private(response):
    # The token is the key: never cached, never sent on as a Referer, never indexed.
    if request.path.startswith("/suivi/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def _render(token: str, ticket: Ticket, form: FollowupMessageForm | None = None, status: int = 200):
    reason = get_reason(ticket.reason)
    return (
        render_template(
            "followup/page.html",
            token=token,
            ticket=ticket,
            reason=reason,
            status_text=_(TRAINEE_STATUS.get(ticket.status, ticket.status)),
            exchange=exchange(ticket),
            form=form or FollowupMessageForm(),
            action_form=ActionForm(),
        ),
        status,
    )


@bp.get("/suivi/<token>")
def page(token: str):
    return _render(token, _ticket_or_404(token))


@bp.post("/suivi/<token>/message")
def message(token: str):
    form = FollowupMessageForm()
    if not form.validate_on_submit():
        return _render(token, _ticket_or_404(token), form, 422)
    # Counted before the ticket is read: on SQLite the request's transaction would hold the lock the limiter
    # needs; and guessing tokens costs attempts too.
    verdict = limits.count_submission()
    ticket = _ticket_or_404(token)
    if not verdict.allowed:
        problem = limits.too_many(verdict)
        form.message.errors = [_(problem.message, **problem.params)]
        return _render(token, ticket, form, 429)
    redacted = redact_cards(form.message.data.strip())
    db = db_session()
    try:
        add_trainee_message(db, ticket, redacted.text, now(), source="web", redactions=redacted.count)
    except ConversationError as error:
        db.rollback()
        form.message.errors = [_(str(error))]
        return _render(token, ticket, form, 409)
    db.commit()
    if redacted.count:
        flash(_("Par sécurité, nous avons masqué le numéro de carte bancaire de votre message : ne le communiquez jamais."), "warning")
    flash(_("Votre message a été ajouté à votre demande : un conseiller vous répondra."), "success")
    return redirect(url_for("followup.page", token=token), 303)


@bp.post("/suivi/<token>/resolu")
def resolved(token: str):
    ticket = _ticket_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    if trainee_resolves(db, ticket, now()):
        db.commit()
        flash(_("Merci : votre demande est marquée comme résolue."), "success")
    return redirect(url_for("followup.page", token=token), 303)


@bp.post("/suivi/<token>/avis")
def satisfaction(token: str):
    ticket = _ticket_or_404(token)
    answer = request.form.get("reponse", "")
    if not ActionForm().validate_on_submit() or answer not in CSAT_ANSWERS:
        abort(400)
    db = db_session()
    try:
        record_csat(db, ticket, answer, now())
    except ConversationError as error:
        db.rollback()
        flash(_(str(error)), "error")
        return redirect(url_for("followup.page", token=token), 303)
    db.commit()
    flash(_("Merci pour votre réponse."), "success")
    return redirect(url_for("followup.page", token=token), 303)


