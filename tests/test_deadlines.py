"""The withdrawal deadline: fixed cases from the policy, and properties over years of dates including DST days."""
from __future__ import annotations

import datetime as dt

import pytest
from builders import paris, valid_submission
from hypothesis import given, settings
from hypothesis import strategies as st

from faqbot.triage import Transfer, assess_retraction, retraction_deadline, validate
from faqbot.triage.deadlines import PARIS, format_paris_datetime

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2032, 12, 31))
# Days around the clock changes get extra attention: 29 March and 25 October 2026 among them.
DST_DAYS = [dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2025, 3, 30), dt.date(2025, 10, 26), dt.date(2027, 3, 28), dt.date(2027, 10, 31)]
dst_adjacent = st.sampled_from(DST_DAYS).flatmap(lambda d: st.integers(-16, 16).map(lambda k: d + dt.timedelta(days=k)))
any_date = st.one_of(dates, dst_adjacent)


def test_fourteen_days_end_at_23_59():
    assert retraction_deadline(dt.date(2023, 11, 1), dt.date(2024, 1, 10)) == paris(2023, 11, 15, 23, 59)


def test_eve_of_the_stage_at_18_00_caps_the_period():
    deadline = retraction_deadline(dt.date(2023, 11, 28), dt.date(2023, 12, 5))
    assert deadline == paris(2023, 12, 4, 18, 0)
    assert format_paris_datetime(deadline) == "lundi 4 décembre 2023 à 18:00"


def test_payment_instant_counts_in_paris():
    late_evening_utc = dt.datetime(2026, 1, 9, 23, 30, tzinfo=UTC)  # already 10 January in Paris
    assert retraction_deadline(late_evening_utc, dt.date(2026, 6, 1)) == paris(2026, 1, 24, 23, 59)
    with pytest.raises(ValueError):
        retraction_deadline(dt.datetime(2026, 1, 9, 23, 30), dt.date(2026, 6, 1))


@pytest.mark.parametrize(
    ("paid", "stage", "expected_utc"),
    [
        # 14 days later falls just after the spring change: 23:59 CEST is 21:59 UTC.
        (dt.date(2026, 3, 15), dt.date(2026, 6, 1), dt.datetime(2026, 3, 29, 21, 59, tzinfo=UTC)),
        # The eve is the day of the autumn change: 18:00 CET is 17:00 UTC.
        (dt.date(2026, 10, 20), dt.date(2026, 10, 26), dt.datetime(2026, 10, 25, 17, 0, tzinfo=UTC)),
        # The eve is the day of the spring change: 18:00 CEST is 16:00 UTC.
        (dt.date(2026, 3, 20), dt.date(2026, 3, 30), dt.datetime(2026, 3, 29, 16, 0, tzinfo=UTC)),
        # 14 days later is the autumn change day itself.
        (dt.date(2026, 10, 11), dt.date(2026, 12, 1), dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC)),
    ],
)
def test_dst_days(paid, stage, expected_utc):
    assert retraction_deadline(paid, stage) == expected_utc


@settings(max_examples=400, deadline=None)
@given(paid=any_date, stage_offset=st.integers(0, 120))
def test_deadline_is_the_earlier_of_the_two_limits(paid, stage_offset):
    stage = paid + dt.timedelta(days=stage_offset)
    deadline = retraction_deadline(paid, stage)
    local = deadline.astimezone(PARIS)
    by_duration = dt.datetime.combine(paid + 14 * DAY, dt.time(23, 59), tzinfo=PARIS)
    by_stage = dt.datetime.combine(stage - DAY, dt.time(18, 0), tzinfo=PARIS)
    assert deadline == min(by_duration, by_stage)
    # Wall-clock time is exact whatever the clock change: 23:59 on day 14 or 18:00 on the eve.
    assert (local.date(), local.time()) in {(paid + 14 * DAY, dt.time(23, 59)), (stage - DAY, dt.time(18, 0))}
    assert local.utcoffset() in {dt.timedelta(hours=1), dt.timedelta(hours=2)}
    assert deadline <= by_stage and deadline <= by_duration
    if stage_offset >= 16:
        assert local.time() == dt.time(23, 59)


@settings(max_examples=300, deadline=None)
@given(paid=any_date, stage_offset=st.integers(1, 90), later=st.integers(0, 20))
def test_paying_later_never_shortens_the_period(paid, stage_offset, later):
    stage = paid + dt.timedelta(days=stage_offset + later)
    assert retraction_deadline(paid + dt.timedelta(days=later), stage) >= retraction_deadline(paid, stage)


@settings(max_examples=300, deadline=None)
@given(paid=any_date, stage_offset=st.integers(1, 90), minutes=st.integers(-3 * 24 * 60, 3 * 24 * 60))
def test_open_exactly_until_the_deadline(paid, stage_offset, minutes):
    stage = paid + dt.timedelta(days=stage_offset)
    deadline = retraction_deadline(paid, stage)
    now = (deadline + dt.timedelta(minutes=minutes)).astimezone(UTC)
    outcome = assess_retraction(paid, stage, now).outcome
    assert outcome == ("open" if minutes <= 0 else "expired")


