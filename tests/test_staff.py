"""Staff console through the test client: login and sessions, roles on every route, ticket workflow, replies."""
from __future__ import annotations

import datetime as dt
import email
import re
import socket
import threading
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from builders import make_ticket
from backends import BACKENDS
from faqbot.db import utcnow
from faqbot.models import AuditEvent, StaffUser, Ticket, TicketEvent
from staff_helpers import PASSWORD, add_staff, login, post, token, write_tiny_faq


@pytest.fixture(params=BACKENDS)
def app(request, make_app, tmp_path):
    """The console on each backend, with a small stable FAQ and its own index."""
    return make_app(request.param, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "index"))


@pytest.fixture
def admin(app):
    return add_staff(app, "admin@support.test", "admin", display_name="Alice Admin")


@pytest.fixture
def agent(app):
    return add_staff(app, "agent@support.test", "agent", display_name="Bruno Agent")


@pytest.fixture
def agent_client(app, agent):
    client = app.test_client()
    assert login(client, "agent@support.test").status_code == 302
    return client


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login(client, "admin@support.test").status_code == 302
    return client


def _ticket(db, ref):
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        session.expunge(ticket)
        return ticket


def _events(db, ticket_id, kind=None):
    with db.transaction() as session:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
        if kind:
            query = query.where(TicketEvent.kind == kind)
        return list(session.scalars(query.order_by(TicketEvent.id)))


def _dummy_url(rule) -> str:
    values = {"ref": "ABCD-EFGH-JKLM", "dataset": "requetes", "entry_id": "changer-de-date", "decision": "accepter"}
    url = re.sub(r"<int:[a-z_]+>", "1", rule.rule)
    return re.sub(r"<([a-z_]+)>", lambda m: values.get(m.group(1), "x"), url)


# --- Login, sessions ----------------------------------------------------------------------------------------


def test_every_staff_route_requires_login(app, client):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff") and rule.endpoint != "staff.login"]
    assert len(rules) >= 20
    csrf = token(client)
    for rule in rules:
        url = _dummy_url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/staff/login"), url
        if "POST" in rule.methods:
            assert client.post(url).status_code == 400, url  # no CSRF token: refused before anything else
            response = client.post(url, data={"csrf_token": csrf})
            assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login"), url


def test_login_page_is_french_and_not_cached(client):
    response = client.get("/staff/login")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Connexion à la console support" in text and 'lang="fr"' in text
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_renews_the_session(app, client, agent):
    client.get("/staff/login")
    with client.session_transaction() as session:
        session["planted_by_attacker"] = "x"
        before = session.get("csrf_token")
    assert before
    assert login(client, "agent@support.test").headers["Location"] == "/staff/"
    with client.session_transaction() as session:
        assert "planted_by_attacker" not in session
        assert session.get("csrf_token") != before
        assert session["staff_id"] == agent


def test_wrong_password_and_unknown_address_get_the_same_answer(client, agent):
    wrong = login(client, "agent@support.test", "pas le bon mot de passe")
    unknown = login(client, "personne@support.test", "pas le bon mot de passe")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_login_form_errors_keep_the_address(client):
    response = client.post("/staff/login", data={"csrf_token": token(client), "email": "pas-une-adresse", "password": ""})
    text = response.get_data(as_text=True)
    assert "Adresse e-mail invalide." in text and "Indiquez votre mot de passe." in text
    assert 'value="pas-une-adresse"' in text


