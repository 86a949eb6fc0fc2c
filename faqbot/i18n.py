"""French for people: Flask-Babel for gettext and Jinja filters; dates shown in Europe/Paris."""
from __future__ import annotations

import datetime as dt

from babel.dates import format_datetime as babel_format_datetime
from flask_babel import Babel

PARIS_TZ = "Europe/Paris"
LOCALE = "fr_FR"


def format_paris(value: dt.datetime | None, pattern: str = "EEEE d MMMM y 'à' HH:mm") -> str:
    """Format an aware UTC datetime for French readers, in Paris time ("lundi 4 décembre 2023 à 18:00")."""
    if value is None:
        return ""
    return babel_format_datetime(value, pattern, tzinfo=PARIS_TZ, locale=LOCALE)


def init_app(app) -> None:
    Babel(app, locale_selector=lambda: "fr", timezone_selector=lambda: PARIS_TZ)
    app.jinja_env.filters["paris"] = format_paris
