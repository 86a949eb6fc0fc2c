"""Configuration: ONE table of settings (Datasette style), each declared once with its default, type and help.

Every setting is read from the environment variable of the same name; its default works on a fresh clone.
The README's configuration table is tested against `SETTINGS` in both directions (tests/test_settings.py).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .content.model import PLATFORM_LINKS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One operator setting: environment variable `name`, parsed with `type`, `default` when unset.

    `default` may be a function of the instance folder; `testing` is the default under TESTING when it differs.
    """

    name: str
    default: Any
    type: Callable[[str], Any]
    help: str
    testing: Any = None
    shown: str = ""  # the default as the README shows it, when it is computed

    def shown_default(self) -> str:
        """The default as an operator reads it in the README."""
        text = self.shown or _show(self.default)
        if self.testing is not None:
            text += f" ({_show(self.testing)} sous `TESTING`)"
        return text


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if value == "":
        return "vide"
    if isinstance(value, str) and value.startswith(str(PROJECT_ROOT)):
        value = value[len(str(PROJECT_ROOT)) + 1 :]
    return f"`{value}`"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def _persistent_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a secret kept in a file, creating it once (0600).

    Every gunicorn worker must sign sessions with the same key, and sessions must survive a restart, so a random
    per-process key would not do.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it between our check and our create
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def _secret_key(instance: Path) -> str:
    return _persistent_secret(instance / "secret_key", lambda: secrets.token_hex(32))


def _iban_key(instance: Path) -> str:
    from cryptography.fernet import Fernet

    path = Path(os.environ.get("IBAN_KEY_FILE") or instance / "iban_key")
    return _persistent_secret(path, lambda: Fernet.generate_key().decode())


