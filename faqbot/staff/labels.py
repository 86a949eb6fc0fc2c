"""French labels of the console's codes (statuses, priorities, queues, SLA states, history events)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "nouveau": _l("nouveau"),
    "en_cours": _l("en cours"),
    "attente_stagiaire": _l("en attente du stagiaire"),
    "resolu": _l("résolu"),
    "clos": _l("clos"),
}
PRIORITY_LABELS = {"urgent": _l("urgente"), "high": _l("haute"), "normal": _l("normale")}
QUEUE_LABELS = {
    "paiement": _l("Paiement"),
    "inscription": _l("Inscription"),
    "retractation": _l("Rétractation"),
    "remboursement": _l("Remboursement"),
    "jour-j": _l("Jour J"),
    "points": _l("Points"),
    "general": _l("Général"),
}
SLA_LABELS = {
    "ok": _l("dans les temps"),
    "a_risque": _l("à risque"),
    "depasse": _l("dépassé"),
    "respecte": _l("respecté"),
    "en_retard": _l("répondu en retard"),
    "en_pause": _l("en pause (attente du stagiaire)"),
}
SLA_KIND_LABELS = {"premiere": _l("Première réponse"), "suivante": _l("Réponse suivante")}
ROLE_LABELS = {"agent": _l("agent"), "admin": _l("administrateur")}
EVENT_LABELS = {
    "created": _l("Ticket créé"),
    "claimed": _l("Pris en charge"),
    "assigned": _l("Réattribué"),
    "status": _l("Statut modifié"),
    "note": _l("Note interne"),
    "reply": _l("Réponse envoyée au stagiaire"),
    "iban_revealed": _l("IBAN affiché"),
    "email_failed": _l("Échec de l’envoi de l’e-mail"),
    "anonymised": _l("Ticket anonymisé (RGPD)"),
    "trainee_message": _l("Message du stagiaire"),
    "csat": _l("Avis du stagiaire"),
    "links_revoked": _l("Liens de suivi révoqués"),
}
DEFLECTION_LABELS = {
    "resolved": _l("résolu par la réponse"),
    "continued": _l("a continué"),
    "blocked": _l("bloqué par une vérification"),
    "submitted": _l("a envoyé une demande"),
}
AUDIT_LABELS = {
    "login": _l("Connexion"),
    "login_failed": _l("Échec de connexion"),
    "login_throttled": _l("Connexion bloquée (trop de tentatives)"),
    "logout": _l("Déconnexion"),
    "account_created": _l("Compte créé"),
    "account_deactivated": _l("Compte désactivé"),
    "account_reactivated": _l("Compte réactivé"),
    "role_changed": _l("Rôle modifié"),
    "password_changed": _l("Mot de passe modifié"),
    "sessions_ended": _l("Sessions fermées"),
    "export": _l("Export CSV"),
    "content_proposed": _l("FAQ : proposition"),
    "content_accepted": _l("FAQ : proposition acceptée"),
    "content_rejected": _l("FAQ : proposition refusée"),
    "content_dismissed": _l("FAQ : recherche classée comme bruit"),
    "content_exported": _l("FAQ : propositions exportées dans le fichier"),
    "password_change_failed": _l("Changement de mot de passe : mot de passe actuel incorrect"),
    "password_change_throttled": _l("Changement de mot de passe bloqué (trop de tentatives)"),
    "privacy_purge": _l("Purge de rétention (RGPD)"),
    "privacy_export": _l("Export des données d’une personne (RGPD)"),
    "privacy_erase": _l("Effacement des données d’une personne (RGPD)"),
}


def label(mapping: dict, code: str | None) -> str:
    """The French label of a code, or the code itself when unknown (never an empty cell)."""
    if code is None:
        return ""
    return str(mapping.get(code, code))


def format_duration(delta) -> str:
    """Compact French duration for tables: « 2 j 3 h », « 3 h 05 min », « 12 min »."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} j {hours} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    else:
        text = f"{minutes} min"
    return text