def test_login_is_throttled_per_account(app, client, agent, db):
    for _ in range(5):
        assert login(client, "agent@support.test", "mauvais mot de passe").status_code == 200
    blocked = login(client, "agent@support.test", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    with db.transaction() as session:
        kinds = list(session.scalars(select(AuditEvent.kind)))
    assert kinds.count("login_failed") == 5 and "login_throttled" in kinds


def test_login_is_throttled_per_address(make_app, tmp_path, agent):
    app = make_app("sqlite", LOGIN_ADDRESS_RATE_LIMIT=4, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "i2"))
    client = app.test_client()
    statuses = [login(client, f"essai{i}@support.test", "mauvais mot de passe").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_successful_login_clears_the_account_counter(client, agent):
    for _ in range(4):
        login(client, "agent@support.test", "mauvais mot de passe")
    assert login(client, "agent@support.test").status_code == 302
    post(client, "/staff/logout")
    for _ in range(4):
        assert login(client, "agent@support.test", "mauvais mot de passe").status_code == 200


def test_next_parameter_cannot_redirect_elsewhere(client, agent):
    for target, expected in (("https://evil.example/", "/staff/"), ("//evil.example", "/staff/"), ("/staff/tickets?q=a", "/staff/tickets?q=a")):
        client.get("/staff/login")
        response = client.post(f"/staff/login?next={target}", data={"csrf_token": token(client), "email": "agent@support.test", "password": PASSWORD})
        assert response.headers["Location"] == expected
        post(client, "/staff/logout")


def test_logout_ends_the_session_and_every_copy_of_it(app, agent_client):
    stolen = agent_client.get_cookie("session").value
    response = post(agent_client, "/staff/logout")
    assert response.headers["Location"] == "/staff/login"
    assert agent_client.get("/staff/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_logout_by_get_is_refused(agent_client):
    assert agent_client.get("/staff/logout").status_code == 405
    assert agent_client.get("/staff/").status_code == 200


def test_deactivation_ends_the_session_at_the_next_request(app, agent_client):
    assert agent_client.get("/staff/").status_code == 200
    result = app.test_cli_runner().invoke(args=["staff", "deactivate", "agent@support.test"])
    assert result.exit_code == 0, result.output
    response = agent_client.get("/staff/", follow_redirects=True)
    assert "Votre session a pris fin" in response.get_data(as_text=True)
    assert login(agent_client, "agent@support.test").status_code == 200  # and no new session either
    assert agent_client.get("/staff/").status_code == 302


def test_idle_session_expires(app, agent_client):
    with agent_client.session_transaction() as session:
        session["staff_seen"] = int(time.time()) - 31 * 60
    response = agent_client.get("/staff/tickets", follow_redirects=True)
    assert "expiré après une période d’inactivité" in response.get_data(as_text=True)
    assert agent_client.get("/staff/").status_code == 302


def test_active_session_slides_but_has_a_maximum_age(agent_client):
    with agent_client.session_transaction() as session:
        session["staff_seen"] = int(time.time()) - 29 * 60
    assert agent_client.get("/staff/").status_code == 200
    with agent_client.session_transaction() as session:
        session["staff_login_at"] = int(time.time()) - 13 * 3600
    response = agent_client.get("/staff/", follow_redirects=True)
    assert "durée maximale" in response.get_data(as_text=True)


def test_tampered_session_is_refused(app, agent_client, admin):
    # The cookie is signed: a session forged without the secret is ignored.
    forged = app.test_client()
    forged.set_cookie("session", '{"staff_id": %d, "staff_version": 1}' % admin)
    assert forged.get("/staff/").status_code == 302


# --- Roles --------------------------------------------------------------------------------------------------

ADMIN_GETS = ["/staff/analytics", "/staff/analytics/requetes.csv", "/staff/comptes", "/staff/journal"]


def test_admin_pages_are_refused_to_agents(app, agent_client, admin):
    for url in ADMIN_GETS:
        assert agent_client.get(url).status_code == 403, url
    for url in ("/staff/comptes", f"/staff/comptes/{admin}/desactiver", f"/staff/comptes/{admin}/role",
                f"/staff/comptes/{admin}/fermer-sessions", f"/staff/comptes/{admin}/reactiver"):
        assert post(agent_client, url, {"role": "agent", "email": "x@y.test", "password": "x" * 20}).status_code == 403, url
    with app.extensions["faqbot.db"].transaction() as session:
        admin_row = session.get(StaffUser, admin)
        assert admin_row.active and admin_row.role == "admin"


def test_admin_reaches_every_page(admin_client):
    for url in ["/staff/", "/staff/tickets", "/staff/mot-de-passe"] + ADMIN_GETS:
        assert admin_client.get(url).status_code == 200, url


def test_agent_pages(agent_client):
    for url in ("/staff/", "/staff/tickets", "/staff/tickets?assignee=moi", "/staff/mot-de-passe"):
        assert agent_client.get(url).status_code == 200, url
    nav = agent_client.get("/staff/").get_data(as_text=True)
    assert "Statistiques" not in nav and "Comptes" not in nav


def test_agent_cannot_work_a_ticket_assigned_to_someone_else(app, db, agent_client):
    other = add_staff(app, "autre@support.test")
    ticket = make_ticket(db, assignee_id=other, status="en_cours", iban_encrypted=Fernet(app.config["IBAN_KEY"]).encrypt(b"FR7630006000011234567890189"), iban_masked="FR76 •••• 0189", reason="remboursement-virement")
    ref = ticket.ref
    page = agent_client.get(f"/staff/tickets/{ref}").get_data(as_text=True)
    assert "Répondre par e-mail" not in page and "Afficher l’IBAN complet" not in page
    assert post(agent_client, f"/staff/tickets/{ref}/status", {"status-status": "resolu"}).status_code == 403
    assert post(agent_client, f"/staff/tickets/{ref}/reply", {"reply-body": "Bonjour", "reply-then_status": "resolu"}).status_code == 403
    assert post(agent_client, f"/staff/tickets/{ref}/iban").status_code == 403
    assert post(agent_client, f"/staff/tickets/{ref}/assign", {"assign-assignee": ""}).status_code == 403
    assert post(agent_client, f"/staff/tickets/{ref}/claim").status_code == 302  # refused politely: already taken
    stored = _ticket(db, ref)
    assert stored.status == "en_cours" and stored.assignee_id == other
    assert not _events(db, stored.id, "iban_revealed") and not _events(db, stored.id, "reply")
    # Internal notes are open to the whole team.
    assert post(agent_client, f"/staff/tickets/{ref}/note", {"note-body": "Vu au téléphone."}).status_code == 302
    assert [e.body for e in _events(db, stored.id, "note")] == ["Vu au téléphone."]


def test_state_changes_need_post_and_csrf(db, agent_client):
    ref = make_ticket(db).ref
    for action in ("claim", "assign", "status", "note", "reply", "iban"):
        assert agent_client.get(f"/staff/tickets/{ref}/{action}").status_code == 405, action
        assert agent_client.post(f"/staff/tickets/{ref}/{action}").status_code == 400, action
    stored = _ticket(db, ref)
    assert stored.assignee_id is None and len(_events(db, stored.id)) == 1


def test_tickets_are_reached_by_reference_only(db, agent_client):
    ticket = make_ticket(db)
    assert agent_client.get(f"/staff/tickets/{ticket.id}").status_code == 404
    assert agent_client.get("/staff/tickets/AAAA-BBBB-CCCC").status_code == 404
    assert agent_client.get(f"/staff/tickets/{ticket.ref}").status_code == 200


# --- Claim ---------------------------------------------------------------------------------------------------


def test_claim_assigns_and_starts_work(db, agent, agent_client):
    ticket = make_ticket(db)
    response = post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    assert response.status_code == 302
    assert "Ticket pris en charge." in agent_client.get(response.headers["Location"]).get_data(as_text=True)
    stored = _ticket(db, ticket.ref)
    assert stored.assignee_id == agent and stored.status == "en_cours"
    [claimed] = _events(db, ticket.id, "claimed")
    assert claimed.actor_id == agent


def test_second_claim_loses_with_a_clear_message(app, db, agent_client):
    add_staff(app, "second@support.test")
    ticket = make_ticket(db)
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    second = app.test_client()
    login(second, "second@support.test")
    response = post(second, f"/staff/tickets/{ticket.ref}/claim")
    text = second.get(response.headers["Location"]).get_data(as_text=True)
    assert "déjà été pris en charge par agent@support.test" in text
    assert len(_events(db, ticket.id, "claimed")) == 1


def test_claim_race_through_the_web_has_exactly_one_winner(app, db):
    """Many agents press « Prendre en charge » at the same instant: one wins, the others are told."""
    agents = 8
    clients = []
    for i in range(agents):
        add_staff(app, f"agent{i}@support.test")
        client = app.test_client()
        assert login(client, f"agent{i}@support.test").status_code == 302
        clients.append((client, token(client, "/staff/")))
    ticket = make_ticket(db)
    barrier = threading.Barrier(agents)
    results: list[int] = []

    def press(client, csrf):
        barrier.wait()
        response = client.post(f"/staff/tickets/{ticket.ref}/claim", data={"csrf_token": csrf})
        results.append(response.status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [302] * agents
    assert len(_events(db, ticket.id, "claimed")) == 1
    stored = _ticket(db, ticket.ref)
    with db.transaction() as session:
        winner = session.get(StaffUser, stored.assignee_id).email
    assert winner.startswith("agent")


def test_claim_race_in_the_database_has_exactly_one_winner(app, db):
    """The conditional UPDATE itself, with many threads and their own connections, repeated on fresh tickets."""
    from faqbot.staff import workflow

    claimers = 16
    users = []
    with db.transaction() as session:
        for i in range(claimers):
            user = StaffUser(email=f"c{i}@support.test", password_hash="x", role="agent")
            session.add(user)
            session.flush()
            users.append(user)
    for _round in range(3):
        ticket = make_ticket(db)
        barrier = threading.Barrier(claimers)
        wins: list[bool] = []

        def claim(user):
            barrier.wait()
            with db.transaction() as session:
                wins.append(workflow.claim(session, ticket.id, user, utcnow()))

        threads = [threading.Thread(target=claim, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(wins) == claimers and wins.count(True) == 1
        assert len(_events(db, ticket.id, "claimed")) == 1


# --- Workflow -------------------------------------------------------------------------------------------------


def test_statuses_follow_the_work(app, db, agent, agent_client, admin_client):
    ticket = make_ticket(db)
    ref = ticket.ref
    post(agent_client, f"/staff/tickets/{ref}/claim")
    for status, label in (("attente_stagiaire", "en attente du stagiaire"), ("resolu", "résolu"), ("clos", "clos")):
        response = post(agent_client, f"/staff/tickets/{ref}/status", {"status-status": status})
        assert response.status_code == 302
        assert f"Statut : {label}." in agent_client.get(response.headers["Location"]).get_data(as_text=True)
    stored = _ticket(db, ref)
    assert stored.status == "clos" and stored.resolved_at is not None
    # A closed ticket is reopened only by an admin.
    post(agent_client, f"/staff/tickets/{ref}/status", {"status-status": "en_cours"})
    assert _ticket(db, ref).status == "clos"
    post(admin_client, f"/staff/tickets/{ref}/status", {"status-status": "en_cours"})
    stored = _ticket(db, ref)
    assert stored.status == "en_cours" and stored.resolved_at is None
    changes = [(e.data["from"], e.data["to"]) for e in _events(db, ticket.id, "status")]
    assert changes == [("en_cours", "attente_stagiaire"), ("attente_stagiaire", "resolu"), ("resolu", "clos"), ("clos", "en_cours")]
    assert post(admin_client, f"/staff/tickets/{ref}/status", {"status-status": "nouveau"}).status_code == 302
    assert _ticket(db, ref).status == "en_cours"  # not a choice: back to "nouveau" would hide it from the SLA


def test_agent_hands_a_ticket_over_and_admin_reassigns_any(app, db, agent, agent_client, admin_client):
    colleague = add_staff(app, "collegue@support.test")
    ticket = make_ticket(db)
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    assert post(agent_client, f"/staff/tickets/{ticket.ref}/assign", {"assign-assignee": str(colleague)}).status_code == 302
    assert _ticket(db, ticket.ref).assignee_id == colleague
    assert post(agent_client, f"/staff/tickets/{ticket.ref}/assign", {"assign-assignee": str(agent)}).status_code == 403
    post(admin_client, f"/staff/tickets/{ticket.ref}/assign", {"assign-assignee": ""})
    assert _ticket(db, ticket.ref).assignee_id is None
    moves = [(e.data["from_id"], e.data["to_id"]) for e in _events(db, ticket.id, "assigned")]
    assert moves == [(agent, colleague), (colleague, None)]
    # Unknown ids are refused by the form, not stored.
    post(admin_client, f"/staff/tickets/{ticket.ref}/assign", {"assign-assignee": "99999"})
    assert _ticket(db, ticket.ref).assignee_id is None


def test_reply_is_mailed_recorded_and_times_the_first_response(app, db, agent, agent_client, tmp_path):
    ticket = make_ticket(db, email="stagiaire@example.test", name="Dominique")
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    response = post(
        agent_client, f"/staff/tickets/{ticket.ref}/reply",
        {"reply-body": "Bonjour Dominique,\n\nVotre paiement n’a pas été pris.", "reply-then_status": "attente_stagiaire"},
    )
    assert response.status_code == 302
    stored = _ticket(db, ticket.ref)
    assert stored.first_response_at is not None and stored.status == "attente_stagiaire"
    [reply] = _events(db, ticket.id, "reply")
    assert reply.actor_id == agent and "pas été pris" in reply.body
    [eml] = list((tmp_path / "instance-0" / "outbox").glob("*.eml")) or list(
        p for p in tmp_path.rglob("outbox/*.eml")
    )
    message = email.message_from_bytes(eml.read_bytes())
    assert message["To"] == "stagiaire@example.test"
    assert ticket.ref in message["Subject"]
    body = message.get_payload(decode=True).decode("utf-8")
    assert "pas été pris" in body and ticket.ref in body
    assert "/suivi/" in body  # every trainee e-mail carries the follow-up link
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    # Waiting for the trainee: the response clock is paused, not running.
    assert "Réponse envoyée au stagiaire" in page and "en pause (attente du stagiaire)" in page


def test_smtp_outage_delays_the_reply_instead_of_losing_it(make_app, tmp_path):
    """The reply is recorded with its outbox row; the outage only delays the e-mail (tests/test_mail.py sends it later)."""
    from faqbot.models import OutboxMessage

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens there once the socket is closed
    app = make_app("sqlite", SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "i3"))
    db = app.extensions["faqbot.db"]
    add_staff(app, "agent@support.test")
    client = app.test_client()
    login(client, "agent@support.test")
    ticket = make_ticket(db)
    post(client, f"/staff/tickets/{ticket.ref}/claim")
    response = post(client, f"/staff/tickets/{ticket.ref}/reply", {"reply-body": "Texte long et précieux", "reply-then_status": "resolu"})
    assert response.status_code == 302
    stored = _ticket(db, ticket.ref)
    assert stored.first_response_at is not None and stored.status == "resolu"
    [reply] = _events(db, ticket.id, "reply")
    assert reply.body == "Texte long et précieux"
    with db.transaction() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)).all()
        assert (row.kind, row.status, row.attempts, row.event_id) == ("reply", "pending", 1, reply.id)
        assert "ConnectionRefusedError" in row.last_error


def test_empty_reply_and_note_are_refused_in_french(db, agent_client):
    ticket = make_ticket(db)
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    response = post(agent_client, f"/staff/tickets/{ticket.ref}/reply", {"reply-body": "  ", "reply-then_status": "resolu"})
    assert response.status_code == 422 and "La réponse est vide." in response.get_data(as_text=True)
    response = post(agent_client, f"/staff/tickets/{ticket.ref}/note", {"note-body": ""})
    assert response.status_code == 422 and "La note est vide." in response.get_data(as_text=True)


def test_canned_replies_come_from_the_faq(db, agent_client):
    ticket = make_ticket(db, reason="debit-sans-confirmation", faq_seen=["changer-de-date"], name="Léa")
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "Réponses vues par le stagiaire avant d’écrire" in page and "Réponses liées au motif" in page
    prefilled = agent_client.get(f"/staff/tickets/{ticket.ref}?canned=debite-sans-confirmation").get_data(as_text=True)
    assert "Bonjour Léa," in prefilled and "Si aucun débit « STAGE PERMIS » n&#39;apparaît" in prefilled
    data = agent_client.get("/staff/canned/changer-de-date").get_json()
    assert data["text"] == "Depuis votre Espace Stagiaire, rubrique « Je change de date »."
    assert agent_client.get("/staff/canned/inconnue").status_code == 404


def test_iban_is_masked_and_revealing_it_is_audited(app, db, agent, agent_client):
    encrypted = Fernet(app.config["IBAN_KEY"]).encrypt(b"FR7630006000011234567890189")
    ticket = make_ticket(db, reason="remboursement-virement", iban_encrypted=encrypted, iban_masked="FR76 •••• •••• 0189")
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "FR76 •••• •••• 0189" in page and "FR7630006000011234567890189" not in page
    assert post(agent_client, f"/staff/tickets/{ticket.ref}/iban").status_code == 403  # not claimed yet
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    response = post(agent_client, f"/staff/tickets/{ticket.ref}/iban")
    assert response.status_code == 200 and "FR7630006000011234567890189" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    [revealed] = _events(db, ticket.id, "iban_revealed")
    assert revealed.actor_id == agent
    later = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "FR7630006000011234567890189" not in later and "IBAN affiché" in later


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "\"><svg/onload=alert(3)>",
    "javascript:alert(4)",
    "{{ 7*7 }}{% raw %}",
    "</textarea><script>alert(5)</script>",
]


def test_hostile_visitor_text_is_always_escaped(db, agent_client, admin_client):
    payload = " ".join(HOSTILE)
    ticket = make_ticket(
        db, name=HOSTILE[1], email="x@example.test", message=payload, fields={"erreur": HOSTILE[2], "appareil": HOSTILE[5]},
        confirmations=[{"id": "c", "label": HOSTILE[0], "confirmed_at": "2026-11-24T10:00:00+00:00"}],
        computed={"fin_retractation": "2026-12-01T17:00:00+00:00", "note": HOSTILE[4]}, faq_seen=[HOSTILE[3]],
    )
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    post(agent_client, f"/staff/tickets/{ticket.ref}/note", {"note-body": HOSTILE[5]})
    for client, url in ((agent_client, f"/staff/tickets/{ticket.ref}"), (agent_client, "/staff/tickets"), (admin_client, "/staff/tickets?q=x%40example")):
        text = client.get(url).get_data(as_text=True)
        for raw in ("<script>alert", "<img src=x", "<svg/onload", "</textarea><script>"):
            assert raw not in text, (url, raw)
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page  # shown as typed, never evaluated
    assert "mardi 1 décembre 2026 à 18:00" in page  # computed deadline in French, Paris time
    assert "mardi 24 novembre 2026 à 11:00" in page  # confirmation time


def test_no_inline_script_or_style_in_console_pages(db, admin_client):
    make_ticket(db)
    for url in ["/staff/", "/staff/tickets", f"/staff/tickets/{make_ticket(db).ref}", "/staff/analytics", "/staff/comptes", "/staff/journal", "/staff/mot-de-passe"]:
        text = admin_client.get(url).get_data(as_text=True)
        assert " style=" not in text and "<style" not in text, url
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", text)), url
        assert not re.search(r"<[^>]+\son[a-z]+=", text), url


# --- Queues and lists ---------------------------------------------------------------------------------------


def test_queues_show_open_counts_oldest_age_and_sla(make_app, tmp_path):
    # Staffed around the clock so that wall-clock ages are business ages (business hours: tests/test_sla.py).
    app = make_app("sqlite", SLA_BUSINESS_HOURS="*=24/7", FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "iq"))
    db = app.extensions["faqbot.db"]
    add_staff(app, "agent@support.test")
    agent_client = app.test_client()
    login(agent_client, "agent@support.test")
    now = utcnow()
    make_ticket(db, reason="annulation-centre", created_at=now - dt.timedelta(hours=2))  # urgent 1 h: late
    make_ticket(db, reason="debit-sans-confirmation", created_at=now - dt.timedelta(hours=8))  # normal 9 h: at risk
    make_ticket(db, reason="debit-sans-confirmation", created_at=now - dt.timedelta(hours=1), trainee_replied=True)
    make_ticket(db, reason="debit-sans-confirmation", status="clos", created_at=now - dt.timedelta(days=3))
    page = agent_client.get("/staff/").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<th scope="row"><a href="/staff/tickets\?queue=([a-z-]+)">.*?</a></th>(.*?)</tr>', page, re.S)}
    assert re.search(r'class="num">1</td>', rows["jour-j"]) and "dépassé" in rows["jour-j"]
    assert re.search(r'class="num">2</td>', rows["paiement"]) and "à risque" in rows["paiement"]
    assert "depuis 8 h 00 min" in rows["paiement"] or "depuis 7 h 59 min" in rows["paiement"]
    assert "status=reponse_stagiaire" in rows["paiement"]  # one « réponse du stagiaire », linked to its list
    assert "dans les temps" in rows["points"]


