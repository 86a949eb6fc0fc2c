"""Persistence (faqbot/db.py) on a real SQLite file: read-only transactions take no write lock, writers queue on
the write-lock file and go as soon as the writer before them commits, and a writer that cannot get in fails
instead of hanging."""
from __future__ import annotations

import os
import stat
import threading
import time

import pytest
import sqlalchemy as sa

import faqbot.db
from faqbot.db import Database


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    yield database
    database.dispose()


def test_a_read_neither_waits_for_nor_blocks_a_writer(database):
    with database.transaction() as writing:
        writing.execute(sa.text("INSERT INTO item (name) VALUES ('en cours')"))
        began = time.monotonic()
        with database.read() as reading:  # a deferred BEGIN: the open write transaction does not stop it
            assert reading.scalar(sa.text("SELECT count(*) FROM item")) == 0  # its own snapshot
        assert time.monotonic() - began < 1
    with database.read() as reading:
        assert reading.scalar(sa.text("SELECT count(*) FROM item")) == 1


def test_writers_queue_and_go_as_soon_as_the_lock_is_released(database, tmp_path):
    lock_file = tmp_path / "db.sqlite3-writelock"
    held, released_at, entered_at = threading.Event(), [], []

    def second_writer():
        held.wait(10)
        with database.transaction() as session:
            session.execute(sa.text("INSERT INTO item (name) VALUES ('deuxième')"))  # BEGIN IMMEDIATE: in the queue
            entered_at.append(time.monotonic())

    thread = threading.Thread(target=second_writer)
    thread.start()
    with database.transaction() as session:
        session.execute(sa.text("INSERT INTO item (name) VALUES ('premier')"))
        held.set()
        time.sleep(0.3)  # the second writer is queued meanwhile
        assert not entered_at
        released_at.append(time.monotonic())
    thread.join(10)
    # Queued on the lock file (polled every 0.1–1 ms), not in SQLite's busy handler (sleeps up to 100 ms a try).
    assert entered_at and entered_at[0] - released_at[0] < 0.1
    assert stat.S_IMODE(os.stat(lock_file).st_mode) == 0o600
    with database.read() as reading:
        assert reading.scalars(sa.text("SELECT name FROM item ORDER BY id")).all() == ["premier", "deuxième"]


def test_a_writer_that_cannot_get_in_fails_instead_of_hanging(database, monkeypatch):
    monkeypatch.setattr(faqbot.db, "SQLITE_BUSY_SECONDS", 0.3)
    with database.transaction() as session:
        session.execute(sa.text("INSERT INTO item (name) VALUES ('tenu')"))
        began = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            with database.transaction() as other:  # another connection, same thread: it would wait forever
                other.execute(sa.text("INSERT INTO item (name) VALUES ('bloqué')"))
        assert time.monotonic() - began < 5
    with database.transaction() as session:  # the queue is free again for the next writer
        session.execute(sa.text("INSERT INTO item (name) VALUES ('ensuite')"))
    with database.read() as reading:
        assert reading.scalars(sa.text("SELECT name FROM item ORDER BY id")).all() == ["tenu", "ensuite"]
