"""Replies that arrive by e-mail: parsed, cleaned, matched to their ticket, recorded once.

Matching, most reliable first: the per-ticket reply address (`support+<token>@…`), then the In-Reply-To /
References headers (Message-IDs of mail we sent), then a ticket reference in the subject — the last one only when
the sender is the ticket's own address, since a reference alone is not a secret. Auto-replies and delivery
reports are recorded and ignored, so no loop can start. A message that matches nothing is listed for staff and
its sender gets one polite answer a day pointing to the contact form.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import InboundMessage, OutboxMessage, Ticket
from ..triage.conversation import MAX_TRAINEE_MESSAGE, ConversationError, add_trainee_message
from ..triage.followup import ticket_for_token
from ..triage.redaction import redact_cards
from . import outbox

REF_IN_SUBJECT = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")
_MSGID = re.compile(r"<([^<>@\s]+)@[^<>\s]+>")
_TOKEN_ADDRESS = re.compile(r"^[^+@\s]+\+([a-z2-7]{32})@", re.I)
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply|bounces?)(\+[^@]*)?@", re.I)

# Where the quoted history of a reply starts (French and English mail clients, Outlook headers).
_QUOTE_STARTS = [
    re.compile(r"^\s*Le .{3,200}a écrit\s*:\s*$", re.I),
    re.compile(r"^\s*On .{3,200}wrote\s*:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Message d.origine|Original Message|Message transféré|Forwarded message)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*\*?(De|From)\s*:\*?\s.*(@|<|\[mailto:).*$", re.I),  # Outlook's header block (with an address)
    re.compile(r"^_{10,}\s*$"),
]
# Where a signature starts: the standard delimiter and the mobile clients' lines.
_SIGNATURE_STARTS = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(Envoyé de mon|Envoyé depuis mon|Sent from my|Télécharger Outlook|Get Outlook for)\b", re.I),
]


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    recipients: list[str]
    references: list[str]  # In-Reply-To first, then References
    text: str  # the new part only: quoted history and signature removed
    attachments: list[str] = field(default_factory=list)
    automatic: str = ""  # why it is an auto-reply or a bounce ("" for a person's message)


def parse(raw: bytes) -> ParsedMail:
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = (message.get("Message-ID") or "").strip()
    if not message_id:
        # No Message-ID (rare, broken clients): the content's digest keeps processing idempotent anyway.
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@sans-identifiant.invalid>"
    sender = parseaddr(str(message.get("From") or ""))[1].strip().lower()
    recipients = [
        address.lower()
        for _name, address in getaddresses(
            [str(message.get(h)) for h in ("To", "Cc", "Delivered-To", "X-Original-To") if message.get(h)]
        )
        if address
    ]
    references = _MSGID.findall(str(message.get("In-Reply-To") or "")) + _MSGID.findall(str(message.get("References") or ""))
    body, attachments = _body_and_attachments(message)
    return ParsedMail(
        message_id=message_id[:255],
        sender=sender[:254],
        subject=str(message.get("Subject") or "")[:300],
        recipients=recipients,
        references=references,
        text=strip_reply(body),
        attachments=attachments,
        automatic=automatic_reason(message, sender),
    )


def automatic_reason(message: EmailMessage, sender: str) -> str:
    """Why a message was written by a machine (RFC 3834 Auto-Submitted, Precedence, delivery reports), or ""."""
    auto_submitted = str(message.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = str(message.get("Precedence") or "").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Loop"):
        if message.get(header):
            return header
    if message.get_content_type() == "multipart/report" or message.get("X-Failed-Recipients"):
        return "rapport de remise"
    if str(message.get("Return-Path") or "").strip() == "<>" or ROBOT_SENDERS.match(sender or ""):
        return "expéditeur automatique"
    if not sender:
        return "sans expéditeur"
    return ""


def _body_and_attachments(message: EmailMessage) -> tuple[str, list[str]]:
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            attachments.append((filename or part.get_content_type())[:120])
    body_part = message.get_body(preferencelist=("plain", "html"))
    if body_part is None:
        return "", attachments
    try:
        content = body_part.get_content()
    except (LookupError, ValueError):  # unknown charset: keep what decodes
        content = (body_part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if body_part.get_content_type() == "text/html":
        content = _html_to_text(content)
    return content, attachments


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "\n", markup)  # quoted history in HTML replies
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h\d)>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def strip_reply(text: str) -> str:
    """Keep what the person wrote: cut at the quoted history or the signature, drop ">" lines."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(pattern.match(line) for pattern in _QUOTE_STARTS + _SIGNATURE_STARTS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def match_ticket(session: Session, mail: ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket a reply belongs to, and how it was found: address | headers | subject."""
    for address in mail.recipients:
        found = _TOKEN_ADDRESS.match(address)
        if found:
            ticket = ticket_for_token(session, found.group(1))
            if ticket is not None:
                return ticket, "address"
    if mail.references:
        ticket_id = session.scalar(
            select(OutboxMessage.ticket_id).where(
                OutboxMessage.message_id.in_(mail.references[:50]), OutboxMessage.ticket_id.is_not(None)
            ).limit(1)
        )
        if ticket_id is not None:
            return session.get(Ticket, ticket_id), "headers"
    for ref in REF_IN_SUBJECT.findall(mail.subject.upper()):
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        # A reference is printed on screens and in e-mails: alone it proves nothing, the sender must match too.
        if ticket is not None and ticket.email.lower() == mail.sender:
            return ticket, "subject"
    return None, ""


@dataclass
class Outcome:
    outcome: str  # threaded | unmatched | ignored | duplicate
    ticket_ref: str | None = None
    answered: bool = False


def process(session: Session, mail: ParsedMail, now: dt.datetime) -> Outcome:
    """Record one message (once, by Message-ID) and act on it; the caller commits."""
    if session.scalar(select(InboundMessage.id).where(InboundMessage.message_id == mail.message_id)) is not None:
        return Outcome("duplicate")
    redacted = redact_cards(mail.text[:MAX_TRAINEE_MESSAGE])
    record = InboundMessage(
        message_id=mail.message_id,
        received_at=now,
        sender=mail.sender or "(inconnu)",
        subject=redact_cards(mail.subject).text,
        outcome="ignored",
        matched_by="",
        body="",
        attachments=mail.attachments,
        answered=False,
    )
    try:  # claimed first: a concurrent fetcher of the same message stops here, before acting on it
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return Outcome("duplicate")
    if mail.automatic:
        record.body = mail.automatic  # why it was ignored, for the staff list
        return Outcome("ignored")
    ticket, how = match_ticket(session, mail)
    if ticket is not None:
        try:
            add_trainee_message(
                session, ticket, redacted.text or "(message vide)", now, source="email",
                redactions=redacted.count, message_id=mail.message_id, attachments=mail.attachments,
            )
            record.outcome, record.matched_by, record.ticket_id = "threaded", how, ticket.id
            return Outcome("threaded", ticket.ref)
        except ConversationError:  # a closed ticket: treated as a new, unmatched message
            pass
    record.outcome, record.body = "unmatched", redacted.text
    record.answered = _answer_unmatched(session, mail.sender, now)
    return Outcome("unmatched", answered=record.answered)


def _answer_unmatched(session: Session, sender: str, now: dt.datetime) -> bool:
    """One polite answer per sender per day, never to a machine."""
    if not sender:
        return False
    already = session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.sender == sender,
            InboundMessage.answered.is_(True),
            InboundMessage.received_at > now - dt.timedelta(days=1),
        )
    )
    if already:
        return False
    outbox.enqueue(session, kind="unmatched", to=sender, now=now)
    return True
