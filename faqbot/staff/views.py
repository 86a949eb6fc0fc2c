"""Queues, ticket lists and the ticket page with its actions (claim, assign, status, note, reply, IBAN)."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..content import load_faq
from ..db import session as db_session
from ..db import utcnow
from ..mail import send_email
from ..models import TICKET_STATUSES, StaffUser, Ticket
from ..triage.reasons import QUEUES, REASONS, get_reason
from . import bp, workflow
from .auth import current_user
from .labels import STATUS_LABELS

PAGE_SIZE = 50
# The list shows at most this many tickets after filtering: beyond, narrow the filters (or export).
LIST_CAP = 1000
REPLY_MAX_LENGTH = 20000


# --- Forms --------------------------------------------------------------------------------------------------


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note interne (visible par l’équipe seulement)"),
        validators=[DataRequired(message=_l("La note est vide.")), Length(max=10000)],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Réponse envoyée par e-mail au stagiaire"),
        validators=[DataRequired(message=_l("La réponse est vide.")), Length(max=REPLY_MAX_LENGTH)],
    )
    then_status = SelectField(
        _l("Ensuite, passer le ticket en"),
        choices=[
            SelectChoice("attente_stagiaire", _l("en attente du stagiaire")),
            SelectChoice("resolu", _l("résolu")),
            SelectChoice("en_cours", _l("en cours (ne pas changer)")),
        ],
        default="attente_stagiaire",
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Nouveau statut"), choices=[SelectChoice(s, STATUS_LABELS[s]) for s in workflow.ALLOWED_TARGET_STATUSES])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Attribuer à"), choices=[])


# --- Helpers ------------------------------------------------------------------------------------------------


def faq():
    """The FAQ the public site uses; loaded here once per process if the public area has not done it."""
    loaded = current_app.extensions.get("faqbot.faq")
    if loaded is None:
        loaded = current_app.extensions.get("faqbot.staff.faq")
        if loaded is None:
            loaded = load_faq(current_app.config["FAQ_PATH"])
            current_app.extensions["faqbot.staff.faq"] = loaded
    return loaded


def _ticket_or_404(ref: str) -> Ticket:
    # Looked up by the random public reference: sequential ids never appear in staff URLs either.
    ticket = db_session().scalar(select(Ticket).where(Ticket.ref == ref))
    if ticket is None:
        abort(404)
    return ticket


def _active_staff() -> list[StaffUser]:
    return list(db_session().scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.email)))


def _assign_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("— Remettre dans la file (personne) —"))] + [
        SelectChoice(str(user.id), f"{user.display_name} <{user.email}>" if user.display_name else user.email)
        for user in _active_staff()
    ]


def _canned_groups(ticket: Ticket) -> list[tuple[str, list]]:
    """FAQ answers offered as canned replies: the ones the visitor saw, the reason's, then every entry."""
    content = faq()
    # Merged-away ids resolve to their survivor; incomplete answers are offered apart, behind a confirmation.
    seen = [e for e in dict.fromkeys(content.resolve(i) for i in ticket.faq_seen or []) if e is not None and not e.incomplete]
    reason = get_reason(ticket.reason)
    linked_ids = list(reason.faq) if reason else []
    linked = [e for e in dict.fromkeys(content.resolve(i) for i in linked_ids) if e is not None and not e.incomplete and e not in seen]
    linked += [e for e in content.for_reason(ticket.reason) if e not in seen and e not in linked and not e.incomplete]
    groups = []
    if seen:
        groups.append((_("Réponses vues par le stagiaire avant d’écrire"), seen))
    if linked:
        groups.append((_("Réponses liées au motif"), linked))
    groups.append((_("Toutes les réponses de la FAQ"), [e for e in content.entries if not e.incomplete]))
    incomplete = [e for e in content.entries if e.incomplete]
    if incomplete:
        groups.append((_("Réponses incomplètes (à confirmer avant insertion)"), incomplete))
    return groups


