"""Rate limiting shared by every worker: a sliding window of counted attempts per (bucket, key).

The store must be shared — gunicorn runs several processes, and a per-process counter would let an attacker
multiply the limit by the number of workers. Two stores: the database table `throttle_hit` (default, nothing to
install) and Redis when REDIS_URL is set. Both are atomic: concurrent attempts never let more than `limit` through.

Counts are kept per slice of time, a fifteenth of the window (one minute of a 15-minute window): an attempt stays
counted while its slice starts inside the window, so a check reads at most 16 counters per key, whatever the
traffic (a log of every attempt grew with it: issue 13). Attempts at the start of a slice are exact; one later in
the slice leaves the window with its slice, at most a fifteenth of the window early.

Keys are hashed with a secret before they are stored, so the table holds no client address or e-mail in clear.
Used by the staff login; the public contact form and the FAQ votes reuse it with their own buckets.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import random
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, func, select, text, update

from .db import Database
from .models import ThrottleHit

# One purge of a bucket's expired rows every this many calls: keeps the table small without a cron job.
_PURGE_ONE_IN = 50
SLICES_PER_WINDOW = 15


def slice_seconds(window: dt.timedelta) -> float:
    """Length of one counting slice: a fifteenth of the window, at least one second."""
    return max(1.0, window.total_seconds() / SLICES_PER_WINDOW)


def slice_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """The start of the slice `now` falls in (slices are aligned on the epoch, the same in every worker)."""
    size = slice_seconds(window)
    return dt.datetime.fromtimestamp((now.timestamp() // size) * size, dt.timezone.utc)


def _verdict(counts: list[tuple[dt.datetime, int]], limit: int, window: dt.timedelta, now: dt.datetime) -> Verdict | None:
    """The refusal for these (slice start, count) pairs of the window, oldest first; None when one more fits."""
    total = sum(count for _start, count in counts)
    if total < limit:
        return None
    # Slices must leave, oldest first, until the total is below the limit: the last of them says when.
    excess, freed = total - limit + 1, 0
    for start, count in counts:
        freed += count
        if freed >= excess:
            return Verdict(False, _retry_after(start, window, now), total)
    return Verdict(False, _retry_after(counts[-1][0], window, now), total)


@dataclass(frozen=True)
class Verdict:
    """The answer to one attempt: allowed or not, and when to come back if not."""

    allowed: bool
    retry_after: int  # whole seconds until the oldest counted attempt leaves the window; 0 when allowed
    count: int  # attempts counted in the window, including this one when allowed

    def __bool__(self) -> bool:
        return self.allowed


class Throttle(Protocol):
    def check_and_hit(
        self, bucket: str, key: str, limit: int, window: dt.timedelta, now: dt.datetime, session=None
    ) -> Verdict: ...

    def peek(self, bucket: str, key: str, limit: int, window: dt.timedelta, now: dt.datetime, session) -> Verdict | None: ...

    def reset(self, bucket: str, key: str) -> None: ...


def _as_timedelta(window: dt.timedelta | int | float) -> dt.timedelta:
    return window if isinstance(window, dt.timedelta) else dt.timedelta(seconds=window)


def _retry_after(oldest_counted: dt.datetime, window: dt.timedelta, now: dt.datetime) -> int:
    return max(1, math.ceil((oldest_counted + window - now).total_seconds()))


class _Hashing:
    def __init__(self, secret: str):
        self._secret = secret.encode("utf-8")

    def _hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


class DatabaseThrottle(_Hashing):
    """Sliding window over slice counters in `throttle_hit`, one transaction per attempt (or the caller's).

    SQLite: the transaction starts with BEGIN IMMEDIATE (see db.py), so attempts are serialised.
    PostgreSQL: a transaction-scoped advisory lock on (bucket, key) serialises attempts on the same key only.
    """

    def __init__(self, database: Database, secret: str):
        super().__init__(secret)
        self.database = database

    def check_and_hit(
        self, bucket: str, key: str, limit: int, window: dt.timedelta | int, now: dt.datetime, session=None
    ) -> Verdict:
        """Count one attempt; with `session`, inside that open transaction (the caller commits)."""
        if session is not None:
            return self._check_and_hit(session, bucket, key, limit, _as_timedelta(window), now)
        with self.database.transaction() as own:
            return self._check_and_hit(own, bucket, key, limit, _as_timedelta(window), now)

    def peek(self, bucket: str, key: str, limit: int, window: dt.timedelta | int, now: dt.datetime, session) -> Verdict | None:
        """The refusal the committed counts already give, read in `session` without any lock; None when one more
        may fit (then `check_and_hit` decides, under its lock).

        Counts only grow until their slice leaves the window, so a refusal read here is the one the locked check
        would give at this instant: a client over its limit is refused without a write transaction.
        """
        window = _as_timedelta(window)
        rows = session.execute(
            select(ThrottleHit.at, ThrottleHit.count)
            .where(ThrottleHit.bucket == bucket, ThrottleHit.key == self._hash(key), ThrottleHit.at >= now - window)
            .order_by(ThrottleHit.at)
        ).all()
        return _verdict([(row.at, row.count) for row in rows], limit, window, now)

    def _check_and_hit(self, session, bucket: str, key: str, limit: int, window: dt.timedelta, now: dt.datetime) -> Verdict:
        hashed = self._hash(key)
        start = now - window
        current = slice_start(now, window)
        if session.get_bind().dialect.name == "postgresql":
            lock_id = int.from_bytes(hashlib.sha256(f"{bucket}:{hashed}".encode()).digest()[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": lock_id})
        purge = random.randrange(_PURGE_ONE_IN) == 0
        if not purge:
            counted = self._count_in_current_slice(session, bucket, hashed, limit, start, current)
            if counted is not None:
                return Verdict(True, 0, counted)
        # Every row of the key: at most SLICES_PER_WINDOW + 1 live ones plus the few that expired since its last
        # attempt, deleted below. The read never grows with traffic.
        rows = session.execute(
            select(ThrottleHit.id, ThrottleHit.at, ThrottleHit.count)
            .where(ThrottleHit.bucket == bucket, ThrottleHit.key == hashed)
            .order_by(ThrottleHit.at)
        ).all()
        expired = [row.id for row in rows if row.at < start]
        rows = [row for row in rows if row.at >= start]
        if purge:  # other keys' leftovers, in the same transaction
            session.execute(delete(ThrottleHit).where(ThrottleHit.bucket == bucket, ThrottleHit.at < start))
        elif expired:
            session.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(expired)))
        refused = _verdict([(row.at, row.count) for row in rows], limit, window, now)
        if refused is not None:
            return refused
        same_slice = next((row for row in rows if row.at == current), None)
        if same_slice is None:
            session.add(ThrottleHit(bucket=bucket, key=hashed, at=current, count=1))
            session.flush()
        else:  # attempts on one key are serialised (BEGIN IMMEDIATE / advisory lock): no lost update
            session.execute(update(ThrottleHit).where(ThrottleHit.id == same_slice.id).values(count=ThrottleHit.count + 1))
        return Verdict(True, 0, sum(row.count for row in rows) + 1)

    @staticmethod
    def _count_in_current_slice(session, bucket: str, hashed: str, limit: int, start: dt.datetime,
                                current: dt.datetime) -> int | None:
        """The common case in one statement (it runs under the write lock): add one to the current slice if the
        window's total stays within the limit, and return the new total. None when the slice has no row yet or
        the attempt is refused: the caller's full path decides (and says when to come back)."""
        table = ThrottleHit.__table__
        others = (
            select(func.coalesce(func.sum(table.c.count), 0))
            .where(table.c.bucket == bucket, table.c.key == hashed, table.c.at >= start, table.c.at != current)
            .scalar_subquery()
        )
        bumped = session.execute(
            update(table)
            .where(table.c.bucket == bucket, table.c.key == hashed, table.c.at == current, table.c.count + others < limit)
            .values(count=table.c.count + 1)
            .returning(table.c.count + others)  # the other slices are not changed by this statement
        ).scalars().all()
        return int(bumped[0]) if bumped else None

    def reset(self, bucket: str, key: str) -> None:
        with self.database.transaction() as session:
            session.execute(delete(ThrottleHit).where(ThrottleHit.bucket == bucket, ThrottleHit.key == self._hash(key)))

    def purge(self, bucket: str, before: dt.datetime) -> int:
        """Delete a bucket's attempts older than `before` (other keys' leftovers); best effort."""
        try:
            with self.database.transaction() as session:
                result = session.execute(delete(ThrottleHit).where(ThrottleHit.bucket == bucket, ThrottleHit.at < before))
                return result.rowcount or 0
        except Exception:  # a lock conflict with a concurrent purge is harmless: the next purge will do it
            return 0


# Atomic in Redis: one hash per (bucket, key), a field per slice start holding its count. Drop slices that left
# the window, sum the rest, then refuse (returning the slices, oldest first) or count this attempt.
_REDIS_SCRIPT = """
local key = KEYS[1]
local window_start = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local current = ARGV[4]
local fields = redis.call('HGETALL', key)
local total = 0
local kept = {}
for i = 1, #fields, 2 do
  local start = tonumber(fields[i])
  if start < window_start then
    redis.call('HDEL', key, fields[i])
  else
    total = total + tonumber(fields[i + 1])
    table.insert(kept, fields[i])
    table.insert(kept, fields[i + 1])
  end
end
if total >= limit then
  return {0, total, kept}
end
redis.call('HINCRBY', key, current, 1)
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return {1, total + 1, {}}
"""


class RedisThrottle(_Hashing):
    """Sliding window of slice counters in a Redis hash per (bucket, key), updated by one Lua script (atomic)."""

    def __init__(self, url: str, secret: str, prefix: str = "faqbot:throttle:"):
        super().__init__(secret)
        import redis  # optional dependency: only needed when REDIS_URL is set

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self._script = self.client.register_script(_REDIS_SCRIPT)

    def _key(self, bucket: str, key: str) -> str:
        return f"{self.prefix}{bucket}:{self._hash(key)}"

    def check_and_hit(
        self, bucket: str, key: str, limit: int, window: dt.timedelta | int, now: dt.datetime, session=None
    ) -> Verdict:
        window = _as_timedelta(window)  # `session` is ignored: Redis is its own atomic store
        current = slice_start(now, window)
        allowed, count, kept = self._script(
            keys=[self._key(bucket, key)],
            args=[(now - window).timestamp(), window.total_seconds(), limit, repr(current.timestamp())],
        )
        if allowed:
            return Verdict(True, 0, int(count))
        pairs = sorted(
            (dt.datetime.fromtimestamp(float(kept[i]), dt.timezone.utc), int(kept[i + 1])) for i in range(0, len(kept), 2)
        )
        refused = _verdict(pairs, limit, window, now)  # a Verdict is falsy when refused: no `or` here
        return refused if refused is not None else Verdict(False, 1, int(count))

    def peek(self, bucket: str, key: str, limit: int, window: dt.timedelta | int, now: dt.datetime, session=None) -> Verdict | None:
        """No early refusal: the Lua script is one round trip and takes no database lock."""
        return None

    def reset(self, bucket: str, key: str) -> None:
        self.client.delete(self._key(bucket, key))


def throttle_for(app) -> Throttle:
    """The app's throttle (created once per process): Redis when REDIS_URL is set, the database otherwise."""
    throttle = app.extensions.get("faqbot.throttle")
    if throttle is None:
        secret = app.config["SECRET_KEY"]
        if app.config.get("REDIS_URL"):
            throttle = RedisThrottle(app.config["REDIS_URL"], secret)
        else:
            throttle = DatabaseThrottle(app.extensions["faqbot.db"], secret)
        app.extensions["faqbot.throttle"] = throttle
    return throttle


class WindowCounter:
    """Per-process fixed-window counters for soft limits on cheap, frequent actions (search logging).

    Costs one dict lookup, never a database round trip: a search must not pay for its own analytics. Each worker
    counts on its own, so a client gets at most `limit` × workers per window — enough to stop one client from
    padding the statistics, which is all it protects.
    """

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def allow(self, bucket: str, key: str, limit: int, window_seconds: int, now: float) -> bool:
        window = int(now // window_seconds)
        started, count = self._counts.get((bucket, key), (window, 0))
        if started != window:
            count = 0
        if count >= limit:
            return False
        if len(self._counts) >= self.MAX_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            if len(self._counts) >= self.MAX_KEYS:
                self._counts.clear()
        self._counts[(bucket, key)] = (window, count + 1)
        return True


def window_counter_for(app) -> WindowCounter:
    counter = app.extensions.get("faqbot.window_counter")
    if counter is None:
        counter = app.extensions["faqbot.window_counter"] = WindowCounter()
    return counter
