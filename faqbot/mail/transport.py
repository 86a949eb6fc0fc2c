"""Putting one message on the wire: SMTP when SMTP_HOST is configured, otherwise .eml files in the outbox folder."""
from __future__ import annotations

import base64
import os
import secrets
import smtplib
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ..db import utcnow
from ..triage.redaction import redact_text


def mail_domain(config: Mapping) -> str:
    return config["MAIL_FROM"].rpartition("@")[2] or "faqbot.localhost"


def random_local_part() -> str:
    """A Message-ID's random part: 128 bits in lower-case base32 (letters and 2–7), so it never holds the long run of
    digits a card number is, which the redaction would mask."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def full_message_id(local: str, config: Mapping) -> str:
    """`<local@domain>` from the outbox's random local part (the part threading looks up)."""
    return f"<{local}@{mail_domain(config)}>"


def build_message(
    config: Mapping,
    *,
    to: str,
    subject: str,
    text: str,
    reply_to: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    automatic: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = redact_text(subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or full_message_id(random_local_part(), config)
    if reply_to:
        message["Reply-To"] = reply_to
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    if automatic:
        # RFC 3834 ("auto-generated" | "auto-replied"): machines must not answer it (no loop with an out-of-office).
        message["Auto-Submitted"] = automatic
    text = redact_text(text)  # the choke point for every e-mail body: no card number leaves by mail
    message.set_content(text)  # plain text only: nothing a visitor typed can become markup in a mail client
    return message


def deliver(config: Mapping, message: EmailMessage) -> None:
    """Hand one message over; raises on SMTP failure (the outbox retries)."""
    if config.get("SMTP_HOST"):
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
        return
    outbox = Path(config["OUTBOX_DIR"])
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    temporary = outbox / (name + ".tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        handle.write(bytes(message))  # 0600: an e-mail holds a person's data
    temporary.rename(outbox / name)  # readers never see half a file


def send_email(config: Mapping, *, to: str, subject: str, text: str, reply_to: str | None = None) -> str:
    """Send one plain-text e-mail now and return its Message-ID (tests and tools; the app goes through the outbox)."""
    message = build_message(config, to=to, subject=subject, text=text, reply_to=reply_to)
    deliver(config, message)
    return message["Message-ID"]
