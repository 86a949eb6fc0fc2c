"""Forms of the public pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class VoteForm(FlaskForm):
    """"Cette réponse vous a-t-elle aidé ?" — two buttons, one vote."""

    yes = SubmitField(_l("Oui"))
    no = SubmitField(_l("Non"))