def test_ticket_list_filters_and_search(app, db, agent, agent_client):
    a = make_ticket(db, reason="annulation-centre", email="alpha@example.test")
    b = make_ticket(db, reason="debit-sans-confirmation", email="beta@example.test", assignee_id=agent, status="en_cours")
    c = make_ticket(db, reason="points-ants", email="gamma@example.test", status="resolu")

    def refs(query):
        text = agent_client.get("/staff/tickets" + query).get_data(as_text=True)
        return {ref for ref in (a.ref, b.ref, c.ref) if ref in text}

    assert refs("") == {a.ref, b.ref}
    assert refs("?status=tous") == {a.ref, b.ref, c.ref}
    assert refs("?status=resolu") == {c.ref}
    assert refs("?queue=jour-j") == {a.ref}
    assert refs("?reason=debit-sans-confirmation") == {b.ref}
    assert refs("?assignee=moi") == {b.ref}
    assert refs("?assignee=personne") == {a.ref}
    assert refs(f"?assignee={agent}") == {b.ref}
    assert refs(f"?status=tous&q={c.ref}") == {c.ref}
    assert refs("?status=tous&q=BETA@") == {b.ref}
    assert refs("?status=tous&q=%25") == set()  # a % typed in the search is a character, not a wildcard
    assert refs("?status=n%27importe&page=abc") == {a.ref, b.ref}