def _canned_entry(entry_id: str, confirmed: bool):
    """The served entry to insert (following merges); an incomplete one only once the agent confirmed."""
    entry = faq().resolve(entry_id)
    if entry is not None and entry.incomplete and not confirmed:
        return None, entry
    return entry, None


def _default_reply(ticket: Ticket, inserted: str = "") -> str:
    user = current_user()
    signature = user.display_name or _("L’équipe support")
    middle = f"{inserted}\n\n" if inserted else "\n\n"
    return _("Bonjour %(name)s,", name=ticket.name) + "\n\n" + middle + _("Cordialement,") + f"\n{signature}"


def _parse_iso(value):
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed
    return None


def _display_value(field_type: str, value):
    """Stored values (ISO dates, UTC instants, numbers) as a French reader expects them."""
    from babel.dates import format_date
    from babel.numbers import format_decimal

    from ..i18n import LOCALE, format_paris

    try:
        if field_type == "date" and isinstance(value, str):
            return format_date(dt.date.fromisoformat(value), "EEEE d MMMM y", locale=LOCALE)
        if field_type == "datetime" and isinstance(value, str):
            parsed = _parse_iso(value)
            return format_paris(parsed) if parsed else value
        if field_type == "number" and isinstance(value, (int, float)):
            return format_decimal(value, locale=LOCALE)
    except ValueError:
        pass
    return value


def _humanize_key(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").strip().capitalize()


def _ticket_facts(ticket: Ticket) -> dict:
    """Fields, confirmations and computed facts with French labels, dates parsed for the |paris filter."""
    reason = get_reason(ticket.reason)
    fields = []
    for field_id, value in (ticket.fields or {}).items():
        field = reason.field(field_id) if reason else None
        field_label = _(field.label) if field else _humanize_key(field_id)
        if field and field.choices:
            value = next((_(choice_label) for choice_value, choice_label in field.choices if choice_value == value), value)
        elif field:
            value = _display_value(field.type, value)
        fields.append((field_label, value))
    confirmations = []
    for item in ticket.confirmations or []:
        if isinstance(item, dict):
            item_label = item.get("label") or _humanize_key(str(item.get("id", "")))
            confirmations.append((item_label, _parse_iso(item.get("confirmed_at")), item.get("confirmed_at")))
        else:
            confirmations.append((str(item), None, None))
    computed = []
    for key, value in (ticket.computed or {}).items():
        computed.append((_humanize_key(key), _parse_iso(value), value))
    return {"reason": reason, "fields": fields, "confirmations": confirmations, "computed": computed}


def _render_ticket(ticket: Ticket, *, reply_form=None, note_form=None, iban=None, status=200):
    now = utcnow()
    user = current_user()
    assign_form = AssignForm(prefix="assign")
    assign_form.assignee.choices = _assign_choices()
    assign_form.assignee.data = str(ticket.assignee_id or "")
    status_form = StatusForm(prefix="status")
    status_form.status.data = ticket.status if ticket.status != "nouveau" else "en_cours"
    if reply_form is None:
        reply_form = ReplyForm(prefix="reply")
        canned_id = request.args.get("canned", "")
        entry, refused = _canned_entry(canned_id, confirmed=request.args.get("canned_confirm") == "1")
        if refused is not None:
            flash(_("Cette réponse est incomplète (%(missing)s) : cochez « J’ai relu, insérer quand même une réponse incomplète » pour l’insérer.", missing=refused.incomplete), "warning")
        reply_form.body.data = _default_reply(ticket, entry.answer_plain if entry else "")
    content = faq()
    seen_entries = [(entry_id, content.resolve(entry_id)) for entry_id in ticket.faq_seen or []]
    return (
        render_template(
            "staff/ticket.html",
            ticket=ticket,
            facts=_ticket_facts(ticket),
            sla=workflow.sla_for(ticket, now),
            now=now,
            can_work=workflow.can_work(user, ticket),
            can_assign=workflow.can_assign(user, ticket),
            is_admin=workflow.is_admin(user),
            reply_form=reply_form,
            note_form=note_form or NoteForm(prefix="note"),
            assign_form=assign_form,
            status_form=status_form,
            canned_groups=_canned_groups(ticket),
            seen_entries=seen_entries,
            iban=iban,
        ),
        status,
    )


# --- Pages --------------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The queues: open count, unassigned, oldest age and SLA state of each."""
    now = utcnow()
    db = db_session()
    summaries = workflow.queue_summaries(db, QUEUES, now)
    mine = db.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.assignee_id == current_user().id, Ticket.status.in_(workflow.OPEN_STATUSES))
    )
    return render_template("staff/index.html", summaries=summaries, now=now, mine=mine or 0)


