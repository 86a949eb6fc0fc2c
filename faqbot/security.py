"""CSRF protection, the security headers every response carries, and the card-redaction hooks.

The hooks make `triage.redaction` the one choke point for what leaves a request: every string (and JSON value)
of every row flushed by the ORM, and every log record, is redacted. E-mails are redacted in `mail.build_message`.
"""
from __future__ import annotations

import logging
import re

from flask import request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import JSON, String, Text, event
from sqlalchemy.orm import Session

from .triage.redaction import redact_text, redact_value

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script anywhere: a visitor's text can never run
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Columns (and keys of JSON columns) that hold secrets' hashes, opaque keys, references or identifiers: never free
# text, and changing them would break a lookup (an idempotency key, a token) or a header (a Message-ID whose random
# part holds 16 digits passing Luhn became « <[numéro de carte masqué]…@…> », which no e-mail library can parse).
# A column may also opt out with info={"redact": False}.
_NOT_FREE_TEXT = re.compile(r"(^|_)(hash|token|key|ref|encrypted)$|^message_id$")


_REDACTABLE: dict = {}


def _redactable_columns(mapper) -> list[tuple[str, bool]]:
    """(attribute, is_json) of the mapped class's text and JSON columns, computed once per mapper."""
    cached = _REDACTABLE.get(mapper)
    if cached is None:
        cached = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if column.info.get("redact") is False or _NOT_FREE_TEXT.search(column.name):
                continue
            if isinstance(column.type, JSON):
                cached.append((prop.key, True))
            elif isinstance(column.type, (String, Text)):
                cached.append((prop.key, False))
        _REDACTABLE[mapper] = cached
    return cached


def _redact_before_flush(session: Session, _context, _instances) -> None:
    """Redact card numbers in every new or changed row, whatever area wrote it."""
    from sqlalchemy import inspect

    for instance in list(session.new) + list(session.dirty):
        for key, is_json in _redactable_columns(inspect(instance).mapper):
            value = getattr(instance, key, None)
            if value is None:
                continue
            safe = _redact_json(value) if is_json else (redact_text(value) if isinstance(value, str) else value)
            if safe != value:
                setattr(instance, key, safe)


def _redact_json(value):
    """`redact_value`, leaving the identifiers a JSON column carries (`message_id`…) as they are: the same rule as for
    columns (a visitor never names a key: unknown form fields are refused before anything is stored)."""
    if isinstance(value, dict):
        return {key: item if isinstance(key, str) and _NOT_FREE_TEXT.search(key) else _redact_json(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_json(item) for item in value)
    return redact_value(value)


class RedactingFilter(logging.Filter):
    """Log records carry no card number, whatever was interpolated into them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg, record.args = redact_text(record.getMessage()), ()
        elif isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


def install_redaction() -> None:
    """Install the ORM and logging hooks once per process (every app and every session share them)."""
    if not event.contains(Session, "before_flush", _redact_before_flush):
        event.listen(Session, "before_flush", _redact_before_flush)
    root = logging.getLogger()
    for logger in (root, logging.getLogger("faqbot"), logging.getLogger("werkzeug"), logging.getLogger("gunicorn.error")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def init_app(app) -> None:
    csrf.init_app(app)
    install_redaction()
    if not any(isinstance(f, RedactingFilter) for f in app.logger.filters):
        app.logger.addFilter(RedactingFilter())
        for handler in app.logger.handlers:
            handler.addFilter(RedactingFilter())

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # The widget's panel sets its own frame-ancestors (EMBED_ORIGINS); X-Frame-Options has no allow-list.
        if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/staff"):
            response.headers["Cache-Control"] = "no-store"
        return response
