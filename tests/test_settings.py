"""Settings: one table (faqbot/config.py:SETTINGS), the README tested against it both ways, nothing read undeclared."""
from __future__ import annotations

import re
from pathlib import Path

from faqbot.config import FIXED, SETTINGS, load_config, readme_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Flask's own keys and the test fixtures' keys: not operator settings.
FRAMEWORK_KEYS = {"TESTING", "INSTANCE_PATH", "SERVER_NAME", "PREFERRED_URL_SCHEME", "DEBUG"}


def _readme_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 3)]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.M)


def test_readme_table_is_the_generated_one():
    assert readme_table() in README.read_text(encoding="utf-8"), "run: .venv/bin/python -m faqbot.config"


def test_readme_and_settings_agree_both_ways_and_each_setting_is_listed_once():
    rows = _readme_rows()
    assert len(rows) == len(set(rows)), "a setting is listed twice"
    assert set(rows) == {setting.name for setting in SETTINGS}


def test_every_setting_is_declared_once_with_help():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    assert all(setting.help.strip() for setting in SETTINGS)


def test_every_key_the_code_reads_is_declared():
    """No `config["X"]` / `config.get("X")` in faqbot/ outside the table (FAQBOT_NOW and friends were)."""
    read = set()
    for path in (ROOT / "faqbot").rglob("*.py"):
        read |= set(re.findall(r"config(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]+)\"", path.read_text(encoding="utf-8")))
    declared = {setting.name for setting in SETTINGS} | set(FIXED) | FRAMEWORK_KEYS
    assert sorted(read - declared) == []


def test_login_defaults_live_only_in_the_table():
    auth = (ROOT / "faqbot" / "staff" / "auth.py").read_text(encoding="utf-8")
    assert "LOGIN_ACCOUNT_LIMIT" not in auth and not re.search(r"config\.get\(\"LOGIN_[A-Z_]+\", ", auth)


def test_config_reads_the_environment_with_each_type(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTACT_RATE_LIMIT", "3")
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "boite"))
    monkeypatch.setenv("SMTP_STARTTLS", "oui")
    monkeypatch.setenv("SEARCH_LOG_FLUSH_SECONDS", "2.5")
    config = load_config(tmp_path)
    assert config["CONTACT_RATE_LIMIT"] == 3 and config["OUTBOX_DIR"] == str(tmp_path / "boite")
    assert config["SMTP_STARTTLS"] is True and config["SEARCH_LOG_FLUSH_SECONDS"] == 2.5


def test_testing_defaults_differ_only_where_declared(tmp_path, monkeypatch):
    for name in ("SEARCH_LOG_FLUSH_SECONDS", "CONTACT_MIN_FILL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert load_config(tmp_path)["CONTACT_MIN_FILL_SECONDS"] == 3.0
    assert load_config(tmp_path, testing=True)["CONTACT_MIN_FILL_SECONDS"] == 0.0


def test_secret_key_is_created_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(tmp_path)["SECRET_KEY"] == first  # every worker and every restart signs with the same key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_iban_key_can_live_outside_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("IBAN_KEY", raising=False)
    monkeypatch.setenv("IBAN_KEY_FILE", str(tmp_path / "etc" / "iban_key"))
    config = load_config(tmp_path / "instance")
    assert (tmp_path / "etc" / "iban_key").read_text().strip() == config["IBAN_KEY"]
    assert not (tmp_path / "instance" / "iban_key").exists()
    assert (tmp_path / "etc" / "iban_key").stat().st_mode & 0o777 == 0o600


def test_db_and_db_cli_do_not_import_each_other():
    db_source = (ROOT / "faqbot" / "db.py").read_text(encoding="utf-8")
    assert "db_cli" not in db_source


def test_db_cli_is_registered_by_the_factory(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["db", "heads"])
    assert result.exit_code == 0, result.output
