"""Login, logout and the guard every /staff request passes: session current, account active, not idle."""
from __future__ import annotations

import datetime as dt
import functools
import time
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from ..db import session as db_session
from ..db import utcnow
from ..models import StaffUser
from ..throttle import Verdict, throttle_for
from . import accounts, bp, labels, workflow

# Endpoints reachable without a staff session.
PUBLIC_ENDPOINTS = {"staff.login"}

# Login throttling, two buckets counted on every attempt (and on every "current password" of the password form):
# - per account AND client address (LOGIN_RATE_LIMIT): someone guessing one password from one place is stopped,
#   but a failure from their address never locks the owner, who logs in from another address — a per-account
#   lock alone would let anyone, anywhere, lock any agent out with five wrong passwords;
# - per client address (LOGIN_ADDRESS_RATE_LIMIT): spraying many accounts from one place is stopped too.
# A distributed guesser gets LOGIN_RATE_LIMIT tries per address per window against a 12-character Argon2id
# password, and every failure is in the audit log. Limits and window come from the settings table.
# A session lasts at most this long even when active: a forgotten open console does not stay open for days.
MAX_SESSION_HOURS = 12


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(message=_l("Indiquez votre adresse e-mail.")),
            Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Adresse e-mail invalide.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=_l("Indiquez votre mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


def current_user() -> StaffUser:
    return g.staff_user


def admin_required(view):
    """Refuse (403) to anyone but an admin; the login guard has already run."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not workflow.is_admin(current_user()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _end_session(message: str):
    session.clear()
    flash(message, "info")
    return redirect(url_for("staff.login"))


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    # A control character (CR/LF…) would end in a Location header: never.
    if target and not any(ord(char) < 32 or ord(char) == 127 for char in target) and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/staff") and not target.startswith("//"):
            return target
    return url_for("staff.index")


@bp.before_request
def _require_staff_session():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    staff_id = session.get("staff_id")
    if staff_id is None:
        if request.method == "GET":
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("staff.login"))
    user = db_session().get(StaffUser, staff_id)
    if user is None or not user.active or user.session_version != session.get("staff_version"):
        return _end_session(_("Votre session a pris fin. Merci de vous reconnecter."))
    now = time.time()
    idle_limit = int(current_app.config["STAFF_IDLE_MINUTES"]) * 60
    if now - session.get("staff_seen", 0) > idle_limit:
        return _end_session(_("Votre session a expiré après une période d’inactivité. Merci de vous reconnecter."))
    if now - session.get("staff_login_at", 0) > MAX_SESSION_HOURS * 3600:
        return _end_session(_("Votre session a atteint sa durée maximale. Merci de vous reconnecter."))
    session["staff_seen"] = int(now)
    g.staff_user = user
    # End the read transaction now: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE).
    db_session().commit()
    return None


@bp.app_context_processor
def _staff_context():
    if not request.path.startswith("/staff"):
        return {}
    return {
        "staff_user": g.get("staff_user"),
        "STATUS_LABELS": labels.STATUS_LABELS,
        "PRIORITY_LABELS": labels.PRIORITY_LABELS,
        "QUEUE_LABELS": labels.QUEUE_LABELS,
        "SLA_LABELS": labels.SLA_LABELS,
        "SLA_KIND_LABELS": labels.SLA_KIND_LABELS,
        "ROLE_LABELS": labels.ROLE_LABELS,
        "EVENT_LABELS": labels.EVENT_LABELS,
        "label": labels.label,
        "format_duration": labels.format_duration,
    }


def _account_key(email: str) -> str:
    return f"{email}|{request.remote_addr or 'inconnue'}"


def count_password_attempt(email: str, now: dt.datetime) -> Verdict:
    """Count one password guess (login or password change) in both buckets; the refusal if one is full."""
    config = current_app.config
    window = dt.timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    throttle = throttle_for(current_app)
    verdict = throttle.check_and_hit("login-ip", request.remote_addr or "inconnue", int(config["LOGIN_ADDRESS_RATE_LIMIT"]), window, now)
    if verdict.allowed:
        verdict = throttle.check_and_hit("login-account", _account_key(email), int(config["LOGIN_RATE_LIMIT"]), window, now)
    return verdict


def _throttled_response(form: LoginForm, retry_after: int):
    minutes = max(1, -(-retry_after // 60))
    message = _(
        "Trop de tentatives de connexion. Réessayez dans %(minutes)s minute(s).", minutes=minutes
    )
    response = current_app.make_response((render_template("staff/login.html", form=form, error=message), 429))
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("staff/login.html", form=form, error=None)
    now = utcnow()
    email = accounts.normalize_email(form.email.data)
    verdict = count_password_attempt(email, now)
    if not verdict.allowed:
        with current_app.extensions["faqbot.db"].transaction() as tx:
            accounts.audit(tx, None, "login_throttled", email[:120], now)
        return _throttled_response(form, verdict.retry_after)
    db = db_session()
    user = accounts.authenticate(db, email, form.password.data)
    if user is None:
        accounts.audit(db, None, "login_failed", email[:120], now)
        db.commit()
        return render_template("staff/login.html", form=form, error=_("Adresse e-mail ou mot de passe incorrect.")), 200
    user.last_login_at = now
    accounts.audit(db, user, "login", request.remote_addr or "", now)
    db.commit()
    throttle_for(current_app).reset("login-account", _account_key(email))
    next_url = _safe_next(request.args.get("next"))
    # A brand-new session: nothing from before the login (CSRF token included) survives into it.
    session.clear()
    session["staff_id"] = user.id
    session["staff_version"] = user.session_version
    session["staff_seen"] = int(time.time())
    session["staff_login_at"] = int(time.time())
    return redirect(next_url)


@bp.post("/logout")
def logout():
    """End the session here and everywhere else: bumping session_version kills copies of the cookie too."""
    user = current_user()
    db = db_session()
    user.session_version += 1
    accounts.audit(db, user, "logout", "", utcnow())
    db.commit()
    session.clear()
    flash(_("Vous êtes déconnecté(e)."), "info")
    return redirect(url_for("staff.login"))
