"""The trainee's follow-up page /suivi/<token>: link in every e-mail, the exchange without notes, messages and
« résolu » recorded with redaction, satisfaction by POST only, revoked and unknown tokens are an ordinary 404."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from builders import valid_submission
from faqbot.models import FollowupToken, OutboxMessage, Ticket, TicketEvent
from faqbot.triage.redaction import CARD_MASK
from mail_helpers import body, followup_token, outbox_files
from staff_helpers import add_staff, login, post

CARD = "4111 1111 1111 1111"  # the classic Luhn-valid test Visa


def _csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _ticket(db, ticket_id: int) -> Ticket:
    with db.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.events  # loaded while the session is open
        return ticket


def _file_ticket(app, reason="debit-sans-confirmation", **overrides):
    client = app.test_client()
    response = client.post("/api/tickets", json=valid_submission(reason, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.extensions["faqbot.db"].sessions() as session:
        ticket = session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
    [ack] = [m for m in outbox_files(app) if ticket.ref in str(m["Subject"])]
    return ticket, ack, client


def test_acknowledgment_carries_the_link_and_french_values(app):
    ticket, ack, client = _file_ticket(app)
    text = body(ack)
    token = followup_token(ack)
    assert f"{app.config['PUBLIC_URL']}/suivi/{token}" in text
    # Babel, not stored values: « 229,00 € » and a French date, never "229.00" or an ISO "…T…Z" instant.
    assert "229,00\u00a0€" in text and "229.00" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)
    assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} \w+ 20\d\d à \d\d:\d\d", text)
    # Only the hash is stored.
    with app.extensions["faqbot.db"].sessions() as session:
        hashes = session.scalars(sa.select(FollowupToken.token_hash)).all()
    assert token not in str(hashes) and len(hashes) == 1
    page = client.get(f"/suivi/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert ticket.ref in html and "Débité(e), mais ni e-mail ni SMS de confirmation" in html
    assert "Reçue : elle attend qu’un conseiller la prenne en charge." in html


def test_page_shows_the_exchange_never_the_notes(app, tmp_path):
    ticket, ack, client = _file_ticket(app)
    token = followup_token(ack)
    add_staff(app, "agent@support.test", role="admin")
    staff = app.test_client()
    login(staff, "agent@support.test")
    post(staff, f"/staff/tickets/{ticket.ref}/note", {"note-body": "NOTE-SECRETE-INTERNE"})
    post(staff, f"/staff/tickets/{ticket.ref}/reply", {"reply-body": "Bonjour, voici notre réponse.", "reply-then_status": "attente_stagiaire"})
    html = client.get(f"/suivi/{token}").get_data(as_text=True)
    assert "Bonjour, voici notre réponse." in html and "Nous attendons votre réponse." in html
    assert "NOTE-SECRETE-INTERNE" not in html
    # The reply e-mail carries a link of its own, to the same page.
    [reply_mail] = [m for m in outbox_files(app) if "Réponse à votre demande" in str(m["Subject"])]
    assert client.get(f"/suivi/{followup_token(reply_mail)}").status_code == 200


def test_message_is_redacted_recorded_and_reopens_a_resolved_ticket(app):
    ticket, ack, client = _file_ticket(app)
    token = followup_token(ack)
    db = app.extensions["faqbot.db"]
    with db.transaction() as session:
        session.get(Ticket, ticket.id).status = "resolu"
    response = client.post(
        f"/suivi/{token}/message", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "message": f"Ma carte {CARD} a encore été débitée."}
    )
    assert response.status_code == 303
    stored = _ticket(db, ticket.id)
    [message] = [e for e in stored.events if e.kind == "trainee_message"]
    assert CARD_MASK in message.body and "1111 1111" not in message.body and message.data["source"] == "web"
    assert stored.status == "nouveau" and stored.trainee_replied and stored.awaiting_team_since is not None
    html = client.get(f"/suivi/{token}").get_data(as_text=True)
    assert CARD_MASK in html and "masqué le numéro de carte" in html


def test_message_form_has_the_contact_forms_limits_and_csrf(app):
    _ticket_row, ack, client = _file_ticket(app)
    token = followup_token(ack)
    assert client.post(f"/suivi/{token}/message", data={"message": "sans jeton"}).status_code == 400
    too_long = client.post(f"/suivi/{token}/message", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "message": "x" * 5001})
    assert too_long.status_code == 422 and "5000 caractères au maximum" in too_long.get_data(as_text=True)
    empty = client.post(f"/suivi/{token}/message", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "message": "  "})
    assert empty.status_code == 422 and "Votre message est vide." in empty.get_data(as_text=True)


def test_message_counts_against_the_contact_limit(make_app):
    app = make_app("sqlite", CONTACT_RATE_LIMIT=2)
    _ticket_row, ack, client = _file_ticket(app)  # the ticket itself is the first counted submission
    token = followup_token(ack)
    ok = client.post(f"/suivi/{token}/message", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "message": "Un ajout"})
    refused = client.post(f"/suivi/{token}/message", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "message": "Encore un"})
    assert ok.status_code == 303 and refused.status_code == 429
    assert "Trop de demandes" in refused.get_data(as_text=True) and "Encore un" in refused.get_data(as_text=True)


def test_resolved_button_and_satisfaction_by_post_only(app):
    ticket, ack, client = _file_ticket(app)
    token = followup_token(ack)
    db = app.extensions["faqbot.db"]
    # Before resolution no vote is possible; a GET (a mail scanner opening links) never counts.
    early = client.post(f"/suivi/{token}/avis", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "reponse": "oui"})
    assert early.status_code == 303 and _ticket(db, ticket.id).csat is None
    assert client.get(f"/suivi/{token}/avis?reponse=oui").status_code == 405
    assert client.get(f"/suivi/{token}/resolu").status_code == 405
    assert _ticket(db, ticket.id).status == "nouveau"
    response = client.post(f"/suivi/{token}/resolu", data={"csrf_token": _csrf(client, f"/suivi/{token}")})
    assert response.status_code == 303
    stored = _ticket(db, ticket.id)
    assert stored.status == "resolu" and stored.resolved_at is not None
    assert any(e.kind == "status" and e.data.get("by") == "stagiaire" for e in stored.events)
    page = client.get(f"/suivi/{token}").get_data(as_text=True).replace("\u202f", " ")  # French typography (NNBSP)
    assert "Votre problème est-il résolu ?" in page
    client.post(f"/suivi/{token}/avis", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "reponse": "non"})
    client.post(f"/suivi/{token}/avis", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "reponse": "oui"})
    stored = _ticket(db, ticket.id)
    assert stored.csat == "oui" and [e.data["answer"] for e in stored.events if e.kind == "csat"] == ["non", "oui"]
    assert client.post(f"/suivi/{token}/avis", data={"csrf_token": _csrf(client, f"/suivi/{token}"), "reponse": "peut-être"}).status_code == 400


def test_revoked_and_unknown_tokens_get_the_ordinary_404(app):
    ticket, ack, client = _file_ticket(app)
    token = followup_token(ack)
    unknown_page = client.get("/cette-page-n-existe-pas")
    for url in (f"/suivi/{'a' * 32}", "/suivi/court", f"/suivi/{token.upper()}x"):
        response = client.get(url)
        assert response.status_code == 404 and response.get_data() == unknown_page.get_data()
    add_staff(app, "admin@support.test", role="admin")
    staff = app.test_client()
    login(staff, "admin@support.test")
    assert "Révoquer le lien de suivi" in staff.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert post(staff, f"/staff/tickets/{ticket.ref}/liens").status_code == 302
    revoked = client.get(f"/suivi/{token}")
    assert revoked.status_code == 404 and revoked.get_data() == unknown_page.get_data()
    assert client.post(f"/suivi/{token}/message", data={"message": "x"}).status_code in (400, 404)


def test_reply_on_a_closed_ticket_is_refused_before_anything_is_queued(app):
    """Red-team finding: the e-mail was written, then 500 with no event, and every retry sent it again."""
    ticket, _ack, _client = _file_ticket(app)
    db = app.extensions["faqbot.db"]
    agent = add_staff(app, "agent@support.test")
    with db.transaction() as session:
        row = session.get(Ticket, ticket.id)
        row.assignee_id, row.status = agent, "en_cours"
    staff = app.test_client()
    login(staff, "agent@support.test")
    form_page = f"/staff/tickets/{ticket.ref}"
    with db.transaction() as session:  # closed meanwhile, by someone else
        session.get(Ticket, ticket.id).status = "clos"
    for _attempt in range(2):
        response = post(staff, f"/staff/tickets/{ticket.ref}/reply", {"reply-body": "Réponse tardive", "reply-then_status": "resolu"}, token_from=form_page)
        assert response.status_code == 302
        page = staff.get(response.headers["Location"]).get_data(as_text=True)
        assert "Ce ticket est clos : la réponse n’a pas été envoyée." in page
    with db.sessions() as session:
        assert session.scalars(sa.select(OutboxMessage.kind).where(OutboxMessage.ticket_id == ticket.id)).all() == ["acknowledgment"]
        assert not session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reply")).all()
    # A non-admin cannot change the status of a closed ticket either (no event, no mail).
    response = post(staff, f"/staff/tickets/{ticket.ref}/status", {"status-status": "resolu"}, token_from=form_page)
    assert "Un ticket clos ne peut être rouvert que par un administrateur." in staff.get(response.headers["Location"]).get_data(as_text=True)


def test_the_same_reply_form_posted_twice_is_sent_once(app):
    ticket, _ack, _client = _file_ticket(app)
    add_staff(app, "admin@support.test", role="admin")
    staff = app.test_client()
    login(staff, "admin@support.test")
    page = staff.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    key = re.search(r'name="reply-send_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"reply-body": "Une seule fois", "reply-then_status": "attente_stagiaire", "reply-send_key": key}
    post(staff, f"/staff/tickets/{ticket.ref}/reply", data)
    second = post(staff, f"/staff/tickets/{ticket.ref}/reply", data)
    assert "Cette réponse a déjà été envoyée." in staff.get(second.headers["Location"]).get_data(as_text=True)
    replies = [m for m in outbox_files(app) if "Une seule fois" in body(m)]
    assert len(replies) == 1


@pytest.mark.parametrize("status", ["resolu"])
def test_resolving_asks_the_trainee_by_email(app, status):
    ticket, _ack, _client = _file_ticket(app)
    add_staff(app, "admin@support.test", role="admin")
    staff = app.test_client()
    login(staff, "admin@support.test")
    post(staff, f"/staff/tickets/{ticket.ref}/status", {"status-status": status})
    [mail] = [m for m in outbox_files(app) if "Votre demande est résolue" in str(m["Subject"])]
    text = body(mail)
    assert "Votre problème est-il résolu ?" in text and "/suivi/" in text
    assert mail["Auto-Submitted"] == "auto-generated"


def test_satisfaction_in_the_analytics_per_queue_reason_and_agent(app):
    from faqbot.db import utcnow

    db = app.extensions["faqbot.db"]
    admin = add_staff(app, "admin@support.test", role="admin", display_name="Alex")
    answers = [("debit-sans-confirmation", "oui"), ("debit-sans-confirmation", "non"), ("points-ants", "oui")]
    from builders import make_ticket

    for reason, answer in answers:
        make_ticket(db, reason=reason, status="resolu", assignee_id=admin, csat=answer, csat_at=utcnow())
    staff = app.test_client()
    login(staff, "admin@support.test")
    html = staff.get("/staff/analytics").get_data(as_text=True)
    section = html[html.index('id="h-csat"'):]
    section = section[: section.index("</section>")]
    assert "2 oui, 1 non" in section
    assert re.search(r"<td>file</td>\s*<td>Paiement</td>\s*<td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">50\s?%", section)
    assert "admin@support.test" in section and "Débité(e), mais ni e-mail ni SMS de confirmation" in section
    csv_text = staff.get("/staff/analytics/satisfaction.csv").get_data(as_text=True)
    assert "agent;admin@support.test;2;1" in csv_text and "file;points;1;0" in csv_text


def test_links_and_queued_mail_end_with_their_ticket(app):
    """Retention or erasure deletes the ticket: its follow-up tokens and outbox rows go with it (foreign keys)."""
    ticket, ack, client = _file_ticket(app)
    token = followup_token(ack)
    db = app.extensions["faqbot.db"]
    with db.transaction() as session:
        session.delete(session.get(Ticket, ticket.id))
    with db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FollowupToken)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert client.get(f"/suivi/{token}").status_code == 404
