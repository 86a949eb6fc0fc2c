"""The framework's floor: a trivial Flask app that answers like faqbot without doing faqbot's work.

    gunicorn -w 2 "floor_app:app"          (run from bench/, or with --chdir bench)

- `GET /api/search` returns the JSON read once at start from FLOOR_PAYLOAD (a real faqbot /api/search response,
  captured by the benchmark for the same queries), serialised again on every request with `jsonify`, as faqbot does:
  same bytes on the wire, same JSON cost, no search.
- `POST /api/tickets` (when FLOOR_DATABASE_URL is set) parses the JSON body and inserts it as one row in one
  transaction, then answers 201 with a reference: the floor of a write (framework + one insert), no rules, no limiter,
  no e-mail.
Any other path: a JSON 404. Nothing else: this app exists only to be measured next to faqbot.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from flask import Flask, jsonify, request

app = Flask(__name__)

_payload_path = os.environ.get("FLOOR_PAYLOAD")
PAYLOAD = json.loads(Path(_payload_path).read_text(encoding="utf-8")) if _payload_path else {"results": []}

_engine = None
if os.environ.get("FLOOR_DATABASE_URL"):
    import sqlalchemy as sa

    _url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    _engine = sa.create_engine(_url, pool_pre_ping=False)
    _table = sa.Table(
        "floor_ticket", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(100), unique=True),
        sa.Column("ref", sa.String(40)),
        sa.Column("body", sa.Text),
    )
    if _url.startswith("sqlite"):
        from sqlalchemy import event

        @event.listens_for(_engine, "connect")
        def _sqlite_pragmas(connection, _record):  # the same journal mode as faqbot's SQLite
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=30000")


@app.get("/api/search")
def search():
    request.args.get("q", "")
    return jsonify(PAYLOAD)


@app.post("/api/tickets")
def tickets():
    if _engine is None:
        return jsonify({"error": "FLOOR_DATABASE_URL absent", "status": 404}), 404
    body = request.get_json()
    ref = uuid.uuid4().hex[:12]
    with _engine.begin() as connection:
        connection.execute(_table.insert().values(idempotency_key=request.headers.get("Idempotency-Key"), ref=ref,
                                                  body=json.dumps(body, ensure_ascii=False)))
    return jsonify({"ref": ref, "status": "recue"}), 201


@app.errorhandler(404)
def not_found(_error):
    return jsonify({"error": "Cette page n’existe pas.", "status": 404}), 404


def create_tables() -> None:
    """Create the floor's table (called once by the benchmark before the workers start)."""
    if _engine is not None:
        _table.metadata.create_all(_engine)
