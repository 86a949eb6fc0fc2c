"""The content loop in the console: failed searches → a variant, a new entry or noise; admins review proposals.

Thin routes over faqbot/content/overlay.py (proposals, review, audit) and content_signals.py (the lists). An
accepted proposal is served at once: this worker reloads now, the others at their next check of the overlay's
version (faqbot/public: ContentWatcher).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..content.model import load_faq_data
from ..content.overlay import ContentError, dismiss_query, propose_entry, propose_variant, review_change
from ..db import session as db_session
from ..db import utcnow
from ..models import ContentChange, StaffUser
from . import bp
from .admin import PERIODS, _days
from .auth import admin_required, current_user
from .content_signals import content_signals
from .presentation import faq

SIGNAL_LABELS = {
    "zero": _l("Recherche sans résultat"),
    "contact": _l("Recherche suivie d’une prise de contact"),
    "no-vote": _l("Recherche menant à une réponse jugée inutile"),
    "unclicked": _l("Résultats jamais ouverts"),
    "manual": _l("Saisie par l’équipe"),
}
STATUS_LABELS = {"proposed": _l("à examiner"), "accepted": _l("acceptée"), "rejected": _l("refusée")}


class VariantForm(FlaskForm):
    query = HiddenField(validators=[DataRequired(), Length(max=200)])
    signal = HiddenField()
    entry_id = StringField(_l("Entrée"), validators=[DataRequired(message=_l("Choisissez l’entrée qui répond à cette recherche.")), Length(max=120)])


class DismissForm(FlaskForm):
    query = HiddenField(validators=[DataRequired(), Length(max=200)])


class EntryForm(FlaskForm):
    query = HiddenField(validators=[Length(max=200)])
    signal = HiddenField()
    question = StringField(_l("Question (telle qu’un visiteur la pose, terminée par « ? »)"), validators=[DataRequired(message=_l("La question est vide.")), Length(max=300)])
    answer = TextAreaField(_l("Réponse proposée (Markdown)"), validators=[DataRequired(message=_l("La réponse est vide.")), Length(max=20000)])
    category = SelectField(_l("Catégorie"), choices=[])
    variants = TextAreaField(_l("Autres formulations (une par ligne, facultatif)"), validators=[Length(max=2000)])


class ReviewForm(FlaskForm):
    change_id = HiddenField(validators=[DataRequired()])
    decision = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note (facultative)"), validators=[Length(max=2000)])


def _back():
    return redirect(url_for("staff.content_loop", jours=request.args.get("jours", 30)))


@bp.get("/contenu")
def content_loop():
    """What visitors did not find, with the three actions per query."""
    days = _days()
    content = faq()
    signals = content_signals(db_session(), content, days, utcnow())
    return render_template(
        "staff/content_loop.html", signals=signals, days=days, periods=PERIODS, faq=content,
        variant_form=VariantForm(), dismiss_form=DismissForm(), SIGNAL_LABELS=SIGNAL_LABELS,
        pending=db_session().scalar(select(ContentChange.id).where(ContentChange.status == "proposed").limit(1)) is not None,
    )


@bp.post("/contenu/variante")
def content_add_variant():
    form = VariantForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back()
    db = db_session()
    try:
        change = propose_variant(
            db, faq(), current_user(), form.entry_id.data.split(" ")[0].strip(), form.query.data,
            query=form.query.data, signal=form.signal.data or "manual", now=utcnow(),
        )
    except ContentError as error:
        db.rollback()
        flash(str(error), "error")
        return _back()
    db.commit()
    flash(_("« %(query)s » est proposée comme variante de %(entry)s : un administrateur la validera.", query=form.query.data, entry=change.entry_id), "success")
    return _back()


@bp.post("/contenu/bruit")
def content_dismiss():
    form = DismissForm()
    if not form.validate_on_submit():
        abort(400)
    db = db_session()
    try:
        dismiss_query(db, current_user(), form.query.data, utcnow())
    except ContentError as error:
        db.rollback()
        flash(str(error), "error")
        return _back()
    db.commit()
    flash(_("« %(query)s » est classée comme bruit.", query=form.query.data), "info")
    return _back()


@bp.route("/contenu/nouvelle", methods=["GET", "POST"])
def content_new_entry():
    content = faq()
    form = EntryForm()
    form.category.choices = [(c.id, c.label) for c in content.categories]
    if request.method == "GET":
        query = request.args.get("q", "")[:200]
        form.query.data = query
        form.signal.data = request.args.get("signal", "manual")
        form.question.data = (query[:1].upper() + query[1:]).rstrip(" ?") + " ?" if query else ""
    elif form.validate_on_submit():
        db = db_session()
        try:
            change = propose_entry(
                db, content, current_user(), question=form.question.data, answer=form.answer.data, category=form.category.data,
                variants=(form.variants.data or "").splitlines(), query=form.query.data or "", signal=form.signal.data or "manual", now=utcnow(),
            )
        except ContentError as error:
            db.rollback()
            form.question.errors = list(form.question.errors) + [str(error)]
        else:
            db.commit()
            flash(_("Nouvelle entrée proposée (%(id)s) : un administrateur la validera.", id=change.entry_id), "success")
            return redirect(url_for("staff.content_loop"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/content_new_entry.html", form=form), status


@bp.get("/contenu/a-completer")
def content_todo():
    """Entries staff must complete or confirm: incomplete (served with a pointer), hidden shells, decisions to confirm."""
    content = faq()
    return render_template(
        "staff/content_todo.html",
        incomplete=[e for e in content.entries if e.incomplete],
        hidden=list(content.hidden),
        to_confirm=[e for e in content.all_entries if e.confirm],
    )


@bp.get("/contenu/propositions")
def content_proposals():
    db = db_session()
    changes = list(db.scalars(select(ContentChange).order_by(ContentChange.status != "proposed", ContentChange.id.desc()).limit(200)))
    staff = {user.id: user.display_name or user.email for user in db.scalars(select(StaffUser))}
    return render_template(
        "staff/content_proposals.html", changes=changes, staff=staff, faq=faq(), form=ReviewForm(),
        SIGNAL_LABELS=SIGNAL_LABELS, STATUS_LABELS=STATUS_LABELS,
    )


@bp.post("/contenu/propositions/decision")
@admin_required
def content_review():
    form = ReviewForm()
    if not form.validate_on_submit() or form.decision.data not in ("accepter", "refuser") or not form.change_id.data.isdigit():
        abort(400)
    change_id, decision = int(form.change_id.data), form.decision.data
    db = db_session()
    data, _digest = load_faq_data(current_app.config["FAQ_PATH"])
    try:
        change = review_change(db, data, current_user(), change_id, accept=decision == "accepter", note=form.note.data or "", now=utcnow())
    except ContentError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("staff.content_proposals"))
    db.commit()
    if change.status == "accepted":
        from .. import knowledge

        knowledge.reload_now(current_app._get_current_object())
        flash(_("Proposition acceptée : elle est servie dès maintenant."), "success")
    else:
        flash(_("Proposition refusée."), "info")
    return redirect(url_for("staff.content_proposals"))