def test_urgent_tickets_come_first(db, agent_client):
    now = utcnow()
    old_normal = make_ticket(db, reason="debit-sans-confirmation", created_at=now - dt.timedelta(hours=3))
    new_urgent = make_ticket(db, reason="annulation-centre", created_at=now - dt.timedelta(minutes=5))
    text = agent_client.get("/staff/tickets").get_data(as_text=True)
    assert text.index(new_urgent.ref) < text.index(old_normal.ref)


# --- Accounts, password, CLI --------------------------------------------------------------------------------


def test_admin_creates_deactivates_and_reactivates_an_account(app, db, admin_client):
    page = "/staff/comptes"
    weak = post(admin_client, page, {"email": "nouveau@support.test", "role": "agent", "password": "court"}, token_from=page)
    assert weak.status_code == 422
    text = weak.get_data(as_text=True)
    assert "au moins 12 caractères" in text and 'value="nouveau@support.test"' in text
    response = post(admin_client, page, {"email": "Nouveau@Support.test", "display_name": "Nina", "role": "agent", "password": PASSWORD}, token_from=page)
    assert response.status_code == 302
    duplicate = post(admin_client, page, {"email": "nouveau@support.test", "role": "agent", "password": PASSWORD}, token_from=page)
    assert duplicate.status_code == 422 and "existe déjà" in duplicate.get_data(as_text=True)
    newcomer = app.test_client()
    assert login(newcomer, "nouveau@support.test").status_code == 302
    with db.transaction() as session:
        user_id = session.scalar(select(StaffUser.id).where(StaffUser.email == "nouveau@support.test"))
    post(admin_client, f"/staff/comptes/{user_id}/desactiver", token_from=page)
    assert newcomer.get("/staff/").status_code == 302
    assert login(newcomer, "nouveau@support.test").status_code == 200
    post(admin_client, f"/staff/comptes/{user_id}/reactiver", token_from=page)
    assert login(newcomer, "nouveau@support.test").status_code == 302
    post(admin_client, f"/staff/comptes/{user_id}/role", {"role": "admin"}, token_from=page)
    assert newcomer.get("/staff/").status_code == 302  # new rights need a new login
    login(newcomer, "nouveau@support.test")
    assert newcomer.get("/staff/comptes").status_code == 200
    post(admin_client, f"/staff/comptes/{user_id}/fermer-sessions", token_from=page)
    assert newcomer.get("/staff/").status_code == 302
    journal = admin_client.get("/staff/journal").get_data(as_text=True)
    for label in ("Compte créé", "Compte désactivé", "Compte réactivé", "Rôle modifié", "Sessions fermées", "Connexion"):
        assert label in journal


