"""`faqbot mail fetch` against a real IMAP server (the throw-away Dovecot that scripts/test.sh starts).

Messages go in with IMAP APPEND, as a mail server would deliver them; each test uses folders of its own.
"""
from __future__ import annotations

import imaplib
import os
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
import sqlalchemy as sa

from backends import BACKENDS
from builders import valid_submission
from faqbot.db import utcnow
from faqbot.models import InboundMessage, OutboxMessage, Ticket, TicketEvent
from faqbot.triage.redaction import CARD_MASK
from mail_helpers import followup_token, outbox_files

IMAP = {key: os.environ.get(f"FAQBOT_TEST_IMAP_{key}", "") for key in ("HOST", "PORT", "USER", "PASSWORD")}
if os.environ.get("CI") and not IMAP["HOST"]:
    raise RuntimeError("CI must test IMAP: scripts/test.sh starts Dovecot and sets FAQBOT_TEST_IMAP_*")
pytestmark = pytest.mark.skipif(not IMAP["HOST"], reason="no test IMAP server (run through scripts/test.sh)")


@pytest.fixture(params=BACKENDS)
def mail_app(request, make_app):
    folder = f"t-{uuid.uuid4().hex[:10]}"
    app = make_app(
        request.param,
        MAIL_REPLY_TO="support@exemple.fr",
        IMAP_HOST=IMAP["HOST"],
        IMAP_PORT=int(IMAP["PORT"] or 0),
        IMAP_USER=IMAP["USER"],
        IMAP_PASSWORD=IMAP["PASSWORD"],
        IMAP_SECURITY="none",  # loopback only; the setting's default is TLS
        IMAP_FOLDER=folder,
        IMAP_DONE_FOLDER=folder + "-traites",
    )
    with _imap() as client:
        client.create(folder)
    return app


class _imap:
    def __enter__(self) -> imaplib.IMAP4:
        self.client = imaplib.IMAP4(IMAP["HOST"], int(IMAP["PORT"]))
        self.client.login(IMAP["USER"], IMAP["PASSWORD"])
        return self.client

    def __exit__(self, *exc):
        self.client.logout()


def deliver(app, message: EmailMessage) -> None:
    """Put a message in the test folder as the mail server would (IMAP APPEND)."""
    with _imap() as client:
        status, _ = client.append(app.config["IMAP_FOLDER"], None, None, bytes(message))
        assert status == "OK"


def count(app, folder_key: str) -> int:
    with _imap() as client:
        status, data = client.select(app.config[folder_key])
        assert status == "OK"
        return int(data[0])


def mail(sender: str, subject: str, text: str, **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = headers.pop("To", "support@exemple.fr")
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="boite.example"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def fetch(app) -> str:
    result = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code == 0, result.output
    return result.output


def file_ticket(app) -> tuple[Ticket, EmailMessage]:
    response = app.test_client().post("/api/tickets", json=valid_submission("autre", email="camille@example.test"))
    assert response.status_code == 201
    with app.extensions["faqbot.db"].sessions() as session:
        ticket = session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
    [ack] = [m for m in outbox_files(app) if ticket.ref in str(m["Subject"])]
    return ticket, ack


def events(app, ticket_id: int, kind: str) -> list[TicketEvent]:
    with app.extensions["faqbot.db"].sessions() as session:
        return list(session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)))


def test_reply_by_reply_address_is_threaded_cleaned_and_moved(mail_app):
    ticket, ack = file_ticket(mail_app)
    reply_to = ack["Reply-To"]
    assert reply_to.startswith("support+") and followup_token(ack) in reply_to
    text = (
        "Voici le justificatif demandé, ma carte 4111 1111 1111 1111.\n\n"
        "Camille\n-- \nCamille Martin, 06 12 34 56 78\n\n"
        "Le jeudi 26 nov. 2026 à 10:00, Support <support@exemple.fr> a écrit :\n> Bonjour Camille,\n> ancien texte"
    )
    message = mail("Camille <camille@example.test>", "Re: " + str(ack["Subject"]), text, To=reply_to)
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="releve.pdf")
    deliver(mail_app, message)
    output = fetch(mail_app)
    assert "1 rattaché(s)" in output
    [event] = events(mail_app, ticket.id, "trainee_message")
    assert event.body.startswith("Voici le justificatif demandé") and event.body.endswith("Camille")
    assert CARD_MASK in event.body and "ancien texte" not in event.body and "06 12 34" not in event.body
    assert event.data["source"] == "email" and event.data["attachments"] == ["releve.pdf"]
    assert count(mail_app, "IMAP_FOLDER") == 0 and count(mail_app, "IMAP_DONE_FOLDER") == 1
    with mail_app.extensions["faqbot.db"].sessions() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored.trainee_replied and stored.awaiting_team_since is not None
        [inbound] = session.scalars(sa.select(InboundMessage)).all()
        assert (inbound.outcome, inbound.matched_by) == ("threaded", "address")


