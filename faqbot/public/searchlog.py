"""The search log (what visitors look for, what they open) and the popularity it gives to entries.

No personal data is stored: no address, no session, no user agent; only the text typed, the number of results,
the entry shown first and the entry opened.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable, Mapping

from sqlalchemy import func, select, update

from ..db import utcnow
from ..models import FeedbackVote, SearchLog

QUERY_MAX = 200  # the column's size
# Popularity counts the last quarter's openings, refreshed at most this often per worker.
POPULARITY_WINDOW = dt.timedelta(days=90)
POPULARITY_TTL_SECONDS = 300.0


def record_search(session, query: str, corrected: str | None, result_count: int, top_entry_id: str | None) -> int:
    row = SearchLog(
        query=query[:QUERY_MAX],
        corrected_query=corrected[:QUERY_MAX] if corrected else None,
        result_count=result_count,
        top_entry_id=top_entry_id,
    )
    session.add(row)
    session.flush()
    return row.id


def record_click(session, log_id: int, entry_id: str) -> bool:
    """Mark which entry a search led to (first click only; a later reload changes nothing)."""
    result = session.execute(
        update(SearchLog)
        .where(SearchLog.id == log_id, SearchLog.clicked_entry_id.is_(None))
        .values(clicked_entry_id=entry_id)
    )
    return bool(result.rowcount)


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
