"""What visitors failed to find, as lists an agent can act on: zero-result searches, searches followed by a contact,
answers voted « Non » and the searches that led to them, searches whose results nobody opened.

Pure queries (no Flask), grouped like the analytics page (lower case, trimmed). Junk (one character, no letters,
card numbers) never appears; queries dismissed as noise or already proposed are left out.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..content.model import Faq
from ..content.overlay import dismissed_queries, is_junk_query, normalise_query, proposed_queries
from ..models import FeedbackVote, SearchContact, SearchLog
from .analytics import period

LIST_LIMIT = 30


@dataclass
class QuerySignal:
    query: str
    count: int
    suggested_entry: str | None = None  # the entry the search ranked first (or the one voted « Non »)


@dataclass
class VotedEntry:
    entry_id: str
    no: int
    yes: int
    queries: list[QuerySignal] = field(default_factory=list)  # searches whose click led to this entry


@dataclass
class Signals:
    zero: list[QuerySignal] = field(default_factory=list)
    contact: list[QuerySignal] = field(default_factory=list)
    no_votes: list[VotedEntry] = field(default_factory=list)
    unclicked: list[QuerySignal] = field(default_factory=list)
    junk: set[str] = field(default_factory=set)  # distinct junk queries left out (counted on the page)

    @property
    def junk_hidden(self) -> int:
        return len(self.junk)


def _grouped(rows, skip: set[str], signals: Signals, limit: int = LIST_LIMIT) -> list[QuerySignal]:
    counts: Counter[str] = Counter()
    top: dict[str, Counter[str]] = {}
    for query, top_entry in rows:
        key = normalise_query(query)
        if is_junk_query(key):
            signals.junk.add(key)
            continue
        if key in skip:
            continue
        counts[key] += 1
        if top_entry:
            top.setdefault(key, Counter())[top_entry] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [QuerySignal(query, count, (top.get(query) or Counter()).most_common(1)[0][0] if top.get(query) else None) for query, count in ranked]


def content_signals(session: Session, faq: Faq, days: int, now: dt.datetime) -> Signals:
    start, end, _days = period(days, now)
    skip = dismissed_queries(session) | proposed_queries(session)
    signals = Signals()
    in_period = (SearchLog.at >= start, SearchLog.at <= end)

    signals.zero = _grouped(session.execute(select(SearchLog.query, SearchLog.top_entry_id).where(*in_period, SearchLog.result_count == 0)), skip, signals)
    contacted = select(SearchContact.search_at).where(SearchContact.at >= start)
    signals.contact = _grouped(
        session.execute(select(SearchLog.query, SearchLog.top_entry_id).where(*in_period, SearchLog.at.in_(contacted))), skip, signals
    )
    signals.unclicked = _grouped(
        session.execute(
            select(SearchLog.query, SearchLog.top_entry_id).where(*in_period, SearchLog.result_count > 0, SearchLog.clicked_entry_id.is_(None))
        ),
        skip, signals,
    )

    no = func.sum(case((FeedbackVote.helpful.is_(False), 1), else_=0))
    yes = func.sum(case((FeedbackVote.helpful.is_(True), 1), else_=0))
    rows = session.execute(
        select(FeedbackVote.entry_id, no, yes).where(FeedbackVote.at >= start, FeedbackVote.at <= end)
        .group_by(FeedbackVote.entry_id).having(no > 0).order_by(no.desc(), FeedbackVote.entry_id).limit(LIST_LIMIT)
    ).all()
    for entry_id, n, y in rows:
        resolved = faq.resolve(entry_id)
        voted = VotedEntry(resolved.id if resolved else entry_id, int(n), int(y))
        led_here = session.execute(select(SearchLog.query, SearchLog.clicked_entry_id).where(*in_period, SearchLog.clicked_entry_id == entry_id))
        voted.queries = _grouped(led_here, skip, signals, limit=5)
        signals.no_votes.append(voted)
    return signals
