"""Opening hours per queue and time counted in business hours (Europe/Paris, French public holidays closed).

An SLA target of « 4 h » means four hours during which the queue is staffed: a ticket written on Friday at 17:00
to a Monday–Friday 9:00–18:00 queue is due on Monday at 12:00, not on Friday at 21:00. Days are walked in Paris
wall-clock time (a window is 9:00–18:00 on both sides of a daylight-saving change) and measured in UTC.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DAY_NAMES = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
# Safety bound of the day walk: no schedule leaves more than a year without an opening.
MAX_DAYS = 400


@dataclass(frozen=True)
class Schedule:
    """When a queue is staffed: these weekdays (0 = Monday), from `opens` to `closes`, Paris time."""

    weekdays: frozenset[int]
    opens: dt.time
    closes: dt.time
    closed_on_holidays: bool = True

    def describe(self) -> str:
        if self == ALWAYS_OPEN:
            return "24/7"
        days = sorted(self.weekdays)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            span = f"{DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}"
        else:
            span = ", ".join(DAY_NAMES[d] for d in days)
        return f"{span} {self.opens:%H:%M}–{self.closes:%H:%M}"


# Documented defaults (README, « Délais en heures ouvrées »): the support team works Monday to Friday 9:00–18:00;
# the « jour J » queue (a trainee turned away at the door, a centre that cancels) follows the days stages run,
# Saturday included, from the morning's first session at 8:00.
DEFAULT_SCHEDULE = Schedule(frozenset(range(5)), dt.time(9), dt.time(18))
DEFAULT_QUEUE_SCHEDULES = {"jour-j": Schedule(frozenset(range(6)), dt.time(8), dt.time(18))}

_SPEC = re.compile(r"^\s*(?P<queue>[\w*-]+)\s*=\s*(?P<days>[a-z,–-]+)\s+(?P<opens>\d{1,2}:\d{2})\s*[-–]\s*(?P<closes>\d{1,2}:\d{2})\s*$")


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        bounds = re.split(r"[-–]", part)
        if not all(bound in DAY_NAMES for bound in bounds) or len(bounds) > 2:
            raise ValueError(f"jours inconnus : {part!r} (attendu par exemple lun-ven ou lun,mer,ven)")
        first, last = DAY_NAMES.index(bounds[0]), DAY_NAMES.index(bounds[-1])
        if last < first:
            raise ValueError(f"plage de jours à l’envers : {part!r}")
        days.update(range(first, last + 1))
    return frozenset(days)


# Staffed around the clock, holidays included (`file=24/7`).
ALWAYS_OPEN = Schedule(frozenset(range(7)), dt.time(0), dt.time.max, closed_on_holidays=False)


@lru_cache(maxsize=8)
def parse_schedules(text: str) -> dict[str, Schedule]:
    """Read `SLA_BUSINESS_HOURS`: « jour-j=lun-sam 08:00-18:00; *=lun-ven 09:00-18:00 » (`*` = every other queue).

    `file=24/7` declares a queue staffed around the clock.
    """
    schedules: dict[str, Schedule] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(";"))):
        queue, _sep, hours = item.partition("=")
        if hours.strip() == "24/7":
            schedules[queue.strip().lower()] = ALWAYS_OPEN
            continue
        match = _SPEC.match(item.lower())
        if not match:
            raise ValueError(f"horaires illisibles : {item!r} (attendu : file=lun-ven 09:00-18:00)")
        opens = dt.time.fromisoformat(match["opens"].zfill(5))
        closes = dt.time.fromisoformat(match["closes"].zfill(5))
        if closes <= opens:
            raise ValueError(f"fermeture avant l’ouverture : {item!r}")
        schedules[match["queue"]] = Schedule(_days(match["days"]), opens, closes)
    return schedules


def schedule_for(queue: str, configured: dict[str, Schedule] | None = None) -> Schedule:
    """The queue's own hours, else the configured default (`*`), else the documented defaults."""
    configured = configured or {}
    if queue in configured:
        return configured[queue]
    if queue in DEFAULT_QUEUE_SCHEDULES and "*" not in configured:
        return DEFAULT_QUEUE_SCHEDULES[queue]
    return configured.get("*", DEFAULT_QUEUE_SCHEDULES.get(queue, DEFAULT_SCHEDULE))


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.France(years=year))


def is_holiday(day: dt.date) -> bool:
    """A French public holiday (metropolitan France), from the maintained `holidays` library."""
    return day in _holidays(day.year)


def _window(day: dt.date, schedule: Schedule) -> tuple[dt.datetime, dt.datetime] | None:
    """The day's open interval in UTC, or None when closed (weekday not staffed, public holiday)."""
    if day.weekday() not in schedule.weekdays or (schedule.closed_on_holidays and is_holiday(day)):
        return None
    opens = dt.datetime.combine(day, schedule.opens, tzinfo=PARIS).astimezone(dt.timezone.utc)
    if schedule.closes == dt.time.max:  # open until midnight: the next day's 00:00, whatever its offset
        closes = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS).astimezone(dt.timezone.utc)
    else:
        closes = dt.datetime.combine(day, schedule.closes, tzinfo=PARIS).astimezone(dt.timezone.utc)
    return opens, closes


def add_business_time(start: dt.datetime, duration: dt.timedelta, schedule: Schedule) -> dt.datetime:
    """The instant (aware UTC) when `duration` of open time has elapsed after `start`."""
    if start.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    start = start.astimezone(dt.timezone.utc)
    left = duration
    day = start.astimezone(PARIS).date()
    for _ in range(MAX_DAYS):
        window = _window(day, schedule)
        if window is not None:
            opens, closes = window
            begin = max(opens, start)
            if begin < closes:
                available = closes - begin
                if left <= available:
                    return begin + left
                left -= available
        day += dt.timedelta(days=1)
    raise ValueError("aucune heure d’ouverture dans l’année : vérifiez SLA_BUSINESS_HOURS")


def business_time_between(start: dt.datetime, end: dt.datetime, schedule: Schedule) -> dt.timedelta:
    """Open time between two instants (negative when `end` is before `start`)."""
    if end < start:
        return -business_time_between(end, start, schedule)
    start, end = start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)
    total = dt.timedelta(0)
    day = start.astimezone(PARIS).date()
    last = end.astimezone(PARIS).date()
    while day <= last:
        window = _window(day, schedule)
        if window is not None:
            begin, finish = max(window[0], start), min(window[1], end)
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total
