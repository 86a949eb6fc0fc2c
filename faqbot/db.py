"""Persistence: the only module that creates engines and sessions, and runs the migrations."""
from __future__ import annotations

import datetime as dt
import fcntl
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
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


# Execution option of the engine behind `Database.read()`: its transactions never write.
READ_ONLY = "faqbot_read_only"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE.

    A deferred BEGIN takes its write lock only at the first write and then fails with "database is locked"
    when another worker wrote meanwhile; BEGIN IMMEDIATE takes it up front and waits (busy_timeout) instead.
    Read-only transactions (`Database.read()`) begin deferred: in WAL they never wait for, nor hold, the write lock.
    """
    if url.startswith("sqlite"):
        _create_private(url)
        # Wait up to 10 s for the write lock: well under gunicorn's 30 s worker timeout, so a stalled writer
        # surfaces as one failed request instead of workers killed in cascade while they wait.
        connect_args = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
        lock_path = _sqlite_path(url)
        if lock_path:
            connect_args["factory"] = _queued_writer_connection(lock_path + "-writelock")
        engine = create_engine(url, connect_args=connect_args)

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
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")
                return
            dbapi_connection = connection.connection.dbapi_connection
            queue = getattr(dbapi_connection, "queue_for_write", None)
            try:
                if queue is not None:
                    try:
                        queue()
                    except sqlite3.OperationalError as error:  # as SQLAlchemy reports SQLite's own "locked"
                        raise OperationalError("BEGIN IMMEDIATE", None, error) from error
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if queue is not None:
                    dbapi_connection.leave_write_queue()
                raise

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    # A sync worker serves one request at a time: its request session, the outbox sender's and the search-log
    # writer's are the connections it can use at once; 5 kept warm is plenty, 5 more for a burst of background work.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_path(url: str) -> str | None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:") or "mode=memory" in url:
        return None
    return path.split("?", 1)[0]


def _queued_writer_connection(lock_path: str):
    """A sqlite3.Connection class whose write transactions queue on an flock of `lock_path` before BEGIN IMMEDIATE.

    SQLite's own wait for the write lock (busy_timeout) sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries, so a
    writer that finds the lock taken for 1 ms often waits 10 or more, and under steady writes (tickets from two
    workers, the outbox sender) those sleeps were most of a ticket's time. Every writer of this app first takes an
    exclusive flock on a file next to the database, polled every 0.1–1 ms (the kernel drops it if a process dies),
    and releases it right after its COMMIT or ROLLBACK: BEGIN IMMEDIATE then almost never finds the lock taken.
    A writer that does not queue (the sqlite3 shell) is still waited for by busy_timeout.
    """
    import errno
    import os
    import sqlite3
    import time

    class QueuedWriterConnection(sqlite3.Connection):
        _lock_fd: int | None = None
        _queued = False

        def queue_for_write(self) -> None:
            if self._queued:
                return
            if self._lock_fd is None:
                self._lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            deadline = time.monotonic() + SQLITE_BUSY_SECONDS
            delay = 0.0001
            while True:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._queued = True
                    return
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() > deadline:  # the same answer SQLite gives after busy_timeout
                    raise sqlite3.OperationalError("database is locked")
                time.sleep(delay)
                delay = min(delay * 2, 0.001)

        def leave_write_queue(self) -> None:
            if self._queued:
                self._queued = False
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                if self.in_transaction is False:
                    self.leave_write_queue()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.leave_write_queue()

        def close(self) -> None:
            self.leave_write_queue()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            super().close()

    return QueuedWriterConnection


def _create_private(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask, often 0644: world-readable).

    SQLite gives its -wal and -shm files the database file's permissions, so they are private too.
    """
    import os

    path = _sqlite_path(url)
    if not path:
        return
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
        # Same pool, but its transactions are read-only (SQLite: a deferred BEGIN, no write lock).
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work with one consistent snapshot; on SQLite it takes no write lock.

        Only for reads: a write in it would have to upgrade a deferred transaction, which SQLite refuses with
        "database is locked" when another connection wrote meanwhile (what BEGIN IMMEDIATE exists to avoid).
        """
        with self.read_sessions() as session, session.begin():
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
