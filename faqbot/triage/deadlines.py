"""The legal withdrawal period (délai de rétractation), computed in Europe/Paris with `now` passed in.

The period runs from the payment and ends at the earlier of 23:59 on the 14th day after the payment and 18:00
on the eve of the stage's first day. When the centre cancels the stage and transfers the trainee, a new 14-day
period runs from the transfer, capped the same way by the new stage.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

PARIS = ZoneInfo("Europe/Paris")
RETRACTION_DAYS = 14
END_OF_LAST_DAY = dt.time(23, 59)
EVE_CUTOFF = dt.time(18, 0)


def paris_date(value: dt.date | dt.datetime) -> dt.date:
    """The calendar day in Paris of a date or an aware datetime (a payment at 23:30 UTC is the next day in Paris)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime")
        return value.astimezone(PARIS).date()
    return value


def retraction_deadline(paid_on: dt.date | dt.datetime, stage_start: dt.date) -> dt.datetime:
    """End of the withdrawal period as an aware Paris datetime: min(23:59 on day 14, 18:00 on the stage's eve)."""
    fourteenth_day = paris_date(paid_on) + dt.timedelta(days=RETRACTION_DAYS)
    by_duration = dt.datetime.combine(fourteenth_day, END_OF_LAST_DAY, tzinfo=PARIS)
    by_stage = dt.datetime.combine(stage_start - dt.timedelta(days=1), EVE_CUTOFF, tzinfo=PARIS)
    return min(by_duration, by_stage)


@dataclass(frozen=True)
class Transfer:
    """A cancellation by the centre followed by a transfer to another stage."""

    transferred_on: dt.date | dt.datetime
    new_stage_start: dt.date


@dataclass(frozen=True)
class RetractionAssessment:
    # open: the visitor can act alone in « Je change d'avis »; expired: nothing more can be done;
    # transfer-open: the centre's cancellation opened a new period that is still running (a ticket is warranted);
    # transfer-expired: even the new period is over.
    outcome: str
    deadline: dt.datetime  # the deadline that applies, aware (Paris)
    original_deadline: dt.datetime
    transfer_deadline: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome in {"open", "transfer-open"}

    def computed(self) -> dict[str, str]:
        """Facts for the ticket, in ISO 8601 UTC."""
        facts = {
            "retractation_issue": self.outcome,
            "retractation_fin": _iso_utc(self.deadline),
            "retractation_fin_initiale": _iso_utc(self.original_deadline),
        }
        if self.transfer_deadline is not None:
            facts["retractation_fin_apres_transfert"] = _iso_utc(self.transfer_deadline)
        return facts


def assess_retraction(
    paid_on: dt.date | dt.datetime,
    stage_start: dt.date,
    now: dt.datetime,
    transfer: Transfer | None = None,
) -> RetractionAssessment:
    """Which withdrawal period applies at `now` (aware), and is it still running?"""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware `now`")
    original = retraction_deadline(paid_on, stage_start)
    if transfer is None:
        return RetractionAssessment("open" if now <= original else "expired", original, original)
    after_transfer = retraction_deadline(transfer.transferred_on, transfer.new_stage_start)
    outcome = "transfer-open" if now <= after_transfer else "transfer-expired"
    return RetractionAssessment(outcome, after_transfer, original, after_transfer)


def format_paris_datetime(value: dt.datetime) -> str:
    """French wording of an instant in Paris time: "lundi 4 décembre 2023 à 18:00"."""
    return format_datetime(value, "EEEE d MMMM y 'à' HH:mm", tzinfo=PARIS, locale="fr_FR")


def _iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
