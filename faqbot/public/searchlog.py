"""The search log (what visitors look for, what they open) and the popularity it gives to entries.

No personal data is stored: no address, no session, no user agent; only the text typed, the number of results,
the entry shown first and the entry opened.
"""
from __future__ import annotations

import atexit
import datetime as dt
import os
import re
import threading
import time
from typing import Callable, Mapping

from sqlalchemy import func, insert, select, update

from ..db import utcnow
from ..models import FeedbackVote, SearchLog
from ..triage.redaction import redact_cards

QUERY_MAX = 200  # the column's size
# Popularity counts the last quarter's openings, refreshed at most this often per worker.
POPULARITY_WINDOW = dt.timedelta(days=90)
POPULARITY_TTL_SECONDS = 300.0


class SearchLogWriter:
    """Buffer this process's search-log rows and write them in batches, one transaction each.

    Writing one row per search made every search take SQLite's write lock (BEGIN IMMEDIATE): the workers queued
    behind each other and the busy handler's back-off sleeps put the p95 over 20 ms. Here a request only appends
    to a list; a background thread writes what accumulated every `flush_seconds` (or as soon as `batch_rows`
    are waiting), and at exit (atexit: gunicorn workers leave through sys.exit on a graceful stop). A killed
    worker loses at most `flush_seconds` of log, never a search.

    A search row is named before it exists by its `at` timestamp, unique within the process (bumped by a
    microsecond on a tie): the results page links carry it and a click is applied to the row with that `at`,
    after the row's insert in the same batch, or in a later one when another worker still holds the row.
    With `flush_seconds=0` (tests) nothing runs in the background: `flush()` is called at the end of each request.
    """

    # Rows kept while the database is unreachable; beyond, the oldest are dropped (the log is a nicety).
    MAX_PENDING = 10_000
    # A click whose search row is not written yet (another worker's buffer) is retried this long.
    CLICK_RETRY_SECONDS = 10.0

    def __init__(self, database, flush_seconds: float = 0.5, batch_rows: int = 200, logger=None):
        self.database = database
        self.flush_seconds = flush_seconds
        self.batch_rows = batch_rows
        self.logger = logger
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards the buffers and the last timestamp
        self._write_lock = threading.Lock()  # one flush at a time
        self._rows: list[dict] = []
        self._clicks: list[tuple[dt.datetime, str, float]] = []
        self._last_at: dt.datetime | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def buffered(self) -> bool:
        return self.flush_seconds > 0

    def record_search(
        self, query: str, corrected: str | None, result_count: int, top_entry_id: str | None,
        clicked_entry_id: str | None = None,
    ) -> str:
        """Queue one search; give back its reference (for the click links of a results page)."""
        # A card number typed into the search box is personal data: it is masked before the log keeps it.
        row = {
            "query": redact_cards(query).text[:QUERY_MAX],
            "corrected_query": redact_cards(corrected).text[:QUERY_MAX] if corrected else None,
            "result_count": result_count,
            "top_entry_id": top_entry_id,
            "clicked_entry_id": clicked_entry_id,
        }
        self._check_fork()
        with self._lock:
            at = utcnow()
            if self._last_at is not None and at <= self._last_at:
                at = self._last_at + dt.timedelta(microseconds=1)
            self._last_at = at
            row["at"] = at
            self._rows.append(row)
            if len(self._rows) > self.MAX_PENDING:
                del self._rows[: len(self._rows) - self.MAX_PENDING]
            full = len(self._rows) >= self.batch_rows
        self._started(full)
        return reference_of(at)

    def record_click(self, reference: str, entry_id: str) -> bool:
        """Queue "the search `reference` led to `entry_id`" (first click only); False for a malformed reference."""
        at = at_of(reference)
        if at is None:
            return False
        self._check_fork()
        with self._lock:
            self._clicks.append((at, entry_id, time.monotonic() + self.CLICK_RETRY_SECONDS))
            del self._clicks[: max(0, len(self._clicks) - self.MAX_PENDING)]
        self._started(False)
        return True

    def pending(self) -> int:
        with self._lock:
            return len(self._rows) + len(self._clicks)

    def flush(self) -> None:
        """Write what is buffered in one transaction; on failure keep it for the next attempt."""
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                clicks, self._clicks = self._clicks, []
            if not rows and not clicks:
                return
            now = time.monotonic()
            try:
                retry = []
                with self.database.transaction() as tx:
                    if rows:
                        tx.execute(insert(SearchLog), rows)
                    for at, entry_id, deadline in clicks:
                        first = select(func.min(SearchLog.id)).where(SearchLog.at == at).scalar_subquery()
                        result = tx.execute(
                            update(SearchLog)
                            .where(SearchLog.id == first, SearchLog.clicked_entry_id.is_(None))
                            .values(clicked_entry_id=entry_id)
                        )
                        # No row yet: another worker may still hold it; an already clicked row needs nothing.
                        if not result.rowcount and deadline > now and not _exists(tx, at):
                            retry.append((at, entry_id, deadline))
            except Exception:
                if self.logger is not None:
                    self.logger.exception("Journal de recherche : écriture de %s lignes reportée", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                    self._clicks[:0] = [c for c in clicks if c[2] > now]
                    del self._rows[: max(0, len(self._rows) - self.MAX_PENDING)]
                return
            if retry:
                with self._lock:
                    self._clicks[:0] = retry

    def close(self) -> None:
        """Stop the flusher and write what is left (process exit)."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread() and thread.is_alive():
            thread.join(timeout=5)
        self.flush()
        atexit.unregister(self.close)

    def _check_fork(self) -> None:
        # A writer created before a fork (gunicorn --preload) must not share the parent's buffers or thread.
        if os.getpid() != self._pid:
            self._reset()

    def _started(self, full: bool) -> None:
        if not self.buffered:
            return
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="search-log-writer", daemon=True)
                    self._thread.start()
                    atexit.register(self.close)
        if full:
            self._wake.set()

    def _run(self) -> None:
        while not self._closed:
            # Sleep the interval (or less when a batch fills up), then write; idle costs one wake-up per interval.
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.flush()
            except Exception:  # never let the thread die: the next interval retries
                if self.logger is not None:
                    self.logger.exception("Journal de recherche : écriture impossible")


def _exists(tx, at: dt.datetime) -> bool:
    return tx.execute(select(SearchLog.id).where(SearchLog.at == at).limit(1)).first() is not None


_REFERENCE = re.compile(r"[0-9]{1,17}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def reference_of(at: dt.datetime) -> str:
    """A search's reference: its `at` in microseconds since 1970 (exact, no float rounding)."""
    delta = at - _EPOCH
    return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def at_of(reference: str | None) -> dt.datetime | None:
    if not reference or not _REFERENCE.fullmatch(reference):  # ASCII digits only; 17 digits reach year 5138
        return None
    try:
        return _EPOCH + dt.timedelta(microseconds=int(reference))
    except OverflowError:
        return None


def record_vote(session, entry_id: str, helpful: bool) -> None:
    session.add(FeedbackVote(entry_id=entry_id, helpful=helpful))


def popularity_for(app) -> Callable[[], Mapping[str, float]]:
    """A cached function giving each entry's number of openings from a search over the last 90 days."""
    state = {"at": -1e9, "value": {}}
    lock = threading.Lock()

    def popularity() -> Mapping[str, float]:
        now = time.monotonic()
        if now - state["at"] < POPULARITY_TTL_SECONDS:
            return state["value"]
        with lock:
            if now - state["at"] >= POPULARITY_TTL_SECONDS:
                try:
                    state["value"] = _count_openings(app)
                except Exception:  # the log is a nicety: search must work even if the database is down
                    app.logger.exception("Popularité des entrées indisponible")
                state["at"] = now
        return state["value"]

    return popularity


def _count_openings(app) -> dict[str, float]:
    database = app.extensions["faqbot.db"]
    since = utcnow() - POPULARITY_WINDOW
    with database.sessions() as session:
        rows = session.execute(
            select(SearchLog.clicked_entry_id, func.count())
            .where(SearchLog.clicked_entry_id.is_not(None), SearchLog.at >= since)
            .group_by(SearchLog.clicked_entry_id)
        ).all()
    return {entry_id: float(count) for entry_id, count in rows}