@bp.get("/tickets")
def tickets():
    """Tickets filtered by queue, status, assignee, reason; searched by reference or e-mail; most urgent first."""
    now = utcnow()
    db = db_session()
    args = request.args
    query = select(Ticket)
    status = args.get("status", "ouverts")
    if status == "ouverts":
        query = query.where(Ticket.status.in_(workflow.OPEN_STATUSES))
    elif status in TICKET_STATUSES:
        query = query.where(Ticket.status == status)
    elif status != "tous":
        status = "ouverts"
        query = query.where(Ticket.status.in_(workflow.OPEN_STATUSES))
    queue = args.get("queue", "")
    if queue:
        query = query.where(Ticket.queue == queue)
    reason = args.get("reason", "")
    if reason:
        query = query.where(Ticket.reason == reason)
    assignee = args.get("assignee", "")
    if assignee == "moi":
        query = query.where(Ticket.assignee_id == current_user().id)
    elif assignee == "personne":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee.isdigit():
        query = query.where(Ticket.assignee_id == int(assignee))
    search = args.get("q", "").strip()[:254]
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Ticket.ref == search, func.lower(Ticket.email).like(pattern, escape="\\")))
    found = list(db.scalars(query.order_by(Ticket.created_at.desc()).limit(LIST_CAP)))
    # Open work first, ordered by first-response deadline; finished tickets after, most recent first.
    slas = {ticket.id: workflow.sla_for(ticket, now) for ticket in found}

    def urgency(ticket: Ticket):
        if ticket.status in workflow.DONE_STATUSES:
            return (1, -ticket.created_at.timestamp())
        return (0, slas[ticket.id].due_at.timestamp())

    found.sort(key=urgency)
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        page = 1
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    filters = {"status": status, "queue": queue, "reason": reason, "assignee": assignee, "q": search}
    return render_template(
        "staff/tickets.html",
        tickets=shown,
        slas=slas,
        total=len(found),
        capped=len(found) >= LIST_CAP,
        page=page,
        pages=pages,
        filters=filters,
        queues=QUEUES,
        reasons=REASONS,
        staff=_active_staff(),
        statuses=TICKET_STATUSES,
        now=now,
    )


@bp.get("/tickets/<ref>")
def ticket(ref: str):
    return _render_ticket(_ticket_or_404(ref))


@bp.get("/canned/<entry_id>")
def canned(entry_id: str):
    """A FAQ answer as plain text, for staff.js to insert into a reply (409 for an unconfirmed incomplete one)."""
    entry, refused = _canned_entry(entry_id, confirmed=request.args.get("confirm") == "1")
    if refused is not None:
        return jsonify({"id": refused.id, "incomplete": refused.incomplete, "confirm_required": True}), 409
    if entry is None:
        abort(404)
    return jsonify({"id": entry.id, "question": entry.question, "text": entry.answer_plain})


# --- Actions (POST only, CSRF-checked by Flask-WTF's CSRFProtect) --------------------------------------------


