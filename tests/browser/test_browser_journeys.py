"""User journeys in real Chromium against the app served on loopback: visitor on a phone, trainee, staff.

Each journey asserts what the person sees (French text, the right page), not how the page is built, and fails on
any script error, 5xx or Content-Security-Policy violation met on the way (a `style=` or inline script in a
template shows up here).
"""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

TIMINGS: dict[str, float] = {}


def assert_clean(page, live_server) -> None:
    """No script error, no 5xx, no CSP violation, no dialog on the page; nothing logged as an error server-side."""
    hits, violations = page.probe.page_hits(page)
    assert hits == [] and page.probe.dialogs == []
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
    TIMINGS[request.node.name] = time.perf_counter() - started


def test_phone_visitor_searches_with_a_typo_and_opens_the_answer(live_server, phone_page):
    page = phone_page
    faq = live_server.app.extensions["faqbot.faq"]
    page.goto(live_server.url + "/")
    assert_fits_phone(page)
    box = page.get_by_label("Posez votre question")
    box.tap()
    box.fill("combien de poins je recupere")  # "poins": a typo the search must fix
    box.press("Enter")
    page.wait_for_url("**/recherche?**")
    heading = page.locator("#results-title")
    assert "« combien de points je recupere »" in heading.inner_text()
    assert "poins" in page.locator(".correction").inner_text()  # the page says what it corrected
    assert_fits_phone(page)
    first = page.locator("#page-results .hit-link").first
    expected = faq.by_id["nombre-points-recuperes-stage"]
    assert expected.question in first.inner_text()
    first.tap()
    page.wait_for_url(f"**/faq/{expected.id}**")
    assert page.get_by_role("heading", level=1).inner_text().strip() == expected.question
    assert_fits_phone(page)
    # The answer is shown, and the visitor can say whether it helped.
    assert expected.answer_plain.split("\n")[0][:60] in page.locator("main").inner_text()
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
    faq = live_server.app.extensions["faqbot.faq"]
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

    # The visitor got the FAQ answer by e-mail, with the reference.
    mails = [path.read_text(encoding="utf-8", errors="replace") for path in live_server.outbox.glob("*.eml")]
    replies = [mail for mail in mails if f"[{ref}]" in mail]
    assert len(replies) == 1
    import email

    body = email.message_from_string(replies[0]).get_payload(decode=True).decode("utf-8")
    assert first_line[:40] in body and ref in body
    history = page.locator(".history").inner_text()
    for expected in ("Pris en charge", "Réponse envoyée", "résolu → clos"):
        assert expected.lower() in history.lower(), history
    assert_clean(page, live_server)
