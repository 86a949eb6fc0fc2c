"""Admin page /staff/donnees-personnelles: export, erase a person's data, run the retention purge (all audited)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField
from wtforms.validators import DataRequired, EqualTo, Length

from ..db import utcnow
from ..staff.auth import _require_staff_session, admin_required, current_user
from . import run_erase, run_export, run_purge
from .core import summary

bp = Blueprint("privacy", __name__, url_prefix="/staff/donnees-personnelles")
bp.before_request(_require_staff_session)  # the console's own guard: session current, account active, not idle


class PersonForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de la personne"), validators=[DataRequired(message=_l("Indiquez une adresse e-mail.")), Length(max=254)])


class EraseForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de la personne"), validators=[DataRequired(message=_l("Indiquez une adresse e-mail.")), Length(max=254)])
    confirm_email = EmailField(
        _l("Retapez l’adresse pour confirmer"), validators=[EqualTo("email", message=_l("Les deux adresses ne correspondent pas."))]
    )
    understood = BooleanField(_l("J’ai compris : l’effacement est définitif."), validators=[DataRequired(message=_l("Cochez la case pour confirmer."))])


def _page(export_form=None, erase_form=None, status=200):
    return render_template(
        "staff/privacy.html",
        export_form=export_form or PersonForm(prefix="export"),
        erase_form=erase_form or EraseForm(prefix="erase"),
        purge_form=FlaskForm(prefix="purge"),
        months=current_app.config["RETENTION_TICKET_MONTHS"],
        days=current_app.config["RETENTION_SEARCH_DAYS"],
    ), status


@bp.get("")
@admin_required
def page():
    return _page()


@bp.post("/export")
@admin_required
def export():
    form = PersonForm(prefix="export")
    if not form.validate_on_submit():
        return _page(export_form=form, status=422)
    now = utcnow()
    data = run_export(current_app, form.email.data, now, actor_id=current_user().id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="faqbot-donnees-{now:%Y%m%d-%H%M%S}.json"'},
    )


@bp.post("/effacer")
@admin_required
def erase():
    form = EraseForm(prefix="erase")
    if not form.validate_on_submit():
        return _page(erase_form=form, status=422)
    counts = run_erase(current_app, form.email.data, utcnow(), actor_id=current_user().id)
    flash(_("Données effacées (%(summary)s).", summary=summary(counts)), "success")
    return redirect(url_for("privacy.page"))


@bp.post("/purge")
@admin_required
def purge():
    form = FlaskForm(prefix="purge")
    if not form.validate_on_submit():
        return _page(status=422)
    counts = run_purge(current_app, utcnow(), actor_id=current_user().id)
    flash(_("Purge de rétention faite (%(summary)s).", summary=summary(counts)), "success")
    return redirect(url_for("privacy.page"))
