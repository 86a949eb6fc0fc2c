"""Validate a contact submission against its reason: identity, confirmations, typed fields, then the pre-checks.

The HTML form and the JSON API both call `validate`, so a POST that skips or falsifies a step (with curl, say)
meets exactly the same rules as the form.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .checks import CHECKS
from .fields import REQUIRED, parse_field
from .problems import Problem
from .reasons import N_, Field, get_reason
from .redaction import redact_cards
from .submitted import Submission

MAX_MESSAGE = 5000
MAX_NAME = 200
_IDENTITY = (
    Field("name", N_("Nom et prénom"), "text", max_length=MAX_NAME),
    Field("email", N_("Adresse e-mail pour vous répondre"), "email", max_length=254),
)


@dataclass
class Validation:
    submission: Submission | None
    problems: list[Problem]
    # What to show back in the form: what was typed, with card numbers already masked.
    echo: dict[str, Any] = dataclasses.field(default_factory=dict)
    redactions: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def blocking(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.blocking]


def validate(
    reason_id: str | None,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    stage: str = "all",
    faq_seen: Iterable[str] = (),
) -> Validation:
    """Check `data` ({"name", "email", "message", "confirmations": [ids], "fields": {id: value}}) for a reason.

    stage="checks" validates only what the pre-check step asks (confirmations, the fields the checks read, the
    checks); stage="all" validates everything and is the only one that can lead to a ticket.
    """
    reason = get_reason(reason_id)
    if reason is None:
        return Validation(None, [Problem("motif-inconnu", N_("Choisissez un motif de contact."), "reason")])
    problems: list[Problem] = []
    redactions = 0
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, Mapping):
        raw_fields = {}
        problems.append(Problem("format", N_("Les champs doivent être envoyés sous forme d’objet."), "fields"))
    confirmations = data.get("confirmations")
    if confirmations is None:
        confirmations = []
    # Only a list of ids confirms anything: {"espace-refuse": false} is an object, not a confirmation.
    if not isinstance(confirmations, (list, tuple)) or not all(isinstance(item, str) for item in confirmations):
        confirmations = []
        problems.append(Problem("format", N_("Les confirmations doivent être une liste d’identifiants."), "confirmations"))
    confirmed = frozenset(confirmations)

    known_fields = {f.id for f in reason.fields}
    for unknown in sorted(set(map(str, raw_fields)) - known_fields):
        problems.append(Problem("champ-inconnu", N_("Champ inconnu pour ce motif : %(id)s."), "fields", {"id": unknown}))
    known_confirmations = {c.id for c in reason.confirmations}
    for unknown in sorted(confirmed - known_confirmations):
        problems.append(
            Problem("confirmation-inconnue", N_("Confirmation inconnue pour ce motif : %(id)s."), "confirmations", {"id": unknown})
        )
    for confirmation in reason.confirmations:
        if confirmation.required and confirmation.id not in confirmed:
            problems.append(Problem("confirmation-manquante", confirmation.if_not, confirmation.id))

    echo: dict[str, Any] = {}
    values: dict[str, Any] = {}
    fields = reason.fields if stage == "all" else reason.check_fields
    for field in fields:
        raw = raw_fields.get(field.id)
        if isinstance(raw, str) and field.type == "text":
            redacted = redact_cards(raw)
            raw, redactions = redacted.text, redactions + redacted.count
        echo[field.id] = "" if raw is None else raw
        value, problem = parse_field(field, raw)
        if problem:
            problems.append(problem)
        else:
            values[field.id] = value

    identity: dict[str, str] = {}
    message = ""
    if stage == "all":
        for field in _IDENTITY:
            raw = data.get(field.id)
            if field.id == "name" and isinstance(raw, str):  # a card typed as a name is masked like any text
                redacted = redact_cards(raw)
                raw, redactions = redacted.text, redactions + redacted.count
            value, problem = parse_field(field, raw)
            if problem:
                problems.append(problem)
            else:
                identity[field.id] = value
        redacted = redact_cards(str(data.get("message") or "").strip())
        message, redactions = redacted.text, redactions + redacted.count
        if reason.message_required and not message:
            problems.append(Problem("champ-requis", REQUIRED, "message"))
        if len(message) > MAX_MESSAGE:
            problems.append(Problem("trop-long", N_("%(max)d caractères au maximum."), "message", {"max": MAX_MESSAGE}))
        echo.update(name=identity.get("name", data.get("name") or ""), email=data.get("email") or "", message=message)

    submission = Submission(
        reason=reason,
        name=identity.get("name", ""),
        email=identity.get("email", ""),
        message=message,
        confirmations=confirmed & known_confirmations,
        values=values,
        faq_seen=tuple(faq_seen),
        redactions=redactions,
    )
    # Checks read typed fields: they run only when every field of this stage parsed.
    if not any(problem.field in known_fields for problem in problems):
        for name in reason.checks:
            problem = CHECKS[name](submission, now)
            if problem:
                problems.append(problem)
    return Validation(None if problems else submission, problems, echo, redactions)
