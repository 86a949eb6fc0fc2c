"""Helpers for the staff console tests: accounts, login through the real form, CSRF tokens from real pages."""
from __future__ import annotations

import re
from pathlib import Path

from faqbot.db import utcnow
from faqbot.staff import accounts

PASSWORD = "un mot de passe solide 2026"

TINY_FAQ = """\
version: 1
categories:
  - id: inscription-paiement
    label: Inscription & paiement
entries:
  - id: debite-sans-confirmation
    question: "Débité mais aucune confirmation : que faire ?"
    answer: |
      Vérifiez d'abord votre relevé bancaire.

      - Si aucun débit « STAGE PERMIS » n'apparaît, refaites votre inscription.
    category: inscription-paiement
    contact_reason: debit-sans-confirmation
  - id: changer-de-date
    question: "Comment changer la date de mon stage ?"
    answer: "Depuis votre Espace Stagiaire, rubrique « Je change de date »."
    category: inscription-paiement
"""

_TOKEN = re.compile(r'name="[a-z-]*csrf_token"(?: type="hidden")? value="([^"]+)"')


def write_tiny_faq(folder: Path) -> Path:
    """A small, stable FAQ: the real one is edited while the console is tested."""
    path = folder / "faq.yaml"
    path.write_text(TINY_FAQ, encoding="utf-8")
    return path


def add_staff(app, email: str, role: str = "agent", password: str = PASSWORD, display_name: str = ""):
    with app.extensions["faqbot.db"].transaction() as session:
        user = accounts.create_staff(session, email, password, role, utcnow(), display_name)
        return user.id


def token(client, url: str = "/staff/login") -> str:
    page = client.get(url)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    return client.post("/staff/login", data={"csrf_token": token(client), "email": email, "password": password})


def post(client, url: str, data: dict | None = None, token_from: str = "/staff/"):
    """POST with a valid CSRF token taken from a console page, as a browser would."""
    payload = {"csrf_token": token(client, token_from)}
    payload.update(data or {})
    return client.post(url, data=payload)