def test_last_admin_cannot_be_removed(app, db, admin, admin_client):
    post(admin_client, f"/staff/comptes/{admin}/desactiver", token_from="/staff/comptes")
    post(admin_client, f"/staff/comptes/{admin}/role", {"role": "agent"}, token_from="/staff/comptes")
    with db.transaction() as session:
        user = session.get(StaffUser, admin)
        assert user.active and user.role == "admin"
    assert admin_client.get("/staff/comptes").status_code == 200


def test_password_change_ends_other_sessions(app, agent_client):
    other_device = app.test_client()
    login(other_device, "agent@support.test")
    wrong = post(agent_client, "/staff/mot-de-passe", {"current": "faux", "new": "x" * 14, "confirm": "x" * 14})
    assert wrong.status_code == 422 and "Mot de passe actuel incorrect." in wrong.get_data(as_text=True)
    mismatch = post(agent_client, "/staff/mot-de-passe", {"current": PASSWORD, "new": "x" * 14, "confirm": "y" * 14})
    assert "ne correspondent pas" in mismatch.get_data(as_text=True)
    ok = post(agent_client, "/staff/mot-de-passe", {"current": PASSWORD, "new": "nouveau mot de passe long", "confirm": "nouveau mot de passe long"})
    assert ok.status_code == 302
    assert agent_client.get("/staff/").status_code == 200
    assert other_device.get("/staff/").status_code == 302
    assert login(other_device, "agent@support.test", "nouveau mot de passe long").status_code == 302


