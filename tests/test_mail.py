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
