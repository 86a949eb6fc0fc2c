"""Admin pages (accounts, audit log, analytics and CSV exports) and each member's own password."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..db import session as db_session
from ..db import utcnow
from ..models import AuditEvent, StaffUser
from ..triage.fields import normalize_email_address
from ..triage.reasons import get_reason
from . import accounts, analytics, bp, charts, workflow
from .auth import admin_required, count_password_attempt, current_user
from .params import bounded_int
from .labels import AUDIT_LABELS, DEFLECTION_LABELS, QUEUE_LABELS, ROLE_LABELS, label
from .presentation import faq

PERIODS = (7, 30, 90)
MAX_PAGE = 100_000  # far beyond any real journal; a larger number is a 400, never an overflow
AUDIT_PAGE_SIZE = 100


def mail_address(_form, field) -> None:
    """The address as the mailer reads it (email-validator): no IP literal, no encoded-word."""
    if normalize_email_address(field.data or "") is None:
        raise ValidationError(_("Adresse e-mail invalide."))


class AccountForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(message=_l("Indiquez une adresse e-mail.")), Length(max=254), mail_address],
    )
    display_name = StringField(_l("Nom affiché (signature des réponses)"), validators=[Length(max=120)])
    role = SelectField(_l("Rôle"), choices=[SelectChoice("agent", _l("agent")), SelectChoice("admin", _l("administrateur"))], default="agent")
    password = PasswordField(
        _l("Mot de passe provisoire (12 caractères au moins)"),
        validators=[DataRequired(message=_l("Indiquez un mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Rôle"), choices=[SelectChoice("agent", _l("agent")), SelectChoice("admin", _l("administrateur"))])


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(message=_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("Nouveau mot de passe (12 caractères au moins)"), validators=[DataRequired(message=_l("Indiquez un nouveau mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[EqualTo("new", message=_l("Les deux mots de passe ne correspondent pas."))],
        render_kw={"autocomplete": "new-password"},
    )


# --- Accounts -----------------------------------------------------------------------------------------------


def _render_accounts(form: AccountForm | None = None, status: int = 200):
    db = db_session()
    users = list(db.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)))
    return render_template(
        "staff/accounts.html", users=users, form=form or AccountForm(), role_form=RoleForm(),
        open_counts=workflow.open_count_by_assignee(db),
    ), status


@bp.get("/comptes")
@admin_required
def accounts_page():
    return _render_accounts()


@bp.post("/comptes")
@admin_required
def account_create():
    form = AccountForm()
    if not form.validate_on_submit():
        return _render_accounts(form, 422)
    db = db_session()
    try:
        user = accounts.create_staff(db, form.email.data, form.password.data, form.role.data, utcnow(), form.display_name.data or "", actor=current_user())
    except accounts.AccountError as error:
        form.email.errors = list(form.email.errors) + [str(error)]
        db.rollback()
        return _render_accounts(form, 422)
    db.commit()
    flash(_("Compte créé pour %(email)s. Transmettez-lui le mot de passe provisoire par un autre canal.", email=user.email), "success")
    return redirect(url_for("staff.accounts_page"))


def _account_or_404(user_id: int) -> StaffUser:
    user = db_session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


def _would_remove_last_admin(user: StaffUser) -> bool:
    return user.role == "admin" and user.active and accounts.active_admin_count(db_session()) <= 1


@bp.post("/comptes/<int:user_id>/desactiver")
@admin_required
def account_deactivate(user_id: int):
    user = _account_or_404(user_id)
    if _would_remove_last_admin(user):
        flash(_("Impossible de désactiver le dernier administrateur actif."), "error")
        return redirect(url_for("staff.accounts_page"))
    db = db_session()
    accounts.deactivate(db, user, utcnow(), actor=current_user())
    db.commit()
    flash(_("Compte %(email)s désactivé : ses sessions sont fermées.", email=user.email), "success")
    if user.id == current_user().id:
        flask_session.clear()
        return redirect(url_for("staff.login"))
    return redirect(url_for("staff.accounts_page"))


@bp.post("/comptes/<int:user_id>/reactiver")
@admin_required
def account_reactivate(user_id: int):
    user = _account_or_404(user_id)
    db = db_session()
    accounts.reactivate(db, user, utcnow(), actor=current_user())
    db.commit()
    flash(_("Compte %(email)s réactivé.", email=user.email), "success")
    return redirect(url_for("staff.accounts_page"))


@bp.post("/comptes/<int:user_id>/role")
@admin_required
def account_role(user_id: int):
    user = _account_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Rôle inconnu."), "error")
        return redirect(url_for("staff.accounts_page"))
    if form.role.data != "admin" and _would_remove_last_admin(user):
        flash(_("Impossible de retirer le rôle du dernier administrateur actif."), "error")
        return redirect(url_for("staff.accounts_page"))
    db = db_session()
    accounts.set_role(db, user, form.role.data, utcnow(), actor=current_user())
    db.commit()
    flash(_("Rôle de %(email)s : %(role)s.", email=user.email, role=label(ROLE_LABELS, user.role)), "success")
    if user.id == current_user().id:
        flask_session.clear()
        return redirect(url_for("staff.login"))
    return redirect(url_for("staff.accounts_page"))


@bp.post("/comptes/<int:user_id>/fermer-sessions")
@admin_required
def account_end_sessions(user_id: int):
    user = _account_or_404(user_id)
    db = db_session()
    accounts.end_sessions(db, user, utcnow(), actor=current_user())
    db.commit()
    flash(_("Toutes les sessions de %(email)s sont fermées.", email=user.email), "success")
    if user.id == current_user().id:
        flask_session.clear()
        return redirect(url_for("staff.login"))
    return redirect(url_for("staff.accounts_page"))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def password():
    """Any member changes their own password; other sessions of the account end, this one is renewed."""
    form = PasswordForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("staff/password.html", form=form), (422 if request.method == "POST" else 200)
    db = db_session()
    user = current_user()
    now = utcnow()
    # The current password is a password guess like a login: same buckets, same limits, audited.
    verdict = count_password_attempt(user.email, now)
    if not verdict.allowed:
        accounts.audit(db, user, "password_change_throttled", user.email, now)
        db.commit()
        form.current.errors = [_("Trop de tentatives. Réessayez dans %(minutes)s minute(s).", minutes=max(1, -(-verdict.retry_after // 60)))]
        return render_template("staff/password.html", form=form), 429, {"Retry-After": str(verdict.retry_after)}
    if accounts.authenticate(db, user.email, form.current.data) is None:
        accounts.audit(db, user, "password_change_failed", user.email, now)
        db.commit()
        form.current.errors = [_("Mot de passe actuel incorrect.")]
        return render_template("staff/password.html", form=form), 422
    try:
        accounts.set_password(db, user, form.new.data, now, actor=user)
    except accounts.AccountError as error:
        form.new.errors = [str(error)]
        return render_template("staff/password.html", form=form), 422
    db.commit()
    flask_session["staff_version"] = user.session_version
    flash(_("Mot de passe modifié. Vos autres sessions sont fermées."), "success")
    return redirect(url_for("staff.index"))


# --- Audit log ----------------------------------------------------------------------------------------------


@bp.get("/journal")
@admin_required
def audit_log():
    db = db_session()
    page = bounded_int(request.args.get("page"), default=1, low=1, high=MAX_PAGE, lenient=True)
    events = list(
        db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE + 1))
    )
    staff = {user.id: user.email for user in db.scalars(select(StaffUser))}
    return render_template(
        "staff/audit.html", events=events[:AUDIT_PAGE_SIZE], has_next=len(events) > AUDIT_PAGE_SIZE, page=page,
        staff=staff, AUDIT_LABELS=AUDIT_LABELS,
    )


# --- Analytics ----------------------------------------------------------------------------------------------


def _days() -> int:
    try:
        days = int(request.args.get("jours", 30))
    except ValueError:
        days = 30
    return days if days in PERIODS else 30


def _reason_label(reason_id: str) -> str:
    reason = get_reason(reason_id)
    return _(reason.short) if reason else reason_id


@bp.get("/analytics")
@admin_required
def analytics_page():
    days = _days()
    report = analytics.build_report(db_session(), days, utcnow())
    day_labels = [format_date(day, "d MMM") for day in report.days]
    search_chart = charts.bars(
        day_labels, [count for _, count in report.searches_per_day],
        lambda day, value: _("%(day)s : %(count)s recherche(s)", day=day, count=value),
    )
    queues_present = sorted({queue for _, per_queue in report.tickets_per_day for queue in per_queue})
    ticket_chart = charts.stacked_bars(
        day_labels,
        [[(queue, per_queue.get(queue, 0)) for queue in queues_present] for _, per_queue in report.tickets_per_day],
        lambda day, queue, value: _("%(day)s · %(queue)s : %(count)s ticket(s)", day=day, queue=label(QUEUE_LABELS, queue), count=value),
    )
    questions = {entry.id: entry.question for entry in faq().entries}
    return render_template(
        "staff/analytics.html",
        report=report,
        days=days,
        periods=PERIODS,
        search_chart=search_chart,
        ticket_chart=ticket_chart,
        queues_present=queues_present,
        questions=questions,
        reason_label=_reason_label,
        share=charts.share,
        deflection_rate=analytics.deflection_rate,
        DEFLECTION_LABELS=DEFLECTION_LABELS,
        datasets=analytics.DATASETS,
    )


@bp.get("/analytics/<dataset>.csv")
@admin_required
def analytics_export(dataset: str):
    if dataset not in analytics.DATASETS:
        abort(404)
    days = _days()
    now = utcnow()
    db = db_session()
    report = analytics.build_report(db, days, now)
    questions = {entry.id: entry.question for entry in faq().entries}
    body = analytics.to_csv(analytics.DATASETS[dataset], analytics.dataset_rows(report, dataset, questions))
    accounts.audit(db, current_user(), "export", f"{dataset} ({days} jours)", now)
    db.commit()
    filename = f"faqbot-{dataset}-{now:%Y%m%d}-{days}j.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
