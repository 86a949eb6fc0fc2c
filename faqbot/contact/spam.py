"""Spam on the public form without third parties: a honeypot field and a minimum time to fill the form.

A bot gets the same answer a person gets (a redirect to a thank-you page with a reference) and nothing is stored
or sent: it learns nothing to adapt to. The decoy reference lives only in the bot's own session cookie.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..triage import get_reason, new_ref

_SALT = "faqbot.contact.started"
DECOYS_KEPT = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def started_token() -> str:
    """A signed "the form was shown now": a bot cannot backdate it."""
    return _serializer().dumps("contact")


def seconds_since_started(token: str | None) -> float | None:
    if not token:
        return None
    try:
        _value, signed_at = _serializer().loads(token, return_timestamp=True)
    except (BadSignature, TypeError, ValueError):
        return None
    return time.time() - signed_at.timestamp()


def is_bot(form, _now=None) -> bool:
    """The honeypot was filled, or the form came back faster than a person types (CONTACT_MIN_FILL_SECONDS)."""
    if (form.website.data or "").strip():
        return True
    minimum = float(current_app.config.get("CONTACT_MIN_FILL_SECONDS") or 0)
    if minimum <= 0:
        return False
    elapsed = seconds_since_started(form.started.data)
    return elapsed is None or elapsed < minimum


def decoy_ref(form=None) -> str:
    """A reference that looks like any other, remembered in the bot's session only."""
    ref = new_ref()
    decoys = dict(session.get("contact_decoys", {}))
    from .services import mask_email

    reason = getattr(form, "reason", None)
    email = (form.email.data or "") if form is not None else ""
    decoys[ref] = [reason.id if reason else "", mask_email(email[:254])]
    session["contact_decoys"] = dict(list(decoys.items())[-DECOYS_KEPT:])
    return ref


def decoy(ref: str):
    """The thank-you page's ticket for a decoy reference of this session, or None."""
    decoys = session.get("contact_decoys", {})
    if ref not in decoys:
        return None
    reason_id, masked = decoys[ref]
    return Decoy(ref, get_reason(reason_id), masked)


@dataclass(frozen=True)
class Decoy:
    ref: str
    reason: object
    masked_email: str
