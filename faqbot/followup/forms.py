"""Forms of the follow-up page: CSRF-checked like the contact form, same message limit."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from ..triage.submission import MAX_MESSAGE


class FollowupMessageForm(FlaskForm):
    message = TextAreaField(_l("Ajouter un message à votre demande"))

    def validate_message(self, field):
        text = (field.data or "").strip()
        if len(text) < 2:
            raise ValidationError(_("Votre message est vide."))
        if len(text) > MAX_MESSAGE:
            raise ValidationError(_("%(max)d caractères au maximum.", max=MAX_MESSAGE))


class ActionForm(FlaskForm):
    """A button (« Mon problème est résolu », « Oui » / « Non »): only the CSRF token travels."""
