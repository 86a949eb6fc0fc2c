"""How the console shows a ticket: French facts, canned replies, the SLA in business hours, the page itself."""
from __future__ import annotations

import datetime as dt

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import knowledge
from ..db import utcnow
from ..i18n import format_field_value
from ..models import Ticket
from ..triage.business_hours import Schedule, parse_schedules
from ..triage.reasons import get_reason
from . import workflow
from .auth import current_user
from .forms import AssignForm, NoteForm, ReplyForm, StatusForm
from .queries import active_staff


def now() -> dt.datetime:
    """The current instant; tests may pin it with FAQBOT_NOW (as the contact area does)."""
    from ..triage.fields import parse_datetime

    pinned = current_app.config.get("FAQBOT_NOW")
    return parse_datetime(pinned) if pinned else utcnow()


def schedules() -> dict[str, Schedule]:
    return parse_schedules(current_app.config.get("SLA_BUSINESS_HOURS") or "")


def faq():
    """The FAQ the public site uses (faqbot.knowledge owns it)."""
    return knowledge.faq()


def reason_short(reason_id: str) -> str:
    """A reason's short title for lists (« Débité(e), mais ni e-mail ni SMS de confirmation »), never its id."""
    reason = get_reason(reason_id)
    return _(reason.short) if reason else reason_id


def assign_choices():
    from wtforms import SelectChoice

    return [SelectChoice("", _("— Remettre dans la file (personne) —"))] + [
        SelectChoice(str(user.id), f"{user.display_name} <{user.email}>" if user.display_name else user.email)
        for user in active_staff()
    ]


def canned_groups(ticket: Ticket) -> list[tuple[str, list]]:
    """FAQ answers offered as canned replies: the ones the visitor saw, the reason's, then every entry."""
    content = faq()
    # Merged-away ids resolve to their survivor; incomplete answers are offered apart, behind a confirmation.
    seen = [e for e in dict.fromkeys(content.resolve(i) for i in ticket.faq_seen or []) if e is not None and not e.incomplete]
    reason = get_reason(ticket.reason)
    linked_ids = list(reason.faq) if reason else []
    linked = [e for e in dict.fromkeys(content.resolve(i) for i in linked_ids) if e is not None and not e.incomplete and e not in seen]
    linked += [e for e in content.for_reason(ticket.reason) if e not in seen and e not in linked and not e.incomplete]
    groups = []
    if seen:
        groups.append((_("Réponses vues par le stagiaire avant d’écrire"), seen))
    if linked:
        groups.append((_("Réponses liées au motif"), linked))
    groups.append((_("Toutes les réponses de la FAQ"), [e for e in content.entries if not e.incomplete]))
    incomplete = [e for e in content.entries if e.incomplete]
    if incomplete:
        groups.append((_("Réponses incomplètes (à confirmer avant insertion)"), incomplete))
    return groups


def canned_entry(entry_id: str, confirmed: bool):
    """The served entry to insert (following merges); an incomplete one only once the agent confirmed."""
    entry = faq().resolve(entry_id)
    if entry is not None and entry.incomplete and not confirmed:
        return None, entry
    return entry, None


def default_reply(ticket: Ticket, inserted: str = "") -> str:
    user = current_user()
    signature = user.display_name or _("L’équipe support")
    middle = f"{inserted}\n\n" if inserted else "\n\n"
    return _("Bonjour %(name)s,", name=ticket.name) + "\n\n" + middle + _("Cordialement,") + f"\n{signature}"


def parse_iso(value):
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed
    return None


# Facts computed at submission (triage/checks.py), in words: codes are for the rules, not for people.
COMPUTED_LABELS = {
    "retractation_issue": _l("Délai de rétractation"),
    "retractation_fin": _l("Fin du délai de rétractation retenue"),
    "retractation_fin_initiale": _l("Fin du délai initial"),
    "retractation_fin_apres_transfert": _l("Fin du délai après le transfert"),
}
COMPUTED_VALUES = {
    "open": _l("en cours : le stagiaire peut agir seul"),
    "expired": _l("expiré"),
    "transfer-open": _l("rouvert par l’annulation du centre, en cours"),
    "transfer-expired": _l("expiré, même après le transfert"),
}


def _humanize_key(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").strip().capitalize()


def ticket_facts(ticket: Ticket) -> dict:
    """Fields, confirmations and computed facts with French labels and French values (Babel)."""
    reason = get_reason(ticket.reason)
    fields = []
    for field_id, value in (ticket.fields or {}).items():
        field = reason.field(field_id) if reason else None
        field_label = _(field.label) if field else _humanize_key(field_id)
        fields.append((field_label, format_field_value(field, value) if field else value))
    confirmations = []
    for item in ticket.confirmations or []:
        if isinstance(item, dict):
            item_label = item.get("label") or _humanize_key(str(item.get("id", "")))
            confirmations.append((item_label, parse_iso(item.get("confirmed_at")), item.get("confirmed_at")))
        else:
            confirmations.append((str(item), None, None))
    computed = []
    for key, value in (ticket.computed or {}).items():
        shown = str(COMPUTED_VALUES[value]) if isinstance(value, str) and value in COMPUTED_VALUES else value
        computed.append((str(COMPUTED_LABELS.get(key, _humanize_key(key))), parse_iso(value), shown))
    return {"reason": reason, "fields": fields, "confirmations": confirmations, "computed": computed}


def render_ticket(ticket: Ticket, *, reply_form=None, note_form=None, iban=None, status=200):
    from ..triage.followup import live_token_count
    from ..db import session as db_session

    moment = now()
    user = current_user()
    assign_form = AssignForm(prefix="assign")
    assign_form.assignee.choices = assign_choices()
    assign_form.assignee.data = str(ticket.assignee_id or "")
    status_form = StatusForm(prefix="status")
    status_form.status.data = ticket.status if ticket.status != "nouveau" else "en_cours"
    if reply_form is None:
        reply_form = ReplyForm(prefix="reply")
        entry, refused = canned_entry(request.args.get("canned", ""), confirmed=request.args.get("canned_confirm") == "1")
        if refused is not None:
            flash(_("Cette réponse est incomplète (%(missing)s) : cochez « J’ai relu, insérer quand même une réponse incomplète » pour l’insérer.", missing=refused.incomplete), "warning")
        reply_form.body.data = default_reply(ticket, entry.answer_plain if entry else "")
    if not reply_form.send_key.data or reply_form.send_key.errors:
        reply_form.fresh_key()
    content = faq()
    return (
        render_template(
            "staff/ticket.html",
            ticket=ticket,
            facts=ticket_facts(ticket),
            sla=workflow.sla_for(ticket, moment, schedules()),
            now=moment,
            can_work=workflow.can_work(user, ticket),
            can_assign=workflow.can_assign(user, ticket),
            is_admin=workflow.is_admin(user),
            reply_form=reply_form,
            note_form=note_form or NoteForm(prefix="note"),
            assign_form=assign_form,
            status_form=status_form,
            canned_groups=canned_groups(ticket),
            seen_entries=[(entry_id, content.resolve(entry_id)) for entry_id in ticket.faq_seen or []],
            iban=iban,
            live_links=live_token_count(db_session(), ticket.id),
            reason_short=reason_short,
        ),
        status,
    )