def test_cli_adds_lists_and_deactivates_staff(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "add", "cli@support.test", "--role", "admin", "--name", "Chloé"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Compte admin créé : cli@support.test" in result.output
    with db.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == "cli@support.test"))
        assert user.role == "admin" and user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert runner.invoke(args=["staff", "add", "cli@support.test"], input=f"{PASSWORD}\n{PASSWORD}\n").exit_code != 0
    weak = runner.invoke(args=["staff", "add", "faible@support.test"], input="court\ncourt\n")
    assert weak.exit_code != 0 and "au moins 12 caractères" in weak.output
    bad_role = runner.invoke(args=["staff", "add", "x@support.test", "--role", "chef"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert bad_role.exit_code != 0
    assert "cli@support.test\tadmin\tactif" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "deactivate", "inconnu@support.test"]).exit_code != 0
    assert runner.invoke(args=["staff", "deactivate", "CLI@support.test"]).exit_code == 0
    assert "cli@support.test\tadmin\tdésactivé" in runner.invoke(args=["staff", "list"]).output
    client = app.test_client()
    assert login(client, "cli@support.test").status_code == 200
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "account_deactivated")) == 1


def test_ticket_page_shows_field_values_the_french_way(app, agent_client):
    ticket = make_ticket(
        app.extensions["faqbot.db"],
        reason="debit-sans-confirmation",
        fields={"date_stage": "2026-12-04", "montant": 229.5},
    )
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "vendredi 4 décembre 2026" in page
    assert "2026-12-04" not in page
    assert "229,5" in page


