"""Fixtures: a fresh app per test with its own instance folder, database and search index.

Database tests run on SQLite always and on PostgreSQL too when FAQBOT_TEST_POSTGRES_URL is set (CI sets it):
each PostgreSQL test gets a schema of its own, dropped afterwards.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from faqbot import create_app

from backends import BACKENDS, POSTGRES_URL, postgres_schema_url

if os.environ.get("CI") and not POSTGRES_URL:
    raise RuntimeError("CI must test PostgreSQL too: set FAQBOT_TEST_POSTGRES_URL (.ci/run does)")

# The index built from data/faq.yaml is shared between tests: it depends only on the content.
@pytest.fixture(scope="session")
def shared_index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture
def make_app(tmp_path, shared_index_dir):
    """Build apps on a given backend; PostgreSQL schemas are dropped at teardown."""
    created_schemas: list[str] = []
    apps = []

    def build(backend: str = "sqlite", **config):
        instance = tmp_path / f"instance-{len(apps)}"
        if backend == "postgresql":
            schema = "t_" + uuid.uuid4().hex[:12]
            engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            engine.dispose()
            created_schemas.append(schema)
            database_url = postgres_schema_url(schema)
        else:
            database_url = f"sqlite:///{instance / 'test.sqlite3'}"
        settings = {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "INDEX_DIR": str(shared_index_dir),
            "OUTBOX_DIR": str(instance / "outbox"),
            "SECRET_KEY": "test-secret",
            "SMTP_HOST": "",
            # Every test client is 127.0.0.1: the public submission limit is tested on purpose (test_abuse.py)
            # with its own value, and must not refuse the 11th ticket of an unrelated test.
            "CONTACT_RATE_LIMIT": 10**6,
        }
        settings.update(config)
        app = create_app(settings)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["faqbot.db"].dispose()
    if created_schemas:
        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            for schema in created_schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def app(request, make_app):
    """An app on each available backend (SQLite, and PostgreSQL in CI)."""
    return make_app(request.param)


@pytest.fixture
def sqlite_app(make_app):
    """An app on SQLite only, for tests whose subject is not the database."""
    return make_app("sqlite")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """The app's Database (engine + sessions)."""
    return app.extensions["faqbot.db"]
