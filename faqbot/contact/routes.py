"""The /contact flow: 1 reason (or a message and a suggested reason), 2 the usual answer, 3 pre-checks, 4 fields.

Every step is a server round trip that re-validates all that came before: skipping a step or forging a field
gets the form back with the explanation (422) and stores nothing.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..db import session as db_session
from ..models import Ticket
from ..triage import REASONS, Reason, get_reason
from ..triage.fields import parse_datetime
from ..triage.redaction import redact_cards
from . import limits, services, spam
from .forms import MessageForm, OutcomeForm, confirmation_name, contact_form_class, field_name

bp = Blueprint("contact", __name__)


def _reason_or_404(reason_id: str) -> Reason:
    reason = get_reason(reason_id)
    if reason is None:
        abort(404)
    return reason


def _has_checks_step(reason: Reason) -> bool:
    return bool(reason.confirmations or reason.check_fields)


@bp.get("/contact")
def start():
    """Step 1, or step 2 directly when a FAQ entry links here with ?reason=<id>."""
    services.record_search_contact(request.args.get("s"))  # from a search's results: that search did not answer
    reason_id = request.args.get("reason")
    if reason_id:
        reason = get_reason(reason_id)
        if reason is not None:
            return _answer(reason, message="", entry_id=request.args.get("entree"))
        flash(_("Ce motif de contact n’existe pas : choisissez-en un ci-dessous."), "warning")
    return render_template("contact/start.html", form=MessageForm(), reasons=REASONS)


@bp.post("/contact/suggestion")
def suggestion():
    """Step 1 with a message: suggest the reason, show the FAQ answers it matches."""
    form = MessageForm()
    if not form.validate_on_submit():
        return render_template("contact/start.html", form=form, reasons=REASONS), 422
    redacted = redact_cards(form.message.data.strip())
    if redacted.count:
        flash(_("Par sécurité, nous avons masqué le numéro de carte bancaire de votre message : ne le communiquez jamais."), "warning")
    result = services.suggest_reason(redacted.text)
    suggested = get_reason(result.reason)
    # Under the confidence threshold the page offers the two likeliest reasons instead of one.
    second = get_reason(result.alternatives[0][0]) if result.uncertain else None
    shown = {suggested.id, second.id if second else None}
    return render_template(
        "contact/suggestion.html",
        message=redacted.text,
        suggested=suggested,
        second=second,
        confidence=result.confidence,
        entries=list(result.faq),
        others=[r for r in REASONS if r.id not in shown],
        form=OutcomeForm(formdata=None, message=redacted.text),
    )


@bp.post("/contact/<reason_id>/reponse")
def answer(reason_id: str):
    """Step 2 reached from the suggestion page, carrying the message typed in step 1."""
    reason = _reason_or_404(reason_id)
    form = OutcomeForm()
    form.validate_on_submit()  # CSRF is enforced app-wide before we get here; the fields are free text
    message = redact_cards(form.message.data or "").text.strip()
    if reason.id == "autre" and not message:  # « Autre » sent without a description: say so, next to the box
        message_form = MessageForm()
        message_form.validate()
        return _answer(reason, message="", message_form=message_form), 422
    return _answer(reason, message=message)


def _answer(reason: Reason, *, message: str, entry_id: str | None = None, message_form=None):
    if reason.id == "autre":
        entries = services.search_entries(message, 5) if message else []
    else:
        entries = services.reason_entries(reason)
    faq_seen = ",".join(entry.id for entry in entries)
    form = OutcomeForm(formdata=None, message=message, faq_seen=faq_seen)
    return render_template(
        "contact/answer.html", reason=reason, entries=entries, form=form, message=message,
        entry_id=entry_id if entry_id in {e.id for e in entries} else None,
        message_form=message_form or MessageForm(formdata=None, message=message),
    )


@bp.post("/contact/<reason_id>/resolu")
def resolved(reason_id: str):
    """"Cela a résolu mon problème": counted as a deflection."""
    reason = _reason_or_404(reason_id)
    form = OutcomeForm()
    form.validate_on_submit()
    seen = services.clean_faq_ids(form.faq_seen.data)
    services.deflection(reason.id, "resolved", seen[0] if seen else None)
    return render_template("contact/resolved.html", reason=reason)


@bp.post("/contact/<reason_id>/continuer")
def proceed(reason_id: str):
    """"Je dois quand même vous contacter": on to the pre-checks (or straight to the fields when there are none)."""
    reason = _reason_or_404(reason_id)
    outcome = OutcomeForm()
    outcome.validate_on_submit()
    seen = services.clean_faq_ids(outcome.faq_seen.data)
    services.deflection(reason.id, "continued", seen[0] if seen else None)
    form = contact_form_class(reason)(formdata=None)
    form.message.data = redact_cards(outcome.message.data or "").text.strip()
    form.faq_seen.data = ",".join(seen)
    if _has_checks_step(reason):
        return _render_checks(reason, form)
    return _render_details(reason, form)


@bp.post("/contact/<reason_id>/verifications")
def checks(reason_id: str):
    """Step 3: the pre-checks; blocked cases get the answer and the reason, in French, with what they typed."""
    reason = _reason_or_404(reason_id)
    form = contact_form_class(reason)()
    if request.form.get("modifier"):  # "Modifier" on step 4: back to the pre-checks with everything kept
        return _render_checks(reason, form)
    result = form.check(services.now(), "checks")
    if result.problems:
        if result.blocking:
            services.deflection(reason.id, "blocked")
        return _render_checks(reason, form), 422
    return _render_details(reason, form)


@bp.post("/contact/<reason_id>/envoyer")
def send(reason_id: str):
    """Step 4: everything is validated again (a forged or skipped pre-check is refused here), then submitted."""
    reason = _reason_or_404(reason_id)
    form = contact_form_class(reason)()
    result = form.check(services.now(), "all")
    if result.problems:
        check_ids = {c.id for c in reason.confirmations} | {f.id for f in reason.check_fields} | {"reason"}
        if any(p.blocking or p.field is None or p.field in check_ids for p in result.problems):
            if result.blocking:
                services.deflection(reason.id, "blocked")
            return _render_checks(reason, form), 422
        return _render_details(reason, form), 422
    if spam.is_bot(form, services.now()):  # the same page as a person gets, and nothing stored
        return redirect(url_for("contact.thanks", ref=spam.decoy_ref(form)), code=303)
    key = form.idempotency_key.data or None
    if key and not services.valid_idempotency_key(key):
        key = None  # not one we issued: store the ticket, without a key to replay it by
    outcome = services.submit(result.submission, idempotency_key=key, source="web")
    if outcome.kind == "throttled":  # what was typed comes back with the explanation, nothing is lost
        form.form_problems = [limits.too_many(outcome.verdict)]
        return _render_details(reason, form), 429, {"Retry-After": str(outcome.verdict.retry_after)}
    if outcome.kind == "conflict":  # someone else's key: their page is never shown; a fresh key to send this one
        form.idempotency_key.data = ""
        form.form_problems = [services.key_reused()]
        return _render_details(reason, form), 409
    if result.submission.redactions:
        flash(
            _("Par sécurité, nous avons masqué le numéro de carte bancaire que vous aviez écrit : ne le communiquez jamais, nous n’en avons pas besoin."),
            "warning",
        )
    # created, or replayed (a double click or a reload): the first attempt's confirmation, not a second ticket
    return redirect(url_for("contact.thanks", ref=outcome.ticket.ref), code=303)


@bp.get("/contact/merci/<ref>")
def thanks(ref: str):
    ticket = db_session().scalar(select(Ticket).where(Ticket.ref == ref))
    if ticket is None:
        decoy = spam.decoy(ref)
        if decoy is None:
            abort(404)
        return render_template("contact/thanks.html", ticket=decoy, reason=decoy.reason, email=decoy.masked_email, deadline=None)
    deadline = ticket.computed.get("retractation_fin")
    return render_template(
        "contact/thanks.html",
        ticket=ticket,
        reason=get_reason(ticket.reason),
        email=services.mask_email(ticket.email),
        deadline=parse_datetime(deadline) if deadline else None,
    )


def _render_checks(reason: Reason, form):
    return render_template(
        "contact/checks.html",
        reason=reason,
        form=form,
        problems=getattr(form, "form_problems", []),
        seen_entries=services.entries_by_ids(form.faq_seen_ids()),
        field_name=field_name,
        confirmation_name=confirmation_name,
    )


def _render_details(reason: Reason, form):
    form.ensure_idempotency_key()
    form.ensure_started()
    return render_template(
        "contact/details.html",
        reason=reason,
        form=form,
        problems=getattr(form, "form_problems", []),
        has_checks=_has_checks_step(reason),
        field_name=field_name,
        confirmation_name=confirmation_name,
    )
