"""The visitor's experience in HTML (no browser): French typography at display, the contact flow's summaries and
refusals, long pastes, the favicon, the header's contact link, the canned-answer list and the password rule.
What is visual or about focus is checked in Chromium in tests/browser/test_ux_browser.py."""
from __future__ import annotations

import re

import pytest
from builders import make_ticket, valid_submission
from markupsafe import Markup

from faqbot import knowledge
from faqbot.mail.compose import acknowledgment_text
from faqbot.db import utcnow
from faqbot.staff.accounts import AccountError, check_password_strength
from faqbot.typography import NBSP, NNBSP, french_spacing, typo


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1)


# --- Typography ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cette réponse vous a-t-elle aidé ?", f"Cette réponse vous a-t-elle aidé{NNBSP}?"),
        ("Attention !", f"Attention{NNBSP}!"),
        ("Motif : retard ; suite", f"Motif{NBSP}: retard{NNBSP}; suite"),
        ("rubrique « Je change d’avis »", f"rubrique «{NBSP}Je change d’avis{NBSP}»"),
        ("229,50 € et 100 %", f"229,50{NBSP}€ et 100{NBSP}%"),
        ("1 672 lignes", f"1{NNBSP}672 lignes"),
        ("le vendredi 4 décembre 2026 à 18:00", f"le vendredi{NBSP}4{NBSP}décembre{NBSP}2026 à 18:00"),
        ("https://exemple.fr:8080/a?b=c", "https://exemple.fr:8080/a?b=c"),  # nothing to do without a space
    ],
)
def test_french_spacing(text, expected):
    assert french_spacing(text) == expected


def test_typo_escapes_text_and_leaves_tags_and_attributes_alone():
    assert typo("<b>a</b> ?") == f"&lt;b&gt;a&lt;/b&gt;{NNBSP}?"
    rendered = typo(Markup('<a href="/x?y=1" title="a ?">Quoi ?</a>'))
    assert rendered == f'<a href="/x?y=1" title="a ?">Quoi{NNBSP}?</a>'


def test_visitor_text_is_kept_as_typed_in_form_values(client):
    """Typography is for display: a value the visitor sends back is never changed by it."""
    token = _token(client.get("/contact").get_data(as_text=True))
    message = "Bonjour : mon stage ? « test »"
    page = client.post("/contact/suggestion", data={"csrf_token": token, "message": message}).get_data(as_text=True)
    assert 'value="Bonjour : mon stage ? « test »"' in page


def test_entry_title_and_question_keep_their_mark_with_the_word(client):
    html = client.get("/faq/contact-service-client").get_data(as_text=True)
    assert f"ProStagesPermis{NNBSP}?</h1>" in html and f"aidé{NNBSP}?" in html


# --- Public pages -------------------------------------------------------------------------------------------


def test_favicon_is_served_and_linked(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon" href="/favicon.ico"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/recherche?q=stage", "/faq/contact-service-client", "/categorie/points-permis", "/contact"])
def test_every_public_page_has_the_contact_link_in_its_header(client, path):
    html = client.get(path).get_data(as_text=True)
    header = html.split("<header", 1)[1].split("</header>", 1)[0]
    assert 'class="header-contact" href="/contact"' in header and "Nous contacter" in header


def test_staff_pages_keep_their_own_navigation(client):
    header = client.get("/staff/login").get_data(as_text=True).split("<header", 1)[1].split("</header>", 1)[0]
    assert "header-contact" not in header


def test_a_5000_character_paste_is_searched_on_its_start_and_the_page_says_so(client):
    pasted = ("remboursement de mon stage annulé " * 160)[:5000]
    response = client.get("/recherche", query_string={"q": pasted})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    from faqbot.index.service import MAX_QUERY_CHARS

    assert f"Votre texte dépassait {MAX_QUERY_CHARS}" in html and f"{MAX_QUERY_CHARS} premiers caractères" in html
    heading = re.search(r'<h2 id="results-title">(.*?)</h2>', html, re.S).group(1)
    assert len(heading.strip()) < 300 and "…" in heading  # at most 240 characters of the paste
    assert "maxlength" not in html.split('id="q"', 1)[1].split(">", 1)[0]  # the browser does not cut it silently


def test_a_short_search_has_no_notice(client):
    assert "Votre texte dépassait" not in client.get("/recherche?q=remboursement").get_data(as_text=True)


def test_every_aria_controls_names_an_element_of_the_page(client):
    for path in ["/", "/recherche?q=stage", "/categorie/points-permis", "/categorie/inscription-paiement", "/faq/contact-service-client"]:
        html = client.get(path).get_data(as_text=True)
        for target in re.findall(r'aria-controls="([^"]+)"', html):
            assert f'id="{target}"' in html, (path, target)


def test_vote_thanks_once_next_to_the_form(client):
    token = _token(client.get("/faq/contact-service-client").get_data(as_text=True))
    client.post("/faq/contact-service-client/avis", data={"csrf_token": token, "yes": "Oui"})
    html = client.get("/faq/contact-service-client").get_data(as_text=True)
    assert html.count("Merci") == 1
    section = html.split('id="avis"', 1)[1].split("</section>", 1)[0]
    assert "nous sommes ravis" in section


# --- Contact flow -------------------------------------------------------------------------------------------


def _checks(client, reason_id: str, fields: dict, confirmations=()):
    token = _token(client.get("/contact").get_data(as_text=True))
    data = {"csrf_token": token, **{"f_" + k: v for k, v in fields.items()}}
    data.update({"c_" + c.replace("-", "_"): "y" for c in confirmations})
    return client.post(f"/contact/{reason_id}/verifications", data=data)


