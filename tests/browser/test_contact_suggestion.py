"""The live reason suggestion in Chromium (contact.js): one reason when the classifier is sure, the two likeliest
when it is not — each a working link to its reason's answer page."""
from __future__ import annotations

import pytest

from test_browser_journeys import assert_clean
from test_triage_suggest import two_topic_message

pytestmark = pytest.mark.browser

CLEAR = "ma carte a expiré, je veux être remboursé par virement"


def _type_message(page, live_server, text: str) -> None:
    page.goto(f"{live_server.url}/contact")
    page.locator(".suggest-form textarea").fill(text)


def test_a_clear_message_gets_one_reason_and_its_button(live_server, page):
    _type_message(page, live_server, CLEAR)
    live = page.locator("#suggestion-live")
    live.locator("a.button").first.wait_for()
    assert "Motif probable" in live.inner_text() and "virement" in live.inner_text()
    buttons = live.locator("a.button")
    assert buttons.count() == 1 and buttons.get_attribute("data-reason") == "remboursement-virement"
    buttons.click()
    page.wait_for_url("**/contact?reason=remboursement-virement")
    assert_clean(page, live_server)


def test_an_uncertain_message_gets_the_two_likeliest_reasons(live_server, page):
    message, _pair = two_topic_message()  # one the classifier hesitates on
    # What the server answers for it (the classifier with the FAQ search's vote), likeliest first: the page must
    # offer exactly these two, in this order.
    expected = page.request.post(f"{live_server.url}/api/triage/suggest", data={"message": message}).json()
    assert expected["uncertain"] is True
    wanted = [expected["reason"], expected["alternatives"][0]["reason"]]
    assert set(wanted) == _pair
    _type_message(page, live_server, message)
    live = page.locator("#suggestion-live")
    live.locator("a.button").nth(1).wait_for()
    assert "Deux motifs sont possibles" in live.inner_text()
    buttons = live.locator("a.button")
    assert [buttons.nth(i).get_attribute("data-reason") for i in range(buttons.count())] == wanted
    # Each button is named by its card's title and leads to that reason.
    title = page.locator(f'.reason-card[data-reason="{wanted[1]}"] .reason-title').inner_text()
    assert buttons.nth(1).inner_text() == title
    buttons.nth(1).click()
    page.wait_for_url(f"**/contact?reason={wanted[1]}")
    assert_clean(page, live_server)