@bp.post("/tickets/<ref>/claim")
def claim(ref: str):
    ticket = _ticket_or_404(ref)
    db = db_session()
    won = workflow.claim(db, ticket.id, current_user(), utcnow())
    db.commit()
    if won:
        flash(_("Ticket pris en charge."), "success")
    else:
        db.refresh(ticket)
        holder = ticket.assignee.email if ticket.assignee else None
        flash(
            _("Ce ticket a déjà été pris en charge par %(who)s.", who=holder) if holder else _("Ce ticket ne peut pas être pris en charge."),
            "error",
        )
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/assign")
def assign(ref: str):
    ticket = _ticket_or_404(ref)
    form = AssignForm(prefix="assign")
    form.assignee.choices = _assign_choices()
    if not form.validate_on_submit():
        flash(_("Choisissez un membre de l’équipe dans la liste."), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db = db_session()
    assignee = db.get(StaffUser, int(form.assignee.data)) if form.assignee.data else None
    if not workflow.can_assign(current_user(), ticket):
        abort(403)
    try:
        workflow.assign(db, ticket, current_user(), assignee, utcnow())
    except workflow.WorkflowError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db.commit()
    flash(_("Ticket réattribué."), "success")
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/status")
def status(ref: str):
    ticket = _ticket_or_404(ref)
    if not workflow.can_work(current_user(), ticket):
        abort(403)
    form = StatusForm(prefix="status")
    if not form.validate_on_submit():
        flash(_("Statut inconnu."), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db = db_session()
    try:
        workflow.set_status(db, ticket, current_user(), form.status.data, utcnow())
    except workflow.WorkflowError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db.commit()
    flash(_("Statut : %(status)s.", status=STATUS_LABELS[ticket.status]), "success")
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/note")
def note(ref: str):
    ticket = _ticket_or_404(ref)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _render_ticket(ticket, note_form=form, status=422)
    db = db_session()
    workflow.add_note(db, ticket, current_user(), form.body.data, utcnow())
    db.commit()
    flash(_("Note ajoutée."), "success")
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/reply")
def reply(ref: str):
    ticket = _ticket_or_404(ref)
    if not workflow.can_work(current_user(), ticket):
        abort(403)
    form = ReplyForm(prefix="reply")
    if not form.validate_on_submit():
        return _render_ticket(ticket, reply_form=form, status=422)
    body = form.body.data.strip()
    subject = _("[%(ref)s] Réponse à votre demande", ref=ticket.ref)
    text = body + "\n\n-- \n" + _("Référence de votre demande : %(ref)s", ref=ticket.ref) + "\n" + _(
        "Pour nous répondre, répondez simplement à ce message."
    )
    db = db_session()
    # Send first, record after: no transaction (hence no SQLite write lock) is open while the mail server talks.
    db.commit()
    try:
        message_id = send_email(current_app.config, to=ticket.email, subject=subject, text=text)
    except Exception as error:  # SMTP down, refused recipient…: the agent keeps the text and can retry
        current_app.logger.warning("reply to ticket %s failed: %s", ticket.ref, error)
        workflow.record_reply_failure(db, ticket, current_user(), str(error), utcnow())
        db.commit()
        flash(_("L’e-mail n’a pas pu être envoyé. Votre texte est conservé ci-dessous : réessayez dans un instant."), "error")
        return _render_ticket(ticket, reply_form=form, status=502)
    then_status = form.then_status.data if form.then_status.data != "en_cours" else None
    if ticket.status == "nouveau" and then_status is None:
        then_status = "en_cours"
    workflow.record_reply(db, ticket, current_user(), body, message_id, then_status, utcnow())
    db.commit()
    flash(_("Réponse envoyée à %(email)s.", email=ticket.email), "success")
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/iban")
def reveal_iban(ref: str):
    """Show the decrypted IBAN once, in this response only (no-store); the reveal is in the ticket's history."""
    ticket = _ticket_or_404(ref)
    if not workflow.can_work(current_user(), ticket):
        abort(403)
    db = db_session()
    try:
        iban = workflow.reveal_iban(db, ticket, current_user(), current_app.config["IBAN_KEY"], utcnow())
    except workflow.WorkflowError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db.commit()
    return _render_ticket(ticket, iban=iban)
