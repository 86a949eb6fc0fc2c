"""E-mail: outbox files by default, a real local SMTP server when configured."""
from __future__ import annotations

import email
import email.header
import socket

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from faqbot.mail import send_email


class _Collector(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_outbox_receives_an_eml_file(tmp_path):
    config = {"MAIL_FROM": "support@example.test", "OUTBOX_DIR": str(tmp_path), "SMTP_HOST": ""}
    send_email(config, to="stagiaire@example.test", subject="Votre demande", text="Bonjour, déjà reçu.")
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["To"] == "stagiaire@example.test"
    assert "déjà reçu" in parsed.get_payload(decode=True).decode("utf-8")


def test_smtp_server_receives_the_message(tmp_path):
    collector = _Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = {"MAIL_FROM": "support@example.test", "OUTBOX_DIR": str(tmp_path), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
        send_email(config, to="stagiaire@example.test", subject="Accusé de réception", text="Référence ABC")
    finally:
        controller.stop()
    assert len(collector.messages) == 1
    subject = str(email.header.make_header(email.header.decode_header(collector.messages[0]["Subject"])))
    assert subject == "Accusé de réception"
    assert not list(tmp_path.glob("*.eml"))


# --- The outbox and its sender -------------------------------------------------------------------------------

import datetime as dt  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from builders import recorded_transactions, valid_submission, writes  # noqa: E402
from faqbot.db import utcnow  # noqa: E402
from faqbot.mail import deliver_pending, outbox  # noqa: E402
from faqbot.models import OutboxMessage, Ticket, TicketEvent  # noqa: E402
from backends import BACKENDS  # noqa: E402
from mail_helpers import free_port, smtp_server  # noqa: E402


@pytest.fixture(params=BACKENDS)
def backend_name(request) -> str:
    return request.param


def _rows(app) -> list[OutboxMessage]:
    with app.extensions["faqbot.db"].sessions() as session:
        return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _make_due(app) -> None:
    with app.extensions["faqbot.db"].transaction() as session:
        session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))


def test_smtp_outage_delays_mail_then_delivers_it_once(make_app, backend_name):
    port = free_port()  # nothing listens here yet
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    response = app.test_client().post("/api/tickets", json=valid_submission("points-ants"))
    assert response.status_code == 201  # the request does not fail with the mail server
    [row] = _rows(app)
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > utcnow()
    assert deliver_pending(app).sent == []  # not due yet: the retry waits its delay
    controller, collector = smtp_server(port)
    try:
        _make_due(app)
        report = deliver_pending(app)
        again = deliver_pending(app)
    finally:
        controller.stop()
    assert report.sent == [row.id] and again.sent == []
    assert len(collector.messages) == 1
    [row] = _rows(app)
    assert (row.status, row.attempts) == ("sent", 2) and row.sent_at is not None
    assert collector.messages[0]["Message-ID"] == f"<{row.message_id}@faqbot.localhost>"


def test_two_senders_never_send_the_same_message_twice(make_app, backend_name):
    controller, collector = smtp_server()
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_DELIVERY="cron")
    client = app.test_client()
    for index in range(12):
        assert client.post("/api/tickets", json=valid_submission("autre", email=f"t{index}@example.test")).status_code == 201
    assert len(_rows(app)) == 12 and not collector.messages  # cron mode: queued, nothing sent in the requests
    barrier = threading.Barrier(3)
    reports = []

    def run():
        barrier.wait()
        reports.append(deliver_pending(app, limit=12))

    threads = [threading.Thread(target=run) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        controller.stop()
    sent = [row_id for report in reports for row_id in report.sent]
    assert sorted(sent) == sorted(row.id for row in _rows(app))  # each row by exactly one sender
    assert len(collector.messages) == 12
    assert len({m["Message-ID"] for m in collector.messages}) == 12


def test_reply_threads_with_the_acknowledgment_and_carries_a_reply_address(make_app, backend_name):
    from staff_helpers import add_staff, login, post

    controller, collector = smtp_server()
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_REPLY_TO="support@exemple.fr")
    try:
        app.test_client().post("/api/tickets", json=valid_submission("autre"))
        with app.extensions["faqbot.db"].sessions() as session:
            ticket = session.scalars(sa.select(Ticket)).one()
        add_staff(app, "admin@support.test", role="admin")
        staff = app.test_client()
        login(staff, "admin@support.test")
        post(staff, f"/staff/tickets/{ticket.ref}/reply", {"reply-body": "Voici la réponse.", "reply-then_status": "attente_stagiaire"})
    finally:
        controller.stop()
    ack, reply = collector.messages
    assert ack["Auto-Submitted"] == "auto-generated" and reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == ack["Message-ID"] and ack["Message-ID"] in reply["References"]
    assert ticket.ref in reply["Subject"]
    local, domain = reply["Reply-To"].split("@")
    assert domain == "exemple.fr" and local.startswith("support+") and len(local) == len("support+") + 32
    token = local.removeprefix("support+")
    assert f"/suivi/{token}" in reply.get_payload(decode=True).decode()
    assert app.test_client().get(f"/suivi/{token}").status_code == 200


