"""JSON API of the contact area: the reasons, a suggested reason for a message, ticket creation.

CSRF-exempt (no cookie session is involved, JSON bodies cannot be sent cross-site without CORS) but validated by
the same `triage.validate` as the HTML form: the same pre-checks, the same refusals, nothing stored on a 422.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from ..security import csrf
from ..triage import REASONS, Problem, get_reason, validate
from ..triage.reasons import N_
from ..triage.submission import MAX_MESSAGE
from ..triage.tickets import MAX_IDEMPOTENCY_KEY
from . import limits, services

bp = Blueprint("contact_api", __name__, url_prefix="/api")
csrf.exempt(bp)


def reason_payload(reason) -> dict:
    fields = []
    for field in reason.fields:
        item = {"id": field.id, "label": _(field.label), "type": field.type, "required": field.required}
        if field.type == "choice":
            item["choices"] = [{"value": value, "label": _(label)} for value, label in field.choices]
        fields.append(item)
    return {
        "id": reason.id,
        "label": _(reason.label),
        "queue": reason.queue,
        "priority": reason.priority,
        "confirmations": [{"id": c.id, "label": _(c.label)} for c in reason.confirmations],
        "fields": fields,
    }


def _errors(problems: list[Problem]) -> list[dict]:
    errors = []
    for problem in problems:
        error = {"field": problem.field, "code": problem.code, "message": problem.text(_)}
        if problem.blocking:
            error["blocking"] = True
        if problem.answer:
            error["answer"] = _(problem.answer)
        errors.append(error)
    return errors


def _unprocessable(problems: list[Problem]):
    return jsonify({"errors": _errors(problems)}), 422


def _json_body():
    """The parsed body, or a French error: 415 when it is not sent as JSON, 400 when it does not parse."""
    if not request.is_json:
        problem = Problem("json-attendu", N_("Envoyez le corps en JSON (Content-Type: application/json)."), None)
        return None, (jsonify({"error": problem.text(_), "status": 415, "errors": _errors([problem])}), 415)
    try:
        return request.get_json(), None
    except (BadRequest, RecursionError):  # RecursionError: "[[[[…" nested deeper than Python's stack
        problem = Problem("json-illisible", N_("Le corps de la requête n’est pas un JSON valide."), None)
        return None, (jsonify({"error": problem.text(_), "status": 400, "errors": _errors([problem])}), 400)


@bp.get("/triage/reasons")
def reasons():
    return jsonify({"reasons": [reason_payload(reason) for reason in REASONS]})


@bp.post("/triage/suggest")
def suggest():
    body, error = _json_body()
    if error:
        return error
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        return _unprocessable([Problem("message-invalide", N_("Envoyez {\"message\": \"…\"} (%(max)d caractères au maximum)."), "message", {"max": MAX_MESSAGE})])
    result = services.suggest_reason(message)
    return jsonify(
        {
            "reason": result.reason,
            "confidence": result.confidence,
            "label": _(get_reason(result.reason).label),
            "faq": [services.entry_payload(entry) for entry in result.faq],
            # The runners-up, likeliest first; when `uncertain`, a form offers the first of them next to `reason`.
            "alternatives": [
                {"reason": reason_id, "label": _(get_reason(reason_id).label), "confidence": confidence}
                for reason_id, confidence in result.alternatives
            ],
            "uncertain": result.uncertain,
        }
    )


@bp.post("/tickets")
def create():
    body, error = _json_body()
    if error:
        return error
    if not isinstance(body, dict):
        return _unprocessable([Problem("json-invalide", N_("Le corps de la requête doit être un objet JSON."), None)])
    key = request.headers.get("Idempotency-Key") or body.get("idempotency_key")
    if key is not None and not services.valid_idempotency_key(key):
        return _unprocessable(
            [Problem("idempotence-invalide", N_("La clé d’idempotence doit compter 8 à %(max)d lettres, chiffres ou « ._:- »."), "idempotency_key", {"max": MAX_IDEMPOTENCY_KEY})]
        )
    result = validate(body.get("reason"), body, services.now(), faq_seen=services.clean_faq_ids(body.get("faq_seen")))
    if not result.ok:
        return _unprocessable(result.problems)
    outcome = services.submit(result.submission, idempotency_key=key, source="api")
    if outcome.kind == "throttled":
        problem = limits.too_many(outcome.verdict)
        response = jsonify({"error": problem.text(_), "status": 429, "errors": _errors([problem])})
        response.status_code = 429
        response.headers["Retry-After"] = str(outcome.verdict.retry_after)
        return response
    if outcome.kind == "conflict":
        problem = services.key_reused()
        return jsonify({"error": problem.text(_), "status": 409, "errors": _errors([problem])}), 409
    ticket = outcome.ticket
    payload = {"ref": ticket.ref, "status": ticket.status, "redactions": ticket.redactions}
    if ticket.computed:
        payload["computed"] = ticket.computed
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = f"/contact/merci/{ticket.ref}"
    if outcome.kind == "replayed":  # a retry of a stored submission: same answer, not counted, no second e-mail
        response.headers["Idempotent-Replayed"] = "true"
    return response
