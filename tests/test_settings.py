"""Every setting an operator can change through the environment is documented in the README (Datasette's habit)."""
from __future__ import annotations

import re
from pathlib import Path

from faqbot.config import load_config

README = Path(__file__).resolve().parent.parent / "README.md"
# Fixed by the code, not read from the environment: nothing for an operator to document.
NOT_FROM_ENVIRONMENT = {"SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "WTF_CSRF_TIME_LIMIT", "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE"}


def test_every_environment_setting_is_in_the_readme(tmp_path):
    settings = set(load_config(tmp_path)) - NOT_FROM_ENVIRONMENT
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", README.read_text(encoding="utf-8")))
    assert settings, "load_config returned nothing"
    assert sorted(settings - documented) == []


def test_config_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTACT_RATE_LIMIT", "3")
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "boite"))
    config = load_config(tmp_path)
    assert config["CONTACT_RATE_LIMIT"] == 3
    assert config["OUTBOX_DIR"] == str(tmp_path / "boite")


def test_secret_key_is_created_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(tmp_path)["SECRET_KEY"] == first  # every worker and every restart signs with the same key
