"""Private follow-up links: an unguessable token per e-mail sent, tied to one ticket, stored hashed, revocable.

The token appears in clear only in the e-mail that carries it (the link `/suivi/<token>` and the reply address
`support+<token>@…`); the database keeps its SHA-256, so a stolen copy of the database opens no page. Tokens die
with their ticket (retention deletes the ticket, the foreign key cascades) or when staff revoke them.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import FollowupToken, Ticket

TOKEN_BYTES = 20  # 160 random bits
# Lower-case base32: survives mail servers that lower-case addresses, no "+" or "/" in a URL or an address.
TOKEN_PATTERN = re.compile(r"^[a-z2-7]{32}$")


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(session: Session, ticket_id: int, now: dt.datetime) -> str:
    """Store the hash of a new token for the ticket and return the token (shown once, in one e-mail)."""
    token = new_token()
    session.add(FollowupToken(ticket_id=ticket_id, token_hash=hash_token(token), created_at=now))
    return token


def forget_token(session: Session, token: str) -> None:
    """Delete a token whose e-mail was never sent (the link it would carry exists nowhere)."""
    row = session.scalar(select(FollowupToken).where(FollowupToken.token_hash == hash_token(token)))
    if row is not None:
        session.delete(row)


def ticket_for_token(session: Session, token: str) -> Ticket | None:
    """The ticket a live token opens; None for a malformed, unknown or revoked token (callers answer 404)."""
    token = (token or "").strip().lower()
    if not TOKEN_PATTERN.match(token):
        return None
    row = session.scalar(
        select(FollowupToken).where(FollowupToken.token_hash == hash_token(token), FollowupToken.revoked_at.is_(None))
    )
    return session.get(Ticket, row.ticket_id) if row is not None else None


def revoke_tokens(session: Session, ticket_id: int, now: dt.datetime) -> int:
    """Revoke every live link of a ticket (a forwarded e-mail, a shared screen); later e-mails carry new ones."""
    result = session.execute(
        update(FollowupToken)
        .where(FollowupToken.ticket_id == ticket_id, FollowupToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def live_token_count(session: Session, ticket_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count()).select_from(FollowupToken).where(FollowupToken.ticket_id == ticket_id, FollowupToken.revoked_at.is_(None))
    ) or 0