def test_a_message_given_up_after_its_attempts_is_recorded_on_the_ticket(make_app, backend_name):
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), MAIL_DELIVERY="cron")
    app.test_client().post("/api/tickets", json=valid_submission("autre"))
    with app.extensions["faqbot.db"].transaction() as session:
        session.execute(sa.update(OutboxMessage).values(attempts=outbox.MAX_ATTEMPTS - 1))
    report = deliver_pending(app)
    assert len(report.failed) == 1
    [row] = _rows(app)
    assert row.status == "failed" and "ConnectionRefusedError" in row.last_error
    with app.extensions["faqbot.db"].sessions() as session:
        kinds = session.scalars(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == row.ticket_id)).all()
        from faqbot.models import FollowupToken

        # The link composed for the failed attempt was never sent: it is not left valid.
        assert session.scalar(sa.select(sa.func.count()).select_from(FollowupToken)) == 0
    assert kinds == ["created", "email_failed"]


def test_retry_delays_grow_and_are_capped():
    delays = [outbox.retry_delay(n) for n in range(1, 12)]
    assert delays[0] == dt.timedelta(seconds=30) and delays[1] == dt.timedelta(minutes=1)
    assert delays == sorted(delays) and delays[-1] == outbox.MAX_RETRY_DELAY


def test_mail_send_command_delivers_what_is_due(make_app, backend_name):
    controller, collector = smtp_server()
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_DELIVERY="cron")
    try:
        app.test_client().post("/api/tickets", json=valid_submission("autre"))
        result = app.test_cli_runner().invoke(args=["mail", "send"])
    finally:
        controller.stop()
    assert result.exit_code == 0 and "1 envoyé(s)" in result.output
    assert len(collector.messages) == 1


def test_thread_mode_sends_after_the_request(make_app):
    controller, collector = smtp_server()
    app = make_app("sqlite", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_DELIVERY="thread", MAIL_SEND_INTERVAL=60)
    try:
        assert app.test_client().post("/api/tickets", json=valid_submission("autre")).status_code == 201
        for _ in range(100):
            if collector.messages:
                break
            threading.Event().wait(0.05)
    finally:
        controller.stop()
    assert len(collector.messages) == 1  # woken by the commit, not by the 60-second round


def test_an_idle_sender_only_reads(make_app, backend_name):
    """Nothing due (an empty outbox, then a row waiting for its retry): a round is one read, no write — on SQLite
    a deferred BEGIN, so an idle sender never takes the write lock from the requests."""
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), MAIL_DELIVERY="cron")
    engine = app.extensions["faqbot.db"].engine
    with recorded_transactions(engine) as transactions:
        assert deliver_pending(app).sent == []
    assert len(transactions) == 1 and not writes(transactions[0]), transactions
    app.test_client().post("/api/tickets", json=valid_submission("autre"))
    deliver_pending(app)  # SMTP refused: the row waits 30 s for its retry
    [row] = _rows(app)
    assert row.status == "pending" and row.next_attempt_at > utcnow()
    with recorded_transactions(engine) as transactions:
        for _ in range(3):
            assert deliver_pending(app).retried == []
    assert len(transactions) == 3 and not any(writes(statements) for statements in transactions), transactions
    if backend_name == "sqlite":
        assert all(statements[0] == "BEGIN" for statements in transactions)