SETTINGS: tuple[Setting, ...] = (
    Setting("FAQBOT_INSTANCE_PATH", "instance/", str,
            "dossier d’instance (base SQLite, index, outbox, secrets) ; lu par la fabrique d’application"),
    Setting("SECRET_KEY", _secret_key, str,
            "signe les sessions ; partagée par les workers et stable entre redémarrages", shown="aléatoire, gardée dans `instance/secret_key` (0600)"),
    Setting("IBAN_KEY", _iban_key, str,
            "clé Fernet qui chiffre les IBAN au repos", shown="lue dans `IBAN_KEY_FILE`, créée s’il manque"),
    Setting("IBAN_KEY_FILE", "instance/iban_key", str,
            "fichier de la clé IBAN, créé 0600 s’il manque ; **en production, hors du dossier de la base et de ses sauvegardes** (par ex. `/etc/faqbot/iban_key`, propriétaire le compte du service)"),
    # SQLite in the instance folder needs no server; set DATABASE_URL=postgresql+psycopg://… in production.
    Setting("DATABASE_URL", lambda instance: f"sqlite:///{instance / 'faqbot.sqlite3'}", str,
            "`postgresql://…` ou `postgresql+psycopg://…` en production", shown="`sqlite:///instance/faqbot.sqlite3`"),
    # Create or upgrade the schema at start-up so a fresh clone runs without a separate step.
    Setting("AUTO_MIGRATE", True, _bool, "applique les migrations Alembic au démarrage (verrou de fichier entre workers)"),
    Setting("FAQ_PATH", str(PROJECT_ROOT / "data" / "faq.yaml"), str, "la FAQ ; rechargée à chaud quand elle change, en arrière-plan : aucune requête n’attend la reconstruction (voir `FAQ_WATCH`)"),
    Setting("FAQ_WATCH", True, _bool, "recharge la FAQ quand `FAQ_PATH` change, sans redémarrage"),
    Setting("INDEX_DIR", lambda instance: str(instance / "index"), str, "index de recherche (Whoosh + tables précalculées que chaque worker charge), un dossier par version du contenu, de l’analyseur et du thésaurus", shown="`instance/index`"),
    # Without SMTP_HOST, e-mails are written as .eml files here: nothing is lost, nothing leaves the machine.
    Setting("TRIAGE_MODEL_DIR", "", str,
            "classifieur de motifs ajusté (`.npz` dont le nom dépend de la banque d’exemples) ; vide : le dossier de cache de l’utilisateur, partagé par les instances"),
    Setting("ESPACE_STAGIAIRE_URL", PLATFORM_LINKS["ESPACE_STAGIAIRE_URL"], str, "lien « Espace Stagiaire » des réponses de la FAQ"),
    Setting("STAGE_SEARCH_URL", PLATFORM_LINKS["STAGE_SEARCH_URL"], str, "lien de recherche de stage des réponses de la FAQ"),
    Setting("MES_POINTS_PERMIS_URL", PLATFORM_LINKS["MES_POINTS_PERMIS_URL"], str, "lien « Mes Points Permis » (solde de points) des réponses de la FAQ"),
    Setting("RII_URL", PLATFORM_LINKS["RII_URL"], str, "lien de demande du relevé d’information intégral des réponses de la FAQ"),
    Setting("RECOURS_PERMIS_URL", PLATFORM_LINKS["RECOURS_PERMIS_URL"], str, "lien des recours contre un retrait de points des réponses de la FAQ"),
    Setting("OUTBOX_DIR", lambda instance: str(instance / "outbox"), str, "e-mails écrits en `.eml` quand `SMTP_HOST` est vide", shown="`instance/outbox`"),
    Setting("SMTP_HOST", "", str, "serveur SMTP ; vide : e-mails écrits dans `OUTBOX_DIR`"),
    Setting("SMTP_PORT", 25, int, "port SMTP"),
    Setting("SMTP_USER", "", str, "identifiant SMTP (vide : pas d’authentification)"),
    Setting("SMTP_PASSWORD", "", str, "mot de passe SMTP"),
    Setting("SMTP_STARTTLS", False, _bool, "`1` : STARTTLS avant l’envoi"),
    Setting("MAIL_FROM", "support@faqbot.localhost", str, "expéditeur des e-mails"),
    # One write per search serialised the workers on SQLite's lock: rows are buffered per worker and written in
    # one transaction this often; tests write at the end of each request so they see their rows.
    # Links in e-mails (follow-up page, contact form) are built on the address the public reaches the site at.
    Setting("PUBLIC_URL", "http://127.0.0.1:5000", str, "adresse publique du site : base des liens des e-mails (page de suivi, formulaire)"),
    # Plus addressing: one mailbox, one reply address per ticket, read back by `faqbot mail fetch`.
    Setting("MAIL_REPLY_TO", "", str, "réponses aux e-mails d’un ticket vers `<local>+<jeton>@<domaine>` de cette adresse ; vide : pas de Reply-To, fil reconnu par les en-têtes"),
    Setting("MAIL_DELIVERY", "", str, "qui envoie l’outbox : `process` (un processus expéditeur pour tout le serveur, lancé par `gunicorn.conf.py`, ou `faqbot mail send --watch`), `thread` (dans chaque worker), `inline` (après le commit, dans la requête), `cron` (seulement `faqbot mail send`) ; vide : `process` sous gunicorn avec `gunicorn.conf.py`, `thread` sinon, `inline` sous `TESTING`"),
    Setting("MAIL_SEND_INTERVAL", 30.0, float, "secondes entre deux tours de l’expéditeur (nouvelles tentatives ; un nouvel e-mail le réveille aussitôt)"),
    Setting("IMAP_HOST", "", str, "boîte du support lue par `faqbot mail fetch` ; vide : pas de lecture"),
    Setting("IMAP_PORT", 0, int, "port IMAP ; `0` : 993 en TLS, 143 sinon"),
    Setting("IMAP_USER", "", str, "identifiant IMAP"),
    Setting("IMAP_PASSWORD", "", str, "mot de passe IMAP"),
    Setting("IMAP_SECURITY", "tls", str, "`tls` (défaut), `starttls` ou `none` (boucle locale seulement)"),
    Setting("IMAP_FOLDER", "INBOX", str, "dossier lu"),
    Setting("IMAP_DONE_FOLDER", "Traites", str, "dossier où les messages traités sont déplacés (créé s’il manque)"),
    Setting("SLA_BUSINESS_HOURS", "", str, "heures d’ouverture par file pour les échéances SLA (Europe/Paris, jours fériés fermés) ; vide : lun-ven 09:00-18:00, jour-j lun-sam 08:00-18:00 ; ex. « jour-j=lun-sam 08:00-18:00; *=lun-ven 09:00-18:00 »"),
    Setting("SEARCH_LOG_FLUSH_SECONDS", 0.5, float,
            "le journal des recherches est mis en tampon par worker et écrit par lots à cet intervalle (et à l’arrêt) ; `0` : à la fin de chaque requête",
            testing=0.0),
    Setting("SEARCH_LOG_BATCH_ROWS", 200, int, "au-delà de ce nombre de lignes en tampon, le journal des recherches est écrit sans attendre"),
    Setting("FAQBOT_NOW", "", str, "fige l’heure courante des règles de contact (ISO 8601) : pour les tests et les démonstrations, jamais en production"),
    Setting("REDIS_URL", "", str, "magasin partagé pour la limitation de débit (la base de données sinon)"),
    # Staff login: per account *and* address (a guesser from one place) and per address (spraying accounts);
    # never per account alone, or anyone anywhere could lock an agent out (see staff/auth.py).
    Setting("LOGIN_RATE_LIMIT", 5, int, "tentatives de connexion staff par compte **et** adresse sur `LOGIN_WINDOW_MINUTES` (aussi pour le mot de passe actuel au changement de mot de passe)"),
    Setting("LOGIN_ADDRESS_RATE_LIMIT", 30, int, "tentatives de connexion staff par adresse, tous comptes confondus, sur `LOGIN_WINDOW_MINUTES`"),
    Setting("LOGIN_WINDOW_MINUTES", 15, int, "fenêtre des deux limites de connexion"),
    # An acknowledgment e-mail goes to whatever address is typed, so an unthrottled form is a mail cannon.
    Setting("CONTACT_RATE_LIMIT", 10, int, "demandes (formulaire et API) par adresse cliente et par fenêtre, pour tout le serveur"),
    Setting("CONTACT_RATE_WINDOW", 15 * 60, int, "fenêtre de `CONTACT_RATE_LIMIT`, en secondes"),
    # People take more than a few seconds to type a name, an e-mail and a message; scripts do not.
    Setting("CONTACT_MIN_FILL_SECONDS", 3.0, float,
            "temps minimal entre l’affichage de l’étape 4 et l’envoi : plus rapide, c’est un robot (même page, rien stocké)",
            testing=0.0),
    Setting("VOTE_RATE_LIMIT", 30, int, "votes « Cette réponse vous a-t-elle aidé ? » comptés par adresse et par heure (au-delà : remerciés, pas comptés)"),
    Setting("SEARCH_LOG_RATE_LIMIT", 120, int, "recherches journalisées par adresse et par minute (au-delà : servies, pas journalisées)"),
    Setting("RETENTION_TICKET_MONTHS", 24, int, "tickets clos ou résolus anonymisés après ce nombre de mois (motif, file, dates et issue gardés)"),
    Setting("RETENTION_SEARCH_DAYS", 90, int, "journal des recherches, votes et limites de débit effacés après ce nombre de jours"),
    Setting("RETENTION_AUTO_PURGE_HOURS", 24, float,
            "la purge de rétention tourne seule au plus une fois par cet intervalle (au fil des requêtes) ; `0` : seulement `faqbot privacy purge`",
            testing=0.0),
    Setting("TRUSTED_PROXIES", 0, int,
            "nombre de proxys de confiance devant l’app ; `0` : `X-Forwarded-For` est ignoré (sinon n’importe qui remettrait les limites à zéro)"),
    # Public bodies are small forms: 64 KiB is generous and stops memory abuse early (413 beyond).
    Setting("MAX_CONTENT_LENGTH", 64 * 1024, int, "taille maximale d’une requête en octets (413 au-delà)"),
    Setting("SESSION_COOKIE_SECURE", False, _bool, "à mettre à `1` derrière HTTPS"),
    Setting("STAFF_IDLE_MINUTES", 30, int, "fin de session staff après inactivité"),
    # The help panel (/widget.js) is framed only by these sites: its CSP frame-ancestors. Empty: by none.
    Setting("EMBED_ORIGINS", "", str,
            "sites autorisés à intégrer l’aide (`/widget.js`), séparés par des espaces ou des virgules, ex. `https://www.exemple-reservation.fr` : la directive CSP `frame-ancestors` du panneau ; vide : aucun autre site"),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}

# Fixed by the code, not read from the environment: nothing for an operator to choose.
FIXED = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime already bounds the token
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
}


def setting(name: str) -> Setting:
    return SETTINGS_BY_NAME[name]


def readme_table() -> str:
    """The README's configuration table, generated from SETTINGS (`python -m faqbot.config` prints it)."""
    lines = ["| variable | défaut | rôle |", "|---|---|---|"]
    lines += [f"| `{item.name}` | {item.shown_default()} | {item.help} |" for item in SETTINGS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_table())


def load_config(instance_path: Path, testing: bool = False) -> dict:
    """Every setting from the environment, else its default (its TESTING default when `testing`)."""
    config: dict[str, Any] = {}
    for item in SETTINGS:
        raw = os.environ.get(item.name)
        if raw is not None and raw.strip() != "":
            config[item.name] = item.type(raw)
            continue
        default = item.testing if testing and item.testing is not None else item.default
        config[item.name] = default(instance_path) if callable(default) else default
    config["IBAN_KEY_FILE"] = os.environ.get("IBAN_KEY_FILE") or str(instance_path / "iban_key")
    config["FAQBOT_INSTANCE_PATH"] = str(instance_path)
    config.update(FIXED)
    return config
