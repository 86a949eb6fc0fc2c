"""Secrets sweep: what the app leaves on disk must hold no card number, no clear IBAN, no password, no session cookie.

1. A realistic flow against the app served by gunicorn: visitors type card numbers into free text and an IBAN into
   the refund form (real Chromium and the JSON API), search with a card number, staff log in, reveal the IBAN,
   reply. The instance folder is grepped while the server runs (SQLite -wal/-shm present) and after it stopped.
2. After the whole suite (these tests are moved to the end of the run by tests/browser/conftest.py): every
   database file, log and outbox under pytest's base temporary folder, and PostgreSQL's data directory when the
   suite ran on PostgreSQL too, grepped for card numbers and IBANs whoever typed them and for the passwords the
   suite's tests use.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from browser_support import PROJECT_ROOT, add_staff, login_staff, start_live_server
from secrets_scan import card_spellings, iban_spellings, luhn_valid, scan_bytes, scan_tree

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
ADMIN_PASSWORD = "Sel-de-Guerande-et-Poivre-91"
AGENT_PASSWORD = "Tournesol-Bleu-Horizon-73"
ADMIN = ("admin.secrets@example.test", ADMIN_PASSWORD)
AGENT = ("agent.secrets@example.test", AGENT_PASSWORD)


def _with_check_digit(partial: str) -> str:
    return next(partial + str(digit) for digit in range(10) if luhn_valid(partial + str(digit)))


CARD_TYPED_IN_MESSAGE = " ".join(re.findall("....", _with_check_digit("497010123456789")))  # Visa (CB), spaced
CARD_TYPED_IN_FIELD = "5555-5555-5555-4444"  # Mastercard, dashes
CARD_TYPED_COMPACT = "378282246310005"  # Amex, no separators
CARD_IN_SEARCH = " ".join(re.findall("....", _with_check_digit("497010558812340")))
IBAN_SUBMITTED = "FR76 3000 6000 0112 3456 7890 189"
# Formats the first redactor was not written against (issue 12's red team found 21 of 31 stored in clear): each
# is planted once, somewhere else in the flow, and searched for exactly as typed and as its bare digits.
_NEW = [_with_check_digit(prefix) for prefix in ("497010557711223", "535310042242170", "601100099013942", "497012345098765",
                                                  "497013345678901", "497014445678901", "497015545678901", "497016645678901")]
CARD_DOTS_IN_NAME = ".".join(re.findall("....", _NEW[0]))
CARD_NBSP_IN_FIELD = "\u00a0".join(re.findall("....", _NEW[1]))
CARD_LINES_WITH_EXPIRY = "\n".join(re.findall("....", _NEW[2])) + " exp 12/27 cvv 123"
CARD_GLUED_TO_WORDS = f"carte{_NEW[3]}visa"
CARD_AFTER_OPTION = "option 2 " + " ".join(re.findall("....", _NEW[4]))
CARD_UNDERSCORES_IN_NOTE = "_".join(re.findall("....", _NEW[5]))
CARD_SLASHES_IN_REPLY = "/".join(re.findall("....", _NEW[6]))
CARD_AS_LOGIN_EMAIL = f"{_NEW[7]}@example.test"
NEW_FORMATS = [CARD_DOTS_IN_NAME, CARD_NBSP_IN_FIELD, CARD_LINES_WITH_EXPIRY, CARD_GLUED_TO_WORDS, CARD_AFTER_OPTION,
               CARD_UNDERSCORES_IN_NOTE, CARD_SLASHES_IN_REPLY, CARD_AS_LOGIN_EMAIL]


def _post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def flow(tmp_path_factory, shared_index_dir, chromium):
    """Run the realistic flow once; yield the server (still running) and the secrets it handled."""
    server = start_live_server(tmp_path_factory.mktemp("secrets"), shared_index_dir)
    secrets: dict[str, list[str]] = {"password": [ADMIN[1], AGENT[1]], "cookie": []}
    add_staff(server, *ADMIN, role="admin", name="Admin Secrets")
    add_staff(server, *AGENT, role="agent", name="Agent Secrets")

    # A trainee asks for a refund by transfer in Chromium, and types a card number into the message anyway.
    visitor = chromium.new_context()
    page = visitor.new_page()
    page.goto(server.url + "/contact?reason=remboursement-virement")
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    for box in page.locator("input[type='checkbox']").all():
        box.check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Vos informations").wait_for()
    page.get_by_label("Nom et prénom").fill("Inès Fabre")
    page.get_by_label("Adresse e-mail pour vous répondre").fill("ines.fabre@example.test")
    page.locator("#f_titulaire").fill("Inès Fabre")
    page.locator("#f_iban").fill(IBAN_SUBMITTED)
    page.locator("#f_bic").fill("BNPAFRPPXXX")
    page.locator("textarea[name='message']").fill(f"Ma carte {CARD_TYPED_IN_MESSAGE} a expiré le mois dernier.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/contact/merci/**")
    refund_ref = page.url.rsplit("/", 1)[-1]
    # The same visitor searches the FAQ with the number in the query (the search log is stored).
    page.goto(server.url + "/recherche?q=" + urllib.parse.quote(f"carte {CARD_IN_SEARCH} refusée"))
    page.goto(server.url + "/recherche?q=" + urllib.parse.quote(f"paiement {CARD_DOTS_IN_NAME} refusé"))
    visitor.close()

    # Through the API: card numbers in free-text fields and the message.
    today = dt.datetime.now(PARIS).date()
    status, body = _post_json(
        server.url + "/api/tickets",
        {
            "reason": "inscription-impossible",
            "name": f"Hugo Lemaire {CARD_DOTS_IN_NAME}",
            "email": "hugo.lemaire@example.test",
            "message": f"Paiement refusé avec {CARD_TYPED_COMPACT}, j’ai pourtant tout vérifié. {CARD_LINES_WITH_EXPIRY} "
                       f"puis {CARD_GLUED_TO_WORDS}, {CARD_AFTER_OPTION}.",
            "confirmations": ["essai-ordinateur", "carte-verifiee", "code-3d-secure"],
            "fields": {
                "appareil_navigateur": f"PC, Firefox, carte {CARD_NBSP_IN_FIELD}",
                "erreur_affichee": f"Carte {CARD_TYPED_IN_FIELD} refusée",
                "stage_souhaite": f"Nantes, {today + dt.timedelta(days=30):%d/%m/%Y}",
            },
        },
    )
    assert status == 201, body
    assert body["redactions"] >= 7

    # Staff: the agent logs in, reveals the IBAN (an audited action) and replies; the admin opens analytics.
    staff = chromium.new_context()
    page = staff.new_page()
    # A card typed as the login e-mail: the failed login is audited.
    page.goto(server.url + "/staff/login")
    page.get_by_label("Adresse e-mail").fill(CARD_AS_LOGIN_EMAIL)
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    login_staff(page, server, *AGENT)
    page.goto(f"{server.url}/staff/tickets/{refund_ref}")
    page.get_by_role("button", name="Prendre en charge").click()
    page.get_by_role("button", name="Afficher l’IBAN complet").click()
    assert IBAN_SUBMITTED.replace(" ", "") in page.locator(".revealed").inner_text().replace(" ", "")
    page.get_by_label("Note interne (visible par l’équipe seulement)").fill(f"Il a dicté sa carte {CARD_UNDERSCORES_IN_NOTE}")
    page.get_by_role("button", name="Ajouter la note").click()
    page.wait_for_url(f"**/staff/tickets/{refund_ref}")
    page.get_by_label("Réponse envoyée par e-mail au stagiaire").fill(f"Bonjour, le virement part cette semaine. Jamais votre carte {CARD_SLASHES_IN_REPLY} !")
    page.get_by_role("button", name="Envoyer la réponse").click()
    page.wait_for_url(f"**/staff/tickets/{refund_ref}")
    secrets["cookie"] += [cookie["value"] for cookie in staff.cookies() if cookie["name"] == "session"]
    admin = chromium.new_context()
    admin_page = admin.new_page()
    login_staff(admin_page, server, *ADMIN)
    admin_page.goto(server.url + "/staff/analytics")
    secrets["cookie"] += [cookie["value"] for cookie in admin.cookies() if cookie["name"] == "session"]
    staff.close()
    admin.close()
    assert secrets["cookie"], "no session cookie captured"
    # A cookie's signature is the part worth stealing; look for it on its own too.
    secrets["cookie"] += [value.rsplit(".", 1)[-1] for value in secrets["cookie"]]
    secrets["card"] = [s for card in (CARD_TYPED_IN_MESSAGE, CARD_TYPED_IN_FIELD, CARD_TYPED_COMPACT, CARD_IN_SEARCH) for s in card_spellings(card)]
    secrets["card"] += [spelling for card in NEW_FORMATS for spelling in {card, *card_spellings(re.sub(r"\D", "", card)[:19])}]
    secrets["card"] += [digits[i : i + 8] for digits in _NEW for i in (0, 8)]  # no half of one left either
    secrets["iban"] = iban_spellings(IBAN_SUBMITTED)
    yield server, secrets
    server.stop()


def _assert_clean(root: Path, secrets: dict[str, list[str]]) -> list[Path]:
    files, findings = scan_tree(root, secrets)
    # Logs are read as a person would: URL-encoded query strings decoded.
    for path in files:
        if path.suffix == ".log":
            decoded = urllib.parse.unquote_plus(path.read_text(encoding="utf-8", errors="replace")).encode()
            findings += [f for f in scan_bytes(decoded, path, secrets) if f not in findings]
    assert findings == [], "\n".join(map(str, findings[:20]))
    return files


def test_running_server_leaves_no_secret_in_database_wal_logs_or_outbox(flow):
    server, secrets = flow
    files = _assert_clean(server.instance, secrets)
    names = {path.name for path in files}
    assert {"faqbot.sqlite3", "faqbot.sqlite3-wal", "access.log", "server.log"} <= names, names
    assert any(path.suffix == ".eml" for path in files)  # acknowledgments and the reply were written


def test_stopped_server_leaves_no_secret_after_the_checkpoint(flow):
    server, secrets = flow
    server.stop()
    _assert_clean(server.instance, secrets)


# --- After the whole suite -----------------------------------------------------------------------------------------


def suite_passwords() -> list[str]:
    """The passwords the suite's tests type (constants and JSON bodies in tests/**.py), 8 characters or more."""
    pattern = re.compile(r"""(?:PASSWORD\w*\s*=\s*|["']password["']\s*:\s*|password\s*=\s*)["']([^"'\n]{8,})["']""")
    found = set()
    for path in (PROJECT_ROOT / "tests").rglob("*.py"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


# Planted where the sweep looks, to prove it would see a leak (a sweep that cannot find anything proves nothing).
CANARY_CARD = " ".join(re.findall("....", _with_check_digit("401288888888188")))


def _postgres_data_directory_with_canary() -> Path | None:
    """PostgreSQL's data directory after a CHECKPOINT, with a canary card number written into a throw-away table."""
    url = os.environ.get("FAQBOT_TEST_POSTGRES_URL")
    if not url:
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS secrets_canary (note text)")
            connection.exec_driver_sql("INSERT INTO secrets_canary VALUES (%s)", (f"carte {CANARY_CARD}",))
        with engine.connect() as connection:
            connection.exec_driver_sql("CHECKPOINT")
            return Path(connection.exec_driver_sql("SHOW data_directory").scalar())
    finally:
        engine.dispose()


def _drop_postgres_canary() -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(os.environ["FAQBOT_TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS secrets_canary")
    engine.dispose()


def test_sweep_sees_a_card_planted_in_a_sqlite_wal(tmp_path):
    """Control: the detectors find a card number and an IBAN written through SQLite's WAL, before any checkpoint."""
    import sqlite3

    connection = sqlite3.connect(tmp_path / "canary.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE t (note TEXT)")
    connection.execute("INSERT INTO t VALUES (?)", (f"carte {CANARY_CARD} iban {IBAN_SUBMITTED}",))
    connection.commit()
    files, findings = scan_tree(tmp_path)
    connection.close()
    assert {path.name for path in files} >= {"canary.sqlite3", "canary.sqlite3-wal"}
    kinds = {(f.path.name, f.kind) for f in findings}
    assert ("canary.sqlite3-wal", "card-number") in kinds and ("canary.sqlite3-wal", "iban") in kinds, findings
    (tmp_path / "canary.sqlite3").unlink()  # not left for the whole-suite sweep
    for leftover in tmp_path.glob("canary.sqlite3-*"):
        leftover.unlink()


def test_whole_suite_left_no_card_number_iban_or_password_on_disk(tmp_path_factory):
    """Runs last: every instance folder the suite created (databases, -wal, logs, outboxes), and PostgreSQL."""
    exact = {"password": suite_passwords()}
    assert ADMIN[1] in exact["password"] and len(exact["password"]) >= 3
    root = tmp_path_factory.getbasetemp()
    files, findings = scan_tree(root, exact)
    databases = [path for path in files if ".sqlite" in path.name]
    assert databases, "the sweep found no database: is it looking in the right place?"
    pg_files: list[Path] = []
    data_directory = _postgres_data_directory_with_canary()
    if data_directory is not None:
        try:
            pg_files = [p for sub in ("base", "pg_wal") for p in (data_directory / sub).rglob("*") if p.is_file()]
            pg_findings = []
            for path in pg_files:
                try:
                    content = path.read_bytes()
                except FileNotFoundError:  # PostgreSQL removed it since the listing (a relcache or WAL file)
                    continue
                pg_findings += scan_bytes(content, path, exact)
        finally:
            _drop_postgres_canary()
        canary = CANARY_CARD.replace(" ", "")
        assert any(f.value == canary for f in pg_findings), "the canary written to PostgreSQL was not found"
        findings += [f for f in pg_findings if f.value != canary]
    report = {"files": len(files) + len(pg_files), "databases": len(databases), "postgresql_files": len(pg_files),
              "passwords_searched": len(exact["password"]), "findings": [str(f) for f in findings]}
    (PROJECT_ROOT / "test-artifacts").mkdir(exist_ok=True)
    (PROJECT_ROOT / "test-artifacts" / "secrets_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    assert findings == [], "\n".join(map(str, findings[:30]))
