"""The factory: configuration, instance folder, schema, headers, errors in French."""
from __future__ import annotations

import sqlalchemy as sa


def test_home_page_is_served_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="fr"' in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_unknown_page_is_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    assert "n’existe pas" in response.get_data(as_text=True)


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/inconnu")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_schema_is_migrated_at_start(app, db):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"ticket", "ticket_event", "staff_user", "search_log", "deflection"} <= tables


def test_single_migration_head(app):
    from alembic.script import ScriptDirectory

    from faqbot.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).get_heads()
    assert len(heads) == 1


def test_sqlite_uses_wal(sqlite_app):
    engine = sqlite_app.extensions["faqbot.db"].engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
