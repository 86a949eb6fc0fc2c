"""Queues, ticket lists and the ticket page with its actions (claim, assign, status, note, reply, IBAN, links).

Every action goes through `_ticket_action`: 404 → permission → validate → commit → flash → redirect, in that
order, so a refusal never leaves anything written or sent. Forms live in forms.py, lookups in queries.py, the
way a ticket is shown in presentation.py.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..db import session as db_session
from ..mail import notify_sender
from ..models import TICKET_STATUSES, StaffUser, Ticket
from ..triage.reasons import QUEUES, REASONS
from . import bp, workflow
from .auth import current_user
from .forms import AssignForm, NoteForm, ReplyForm, StatusForm
from .labels import STATUS_LABELS
from .params import bounded_int
from .presentation import assign_choices, canned_entry, now, reason_short, render_ticket, schedules
from .queries import LIST_CAP, MAX_ID, ListFilters, active_staff, filtered_tickets, ticket_or_404

PAGE_SIZE = 50


# --- Pages --------------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The queues: open count, unassigned, trainee replies, oldest age and SLA state of each."""
    moment = now()
    db = db_session()
    summaries = workflow.queue_summaries(db, QUEUES, moment, schedules())
    mine = db.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.assignee_id == current_user().id, Ticket.status.in_(workflow.OPEN_STATUSES))
    )
    return render_template("staff/index.html", summaries=summaries, now=moment, mine=mine or 0)


@bp.get("/tickets")
def tickets():
    """Tickets filtered by queue, status, assignee, reason; searched by reference or e-mail; most urgent first."""
    moment = now()
    filters = ListFilters.from_args(request.args)
    found = filtered_tickets(filters, current_user().id)
    slas = {ticket.id: workflow.sla_for(ticket, moment, schedules()) for ticket in found}

    def urgency(ticket: Ticket):
        # Owed answers first by due time; then tickets waiting on the trainee; finished ones last, newest first.
        sla = slas[ticket.id]
        if ticket.status in workflow.DONE_STATUSES:
            return (2, -ticket.created_at.timestamp())
        if sla.running and sla.due_at is not None:
            return (0, sla.due_at.timestamp())
        return (1, -ticket.updated_at.timestamp())

    found.sort(key=urgency)
    page = bounded_int(request.args.get("page"), default=1, low=1, high=MAX_ID, lenient=True)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    return render_template(
        "staff/tickets.html",
        tickets=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        slas=slas,
        total=len(found),
        capped=len(found) >= LIST_CAP,
        page=page,
        pages=pages,
        filters=filters.as_dict(),
        queues=QUEUES,
        reasons=REASONS,
        staff=active_staff(),
        statuses=TICKET_STATUSES,
        now=moment,
        reason_short=reason_short,
    )


@bp.get("/tickets/<ref>")
def ticket(ref: str):
    return render_ticket(ticket_or_404(ref))


@bp.get("/canned/<entry_id>")
def canned(entry_id: str):
    """A FAQ answer as plain text, for staff.js to insert into a reply (409 for an unconfirmed incomplete one)."""
    entry, refused = canned_entry(entry_id, confirmed=request.args.get("confirm") == "1")
    if refused is not None:
        return jsonify({"id": refused.id, "incomplete": refused.incomplete, "confirm_required": True}), 409
    if entry is None:
        abort(404)
    return jsonify({"id": entry.id, "question": entry.question, "text": entry.answer_plain})


@bp.get("/courriels")
def inbound_mail():
    """E-mails that matched no ticket (and the ignored auto-replies): for staff to route by hand."""
    from ..models import InboundMessage

    rows = list(
        db_session().scalars(
            select(InboundMessage).where(InboundMessage.outcome.in_(("unmatched", "ignored")))
            .order_by(InboundMessage.received_at.desc()).limit(200)
        )
    )
    return render_template("staff/inbound.html", messages=rows)


# --- Actions (POST only, CSRF-checked by Flask-WTF's CSRFProtect) --------------------------------------------



