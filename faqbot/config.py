"""Configuration: embedded defaults that work on a fresh clone, overridden by environment variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .content.model import PLATFORM_LINKS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _persistent_secret(instance_path: Path, name: str, make) -> str:
    """Read a secret kept in the instance folder, creating it once.

    Every gunicorn worker must sign sessions with the same key, and sessions must survive a restart,
    so a random per-process key would not do.
    """
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def load_config(instance_path: Path) -> dict:
    """Build the configuration from the environment, with defaults that say why they are what they are."""
    env = os.environ.get
    try:
        secret_key = env("SECRET_KEY") or _persistent_secret(instance_path, "secret_key", lambda: secrets.token_hex(32))
    except FileExistsError:  # another worker created it between our check and our create
        secret_key = (instance_path / "secret_key").read_text().strip()
    try:
        from cryptography.fernet import Fernet

        iban_key = env("IBAN_KEY") or _persistent_secret(instance_path, "iban_key", lambda: Fernet.generate_key().decode())
    except FileExistsError:
        iban_key = (instance_path / "iban_key").read_text().strip()
    return {
        "SECRET_KEY": secret_key,
        # Fernet key that encrypts IBANs at rest; keep it outside the database so a stolen file reveals nothing.
        "IBAN_KEY": iban_key,
        # SQLite in the instance folder needs no server; set DATABASE_URL=postgresql+psycopg://… in production.
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance_path / 'faqbot.sqlite3'}",
        # Create or upgrade the schema at start-up so a fresh clone runs without a separate step.
        "AUTO_MIGRATE": _bool(env("AUTO_MIGRATE"), True),
        "FAQ_PATH": env("FAQ_PATH") or str(PROJECT_ROOT / "data" / "faq.yaml"),
        "INDEX_DIR": env("INDEX_DIR") or str(instance_path / "index"),
        # The fitted triage classifier (an .npz keyed by the example bank): empty means the user's cache folder,
        # shared by every instance and test run since the key changes whenever the bank or the features do.
        "TRIAGE_MODEL_DIR": env("TRIAGE_MODEL_DIR") or "",
        # Without SMTP_HOST, e-mails are written as .eml files here: nothing is lost, nothing leaves the machine.
        "OUTBOX_DIR": env("OUTBOX_DIR") or str(instance_path / "outbox"),
        "SMTP_HOST": env("SMTP_HOST") or "",
        "SMTP_PORT": int(env("SMTP_PORT") or 25),
        "SMTP_USER": env("SMTP_USER") or "",
        "SMTP_PASSWORD": env("SMTP_PASSWORD") or "",
        "SMTP_STARTTLS": _bool(env("SMTP_STARTTLS"), False),
        "MAIL_FROM": env("MAIL_FROM") or "support@faqbot.localhost",
        # Search-log rows are buffered per worker and written in one transaction this often (seconds): one write
        # per search serialised the workers on SQLite's lock. 0 writes at the end of each request (the default
        # under TESTING, so tests see their rows); unset here means "the default for the mode".
        "SEARCH_LOG_FLUSH_SECONDS": float(env("SEARCH_LOG_FLUSH_SECONDS")) if env("SEARCH_LOG_FLUSH_SECONDS") else None,
        # Shared store for throttling across workers; the database is used when unset.
        "REDIS_URL": env("REDIS_URL") or "",
        # Staff login attempts per 15 minutes: per account (guessing one password), per address (spraying accounts).
        "LOGIN_RATE_LIMIT": int(env("LOGIN_RATE_LIMIT") or 5),
        "LOGIN_ADDRESS_RATE_LIMIT": int(env("LOGIN_ADDRESS_RATE_LIMIT") or 30),
        # Public ticket submissions (form and API) counted per client address for the whole server: an
        # acknowledgment e-mail goes to whatever address is typed, so an unthrottled form is a mail cannon.
        # A person rarely sends more than a couple of requests in a quarter of an hour; load tests raise it.
        "CONTACT_RATE_LIMIT": int(env("CONTACT_RATE_LIMIT") or 10),
        "CONTACT_RATE_WINDOW": int(env("CONTACT_RATE_WINDOW") or 15 * 60),  # seconds
        # How many reverse proxies in front of us set X-Forwarded-For/-Proto. 0: the header is ignored and the
        # client address is the socket's — otherwise anyone could reset the limits by sending a fake header.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES") or 0),
        # Public bodies are small forms: 64 KiB is generous and stops memory abuse early (413 beyond).
        "MAX_CONTENT_LENGTH": int(env("MAX_CONTENT_LENGTH") or 64 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env("SESSION_COOKIE_SECURE"), False),
        # Staff sessions end after this many minutes without activity.
        "STAFF_IDLE_MINUTES": int(env("STAFF_IDLE_MINUTES") or 30),
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime already bounds the token
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        # Pages the FAQ links to that this product does not serve (« cliquez ici » in the official answers): the
        # booking platform's trainee area and stage search, the government's points balance, RII request and
        # appeal pages. Defaults: faqbot/content/model.py PLATFORM_LINKS (the platform's pages, and service-public
        # searches where the exact government page is not known); set the real addresses in production.
        "ESPACE_STAGIAIRE_URL": env("ESPACE_STAGIAIRE_URL") or PLATFORM_LINKS["ESPACE_STAGIAIRE_URL"],
        "STAGE_SEARCH_URL": env("STAGE_SEARCH_URL") or PLATFORM_LINKS["STAGE_SEARCH_URL"],
        "MES_POINTS_PERMIS_URL": env("MES_POINTS_PERMIS_URL") or PLATFORM_LINKS["MES_POINTS_PERMIS_URL"],
        "RII_URL": env("RII_URL") or PLATFORM_LINKS["RII_URL"],
        "RECOURS_PERMIS_URL": env("RECOURS_PERMIS_URL") or PLATFORM_LINKS["RECOURS_PERMIS_URL"],
    }
