"""Turn what a visitor typed into typed values, one field type at a time (the same rules for the form and the API)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .banking import bic_problem, iban_problem, normalize_bic, normalize_iban
from .deadlines import PARIS
from .problems import Problem
from .reasons import N_, Field

_DATE_FR = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_TIME = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?(?::(\d{2}))?$")

REQUIRED = N_("Ce champ est obligatoire.")


def parse_field(field: Field, raw: Any) -> tuple[Any, Problem | None]:
    """Typed value of one field, or the problem with what was typed. Empty optional fields give None."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None, (Problem("champ-requis", REQUIRED, field.id) if field.required else None)
    if len(text) > field.max_length:
        return None, Problem("trop-long", N_("%(max)d caractères au maximum."), field.id, {"max": field.max_length})
    parser = _PARSERS[field.type]
    return parser(field, text)


def serialize(field: Field, value: Any) -> Any:
    """JSON-friendly form of a typed value, for storage and e-mails (dates ISO, instants ISO UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _text(field: Field, text: str):
    if field.format == "bic":
        problem = bic_problem(text, field.id)
        return (None, problem) if problem else (normalize_bic(text), None)
    return text, None


def normalize_email_address(text: str) -> str | None:
    """The address as the mailer will use it, or None when the mailer would read it differently.

    email-validator (the validator WTForms uses) refuses IP-literal domains (« a@[127.0.0.1].fr »), quoted local
    parts and malformed domains; an RFC 2047 encoded-word (« =?utf-8?q?…?= ») is refused too, since a mail
    library may expand it into other recipients.
    """
    from email_validator import EmailNotValidError, validate_email

    if len(text) > 254 or "=?" in text or "?=" in text or any(char in text for char in "\r\n,;<>\""):
        return None
    try:
        # test_environment: the reserved ".test" domain is accepted (tests use it); nothing is looked up in DNS.
        result = validate_email(text, check_deliverability=False, test_environment=True, allow_domain_literal=False)
    except EmailNotValidError:
        return None
    return result.normalized


def _email(field: Field, text: str):
    address = normalize_email_address(text)
    if address is None:
        return None, Problem("email-invalide", N_("Indiquez une adresse e-mail valide, par exemple prenom.nom@exemple.fr."), field.id)
    return address, None


def parse_phone(text: str) -> str | None:
    """A French number (0X XX XX XX XX, +33, 0033) or an international one; normalized for people to read."""
    compact = re.sub(r"[\s.\-()/]", "", text)
    if compact.startswith("0033"):
        compact = "+33" + compact[4:]
    if compact.startswith("+33"):
        rest = compact[3:]
        rest = rest[1:] if rest.startswith("0") else rest  # "+33 (0)6 …"
        compact = "0" + rest
    if re.fullmatch(r"0[1-9]\d{8}", compact):
        return " ".join(compact[i : i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+[1-9]\d{7,14}", compact):
        return compact
    return None


def _tel(field: Field, text: str):
    phone = parse_phone(text)
    if phone is None:
        return None, Problem("telephone-invalide", N_("Indiquez un numéro de téléphone valide, par exemple 06 12 34 56 78."), field.id)
    return phone, None


def parse_date(text: str) -> dt.date | None:
    text = text.strip()
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        match = _DATE_FR.match(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
        year += 2000 if year < 100 else 0
        try:
            value = dt.date(year, month, day)
        except ValueError:
            return None
    return value if 2000 <= value.year <= 2100 else None


def parse_datetime(text: str) -> dt.datetime | None:
    """An aware instant; a time without offset is Paris time (what the visitor's bank shows)."""
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parts = re.split(r"\s*(?:\s|à|a|T)\s*", text, maxsplit=1)
        if len(parts) != 2:
            return None
        day, time_match = parse_date(parts[0]), _TIME.match(parts[1].strip())
        if day is None or not time_match:
            return None
        hour, minute, second = int(time_match[1]), int(time_match[2] or 0), int(time_match[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        value = dt.datetime.combine(day, dt.time(hour, minute, second))
    if not 2000 <= value.year <= 2100:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return value.astimezone(dt.timezone.utc)


def _date(field: Field, text: str):
    value = parse_date(text)
    if value is None:
        return None, Problem("date-invalide", N_("Indiquez une date valide, par exemple 04/12/2023."), field.id)
    return value, None


def _datetime(field: Field, text: str):
    value = parse_datetime(text)
    if value is None:
        return None, Problem("date-heure-invalide", N_("Indiquez une date et une heure valides, par exemple 04/12/2023 17:30."), field.id)
    return value, None


def _number(field: Field, text: str):
    cleaned = re.sub(r"[\s\u00a0\u202f€]|eur(os?)?$", "", text, flags=re.I).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value >= 100000:
        return None, Problem("montant-invalide", N_("Indiquez un montant en euros, par exemple 229,00."), field.id)
    return value.quantize(Decimal("0.01")), None


def _iban(field: Field, text: str):
    problem = iban_problem(text, field.id)
    return (None, problem) if problem else (normalize_iban(text), None)


def _choice(field: Field, text: str):
    if text not in {value for value, _label in field.choices}:
        return None, Problem("choix-invalide", N_("Choisissez une des réponses proposées."), field.id)
    return text, None


_PARSERS = {
    "text": _text,
    "email": _email,
    "tel": _tel,
    "date": _date,
    "datetime": _datetime,
    "number": _number,
    "iban": _iban,
    "choice": _choice,
}