def _ticket_action(
    ref: str,
    action: Callable,
    *,
    permission: Callable[[StaffUser, Ticket], bool] | None = None,
    form=None,
    invalid: Callable | None = None,
    sends_mail: bool = False,
):
    """404 → permission → validate → act → commit → flash → redirect, for every action on a ticket.

    `action(db, ticket, user, now)` returns a success message, a (message, category) pair, None (no message),
    or a function building the response, called after the commit. A WorkflowError rolls everything back and is
    flashed.
    """
    ticket = ticket_or_404(ref)
    user = current_user()
    if permission is not None and not permission(user, ticket):
        abort(403)
    if form is not None and not form.validate_on_submit():
        if invalid is not None:
            return invalid(ticket, form)
        return redirect(url_for("staff.ticket", ref=ref))
    db = db_session()
    try:
        result = action(db, ticket, user, now())
    except workflow.WorkflowError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("staff.ticket", ref=ref))
    db.commit()
    if sends_mail:
        notify_sender(current_app._get_current_object())
    if isinstance(result, str):
        flash(result, "success")
    elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str):
        flash(result[0], result[1])
    elif callable(result):
        return result()
    return redirect(url_for("staff.ticket", ref=ref))


@bp.post("/tickets/<ref>/claim")
def claim(ref: str):
    def act(db, ticket, user, moment):
        if workflow.claim(db, ticket.id, user, moment):
            return _("Ticket pris en charge.")
        db.refresh(ticket)
        holder = ticket.assignee.email if ticket.assignee else None
        return (
            _("Ce ticket a déjà été pris en charge par %(who)s.", who=holder) if holder else _("Ce ticket ne peut pas être pris en charge."),
            "error",
        )

    return _ticket_action(ref, act)


@bp.post("/tickets/<ref>/assign")
def assign(ref: str):
    form = AssignForm(prefix="assign")
    form.assignee.choices = assign_choices()

    def invalid(ticket, _form):
        flash(_("Choisissez un membre de l’équipe dans la liste."), "error")
        return redirect(url_for("staff.ticket", ref=ref))

    def act(db, ticket, user, moment):
        assignee = db.get(StaffUser, int(form.assignee.data)) if form.assignee.data else None
        workflow.assign(db, ticket, user, assignee, moment)
        return _("Ticket réattribué.")

    return _ticket_action(ref, act, permission=workflow.can_assign, form=form, invalid=invalid)


@bp.post("/tickets/<ref>/status")
def status(ref: str):
    form = StatusForm(prefix="status")

    def invalid(ticket, _form):
        flash(_("Statut inconnu."), "error")
        return redirect(url_for("staff.ticket", ref=ref))

    def act(db, ticket, user, moment):
        workflow.set_status(db, ticket, user, form.status.data, moment)
        return _("Statut : %(status)s.", status=STATUS_LABELS[ticket.status])

    return _ticket_action(ref, act, permission=workflow.can_work, form=form, invalid=invalid, sends_mail=True)


@bp.post("/tickets/<ref>/note")
def note(ref: str):
    form = NoteForm(prefix="note")

    def act(db, ticket, user, moment):
        workflow.add_note(db, ticket, user, form.body.data, moment)
        return _("Note ajoutée.")

    return _ticket_action(ref, act, form=form, invalid=lambda ticket, f: render_ticket(ticket, note_form=f, status=422))


@bp.post("/tickets/<ref>/reply")
def reply(ref: str):
    form = ReplyForm(prefix="reply")

    def act(db, ticket, user, moment):
        then_status = form.then_status.data if form.then_status.data != "en_cours" else None
        if ticket.status == "nouveau" and then_status is None:
            then_status = "en_cours"
        workflow.reply(db, ticket, user, form.body.data, then_status, moment, dedupe_key=form.send_key.data)
        # Queued with its event in this transaction; the sender delivers it after the commit (and retries).
        return _("Réponse enregistrée : elle part à %(email)s.", email=ticket.email)

    return _ticket_action(
        ref, act, permission=workflow.can_work, form=form, sends_mail=True,
        invalid=lambda ticket, f: render_ticket(ticket, reply_form=f, status=422),
    )


@bp.post("/tickets/<ref>/iban")
def reveal_iban(ref: str):
    """Show the decrypted IBAN once, in this response only (no-store); the reveal is in the ticket's history."""

    def act(db, ticket, user, moment):
        iban = workflow.reveal_iban(db, ticket, user, current_app.config["IBAN_KEY"], moment)
        # Rendered after the commit: the page's history already shows this reveal.
        return lambda: render_ticket(ticket, iban=iban)

    return _ticket_action(ref, act, permission=workflow.can_work)


@bp.post("/tickets/<ref>/liens")
def revoke_links(ref: str):
    def act(db, ticket, user, moment):
        count = workflow.revoke_links(db, ticket, user, moment)
        return _("Liens de suivi révoqués : %(n)s. Le prochain e-mail en portera un nouveau.", n=count)

    return _ticket_action(ref, act, permission=workflow.can_work)

