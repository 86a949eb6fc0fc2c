"""WTForms for the contact flow, built per reason from its data; the rules themselves live in `triage.validate`."""
from __future__ import annotations

import datetime as dt
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput, DateTimeLocalInput, EmailInput, TelInput, TextInput

from ..triage import Problem, Reason, Validation, validate
from ..triage.submission import MAX_MESSAGE

_WIDGETS = {
    "email": EmailInput,
    "tel": TelInput,
    "date": DateInput,
    "datetime": DateTimeLocalInput,
    "number": TextInput,  # a text box with inputmode=decimal: "229,00" is how people write amounts
    "iban": TextInput,
    "text": TextInput,
}
_AUTOCOMPLETE = {"email": "email", "tel": "tel", "name": "name"}


def field_name(field_id: str) -> str:
    return "f_" + field_id.replace("-", "_")


def confirmation_name(confirmation_id: str) -> str:
    return "c_" + confirmation_id.replace("-", "_")


class MessageForm(FlaskForm):
    """Step 1: describe the problem in your own words to get a suggested reason."""

    message = TextAreaField(_l("Décrivez votre problème en quelques mots"))

    def validate_message(self, field):
        text = (field.data or "").strip()
        if len(text) < 3:
            raise ValidationError(_("Écrivez quelques mots sur votre problème, ou choisissez un motif ci-dessous."))
        if len(text) > MAX_MESSAGE:
            raise ValidationError(_("%(max)d caractères au maximum.", max=MAX_MESSAGE))


class OutcomeForm(FlaskForm):
    """Step 2: the answer solved it, or the visitor still needs to write; carries what was typed."""

    message = HiddenField()
    faq_seen = HiddenField()


def _wtforms_field(field, label: str, description: str):
    render_kw = {}
    if field.type == "number":
        render_kw["inputmode"] = "decimal"
    if field.type in ("iban",) or field.format == "bic":
        render_kw.update(autocapitalize="characters", spellcheck="false", autocomplete="off")
    if field.type in _AUTOCOMPLETE:
        render_kw["autocomplete"] = _AUTOCOMPLETE[field.type]
    if field.type == "choice":
        return SelectField(
            label,
            choices=[SelectChoice("", _l("— Choisissez —"))] + [SelectChoice(value, _l(text)) for value, text in field.choices],
            description=description,
            validate_choice=False,  # triage decides, with the same message as the API
            render_kw=render_kw,
        )
    return StringField(label, widget=_WIDGETS[field.type](), description=description, render_kw=render_kw)


class ContactForm(FlaskForm):
    """Base of the per-reason forms: identity and message (step 4) plus the idempotency key of this submission."""

    name = StringField(_l("Nom et prénom"), render_kw={"autocomplete": "name"})
    email = StringField(_l("Adresse e-mail pour vous répondre"), widget=EmailInput(), render_kw={"autocomplete": "email"})
    message = TextAreaField(_l("Votre message"))
    faq_seen = HiddenField()
    idempotency_key = HiddenField()
    # Spam: a field people never see (bots fill it) and the signed time the form was shown (see spam.py).
    website = StringField(_l("Laissez ce champ vide"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()

    reason: Reason  # set on each built class

    def to_data(self) -> dict:
        """The submission in the API's shape, so both paths go through the same `triage.validate`."""
        reason = self.reason
        return {
            "reason": reason.id,
            "name": self.name.data,
            "email": self.email.data,
            "message": self.message.data,
            "confirmations": [c.id for c in reason.confirmations if self[confirmation_name(c.id)].data],
            "fields": {f.id: self[field_name(f.id)].data for f in reason.fields if self[field_name(f.id)].data},
        }

    def faq_seen_ids(self) -> list[str]:
        return [item for item in (self.faq_seen.data or "").split(",") if item][:20]

    def check(self, now: dt.datetime, stage: str) -> Validation:
        """Run the triage rules and attach their problems to the fields they concern."""
        result = validate(self.reason.id, self.to_data(), now, stage=stage, faq_seen=self.faq_seen_ids())
        for key, value in result.echo.items():
            target = self._target(key)
            if target is not None and value is not None and not isinstance(value, bool):
                target.data = value  # card numbers come back masked
        self.form_problems: list[Problem] = []
        for problem in result.problems:
            target = self._target(problem.field)
            if target is not None and not problem.blocking:
                target.errors = list(target.errors) + [problem.text(_)]
            else:
                self.form_problems.append(problem)
        return result

    def _target(self, key: str | None):
        if key is None:
            return None
        for name in (key, field_name(key), confirmation_name(key)):
            if name in self._fields:
                return self._fields[name]
        return None

    def ensure_started(self) -> None:
        from .spam import started_token

        if not self.started.data:
            self.started.data = started_token()

    def ensure_idempotency_key(self) -> None:
        if not self.idempotency_key.data:
            self.idempotency_key.data = secrets.token_urlsafe(24)


_FORM_CLASSES: dict[str, type[ContactForm]] = {}


def contact_form_class(reason: Reason) -> type[ContactForm]:
    """The form class of one reason (built once): its confirmations as checkboxes, its fields typed."""
    if reason.id in _FORM_CLASSES:
        return _FORM_CLASSES[reason.id]
    attributes: dict = {"reason": reason}
    for confirmation in reason.confirmations:
        attributes[confirmation_name(confirmation.id)] = BooleanField(_l(confirmation.label))
    for field in reason.fields:
        attributes[field_name(field.id)] = _wtforms_field(field, _l(field.label), _l(field.help) if field.help else "")
    form_class = type(f"ContactForm_{reason.id.replace('-', '_')}", (ContactForm,), attributes)
    _FORM_CLASSES[reason.id] = form_class
    return form_class
