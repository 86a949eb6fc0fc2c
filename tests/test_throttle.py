"""The shared rate limiter: sliding window, independence of buckets and keys, and exactness under concurrency.

"Shared by all workers" is tested with real separate processes hitting one database (SQLite file, PostgreSQL),
with a real gunicorn running several workers, and with a real Redis server when one is installed.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import select

from backends import BACKENDS
from faqbot.models import ThrottleHit
from faqbot.throttle import DatabaseThrottle, RedisThrottle, throttle_for



@pytest.fixture(params=BACKENDS)
def app(request, make_app, tmp_path):
    from staff_helpers import write_tiny_faq

    return make_app(request.param, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "index"))


T0 = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone.utc)  # the night Paris moves to summer time
WINDOW = dt.timedelta(minutes=15)


def _exercise_sliding_window(throttle) -> None:
    verdicts = [throttle.check_and_hit("login", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=i)) for i in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, True]
    assert [v.count for v in verdicts] == [1, 2, 3]
    refused = throttle.check_and_hit("login", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=5))
    assert not refused and refused.retry_after == 10 * 60  # the first attempt (T0) leaves the window at T0+15 min
    # Refusals are not counted: once the oldest attempt leaves, exactly one more fits.
    assert throttle.check_and_hit("login", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=15, seconds=1))
    again = throttle.check_and_hit("login", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=15, seconds=2))
    assert not again and again.retry_after == 60 - 2  # now the T0+1 min attempt is the one to wait for
    # Other keys and other buckets have their own counts.
    assert throttle.check_and_hit("login", "bob", 3, WINDOW, T0 + dt.timedelta(minutes=5))
    assert throttle.check_and_hit("contact", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=5))
    throttle.reset("login", "alice")
    assert throttle.check_and_hit("login", "alice", 3, WINDOW, T0 + dt.timedelta(minutes=16)).count == 1


def test_database_throttle_sliding_window(app, db):
    _exercise_sliding_window(DatabaseThrottle(db, "secret"))


def test_keys_are_stored_hashed(app, db):
    DatabaseThrottle(db, "secret").check_and_hit("login", "203.0.113.7", 5, WINDOW, T0)
    with db.transaction() as session:
        [stored] = session.scalars(select(ThrottleHit.key)).all()
    assert "203.0.113.7" not in stored and len(stored) == 64
    assert DatabaseThrottle(db, "autre secret")._hash("203.0.113.7") != stored


def test_now_and_then_a_check_sweeps_other_keys_expired_counters(app, db, monkeypatch):
    """One attempt in `_PURGE_ONE_IN` also deletes every key's counters that left the window (here: always), and still
    counts its own attempt exactly."""
    throttle = DatabaseThrottle(db, "secret")
    for i in range(3):
        throttle.check_and_hit("contact", f"ancien-{i}", 5, 60, T0)
    monkeypatch.setattr("faqbot.throttle._PURGE_ONE_IN", 1)
    verdict = throttle.check_and_hit("contact", "nouveau", 5, 60, T0 + dt.timedelta(seconds=120))
    assert verdict.allowed
    with db.transaction() as session:
        rows = session.scalars(select(ThrottleHit)).all()
    assert [row.count for row in rows] == [1] and rows[0].key == throttle._hash("nouveau")


def test_window_accepts_seconds_and_expired_rows_are_purged(app, db):
    throttle = DatabaseThrottle(db, "secret")
    for i in range(4):
        throttle.check_and_hit("contact", f"visiteur-{i}", 2, 60, T0)
    assert throttle.purge("contact", before=T0 + dt.timedelta(seconds=61)) == 4
    with db.transaction() as session:
        assert session.scalars(select(ThrottleHit)).all() == []


def test_app_uses_the_database_unless_redis_is_configured(app):
    assert isinstance(throttle_for(app), DatabaseThrottle)
    assert throttle_for(app) is throttle_for(app)


# --- Several processes on one store ------------------------------------------------------------------------


def _hammer(url: str, attempts: int, limit: int, start_at: float, results) -> None:
    """Child process: its own engine, like a gunicorn worker; waits for a common start instant."""
    from faqbot.db import Database

    database = Database(url)
    throttle = DatabaseThrottle(database, "secret")
    while time.time() < start_at:
        time.sleep(0.001)
    allowed = 0
    for _ in range(attempts):
        allowed += bool(throttle.check_and_hit("login", "victim@example.test", limit, WINDOW, dt.datetime.now(dt.timezone.utc)))
    database.dispose()
    results.put(allowed)


def test_processes_sharing_the_database_never_exceed_the_limit(app, db):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes_count, attempts, limit = 6, 10, 17
    start_at = time.time() + 3  # every process imported and connected before the first attempt
    processes = [
        context.Process(target=_hammer, args=(app.config["DATABASE_URL"], attempts, limit, start_at, results))
        for _ in range(processes_count)
    ]
    for process in processes:
        process.start()
    allowed = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert sum(allowed) == limit  # 60 concurrent attempts, exactly `limit` let through
    assert sum(1 for count in allowed if count) >= 2  # the allowance really was shared between processes


# --- A real gunicorn with several workers ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_login_throttle_holds_across_gunicorn_workers(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    instance = tmp_path / "instance"
    from staff_helpers import PASSWORD, write_tiny_faq

    env = dict(
        os.environ,
        FAQBOT_INSTANCE_PATH=str(instance),
        DATABASE_URL=f"sqlite:///{instance / 'faqbot.sqlite3'}",
        SECRET_KEY="gunicorn-test",
        FAQ_PATH=str(write_tiny_faq(tmp_path)),
        INDEX_DIR=str(tmp_path / "index"),
        OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    faqbot = Path(sys.executable).with_name("faqbot")
    created = subprocess.run(
        [str(faqbot), "staff", "add", "cible@support.test", "--password", PASSWORD], env=env, capture_output=True, text=True, timeout=120
    )
    assert created.returncode == 0, created.stderr
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [str(gunicorn), "--workers", "4", "--bind", f"127.0.0.1:{port}", "faqbot:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/staff/login", timeout=10).close()
                break
            except OSError:  # refused while booting, or a worker still loading
                assert time.time() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)

        statuses = []
        for _ in range(8):
            # A fresh client each time (new cookie, new connection): the workers take turns answering.
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            with opener.open(base + "/staff/login", timeout=30) as response:
                page = response.read().decode()
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            data = urllib.parse.urlencode({"csrf_token": csrf, "email": "cible@support.test", "password": "mauvais mot de passe"}).encode()
            try:
                with opener.open(base + "/staff/login", data=data, timeout=30) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                error.close()
        assert statuses == [200] * 5 + [429] * 3
    finally:
        server.terminate()
        server.wait(30)
        log.close()


# --- Redis ------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    pytest.importorskip("redis")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.time() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.time() < deadline
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    server.terminate()
    server.wait(10)


def test_redis_throttle_sliding_window(redis_url):
    _exercise_sliding_window(RedisThrottle(redis_url, "secret"))


def _hammer_redis(url: str, attempts: int, limit: int, start_at: float, results) -> None:
    throttle = RedisThrottle(url, "secret")
    while time.time() < start_at:
        time.sleep(0.001)
    results.put(sum(bool(throttle.check_and_hit("login", "victim", limit, WINDOW, dt.datetime.now(dt.timezone.utc))) for _ in range(attempts)))


def test_processes_sharing_redis_never_exceed_the_limit(redis_url):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 2
    processes = [context.Process(target=_hammer_redis, args=(redis_url, 20, 23, start_at, results)) for _ in range(5)]
    for process in processes:
        process.start()
    allowed = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(30)
    assert sum(allowed) == 23


def test_app_uses_redis_when_configured(make_app, redis_url, tmp_path):
    from staff_helpers import write_tiny_faq

    app = make_app("sqlite", REDIS_URL=redis_url, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "index"))
    assert isinstance(throttle_for(app), RedisThrottle)


# --- cost that does not grow with traffic, the caller's transaction, per-process soft limits (issues 12, 13) --


def test_counts_are_kept_per_slice_so_a_check_reads_a_bounded_number_of_rows(app, db):
    throttle = DatabaseThrottle(db, "secret")
    for second in range(0, 600, 2):  # 300 attempts in ten minutes under a generous limit
        assert throttle.check_and_hit("contact", "carol", 10**6, WINDOW, T0 + dt.timedelta(seconds=second))
    with db.transaction() as session:
        rows = session.execute(select(ThrottleHit.at, ThrottleHit.count)).all()
    assert len(rows) == 10 and sum(count for _at, count in rows) == 300  # one row per minute, not per attempt
    refused = throttle.check_and_hit("contact", "carol", 100, WINDOW, T0 + dt.timedelta(minutes=11))
    # 201 attempts must leave: the slices of minutes 0..6 hold 210 of them; the one of minute 6 leaves at 21 min.
    assert not refused and refused.count == 300 and refused.retry_after == (6 + 15 - 11) * 60


def test_a_check_inside_the_callers_transaction_is_undone_with_it(app, db):
    throttle = DatabaseThrottle(db, "secret")
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            assert throttle.check_and_hit("contact", "dave", 1, WINDOW, T0, session=session)
            raise RuntimeError("the ticket could not be stored")
    assert throttle.check_and_hit("contact", "dave", 1, WINDOW, T0 + dt.timedelta(seconds=1))  # not counted
    with db.transaction() as session:
        assert not throttle.check_and_hit("contact", "dave", 1, WINDOW, T0 + dt.timedelta(seconds=2), session=session)


def test_window_counter_limits_per_key_and_forgets_old_windows():
    from faqbot.throttle import WindowCounter

    counter = WindowCounter()
    assert [counter.allow("search-log", "a", 3, 60, 120.0 + i) for i in range(5)] == [True, True, True, False, False]
    assert counter.allow("search-log", "b", 3, 60, 125.0)  # another client
    assert counter.allow("search-log", "a", 3, 60, 180.0)  # the next minute
    counter.MAX_KEYS = 4
    for n in range(10):
        counter.allow("search-log", f"k{n}", 3, 60, 240.0)
    assert len(counter._counts) <= 4
