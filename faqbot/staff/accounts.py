"""Staff accounts without Flask: Argon2id password hashes, creation, authentication, deactivation, audit rows."""
from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, StaffUser
from ..triage.fields import normalize_email_address
from .workflow import ROLES

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password (no enumeration).
_DUMMY_HASH = _hasher.hash("faqbot-dummy-password")

MIN_PASSWORD_LENGTH = 12


class AccountError(Exception):
    """A refused account operation, with its French message."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    address = normalize_email(email)
    local_part = address.split("@")[0]
    # The whole local part, not a substring: « MotDePasseAdmin2026! » is fine for admin@…, « Admin2026!!!! » is not.
    if address and (address in password.lower() or _letters(local_part) and _letters(password) == _letters(local_part)):
        raise AccountError("Le mot de passe ne doit pas contenir l’adresse e-mail.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def find_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalize_email(email)))


def create_staff(
    session: Session, email: str, password: str, role: str, now: dt.datetime, display_name: str = "", actor: StaffUser | None = None
) -> StaffUser:
    email = normalize_email(email)
    if role not in ROLES:
        raise AccountError("Rôle inconnu : choisissez « agent » ou « admin ».")
    if normalize_email_address(email) is None:  # as the mailer will read it: no IP literal, no encoded-word
        raise AccountError("Adresse e-mail invalide.")
    if find_by_email(session, email) is not None:
        raise AccountError("Un compte existe déjà avec cette adresse.")
    check_password_strength(password, email)
    user = StaffUser(
        email=email, display_name=display_name.strip()[:120], password_hash=hash_password(password), role=role,
        active=True, session_version=1, created_at=now,
    )
    session.add(user)
    session.flush()
    audit(session, actor, "account_created", f"{email} ({role})", now)
    return user


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active account for these credentials, or None; same cost whether the address exists or not."""
    user = find_by_email(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, user: StaffUser, password: str, now: dt.datetime, actor: StaffUser | None = None) -> None:
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)
    user.session_version += 1  # every other session of this account ends
    audit(session, actor, "password_changed", user.email, now)


def deactivate(session: Session, user: StaffUser, now: dt.datetime, actor: StaffUser | None = None) -> None:
    """Disable the account and end all its sessions at their next request."""
    user.active = False
    user.session_version += 1
    audit(session, actor, "account_deactivated", user.email, now)


def reactivate(session: Session, user: StaffUser, now: dt.datetime, actor: StaffUser | None = None) -> None:
    user.active = True
    audit(session, actor, "account_reactivated", user.email, now)


def set_role(session: Session, user: StaffUser, role: str, now: dt.datetime, actor: StaffUser | None = None) -> None:
    if role not in ROLES:
        raise AccountError("Rôle inconnu : choisissez « agent » ou « admin ».")
    if user.role == role:
        return
    user.role = role
    user.session_version += 1  # the new rights apply to a fresh login, not to a session opened with the old ones
    audit(session, actor, "role_changed", f"{user.email} → {role}", now)


def end_sessions(session: Session, user: StaffUser, now: dt.datetime, actor: StaffUser | None = None) -> None:
    user.session_version += 1
    audit(session, actor, "sessions_ended", user.email, now)


def active_admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", StaffUser.active.is_(True))) or 0


def audit(session: Session, actor: StaffUser | None, kind: str, detail: str, now: dt.datetime) -> None:
    session.add(AuditEvent(actor_id=actor.id if actor else None, kind=kind, detail=detail[:2000], at=now))