def test_ticket_page_shows_values_and_computed_facts_in_french(db, agent_client):
    ticket = make_ticket(
        db,
        reason="debit-sans-confirmation",
        fields={"paiement_le": "2026-11-26T01:56:00Z", "montant": "229.00", "date_stage": "2026-12-08"},
        computed={"retractation_issue": "transfer-open", "retractation_fin": "2026-12-07T17:00:00Z"},
    )
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert "jeudi 26 novembre 2026 à 02:56" in page and "229,00\u00a0€" in page and "mardi 8 décembre 2026" in page
    assert "2026-11-26T01:56:00Z" not in page and "229.00" not in page
    assert "Délai de rétractation" in page and "rouvert par l’annulation du centre, en cours" in page
    assert "transfer-open" not in page
    # Lists and the page name the reason by its short title, not its id.
    assert "Débité(e), mais ni e-mail ni SMS de confirmation" in page
    listing = agent_client.get("/staff/tickets").get_data(as_text=True)
    assert "Débité(e), mais ni e-mail ni SMS de confirmation" in listing and "<td>debit-sans-confirmation</td>" not in listing


def test_stored_free_text_and_unparsable_values_are_shown_as_stored(app):
    """The formatter of stored values returns text for every field type, never None (a merge had lost its return)."""
    from faqbot.i18n import format_field_value
    from faqbot.triage.reasons import REASONS

    fields = {f.type: f for reason in REASONS for f in reason.fields}
    with app.test_request_context():
        assert format_field_value(fields["text"], "Paiement refusé à l’étape 3") == "Paiement refusé à l’étape 3"
        assert format_field_value(fields["date"], "pas une date") == "pas une date"
        assert format_field_value(fields["date"], "2026-12-04") == "vendredi 4 décembre 2026"