@settings(max_examples=300, deadline=None)
@given(paid=any_date, transfer_after=st.integers(0, 60), new_stage_after=st.integers(1, 90), minutes=st.integers(-2000, 2000))
def test_transfer_opens_a_new_period_capped_by_the_new_stage(paid, transfer_after, new_stage_after, minutes):
    transferred = paid + dt.timedelta(days=transfer_after)
    new_stage = transferred + dt.timedelta(days=new_stage_after)
    transfer = Transfer(transferred, new_stage)
    new_deadline = retraction_deadline(transferred, new_stage)
    now = (new_deadline + dt.timedelta(minutes=minutes)).astimezone(UTC)
    assessment = assess_retraction(paid, paid + dt.timedelta(days=3), now, transfer)
    assert assessment.deadline == new_deadline == assessment.transfer_deadline
    assert assessment.outcome == ("transfer-open" if minutes <= 0 else "transfer-expired")
    assert new_deadline <= dt.datetime.combine(new_stage - DAY, dt.time(18, 0), tzinfo=PARIS)
    assert new_deadline <= dt.datetime.combine(transferred + 14 * DAY, dt.time(23, 59), tzinfo=PARIS)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        assess_retraction(dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.datetime(2026, 1, 5, 12, 0))


# --- the check as the form and the API use it ---------------------------------------------------------------


def _retraction(now, **fields):
    data = valid_submission("delai-retractation", now)
    data["fields"] = {key: value for key, value in fields.items() if value is not None}
    return validate("delai-retractation", data, now)


def test_expired_without_cancellation_is_blocked_with_the_date_in_french():
    now = paris(2023, 12, 6, 10, 0)
    result = _retraction(now, date_paiement="2023-11-28", premier_jour_stage="2023-12-05", annulation_centre="non")
    [problem] = result.problems
    assert problem.blocking and problem.code == "retractation-expiree"
    assert problem.text() == "Votre délai de rétractation a expiré le lundi 4 décembre 2023 à 18:00."
    assert problem.answer


def test_open_period_sends_the_visitor_to_je_change_d_avis_unless_refused():
    now = paris(2026, 3, 25, 10, 0)
    fields = dict(date_paiement="2026-03-20", premier_jour_stage="2026-05-02", annulation_centre="non")
    [problem] = _retraction(now, **fields).problems
    assert problem.code == "retractation-ouverte" and problem.field == "espace-refuse"
    assert "vendredi 3 avril 2026 à 23:59" in problem.text()  # 14 days after 20 March, across the 29 March change
    data = valid_submission("delai-retractation", now, confirmations=["espace-refuse"])
    data["fields"] = fields
    assert validate("delai-retractation", data, now).ok


def test_cancellation_inside_the_new_period_is_accepted_and_carries_the_dates():
    now = paris(2026, 10, 27, 9, 0)
    result = _retraction(
        now,
        date_paiement="2026-08-01",
        premier_jour_stage="2026-09-10",
        annulation_centre="oui",
        date_transfert="2026-10-20",
        premier_jour_nouveau_stage="2026-11-20",
    )
    assert result.ok
    from faqbot.triage.checks import FACTS

    facts = FACTS["delai-retractation"](result.submission, now)
    assert facts["retractation_issue"] == "transfer-open"
    assert facts["retractation_fin"] == "2026-11-03T22:59:00Z"  # 3 November 23:59 CET
    assert facts["retractation_fin_initiale"] == "2026-08-15T21:59:00Z"


def test_cancellation_after_the_new_period_is_blocked_too():
    now = paris(2026, 11, 20, 9, 0)
    result = _retraction(
        now,
        date_paiement="2026-08-01",
        premier_jour_stage="2026-09-10",
        annulation_centre="oui",
        date_transfert="2026-10-20",
        premier_jour_nouveau_stage="2026-11-28",
    )
    [problem] = result.problems
    assert problem.code == "retractation-expiree" and "mardi 3 novembre 2026 à 23:59" in problem.text()


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        (dict(date_paiement="2026-03-01", premier_jour_stage="2026-02-01", annulation_centre="non"), "premier_jour_stage", "stage-avant-paiement"),
        (dict(date_paiement="2026-04-01", premier_jour_stage="2026-05-01", annulation_centre="non"), "date_paiement", "date-future"),
        (dict(date_paiement="2026-03-01", premier_jour_stage="2026-03-20", annulation_centre="oui"), "date_transfert", "champ-requis"),
        (
            dict(date_paiement="2026-03-01", premier_jour_stage="2026-03-20", annulation_centre="oui", date_transfert="2026-02-01", premier_jour_nouveau_stage="2026-04-01"),
            "date_transfert",
            "date-transfert-incoherente",
        ),
        (
            dict(date_paiement="2026-03-01", premier_jour_stage="2026-03-20", annulation_centre="oui", date_transfert="2026-03-05", premier_jour_nouveau_stage="2026-03-04"),
            "premier_jour_nouveau_stage",
            "stage-avant-transfert",
        ),
    ],
)
def test_inconsistent_dates_are_refused(fields, field, code):
    [problem] = _retraction(paris(2026, 3, 10, 12, 0), **fields).problems
    assert (problem.field, problem.code) == (field, code)