def test_a_batch_of_mail_is_three_short_write_transactions(make_app, backend_name):
    """Claim, the follow-up tokens the messages link to, the outcomes: three write transactions for the batch,
    whatever its size; the messages are built in a read between them."""
    controller, collector = smtp_server()
    app = make_app(backend_name, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_DELIVERY="cron")
    client = app.test_client()
    for index in range(8):
        assert client.post("/api/tickets", json=valid_submission("autre", email=f"b{index}@example.test")).status_code == 201
    try:
        with recorded_transactions(app.extensions["faqbot.db"].engine) as transactions:
            report = deliver_pending(app)
    finally:
        controller.stop()
    assert len(report.sent) == 8 and len(collector.messages) == 8
    writing = [writes(statements) for statements in transactions if writes(statements)]
    assert writing == [{"outbox_message"}, {"followup_token"}, {"outbox_message"}], transactions
    assert all(row.status == "sent" for row in _rows(app))


def test_under_gunicorn_one_sender_process_sends_for_every_worker(tmp_path):
    """gunicorn.conf.py: MAIL_DELIVERY unset becomes `process`; one sender process beside the two workers sends
    the acknowledgment, and leaves with the server."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import harness

    instance = tmp_path / "instance"
    with harness.gunicorn(instance, workers=2, CONTACT_RATE_LIMIT="1000") as server:
        senders = server.sender_pids()
        assert len(senders) == 1 and len(server.worker_pids()) == 2
        status, _headers, body = server.request("POST", "/api/tickets", valid_submission("autre"))
        assert status == 201, body
        outbox_dir = instance / "outbox"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(outbox_dir.glob("*.eml")):
            time.sleep(0.1)
        [sent] = list(outbox_dir.glob("*.eml"))
        assert body["ref"] in sent.read_text(encoding="utf-8")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{senders[0]}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{senders[0]}").exists()


# --- Reading replies (pure parsing; the IMAP round trip is in tests/test_imap.py) ----------------------------

from faqbot.mail.inbound import parse, strip_reply  # noqa: E402


@pytest.mark.parametrize(
    "text",
    [
        "Merci, c’est bon.\n\nLe lun. 30 nov. 2026 à 10:02, Support <support@exemple.fr> a écrit :\n> Bonjour",
        "Merci, c’est bon.\n\nOn Mon, Nov 30, 2026 at 10:02 AM Support <support@exemple.fr> wrote:\n> Hello",
        "Merci, c’est bon.\n\n-----Message d'origine-----\nDe : Support <support@exemple.fr>\nObjet : Re",
        "Merci, c’est bon.\n________________________________\nDe : Support <support@exemple.fr>\nEnvoyé : lundi",
        "Merci, c’est bon.\n\n-- \nCamille Martin\n06 12 34 56 78",
        "Merci, c’est bon.\n\nEnvoyé de mon iPhone",
        "> Bonjour\n> ancien\nMerci, c’est bon.",
    ],
)
def test_quoted_history_and_signatures_are_stripped(text):
    assert strip_reply(text) == "Merci, c’est bon."


def test_a_line_starting_with_de_is_kept_when_it_is_not_a_header():
    assert strip_reply("De : mon côté, rien reçu.\nMerci") == "De : mon côté, rien reçu.\nMerci"


def test_html_only_replies_are_read_as_text():
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "a@example.test"
    message["Subject"] = "Re"
    message["Message-ID"] = "<html@example.test>"
    message.set_content("<p>Bonjour,</p><p>c&rsquo;est r&eacute;gl&eacute;.</p><blockquote>ancien message</blockquote>", subtype="html")
    parsed = parse(bytes(message))
    assert parsed.text == "Bonjour,\nc’est réglé." and not parsed.automatic


def test_a_message_without_message_id_still_gets_a_stable_identity():
    raw = b"From: a@example.test\r\nSubject: sans id\r\n\r\nBonjour\r\n"
    first = parse(raw).message_id
    assert first == parse(raw).message_id and first.endswith("@sans-identifiant.invalid>")  # a second fetch skips it
