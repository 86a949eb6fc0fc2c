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
