"""Refuse request bodies above MAX_CONTENT_LENGTH however they are sent.

With a Content-Length header Werkzeug answers 413 by itself. A chunked body (no Content-Length) is different:
Werkzeug stops reading at the limit and hands the truncated prefix to the app, which would then parse, say, the
first 64 KiB of a form as if it were the whole. Reading one byte past the limit tells the two apart.
"""
from __future__ import annotations

from flask import abort, current_app, request


def _refuse_oversized_stream():
    if request.content_length is not None or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit or not request.environ.get("wsgi.input_terminated"):
        return None
    data = request.get_data(cache=True)  # at most `limit` bytes; forms and JSON are parsed from this cache
    if len(data) >= limit and request.environ["wsgi.input"].read(1):
        abort(413)
    return None


def init_app(app) -> None:
    app.before_request(_refuse_oversized_stream)
