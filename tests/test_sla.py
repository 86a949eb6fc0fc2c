"""SLA due times in business hours: weekends, French public holidays, the daylight-saving change, pauses."""
from __future__ import annotations

import datetime as dt

import pytest

from builders import make_ticket, paris
from faqbot.staff import workflow
from faqbot.triage.business_hours import (
    DEFAULT_SCHEDULE,
    add_business_time,
    business_time_between,
    is_holiday,
    parse_schedules,
    schedule_for,
)


def test_friday_evening_ticket_is_due_on_monday():
    # Friday 27 November 2026, 17:00: one hour left on Friday, three more on Monday from 9:00.
    due = add_business_time(paris(2026, 11, 27, 17), dt.timedelta(hours=4), DEFAULT_SCHEDULE)
    assert due == paris(2026, 11, 30, 12)


def test_written_on_sunday_the_clock_starts_monday_morning():
    due = add_business_time(paris(2026, 11, 29, 23, 30), dt.timedelta(hours=1), DEFAULT_SCHEDULE)
    assert due == paris(2026, 11, 30, 10)


def test_french_public_holidays_are_closed():
    # Friday 25 December 2026 is Christmas, then the weekend: a Thursday 17:00 ticket with 2 h is due Monday 10:00.
    assert is_holiday(dt.date(2026, 12, 25)) and is_holiday(dt.date(2027, 5, 6))  # Ascension 2027 too
    due = add_business_time(paris(2026, 12, 24, 17), dt.timedelta(hours=2), DEFAULT_SCHEDULE)
    assert due == paris(2026, 12, 28, 10)
    # Easter Monday 2027 (29 March), computed by the library, not by hand.
    assert add_business_time(paris(2027, 3, 26, 18), dt.timedelta(hours=1), DEFAULT_SCHEDULE) == paris(2027, 3, 30, 10)


def test_daylight_saving_change_keeps_the_paris_wall_clock():
    # Summer time starts on Sunday 29 March 2026: Friday 17:00 (UTC+1) + 2 h → Monday 10:00 (UTC+2).
    start = paris(2026, 3, 27, 17)
    due = add_business_time(start, dt.timedelta(hours=2), DEFAULT_SCHEDULE)
    assert due == paris(2026, 3, 30, 10)
    assert due.astimezone(dt.timezone.utc).hour == 8 and start.astimezone(dt.timezone.utc).hour == 16
    # And back to winter time on Sunday 31 October 2027: still 9:00–18:00 local on both sides.
    due = add_business_time(paris(2027, 10, 29, 16), dt.timedelta(hours=3), DEFAULT_SCHEDULE)
    assert due == paris(2027, 11, 2, 10)  # Monday 1 November is All Saints' Day
    assert business_time_between(paris(2027, 10, 29, 16), due, DEFAULT_SCHEDULE) == dt.timedelta(hours=3)


def test_jour_j_queue_works_on_saturday_and_from_8():
    jour_j = schedule_for("jour-j")
    assert add_business_time(paris(2026, 11, 27, 17, 30), dt.timedelta(hours=1), jour_j) == paris(2026, 11, 28, 8, 30)
    assert schedule_for("paiement") == DEFAULT_SCHEDULE


def test_configured_hours_and_clear_errors():
    schedules = parse_schedules("paiement=lun-sam 08:30-19:00; *=lun,mer,ven 10:00-12:00")
    assert schedules["paiement"].describe() == "lun–sam 08:30–19:00"
    assert schedule_for("points", schedules).describe() == "lun, mer, ven 10:00–12:00"
    assert schedule_for("jour-j", schedules) is schedules["*"]  # an explicit default applies to every queue
    assert parse_schedules("*=24/7")["*"].describe() == "24/7"
    for bad, words in [("paiement=lundi 9:00-18:00", "jours inconnus"), ("x=lun-ven 18:00-09:00", "fermeture avant"), ("n’importe", "illisibles")]:
        with pytest.raises(ValueError, match=words):
            parse_schedules(bad)


def test_sla_pauses_while_waiting_for_the_trainee_and_restarts_on_their_message(app):
    db = app.extensions["faqbot.db"]
    created = paris(2026, 11, 27, 17)  # Friday 17:00, normal priority: 9 business hours
    ticket = make_ticket(db, reason="debit-sans-confirmation", created_at=created, awaiting_team_since=created)
    sla = workflow.sla_for(ticket, paris(2026, 11, 30, 9, 30))
    assert (sla.state, sla.kind, sla.due_at) == ("ok", "premiere", paris(2026, 11, 30, 17))  # 1 h Friday + 8 h Monday
    assert sla.remaining == dt.timedelta(hours=7, minutes=30)
    # Answered Monday 10:00, now waiting for the trainee: paused, nothing due.
    ticket.first_response_at = paris(2026, 11, 30, 10)
    ticket.awaiting_team_since = None
    ticket.status = "attente_stagiaire"
    assert workflow.sla_for(ticket, paris(2026, 12, 4, 12)).state == "en_pause"
    # The trainee writes on Saturday: the next response is due 9 business hours after Monday 9:00.
    ticket.status, ticket.awaiting_team_since = "en_cours", paris(2026, 12, 5, 11)
    sla = workflow.sla_for(ticket, paris(2026, 12, 7, 17))
    assert (sla.kind, sla.due_at, sla.state) == ("suivante", paris(2026, 12, 7, 18), "a_risque")
    assert workflow.sla_for(ticket, paris(2026, 12, 8, 9, 1)).state == "depasse"