def test_summary_shows_dates_and_answers_the_french_way(client):
    now = utcnow()
    submission = valid_submission("delai-retractation", now)
    response = _checks(client, "delai-retractation", submission["fields"], submission["confirmations"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    summary = html.split('id="summary-title"', 1)[1].split("</section>", 1)[0]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", summary)  # no ISO date
    assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\u00a0\d{1,2}\u00a0\w+\u00a0\d{4}", summary)
    assert f"sur un autre{NNBSP}? <strong>Oui</strong>" in summary  # not « ? : oui »


def test_summary_shows_a_date_and_time_the_french_way(client):
    submission = valid_submission("debit-sans-confirmation", utcnow())
    fields = {k: v for k, v in submission["fields"].items()}
    fields["paiement_le"] = "2026-11-26T03:51"
    response = _checks(client, "debit-sans-confirmation", fields, submission["confirmations"])
    html = response.get_data(as_text=True)
    if response.status_code == 200 and 'id="summary-title"' in html:
        summary = html.split('id="summary-title"', 1)[1].split("</section>", 1)[0]
        assert "2026-11-26T03:51" not in summary
        assert "jeudi\u00a026\u00a0novembre\u00a02026 à 03:51" in summary
    else:  # a payment in the future is refused: the value is kept as typed in its box
        assert 'value="2026-11-26T03:51"' in html


def test_reason_autre_without_a_description_says_so(client):
    page = client.get("/contact?reason=autre").get_data(as_text=True)
    assert "<h1>Décrivez votre problème</h1>" in page and "La réponse qui règle le plus souvent ce cas" not in page
    response = client.post("/contact/autre/reponse", data={"csrf_token": _token(page), "message": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Écrivez quelques mots sur votre problème" in html and 'class="error-summary"' in html
    assert 'aria-invalid="true"' in html


def test_expired_deadline_refusal_offers_to_correct_the_date_or_pick_another_reason(client):
    response = _checks(client, "delai-retractation", {
        "date_paiement": "2023-11-28", "premier_jour_stage": "2023-12-05", "annulation_centre": "non"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    problems = html.split('id="problemes"', 1)[1].split("</div>", 1)[0]
    assert 'href="#f_date_paiement">Corriger une date</a>' in problems
    assert 'href="/contact">Choisir un autre motif</a>' in problems
    assert "autofocus" in html.split('id="problemes"', 1)[0].rsplit("<div", 1)[1] + html.split('id="problemes"', 1)[1][:40]
    # « Continuer » is no longer the main button of a refused case.
    assert 'class="button button-primary">Continuer' not in html and "Vérifier à nouveau" in html


def test_error_summary_takes_the_focus_after_a_refusal(client):
    html = _checks(client, "debit-sans-confirmation", {}).get_data(as_text=True)
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1" id="erreurs" autofocus>', html)


def test_thanks_page_and_email_name_the_reason_by_its_short_title(app, client):
    now = utcnow()
    submission = valid_submission("debit-sans-confirmation", now)
    token = _token(client.get("/contact").get_data(as_text=True))
    form = {"csrf_token": token, "name": submission["name"], "email": submission["email"], "message": submission["message"]}
    form.update({"c_" + c.replace("-", "_"): "y" for c in submission["confirmations"]})
    form.update({"f_" + k: v for k, v in submission["fields"].items()})
    response = client.post("/contact/debit-sans-confirmation/envoyer", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Débité(e), mais ni e-mail ni SMS de confirmation" in html
    assert "Je certifie avoir vérifié" not in html
    assert 'class="ref"' in html
    from faqbot.models import Ticket
    import sqlalchemy as sa

    with app.extensions["faqbot.db"].sessions() as session:
        ticket = session.scalar(sa.select(Ticket))
        with app.test_request_context():
            text = acknowledgment_text(ticket)
    assert "Motif : Débité(e), mais ni e-mail ni SMS de confirmation" in text and "Je certifie" not in text


def test_suggestion_sentences_of_contact_js_come_from_gettext(client):
    html = client.get("/contact").get_data(as_text=True)
    assert 'data-msg-likely="Motif probable\u00a0: {label}"' in html and 'data-msg-continue="Continuer avec ce motif"' in html
    with client.get("/static/contact.js") as response:
        script = response.get_data(as_text=True)
    assert "Motif probable" not in script and "Continuer avec ce motif" not in script


# --- Staff --------------------------------------------------------------------------------------------------


def test_password_rule_compares_the_whole_local_part():
    check_password_strength("MotDePasseAdmin2026!", "admin@exemple.fr")  # « admin » inside a longer password: fine
    for refused in ("Admin2026!!!!!", "admin@exemple.fr-2026", "Prenom.Nom-2026!"):
        email = "prenom.nom@exemple.fr" if refused.startswith("Prenom") else "admin@exemple.fr"
        with pytest.raises(AccountError):
            check_password_strength(refused, email)


def test_canned_answers_are_each_offered_once(make_app):
    from staff_helpers import add_staff, login

    app = make_app("sqlite")
    add_staff(app, "chef@example.test", role="admin")  # an admin can answer any ticket: the reply form is shown
    ticket = make_ticket(app.extensions["faqbot.db"], reason="debit-sans-confirmation", faq_seen=["contact-service-client"])
    client = app.test_client()
    login(client, "chef@example.test")
    html = client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    select = html.split('<select id="canned"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option value="([^"]+)"', select)
    assert values and len(values) == len(set(values))
    assert values[0] == "contact-service-client" and len(values) == len(knowledge.faq(app).entries)
