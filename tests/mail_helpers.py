"""Helpers for the mail, follow-up and IMAP tests: the outbox as files, follow-up links, a local SMTP server."""
from __future__ import annotations

import email
import email.policy
import re
import socket
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

LINK = re.compile(r"/suivi/([a-z2-7]{32})")


def outbox_files(app) -> list[email.message.EmailMessage]:
    folder = Path(app.config["OUTBOX_DIR"])
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def followup_token(message) -> str:
    match = LINK.search(body(message))
    assert match, "no follow-up link in the e-mail"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector(Message):
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def smtp_server(port: int | None = None) -> tuple[Controller, Collector]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller, collector
