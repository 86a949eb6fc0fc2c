"""The embeddable help: `/widget.js` for the booking site, and the panel it opens in an iframe (`/widget/…`).

The panel is faqbot's own pages in a compact layout: search as you type, the entry, and the triaged contact form
checked by the same `triage.validate` as /contact and the API. It runs in an iframe on the booking site's pages:
- only the origins of EMBED_ORIGINS may frame it (CSP frame-ancestors); every other page of faqbot stays
  unframeable;
- it uses no cookie: a third-party iframe does not get the site's cookies (SameSite=Lax, blocked third-party
  cookies), so the form carries no session and no CSRF token. It is an anonymous form with no ambient authority,
  like POST /api/tickets: the per-address submission limit and the idempotency key still apply;
- the host page sees none of it: the iframe is cross-origin, and the panel only ever posts « close » to its parent.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from sqlalchemy import select

from . import knowledge
from .contact import limits, services, spam
from .contact.forms import confirmation_name, contact_form_class, field_name
from .db import session as db_session
from .models import Ticket
from .security import csrf
from .triage import REASONS, get_reason, new_ref
from .triage.fields import parse_datetime

bp = Blueprint("widget", __name__)
csrf.exempt(bp)

RESULTS = 8


def embed_origins(app) -> list[str]:
    """EMBED_ORIGINS as a list of origins (space- or comma-separated in the setting)."""
    raw = app.config.get("EMBED_ORIGINS") or ""
    return [origin.rstrip("/") for origin in re.split(r"[\s,]+", raw) if origin]


def frame_policy(app) -> str:
    """The panel's Content-Security-Policy: the app's, with the allowed host sites as frame ancestors."""
    from .security import CONTENT_SECURITY_POLICY

    ancestors = " ".join(["'self'"] + embed_origins(app))
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


@bp.after_request
def _frameable(response):
    if request.endpoint != "widget.script":
        response.headers["Content-Security-Policy"] = frame_policy(current_app)
        response.headers["Cache-Control"] = "no-store"  # what a visitor typed is not kept by a shared cache
    return response


@bp.get("/widget.js")
def script():
    """The one script the booking site includes (`<script src="…/widget.js" async></script>`)."""
    response = send_from_directory(current_app.static_folder, "widget.js", mimetype="text/javascript", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script; lets hosts use SRI (crossorigin)
    return response


def _faq():
    return knowledge.faq()


@bp.get("/widget/")
def panel():
    """The panel's first page: the search box (results as you type, and without JavaScript)."""
    query = request.args.get("q", "")
    outcome = knowledge.search().search(query, limit=RESULTS)
    return render_template("widget/panel.html", outcome=outcome, query=outcome.query)


@bp.get("/widget/faq/<entry_id>")
def entry(entry_id: str):
    item = _faq().by_id.get(entry_id)
    if item is None:
        abort(404)
    snippets = [_faq().snippets[s] for s in item.snippets if s in _faq().snippets]
    return render_template("widget/entry.html", entry=item, snippets=snippets)


@bp.get("/widget/contact")
def contact_start():
    return render_template("widget/contact_start.html", reasons=REASONS)


def _reason_or_404(reason_id: str):
    reason = get_reason(reason_id)
    if reason is None:
        abort(404)
    return reason


def _form(reason, formdata=None):
    # No CSRF field: the panel has no session to tie it to (see the module docstring).
    return contact_form_class(reason)(formdata=formdata, meta={"csrf": False})


def _render_form(reason, form, status: int = 200):
    form.ensure_idempotency_key()
    form.ensure_started()
    entries = services.reason_entries(reason)
    if not form.faq_seen.data:  # the answers shown with the form, as the /contact flow records them for the staff
        form.faq_seen.data = ",".join(entry.id for entry in entries)
    return render_template(
        "widget/contact_form.html", reason=reason, form=form, problems=getattr(form, "form_problems", []),
        entries=entries, field_name=field_name, confirmation_name=confirmation_name,
    ), status


@bp.get("/widget/contact/<reason_id>")
def contact_form(reason_id: str):
    """The reason's usual answer, then its whole form on one page (a small panel has no room for four steps)."""
    reason = _reason_or_404(reason_id)
    return _render_form(reason, _form(reason))


@bp.post("/widget/contact/<reason_id>")
def contact_send(reason_id: str):
    """Everything checked at once by the same rules as /contact/…/envoyer and POST /api/tickets."""
    reason = _reason_or_404(reason_id)
    form = _form(reason, request.form)
    result = form.check(services.now(), "all")
    if result.problems:
        if result.blocking:
            services.deflection(reason.id, "blocked")
        return _render_form(reason, form, 422)
    if spam.is_bot(form, services.now()):  # the page a person gets, nothing stored (no session to remember it by)
        decoy = spam.Decoy(new_ref(), reason, services.mask_email((form.email.data or "")[:254]))
        return render_template("widget/thanks.html", ticket=decoy, reason=reason, email=decoy.masked_email, deadline=None)
    key = form.idempotency_key.data or None
    if key and not services.valid_idempotency_key(key):
        key = None
    outcome = services.submit(result.submission, idempotency_key=key, source="widget")
    if outcome.kind == "throttled":
        form.form_problems = [limits.too_many(outcome.verdict)]
        response, _status = _render_form(reason, form)
        return response, 429, {"Retry-After": str(outcome.verdict.retry_after)}
    if outcome.kind == "conflict":
        form.idempotency_key.data = ""
        form.form_problems = [services.key_reused()]
        response, _status = _render_form(reason, form)
        return response, 409
    return redirect(url_for("widget.thanks", ref=outcome.ticket.ref), code=303)


@bp.get("/widget/merci/<ref>")
def thanks(ref: str):
    ticket = db_session().scalar(select(Ticket).where(Ticket.ref == ref))
    if ticket is None:
        abort(404)
    deadline = ticket.computed.get("retractation_fin")
    return render_template(
        "widget/thanks.html", ticket=ticket, reason=get_reason(ticket.reason), email=services.mask_email(ticket.email),
        deadline=parse_datetime(deadline) if deadline else None,
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
