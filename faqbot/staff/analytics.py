"""What the FAQ misses, from the logs: searches, votes, deflections, tickets, first-response times; CSV export.

Pure queries plus Python grouping by Paris day (portable across SQLite and PostgreSQL, and the volumes of one
support site over 90 days fit in memory easily). No Flask here.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..content.overlay import is_junk_query
from ..models import Deflection, FeedbackVote, SearchLog, Ticket

PARIS = ZoneInfo("Europe/Paris")
TOP_LIMIT = 20
JUNK_HEADROOM = 3  # rows fetched per row shown, so that junk left out still leaves TOP_LIMIT real queries
DEFLECTION_OUTCOMES = ("resolved", "continued", "blocked", "submitted")


@dataclass
class Report:
    start: dt.datetime
    end: dt.datetime
    days: list[dt.date]
    searches_per_day: list[tuple[dt.date, int]] = field(default_factory=list)
    search_total: int = 0
    zero_total: int = 0
    top_queries: list[tuple[str, int, int]] = field(default_factory=list)  # query, count, with no result
    zero_queries: list[tuple[str, int]] = field(default_factory=list)
    no_votes: list[tuple[str, int, int]] = field(default_factory=list)  # entry id, "Non", "Oui"
    deflection: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # reason, outcome counts
    tickets_per_day: list[tuple[dt.date, dict[str, int]]] = field(default_factory=list)  # day, per queue
    tickets_per_reason: list[tuple[str, int]] = field(default_factory=list)
    tickets_reason_queue_day: list[tuple[dt.date, str, str, int]] = field(default_factory=list)
    ticket_total: int = 0
    median_first_response: dt.timedelta | None = None
    first_response_by_queue: list[tuple[str, dt.timedelta, int]] = field(default_factory=list)
    # Satisfaction (« Votre problème est-il résolu ? ») of tickets answered in the period, by queue, reason and
    # agent: (dimension, key, oui, non); the agent key is the assignee's e-mail ("" for none).
    csat: list[tuple[str, str, int, int]] = field(default_factory=list)
    csat_yes: int = 0
    csat_no: int = 0


def paris_day(value: dt.datetime) -> dt.date:
    return value.astimezone(PARIS).date()


def period(days: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, list[dt.date]]:
    """The last `days` Paris days including today, as a UTC interval and the list of days."""
    today = paris_day(now)
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(0), PARIS).astimezone(dt.timezone.utc)
    return start, now, [first + dt.timedelta(days=i) for i in range(days)]


def deflection_rate(counts: dict[str, int]) -> float | None:
    """Share of visitors who saw the answer and stopped, among those who stopped or submitted."""
    stopped, submitted = counts.get("resolved", 0), counts.get("submitted", 0)
    return stopped / (stopped + submitted) if stopped + submitted else None


def build_report(session: Session, days: int, now: dt.datetime) -> Report:
    start, end, day_list = period(days, now)
    report = Report(start=start, end=end, days=day_list)

    # Searches per day and totals.
    per_day: Counter[dt.date] = Counter()
    zero_total = 0
    for at, result_count in session.execute(select(SearchLog.at, SearchLog.result_count).where(SearchLog.at >= start, SearchLog.at <= end)):
        per_day[paris_day(at)] += 1
        zero_total += result_count == 0
    report.searches_per_day = [(day, per_day.get(day, 0)) for day in day_list]
    report.search_total = sum(per_day.values())
    report.zero_total = zero_total

    # Top and zero-result queries, grouped case- and space-insensitively.
    normalized = func.lower(func.trim(SearchLog.query))
    zero = func.sum(case((SearchLog.result_count == 0, 1), else_=0))
    rows = session.execute(
        select(normalized, func.count(), zero)
        .where(SearchLog.at >= start, SearchLog.at <= end)
        .group_by(normalized)
        .order_by(func.count().desc(), normalized)
        .limit(TOP_LIMIT * JUNK_HEADROOM)
    ).all()
    # Junk (emoji, one character, card numbers) is left out of the lists: it is nothing to write content for.
    report.top_queries = [(query, count, int(zeros or 0)) for query, count, zeros in rows if not is_junk_query(query)][:TOP_LIMIT]
    rows = session.execute(
        select(normalized, func.count())
        .where(SearchLog.at >= start, SearchLog.at <= end, SearchLog.result_count == 0)
        .group_by(normalized)
        .order_by(func.count().desc(), normalized)
        .limit(TOP_LIMIT * JUNK_HEADROOM)
    ).all()
    report.zero_queries = [(query, count) for query, count in rows if not is_junk_query(query)][:TOP_LIMIT]

    # Entries with the most "Non" votes.
    no = func.sum(case((FeedbackVote.helpful.is_(False), 1), else_=0))
    yes = func.sum(case((FeedbackVote.helpful.is_(True), 1), else_=0))
    rows = session.execute(
        select(FeedbackVote.entry_id, no, yes)
        .where(FeedbackVote.at >= start, FeedbackVote.at <= end)
        .group_by(FeedbackVote.entry_id)
        .having(no > 0)
        .order_by(no.desc(), FeedbackVote.entry_id)
        .limit(TOP_LIMIT)
    ).all()
    report.no_votes = [(entry_id, int(n), int(y)) for entry_id, n, y in rows]

    # Deflection per reason.
    by_reason: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DEFLECTION_OUTCOMES, 0))
    for reason, outcome, count in session.execute(
        select(Deflection.reason, Deflection.outcome, func.count())
        .where(Deflection.at >= start, Deflection.at <= end)
        .group_by(Deflection.reason, Deflection.outcome)
    ):
        by_reason[reason][outcome] = by_reason[reason].get(outcome, 0) + count
    report.deflection = sorted(by_reason.items(), key=lambda item: (-sum(item[1].values()), item[0]))

    # Tickets per day (by queue), per reason, and first-response times.
    queue_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    reason_queue_day: Counter[tuple[dt.date, str, str]] = Counter()
    per_reason: Counter[str] = Counter()
    response_times: dict[str, list[dt.timedelta]] = defaultdict(list)
    for created_at, queue, reason, first_response_at in session.execute(
        select(Ticket.created_at, Ticket.queue, Ticket.reason, Ticket.first_response_at).where(
            Ticket.created_at >= start, Ticket.created_at <= end
        )
    ):
        day = paris_day(created_at)
        queue_day[day][queue] += 1
        reason_queue_day[(day, reason, queue)] += 1
        per_reason[reason] += 1
        if first_response_at is not None:
            response_times[queue].append(first_response_at - created_at)
    report.tickets_per_day = [(day, dict(queue_day.get(day, {}))) for day in day_list]
    report.tickets_per_reason = sorted(per_reason.items(), key=lambda item: (-item[1], item[0]))
    report.tickets_reason_queue_day = sorted((day, reason, queue, count) for (day, reason, queue), count in reason_queue_day.items())
    report.ticket_total = sum(per_reason.values())
    every_time = [delta for deltas in response_times.values() for delta in deltas]
    report.median_first_response = statistics.median(every_time) if every_time else None
    report.first_response_by_queue = sorted(
        (queue, statistics.median(deltas), len(deltas)) for queue, deltas in response_times.items()
    )
    _satisfaction(session, report, start, end)
    return report


def _satisfaction(session: Session, report: Report, start: dt.datetime, end: dt.datetime) -> None:
    """Counts of « oui » / « non » answers recorded in the period, per queue, reason and agent."""
    from ..models import StaffUser

    counts: Counter[tuple[str, str, str]] = Counter()
    rows = session.execute(
        select(Ticket.queue, Ticket.reason, StaffUser.email, Ticket.csat)
        .outerjoin(StaffUser, StaffUser.id == Ticket.assignee_id)
        .where(Ticket.csat.is_not(None), Ticket.csat_at >= start, Ticket.csat_at <= end)
    )
    for queue, reason, agent, answer in rows:
        for dimension, key in (("file", queue), ("motif", reason), ("agent", agent or "")):
            counts[(dimension, key, answer)] += 1
        report.csat_yes += answer == "oui"
        report.csat_no += answer == "non"
    keys = sorted({(dimension, key) for dimension, key, _answer in counts})
    order = {"file": 0, "motif": 1, "agent": 2}
    report.csat = sorted(
        ((dimension, key, counts[(dimension, key, "oui")], counts[(dimension, key, "non")]) for dimension, key in keys),
        key=lambda row: (order[row[0]], -(row[2] + row[3]), row[1]),
    )


# --- CSV ----------------------------------------------------------------------------------------------------

# A cell starting with one of these is a formula to Excel/LibreOffice (=HYPERLINK(...), +cmd|..., @SUM, tab, CR).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str | int | float:
    """Neutralise spreadsheet formulas in text cells by prefixing an apostrophe (OWASP's advice)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _minutes(delta: dt.timedelta | None) -> str:
    return "" if delta is None else f"{delta.total_seconds() / 60:.1f}".replace(".", ",")


DATASETS = {
    "recherches-par-jour": ("date", "recherches"),
    "requetes": ("requete", "recherches", "dont_sans_resultat"),
    "requetes-sans-resultat": ("requete", "recherches"),
    "votes-non": ("entree_faq", "question", "votes_non", "votes_oui"),
    "evitement": ("motif", *DEFLECTION_OUTCOMES, "taux_evitement"),
    "tickets": ("date", "motif", "file", "tickets"),
    "premiere-reponse": ("file", "mediane_minutes", "tickets_repondus"),
    "satisfaction": ("dimension", "valeur", "oui", "non"),
}


def dataset_rows(report: Report, dataset: str, questions: dict[str, str]) -> list[tuple]:
    if dataset == "recherches-par-jour":
        return [(day.isoformat(), count) for day, count in report.searches_per_day]
    if dataset == "requetes":
        return list(report.top_queries)
    if dataset == "requetes-sans-resultat":
        return list(report.zero_queries)
    if dataset == "votes-non":
        return [(entry_id, questions.get(entry_id, ""), n, y) for entry_id, n, y in report.no_votes]
    if dataset == "evitement":
        rows = []
        for reason, counts in report.deflection:
            rate = deflection_rate(counts)
            rows.append((reason, *(counts.get(o, 0) for o in DEFLECTION_OUTCOMES), "" if rate is None else f"{rate:.3f}".replace(".", ",")))
        return rows
    if dataset == "tickets":
        return [(day.isoformat(), reason, queue, count) for day, reason, queue, count in report.tickets_reason_queue_day]
    if dataset == "premiere-reponse":
        rows = [("(toutes)", _minutes(report.median_first_response), sum(n for _, _, n in report.first_response_by_queue))]
        return rows + [(queue, _minutes(median), n) for queue, median, n in report.first_response_by_queue]
    if dataset == "satisfaction":
        return list(report.csat)
    raise KeyError(dataset)


def to_csv(header: tuple[str, ...], rows: list[tuple]) -> str:
    """Semicolon-separated UTF-8 with BOM: what French Excel opens correctly by double-click."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return buffer.getvalue()