def test_threading_by_headers_then_by_subject_reference(mail_app):
    ticket, ack = file_ticket(mail_app)
    by_headers = mail("camille@example.test", "Re: ma demande", "Réponse par les en-têtes", In_Reply_To=ack["Message-ID"])
    by_subject = mail("Camille@Example.test", f"Re: [{ticket.ref}] suite", "Réponse par la référence")
    stranger = mail("inconnu@example.test", f"Re: [{ticket.ref}] suite", "Je connais la référence de quelqu’un")
    for message in (by_headers, by_subject, stranger):
        deliver(mail_app, message)
    output = fetch(mail_app)
    assert "2 rattaché(s), 1 non rattaché(s)" in output
    with mail_app.extensions["faqbot.db"].sessions() as session:
        how = sorted(session.execute(sa.select(InboundMessage.sender, InboundMessage.outcome, InboundMessage.matched_by)).all())
    assert how == [
        ("camille@example.test", "threaded", "headers"),
        ("camille@example.test", "threaded", "subject"),
        ("inconnu@example.test", "unmatched", ""),  # a reference alone does not open someone else's ticket
    ]
    bodies = sorted(e.body for e in events(mail_app, ticket.id, "trainee_message"))
    assert bodies == ["Réponse par la référence", "Réponse par les en-têtes"]


def test_auto_replies_and_bounces_are_ignored(mail_app):
    ticket, ack = file_ticket(mail_app)
    reply_to = ack["Reply-To"]
    out_of_office = mail("camille@example.test", "Absence", "Je suis absente.", To=reply_to, Auto_Submitted="auto-replied")
    bulk = mail("camille@example.test", "Lettre", "Promotions", To=reply_to, Precedence="bulk")
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example"
    bounce["To"] = reply_to
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid(domain="mx.example")
    bounce.set_content("This is the mail system.")
    bounce.add_attachment("Reporting-MTA: dns; mx.example\n", subtype="delivery-status")
    bounce.replace_header("Content-Type", bounce["Content-Type"].replace("multipart/mixed", "multipart/report"))
    for message in (out_of_office, bulk, bounce):
        deliver(mail_app, message)
    assert "3 ignoré(s)" in fetch(mail_app)
    assert not events(mail_app, ticket.id, "trainee_message")
    with mail_app.extensions["faqbot.db"].sessions() as session:
        kinds = session.scalars(sa.select(OutboxMessage.kind)).all()
    assert kinds == ["acknowledgment"]  # no answer to a machine: no loop
    assert count(mail_app, "IMAP_FOLDER") == 0


def test_fetch_is_idempotent_by_message_id(mail_app):
    ticket, ack = file_ticket(mail_app)
    message = mail("camille@example.test", "Re", "Une seule fois", To=ack["Reply-To"], Message_ID="<une-fois@boite.example>")
    deliver(mail_app, message)
    fetch(mail_app)
    deliver(mail_app, message)  # delivered again (a server retry, a copy put back by hand)
    assert "1 déjà traité(s)" in fetch(mail_app)
    assert len(events(mail_app, ticket.id, "trainee_message")) == 1


def test_a_reply_reopens_a_resolved_ticket(mail_app):
    ticket, ack = file_ticket(mail_app)
    with mail_app.extensions["faqbot.db"].transaction() as session:
        row = session.get(Ticket, ticket.id)
        row.status, row.resolved_at = "resolu", utcnow()
    deliver(mail_app, mail("camille@example.test", "Re", "En fait non, toujours pas reçu.", To=ack["Reply-To"]))
    fetch(mail_app)
    with mail_app.extensions["faqbot.db"].sessions() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored.status == "nouveau" and stored.resolved_at is None and stored.trainee_replied


def test_unmatched_sender_gets_one_answer_a_day_and_is_listed_for_staff(mail_app):
    from staff_helpers import add_staff, login

    for index in range(2):
        deliver(mail_app, mail("perdu@example.test", "Question", f"Bonjour, question {index}"))
    assert "2 non rattaché(s)" in fetch(mail_app)
    answers = [m for m in outbox_files(mail_app) if m["To"] == "perdu@example.test"]
    assert len(answers) == 1
    text = answers[0].get_body(preferencelist=("plain",)).get_content()
    assert f"{mail_app.config['PUBLIC_URL']}/contact" in text and answers[0]["Auto-Submitted"] == "auto-replied"
    add_staff(mail_app, "agent@support.test")
    staff = mail_app.test_client()
    login(staff, "agent@support.test")
    page = staff.get("/staff/courriels").get_data(as_text=True)
    assert "perdu@example.test" in page and "Bonjour, question 0" in page and "réponse automatique envoyée" in page


def test_tls_is_the_default(make_app):
    """Without IMAP_SECURITY the reader insists on TLS: the plain-text test server is refused, nothing is read."""
    app = make_app("sqlite", IMAP_HOST=IMAP["HOST"], IMAP_PORT=int(IMAP["PORT"]), IMAP_USER=IMAP["USER"], IMAP_PASSWORD=IMAP["PASSWORD"])
    assert app.config["IMAP_SECURITY"] == "tls"
    result = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code != 0 and "Connexion IMAP impossible" in result.output


def test_connection_problems_are_explained_in_french(make_app):
    app = make_app("sqlite", IMAP_HOST="127.0.0.1", IMAP_PORT=1, IMAP_SECURITY="none")
    result = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code != 0 and "Connexion IMAP impossible à 127.0.0.1:1" in result.output
    result = make_app("sqlite").test_cli_runner().invoke(args=["mail", "fetch"])
    assert "IMAP_HOST n’est pas configuré" in result.output
