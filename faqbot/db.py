"""Persistence: the only module that creates engines and sessions, and runs the migrations."""
from __future__ import annotations

import datetime as dt
import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_SECONDS = 10


class Base(DeclarativeBase):
    """Declarative base shared by every area's models."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and always give back aware UTC (SQLite would return naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE.

    A deferred BEGIN takes its write lock only at the first write and then fails with "database is locked"
    when another worker wrote meanwhile; BEGIN IMMEDIATE takes it up front and waits (busy_timeout) instead.
    """
    if url.startswith("sqlite"):
        _create_private(url)
        # Wait up to 10 s for the write lock: well under gunicorn's 30 s worker timeout, so a stalled writer
        # surfaces as one failed request instead of workers killed in cascade while they wait.
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # let us emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten content is zeroed, not left in free pages: an erasure (RGPD) really erases.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _create_private(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask, often 0644: world-readable).

    SQLite gives its -wal and -shm files the database file's permissions, so they are private too.
    """
    import os

    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:") or "mode=memory" in url:
        return
    path = path.split("?", 1)[0]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


class Database:
    """Owns one engine and its session factory for one app."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def upgrade(self, lock_dir: Path) -> None:
        """Bring the schema to the latest migration; a file lock keeps concurrent workers from racing."""
        from alembic import command

        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / "migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(alembic_config(self.url), "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def init_app(app) -> None:
    """Attach the database to the app, migrate if asked, and give each request one session."""
    from flask import g

    database = Database(app.config["DATABASE_URL"])
    app.extensions["faqbot.db"] = database
    import_models()
    if app.config.get("AUTO_MIGRATE"):
        database.upgrade(Path(app.instance_path))

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_db(app=None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["faqbot.db"]


def session() -> Session:
    """The request's session (created on first use, closed at teardown)."""
    from flask import g

    if "db_session" not in g:
        g.db_session = get_db().sessions()
    return g.db_session


def import_models() -> None:
    """Import every module that declares models so Base.metadata is complete (Alembic, tests)."""
    import importlib

    for name in ("faqbot.models",):
        importlib.import_module(name)
