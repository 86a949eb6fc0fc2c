"""The ticket page's forms (WTForms): note, reply, status, assignment."""
from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from . import workflow
from .labels import STATUS_LABELS

REPLY_MAX_LENGTH = 20000


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note interne (visible par l’équipe seulement)"),
        validators=[DataRequired(message=_l("La note est vide.")), Length(max=10000)],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Réponse envoyée par e-mail au stagiaire"),
        validators=[DataRequired(message=_l("La réponse est vide.")), Length(max=REPLY_MAX_LENGTH)],
    )
    then_status = SelectField(
        _l("Ensuite, passer le ticket en"),
        choices=[
            SelectChoice("attente_stagiaire", _l("en attente du stagiaire")),
            SelectChoice("resolu", _l("résolu")),
            SelectChoice("en_cours", _l("en cours (ne pas changer)")),
        ],
        default="attente_stagiaire",
    )
    # One key per rendered form: the same reply posted twice (double click, browser retry) is sent once.
    send_key = HiddenField(validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{16,64}$", message=_l("Formulaire périmé : rechargez la page."))])

    def fresh_key(self) -> None:
        self.send_key.data = secrets.token_urlsafe(18)


class StatusForm(FlaskForm):
    status = SelectField(_l("Nouveau statut"), choices=[SelectChoice(s, STATUS_LABELS[s]) for s in workflow.ALLOWED_TARGET_STATUSES])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Attribuer à"), choices=[])
