"""French for people: Flask-Babel for gettext and Jinja filters; dates shown in Europe/Paris; French typography."""
from __future__ import annotations

import datetime as dt

from decimal import Decimal

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency
from flask_babel import Babel, get_translations
from flask_babel import gettext as _

from .triage.fields import parse_field

from .typography import french_spacing, typo

PARIS_TZ = "Europe/Paris"
LOCALE = "fr_FR"


def format_paris(value: dt.datetime | None, pattern: str = "EEEE d MMMM y 'à' HH:mm") -> str:
    """Format an aware UTC datetime for French readers, in Paris time ("lundi 4 décembre 2023 à 18:00")."""
    if value is None:
        return ""
    return babel_format_datetime(value, pattern, tzinfo=PARIS_TZ, locale=LOCALE)


def _format_typed(field, value) -> str:
    """A reason field's typed value as a French reader expects it (one formatter for stored and typed values)."""
    from babel.numbers import format_decimal

    if field.choices:
        return next((_(label) for code, label in field.choices if code == value), str(value))
    if isinstance(value, dt.datetime):
        return format_paris(value)
    if isinstance(value, dt.date):
        return babel_format_date(value, "EEEE d MMMM y", locale=LOCALE)
    if isinstance(value, Decimal):
        # Amounts are the only numbers the reasons ask for (their labels say « (€) »).
        if "€" in str(field.label) or field.id.startswith("montant") or field.type != "number":
            return format_currency(value, "EUR", locale=LOCALE)
        return format_decimal(value, locale=LOCALE)
    return str(value)


def format_field_value(field, value) -> str:
    """A reason field's stored value (ISO date, UTC instant, "229.00", choice code) as a French reader expects it.

    « vendredi 4 décembre 2026 », « jeudi 26 novembre 2026 à 02:56 » (Paris time), « 229,00 € »; anything else
    (free text, a value that does not parse) as stored.
    """
    from decimal import InvalidOperation

    try:
        if field.type == "date" and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        elif field.type == "datetime" and isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
        elif field.type == "number" and isinstance(value, (str, int, float)):
            value = Decimal(str(value))
    except (ValueError, InvalidOperation):
        return str(value)
    return _format_typed(field, value)


def field_value(field, raw) -> str:
    """What a visitor typed in a reason's field, shown back the French way (« lundi 23 novembre 2026 », « Oui »).

    The value is parsed with the triage rules themselves; what does not parse is shown as typed.
    """
    if raw is None or str(raw).strip() == "":
        return ""
    value, problem = parse_field(field, raw)
    if problem is not None or value is None:
        return str(raw)
    return _format_typed(field, value)


def init_app(app) -> None:
    Babel(app, locale_selector=lambda: "fr", timezone_selector=lambda: PARIS_TZ)
    app.jinja_env.filters["paris"] = format_paris
    app.jinja_env.filters["typo"] = typo
    app.jinja_env.globals["field_value"] = field_value
    # The templates' own sentences are typeset once here, at display (« Cette réponse vous a-t-elle aidé ? »
    # keeps its « ? »); placeholders are filled in afterwards, so what a visitor typed is never changed.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: french_spacing(get_translations().ugettext(s)),
        ngettext=lambda s, p, n: french_spacing(get_translations().ungettext(s, p, n)),
        pgettext=lambda c, s: french_spacing(get_translations().upgettext(c, s)),
        npgettext=lambda c, s, p, n: french_spacing(get_translations().unpgettext(c, s, p, n)),
        newstyle=True,
    )
