"""User journeys in real Chromium against the app served on loopback: visitor on a phone, trainee, staff.

Each journey asserts what the person sees (French text, the right page), not how the page is built, and fails on
any script error, 5xx or Content-Security-Policy violation met on the way (a `style=` or inline script in a
template shows up here).
"""
from __future__ import annotations

import json
import time

import pytest

from faqbot import knowledge

pytestmark = pytest.mark.browser

TIMINGS: dict[str, float] = {}


def assert_clean(page, live_server) -> None:
    """No script error, no 5xx, no CSP violation, no dialog on the page; nothing logged as an error server-side."""
    from browser_support import DOM_AUDIT_SCRIPT

    hits, violations = page.probe.page_hits(page)
    assert hits == [] and page.probe.dialogs == []
    assert page.evaluate(DOM_AUDIT_SCRIPT) == []  # no inline script, handler or style= in the app's own markup
    assert violations == [], violations
    assert page.probe.page_errors == [], page.probe.page_errors
    assert page.probe.server_errors == [], page.probe.server_errors
    live_server.assert_no_server_errors()


def assert_fits_phone(page) -> None:
    """Mobile-first: nothing forces a sideways scroll on a 390 px screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the phone screen"


@pytest.fixture(autouse=True)
def _time_journey(request):
    started = time.perf_counter()
    yield
    TIMINGS[request.node.name] = round(time.perf_counter() - started, 2)
    # Kept for the README's figures: how long each journey takes in Chromium against gunicorn.
    from browser_support import PROJECT_ROOT

    (PROJECT_ROOT / "test-artifacts").mkdir(exist_ok=True)
    (PROJECT_ROOT / "test-artifacts" / "journeys.json").write_text(json.dumps(TIMINGS, indent=2))


def test_phone_visitor_searches_with_a_typo_and_opens_the_answer(live_server, phone_page):
    page = phone_page
    faq = knowledge.faq(live_server.app)
    page.goto(live_server.url + "/")
    assert_fits_phone(page)
    box = page.get_by_label("Posez votre question")
    box.tap()
    box.fill("combien de poins je recupere")  # "poins": a typo the search must fix
    box.press("Enter")
    page.wait_for_url("**/recherche?**")
    heading = page.locator("#results-title")
    assert "«\u00a0combien de points je recupere\u00a0»" in heading.inner_text()  # French spacing at display
    assert "poins" in page.locator(".correction").inner_text()  # the page says what it corrected
    assert_fits_phone(page)
    first = page.locator("#page-results .hit-link").first
    expected = faq.by_id["nombre-points-recuperes-stage"]
    from faqbot.typography import french_spacing  # titles are typeset at display

    assert french_spacing(expected.question) in first.inner_text()
    first.tap()
    page.wait_for_url(f"**/faq/{expected.id}**")
    assert page.get_by_role("heading", level=1).inner_text().strip() == french_spacing(expected.question)
    assert_fits_phone(page)
    # The answer is shown, and the visitor can say whether it helped.
    assert french_spacing(expected.answer_plain.split("\n")[0][:60]) in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Oui").is_visible()
    assert_clean(page, live_server)


# Set by the trainee journey, worked by the staff journey (which makes its own ticket when run alone).
JOURNEY = {}
AGENT_EMAIL = "agent.journee@example.test"
AGENT_PASSWORD = "Correct-Horse-Battery-42"


def _debit_ticket(live_server) -> str:
    import datetime as dt

    from browser_support import store_ticket_directly
    from faqbot.db import utcnow

    paid = (utcnow() - dt.timedelta(hours=3)).astimezone(dt.timezone.utc)
    stage = (utcnow() + dt.timedelta(days=20)).date()
    return store_ticket_directly(
        live_server,
        "debit-sans-confirmation",
        {
            "name": "Léa Morel",
            "email": "lea.morel@example.test",
            "message": "Débitée hier soir, aucun e-mail ni SMS reçu.",
            "confirmations": ["debit-stage-permis", "spams-verifies", "adresse-verifiee"],
            "fields": {
                "paiement_le": paid.isoformat(),
                "email_inscription": "lea.morel@example.test",
                "telephone": "06 12 34 56 78",
                "montant": "229",
                "ville_stage": "Lyon",
                "date_stage": stage.isoformat(),
            },
        },
    )


def _paris_now():
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Paris"))


def test_debit_visitor_blocked_on_a_missing_check_completes_it_and_gets_a_reference(live_server, page):
    import datetime as dt
    import re

    from sqlalchemy import func, select

    from faqbot.models import Ticket
    from faqbot.triage import get_reason

    reason = get_reason("debit-sans-confirmation")
    spams = next(c for c in reason.confirmations if c.id == "spams-verifies")
    paid_at = (_paris_now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    page.goto(live_server.url + "/contact")
    page.locator("a.reason-card[data-reason='debit-sans-confirmation']").click()
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    page.get_by_role("heading", name="Avant d’écrire, vérifions ensemble").wait_for()

    # Everything but the spam folder: the server refuses, says why, and keeps what was typed.
    for confirmation in reason.confirmations:
        if confirmation.id != spams.id:
            page.locator("#c_" + confirmation.id.replace("-", "_")).check()
    page.locator("#f_paiement_le").fill(paid_at)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Avant d’écrire, vérifions ensemble").wait_for()
    problems = page.locator(".problems, .error-summary, .field-error").all_inner_texts()
    assert any(spams.if_not.split("\n")[0][:30] in text or "spam" in text.lower() for text in problems), problems
    assert page.locator("#c_debit_stage_permis").is_checked()
    assert page.locator("#f_paiement_le").input_value() == paid_at
    with live_server.db.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Ticket))

    page.locator("#c_spams_verifies").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Vos informations").wait_for()
    page.get_by_label("Nom et prénom").fill("Léa Morel")
    page.get_by_label("Adresse e-mail pour vous répondre").fill("lea.morel@example.test")
    page.locator("#f_email_inscription").fill("lea.morel@example.test")
    page.locator("#f_telephone").fill("06 12 34 56 78")
    page.locator("#f_montant").fill("229,00")
    page.locator("#f_ville_stage").fill("Lyon 7e")
    page.locator("#f_date_stage").fill((_paris_now() + dt.timedelta(days=20)).strftime("%Y-%m-%d"))
    page.locator("textarea[name='message']").fill("Débitée ce matin, ni e-mail ni SMS depuis.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/contact/merci/**")
    ref = page.url.rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", ref)
    assert ref in page.locator("main").inner_text()

    with live_server.db.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        assert session.scalar(select(func.count()).select_from(Ticket)) == before + 1
        assert ticket.queue == "paiement" and ticket.email == "lea.morel@example.test"
        assert {c["id"] for c in ticket.confirmations} == {c.id for c in reason.confirmations}
    from browser_support import wait_for_mail

    # The acknowledgment leaves through the outbox, sent by the worker's sender thread right after the commit.
    acks = wait_for_mail(live_server, lambda message: ref in str(message["Subject"]))
    assert len(acks) == 1
    assert acks[0]["To"] == "lea.morel@example.test"
    JOURNEY["debit_ref"] = ref
    assert_clean(page, live_server)


def test_retractation_visitor_out_of_time_is_refused_with_the_deadline_in_french(live_server, phone_page):
    import datetime as dt

    from babel.dates import format_datetime
    from sqlalchemy import func, select

    from faqbot.models import Deflection, Ticket

    page = phone_page
    today = _paris_now().date()
    paid_on = today - dt.timedelta(days=30)
    stage = today + dt.timedelta(days=25)
    # The period ended at 23:59 on the 14th day after payment (the stage's eve comes later).
    deadline = dt.datetime.combine(paid_on + dt.timedelta(days=14), dt.time(23, 59))
    expected = format_datetime(deadline, "EEEE d MMMM y 'à' HH:mm", locale="fr_FR")
    with live_server.db.sessions() as session:
        tickets_before = session.scalar(select(func.count()).select_from(Ticket))

    page.goto(live_server.url + "/contact?reason=delai-retractation")
    page.get_by_role("button", name="Je dois quand même vous contacter").tap()
    page.get_by_role("heading", name="Avant d’écrire, vérifions ensemble").wait_for()
    page.locator("#f_date_paiement").fill(paid_on.isoformat())
    page.locator("#f_premier_jour_stage").fill(stage.isoformat())
    page.locator("[name='f_annulation_centre'][value='non'], select[name='f_annulation_centre']").first.evaluate(
        "(el) => { if (el.tagName === 'SELECT') { el.value = 'non'; } else { el.checked = true; } }"
    )
    page.get_by_role("button", name="Continuer").tap()
    page.get_by_role("heading", name="Avant d’écrire, vérifions ensemble").wait_for()
    # Dates are typeset at display (non-breaking spaces); compare the words.
    refusal = page.locator(".problems").inner_text().replace("\u00a0", " ").replace("\u202f", " ")
    assert f"expiré le {expected}" in refusal, (expected, refusal)
    assert page.locator("#f_date_paiement").input_value() == paid_on.isoformat()  # nothing typed is lost
    assert page.get_by_role("heading", name="Vos informations").count() == 0
    assert_fits_phone(page)
    with live_server.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
        blocked = session.scalar(
            select(func.count()).select_from(Deflection).where(
                Deflection.reason == "delai-retractation", Deflection.outcome == "blocked"
            )
        )
        assert blocked >= 1
    assert_clean(page, live_server)


def test_staff_claims_replies_with_a_canned_answer_and_closes(live_server, page):
    from browser_support import add_staff, login_staff

    ref = JOURNEY.get("debit_ref") or _debit_ticket(live_server)
    add_staff(live_server, AGENT_EMAIL, AGENT_PASSWORD, role="agent", name="Sam Agent")
    page.goto(live_server.url + "/staff/")
    page.wait_for_url("**/staff/login**")  # everything under /staff needs a login
    login_staff(page, live_server, AGENT_EMAIL, AGENT_PASSWORD)

    page.goto(live_server.url + "/staff/tickets")
    page.get_by_role("link", name=ref).click()
    page.wait_for_url(f"**/staff/tickets/{ref}")
    assert ref in page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("button", name="Prendre en charge").click()
    page.wait_for_url(f"**/staff/tickets/{ref}")
    assert "Sam Agent" in page.locator(".ticket-head").inner_text()

    # A canned reply taken from the FAQ answer of the reason.
    faq = knowledge.faq(live_server.app)
    canned = page.locator("select#canned")
    entry_id = canned.locator("optgroup").first.locator("option").first.get_attribute("value")
    entry = faq.by_id[entry_id]
    canned.select_option(entry_id)
    page.get_by_role("button", name="Insérer").click()
    reply = page.get_by_label("Réponse envoyée par e-mail au stagiaire")
    first_line = entry.answer_plain.strip().splitlines()[0]
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).value.includes(text)",
        arg=["textarea[name='reply-body']", first_line[:40]],
    )
    assert reply.input_value().startswith("Bonjour")
    page.get_by_label("Ensuite, passer le ticket en").select_option("resolu")
    page.get_by_role("button", name="Envoyer la réponse").click()
    page.wait_for_url(f"**/staff/tickets/{ref}")
    assert "Réponse envoyée" in page.locator("main").inner_text()

    page.get_by_label("Nouveau statut").select_option("clos")
    page.get_by_role("button", name="Changer le statut").click()
    page.wait_for_url(f"**/staff/tickets/{ref}")
    assert page.locator(".ticket-head .badge").first.inner_text().strip().lower() == "clos"

    # The visitor got the FAQ answer by e-mail, with the reference (and no second e-mail for the resolution).
    from browser_support import wait_for_mail

    replies = wait_for_mail(live_server, lambda message: f"[{ref}]" in str(message["Subject"]))
    assert len(replies) == 1
    body = replies[0].get_body(preferencelist=("plain",)).get_content()
    assert first_line[:40] in body and ref in body
    history = page.locator(".history").inner_text()
    for expected in ("Pris en charge", "Réponse envoyée", "résolu → clos"):
        assert expected.lower() in history.lower(), history
    assert_clean(page, live_server)
