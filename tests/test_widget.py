"""The embeddable help panel without a browser: who may frame it, no cookie, the same triage rules as /contact.
The launcher, the iframe on another origin, keyboard and phone use are tested in Chromium (tests/browser/)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from builders import valid_submission

from faqbot.db import utcnow
from faqbot.models import Ticket, TicketEvent

HOST = "http://localhost:8123"


@pytest.fixture
def widget_app(make_app):
    return make_app("sqlite", EMBED_ORIGINS=f"{HOST}, https://www.exemple-reservation.fr")


def _form(reason_id: str, submission: dict) -> dict:
    data = {"name": submission["name"], "email": submission["email"], "message": submission["message"]}
    data.update({"c_" + c.replace("-", "_"): "y" for c in submission["confirmations"]})
    data.update({"f_" + k: v for k, v in submission["fields"].items()})
    return data


def test_script_is_public_javascript(widget_app):
    with widget_app.test_client().get("/widget.js") as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert "faqbot" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/widget/", "/widget/?q=remboursement", "/widget/faq/contact-service-client",
                                  "/widget/contact", "/widget/contact/debit-sans-confirmation"])
def test_panel_pages_may_be_framed_by_the_allowed_sites_only_and_set_no_cookie(widget_app, path):
    response = widget_app.test_client().get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {HOST} https://www.exemple-reservation.fr" in policy
    assert "X-Frame-Options" not in response.headers and "Set-Cookie" not in response.headers
    assert "script-src 'self'" in policy  # the rest of the policy is the app's


def test_other_pages_stay_unframeable(widget_app):
    for path in ["/", "/contact", "/staff/login"]:
        response = widget_app.test_client().get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_without_embed_origins_only_faqbot_itself_may_frame_the_panel(make_app):
    policy = make_app("sqlite").test_client().get("/widget/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self';" in policy or policy.endswith("frame-ancestors 'self'")


def test_entry_links_and_search_stay_inside_the_panel(widget_app):
    html = widget_app.test_client().get("/widget/?q=remboursement").get_data(as_text=True)
    assert 'href="/widget/faq/' in html and 'data-entry-base="/widget/faq/"' in html
    assert 'href="/widget/contact"' in html


def test_panel_form_stores_a_ticket_through_the_same_rules(widget_app):
    client = widget_app.test_client()
    submission = valid_submission("debit-sans-confirmation", utcnow())
    page = client.get("/widget/contact/debit-sans-confirmation").get_data(as_text=True)
    assert "csrf_token" not in page and 'name="idempotency_key"' in page
    seen = re.search(r'name="faq_seen" type="hidden" value="([^"]*)"', page).group(1)
    assert seen  # the answers shown with the form travel with it
    response = client.post("/widget/contact/debit-sans-confirmation", data=dict(_form("x", submission), faq_seen=seen))
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    with widget_app.extensions["faqbot.db"].sessions() as session:
        ticket = session.scalar(sa.select(Ticket))
        event = session.scalar(sa.select(TicketEvent).where(TicketEvent.kind == "created"))
    assert ticket.ref in thanks and ticket.reason == "debit-sans-confirmation"
    assert event.data["source"] == "widget" and ticket.faq_seen  # the answers shown with the form are recorded


def test_panel_refuses_what_contact_refuses_and_keeps_what_was_typed(widget_app):
    client = widget_app.test_client()
    data = {"f_date_paiement": "2023-11-28", "f_premier_jour_stage": "2023-12-05", "f_annulation_centre": "non",
            "name": "Léa Martin", "email": "lea@example.test"}
    response = client.post("/widget/contact/delai-retractation", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Votre délai de rétractation a expiré" in html and 'value="2023-11-28"' in html and 'value="Léa Martin"' in html
    assert "Choisir un autre motif" in html
    missing = client.post("/widget/contact/autre", data={"name": "A", "email": "a@example.test", "message": "x"})
    assert missing.status_code == 422 and 'class="error-summary"' in missing.get_data(as_text=True)
    with widget_app.extensions["faqbot.db"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_panel_submissions_count_against_the_contact_limit(make_app):
    app = make_app("sqlite", CONTACT_RATE_LIMIT=1)
    client = app.test_client()
    first = valid_submission("debit-sans-confirmation", utcnow())
    assert client.post("/widget/contact/debit-sans-confirmation", data=_form("x", first)).status_code == 303
    second = client.post("/widget/contact/debit-sans-confirmation", data=_form("x", first))
    assert second.status_code == 429 and "Trop de demandes" in second.get_data(as_text=True)


def test_a_bot_filling_the_hidden_field_gets_a_thank_you_and_stores_nothing(widget_app):
    client = widget_app.test_client()
    submission = valid_submission("debit-sans-confirmation", utcnow())
    response = client.post("/widget/contact/debit-sans-confirmation",
                           data=dict(_form("x", submission), website="http://spam.example"))
    assert response.status_code == 200 and "Votre demande a bien été envoyée" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    with widget_app.extensions["faqbot.db"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
