"""How often one client may submit a ticket (form or API), for the whole server: every worker shares the count
through `faqbot.throttle` (database, or Redis when REDIS_URL is set).

The client is `request.remote_addr`: the socket's address, or what TRUSTED_PROXIES hops of X-Forwarded-For say
(ProxyFix, set up in the app factory) — never a header the client chose itself.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, request

from ..db import utcnow
from ..throttle import Verdict, throttle_for
from ..triage import Problem
from ..triage.reasons import N_

BUCKET = "contact"


def _limit() -> tuple[str, int, dt.timedelta]:
    config = current_app.config
    return (request.remote_addr or "inconnue", int(config["CONTACT_RATE_LIMIT"]),
            dt.timedelta(seconds=int(config["CONTACT_RATE_WINDOW"])))


def count_submission(session=None) -> Verdict:
    """Count one submission that passed validation (what would create a ticket and send an e-mail).

    With `session`, the database store counts inside that transaction (the ticket's own): one transaction per
    ticket, and a ticket that fails to store is not counted.
    """
    client, limit, window = _limit()
    return throttle_for(current_app).check_and_hit(BUCKET, client, limit, window, utcnow(), session=session)


def already_refused(session) -> Verdict | None:
    """The refusal this client's committed count already gives (a read, no lock); None: `count_submission` decides."""
    client, limit, window = _limit()
    return throttle_for(current_app).peek(BUCKET, client, limit, window, utcnow(), session)


def too_many(verdict: Verdict) -> Problem:
    minutes = max(1, -(-verdict.retry_after // 60))
    return Problem(
        "trop-de-demandes",
        N_("Trop de demandes envoyées depuis cette connexion. Merci de réessayer dans %(minutes)d minute(s)."),
        None,
        {"minutes": minutes},
    )
