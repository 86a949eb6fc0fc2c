"""Pre-checks: small pure functions `(submission, now) -> Problem | None`, registered by the name reasons use.

A reason lists its checks by name; a test proves every name resolves. Checks run only once every field they
read parsed cleanly, so they can rely on typed values.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from babel.dates import format_time

from .deadlines import PARIS, Transfer, assess_retraction, format_paris_datetime, paris_date
from .problems import Problem
from .reasons import N_
from .submitted import Submission

Check = Callable[[Submission, dt.datetime], "Problem | None"]
CHECKS: dict[str, Check] = {}
# Facts a check computes for the ticket (e.g. the deadlines), by the same name.
FACTS: dict[str, Callable[["Submission", dt.datetime], dict[str, Any]]] = {}

CONFIRMATION_DELAY = dt.timedelta(minutes=15)


def check(name: str):
    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


@check("paiement-depuis-15-minutes")
def payment_old_enough(submission: Submission, now: dt.datetime) -> Problem | None:
    """The confirmation e-mail and SMS can take a few minutes: writing earlier only creates a needless ticket."""
    paid_at: dt.datetime = submission.values["paiement_le"]
    if paid_at > now + dt.timedelta(minutes=5):  # a little slack for clocks
        return Problem("date-future", N_("Cette date est dans le futur : vérifiez-la."), "paiement_le")
    if now - paid_at < CONFIRMATION_DELAY:
        wait_until = paid_at + CONFIRMATION_DELAY
        return Problem(
            "paiement-trop-recent",
            N_(
                "Votre paiement date de moins de 15 minutes : la confirmation peut encore arriver. "
                "Patientez jusqu’à %(heure)s, puis vérifiez vos e-mails, vos SMS et vos courriers indésirables."
            ),
            "paiement_le",
            {"heure": format_time(wait_until, "HH:mm", tzinfo=PARIS, locale="fr_FR")},
            blocking=True,
        )
    return None


@check("dates-passees")
def dates_in_the_past(submission: Submission, now: dt.datetime) -> Problem | None:
    """A payment or a transfer cannot have happened tomorrow."""
    today = paris_date(now)
    for field_id in ("date_paiement", "date_transfert"):
        value = submission.values.get(field_id)
        if isinstance(value, dt.date) and value > today:
            return Problem("date-future", N_("Cette date est dans le futur : vérifiez-la."), field_id)
    return None


@check("dates-stage-coherentes")
def stage_days_in_order(submission: Submission, now: dt.datetime) -> Problem | None:
    first, second = submission.values.get("premier_jour_stage"), submission.values.get("second_jour_stage")
    if first and second and not dt.timedelta(0) <= second - first <= dt.timedelta(days=31):
        return Problem(
            "dates-stage-incoherentes",
            N_("Le second jour du stage doit suivre le premier (les deux jours se tiennent à quelques jours d’écart)."),
            "second_jour_stage",
        )
    return None


def _transfer(submission: Submission) -> Transfer | None:
    if submission.values.get("annulation_centre") != "oui":
        return None
    return Transfer(submission.values["date_transfert"], submission.values["premier_jour_nouveau_stage"])


@check("delai-retractation")
def retraction_period(submission: Submission, now: dt.datetime) -> Problem | None:
    """Enforce the withdrawal period: only cases the visitor cannot settle alone in « Je change d'avis » get in."""
    values = submission.values
    paid_on, stage_start = values["date_paiement"], values["premier_jour_stage"]
    today = paris_date(now)
    if paid_on > today:
        return Problem("date-future", N_("Cette date est dans le futur : vérifiez-la."), "date_paiement")
    if stage_start < paid_on:
        return Problem(
            "stage-avant-paiement", N_("Le premier jour du stage ne peut pas précéder le paiement."), "premier_jour_stage"
        )
    if values.get("annulation_centre") == "oui":
        for field_id in ("date_transfert", "premier_jour_nouveau_stage"):
            if values.get(field_id) is None:
                return Problem(
                    "champ-requis",
                    N_("Ce champ est obligatoire lorsque le centre a annulé votre stage."),
                    field_id,
                )
        if values["date_transfert"] < paid_on or values["date_transfert"] > today:
            return Problem(
                "date-transfert-incoherente",
                N_("La date du transfert doit se situer entre votre paiement et aujourd’hui."),
                "date_transfert",
            )
        if values["premier_jour_nouveau_stage"] < values["date_transfert"]:
            return Problem(
                "stage-avant-transfert",
                N_("Le nouveau stage ne peut pas commencer avant le transfert."),
                "premier_jour_nouveau_stage",
            )
    assessment = assess_retraction(paid_on, stage_start, now, _transfer(submission))
    deadline = {"date": format_paris_datetime(assessment.deadline)}
    if assessment.outcome == "open" and "espace-refuse" not in submission.confirmations:
        return Problem(
            "retractation-ouverte",
            N_(
                "Votre délai de rétractation court jusqu’au %(date)s : vous pouvez changer d’avis vous-même dans "
                "votre Espace Stagiaire, rubrique « Je change d’avis ». Écrivez-nous seulement si elle refuse votre demande."
            ),
            "espace-refuse",
            deadline,
            blocking=True,
        )
    if assessment.outcome == "expired":
        return Problem(
            "retractation-expiree",
            N_("Votre délai de rétractation a expiré le %(date)s."),
            None,
            deadline,
            blocking=True,
            answer=N_(
                "Passé ce délai, l’inscription ne peut plus être annulée ni remboursée ; vous pouvez encore changer "
                "de date depuis votre Espace Stagiaire, selon les conditions de votre stage."
            ),
        )
    if assessment.outcome == "transfer-expired":
        return Problem(
            "retractation-expiree",
            N_("Le nouveau délai de rétractation ouvert par le transfert a expiré le %(date)s."),
            None,
            deadline,
            blocking=True,
            answer=N_(
                "Après une annulation par le centre, un nouveau délai de 14 jours court à partir du transfert, "
                "jusqu’à la veille du nouveau stage à 18:00 au plus tard ; il est aujourd’hui dépassé."
            ),
        )
    return None


def _retraction_facts(submission: Submission, now: dt.datetime) -> dict[str, Any]:
    values = submission.values
    return assess_retraction(values["date_paiement"], values["premier_jour_stage"], now, _transfer(submission)).computed()


FACTS["delai-retractation"] = _retraction_facts
