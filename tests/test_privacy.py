"""RGPD: export, erasure and the retention purge — CLI and admin console, SQLite and PostgreSQL, audited, and
nothing of the erased person left in any file of the instance (database, WAL, outbox)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from faqbot.db import utcnow
from faqbot.models import AuditEvent, SearchLog, Ticket, TicketEvent
from faqbot.privacy import PERSONAL_DATA, PersonalData, register
from faqbot.privacy.core import subtract_months

from builders import make_ticket, valid_submission
from staff_helpers import add_staff, login, post

PERSON = "zoe.lemaitre@example.test"
OTHER = "camille.martin@example.test"
IBAN = "FR76 3000 6000 0112 3456 7890 189"


def _submit(client, email: str, name: str = "Zoé Lemaître") -> str:
    data = valid_submission("remboursement-virement", email=email, name=name, message="Mon IBAN, merci.")
    response = client.post("/api/tickets", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ref"]


def _instance_bytes(app) -> bytes:
    """Every file of the instance folder (database, -wal, -shm, outbox, keys), as bytes."""
    return b"".join(path.read_bytes() for path in Path(app.instance_path).rglob("*") if path.is_file())


def _database_text(app) -> str:
    """Every text column of every table, as one string (what PostgreSQL holds, read through SQL)."""
    engine = app.extensions["faqbot.db"].engine
    chunks = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def test_export_gives_everything_held_about_the_person(app, client):
    ref = _submit(client, PERSON)
    _submit(client, OTHER, "Camille Martin")
    result = app.test_cli_runner().invoke(args=["privacy", "export", PERSON.upper()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [ticket["ref"] for ticket in data["tickets"]] == [ref]
    ticket = data["tickets"][0]
    assert ticket["name"] == "Zoé Lemaître" and ticket["email"] == PERSON and ticket["iban"].startswith("FR76")
    assert ticket["events"][0]["kind"] == "created"
    assert len(data["outbox_files"]) == 1 and "Zoé" in data["outbox_files"][0]["text"]
    assert OTHER not in result.output
    with app.extensions["faqbot.db"].transaction() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.kind == "privacy_export")).all()
    assert len(audit) == 1 and ref in audit[0].detail and PERSON not in audit[0].detail


def test_erase_leaves_nothing_of_the_person_in_any_instance_file(app, client):
    ref = _submit(client, PERSON)
    kept = _submit(client, OTHER, "Camille Martin")
    with app.extensions["faqbot.db"].transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        session.add(TicketEvent(ticket_id=ticket.id, at=utcnow(), kind="reply", body="Bonjour Zoé Lemaître", data={"to": PERSON}))
        session.add(AuditEvent(kind="login_failed", detail=PERSON, at=utcnow()))
        session.add(SearchLog(at=utcnow(), query=f"remboursement {PERSON}", result_count=0))
    assert PERSON.encode() in _instance_bytes(app) and PERSON in _database_text(app)

    result = app.test_cli_runner().invoke(args=["privacy", "erase", PERSON, "--yes"])
    assert result.exit_code == 0, result.output

    for needle in (PERSON, "Zoé Lemaître", "Lemaître", "0112 3456", "3000600001123456"):
        assert needle not in _database_text(app), needle
        assert needle.encode() not in _instance_bytes(app), needle
    with app.extensions["faqbot.db"].transaction() as session:
        erased = session.scalar(select(Ticket).where(Ticket.ref == ref))
        # What analytics needs stays: reason, queue, dates, outcome.
        assert (erased.reason, erased.queue, erased.status) == ("remboursement-virement", "remboursement", "nouveau")
        assert erased.created_at is not None and erased.iban_encrypted is None and erased.idempotency_key is None
        assert [event.kind for event in erased.events][-1] == "anonymised"
        other = session.scalar(select(Ticket).where(Ticket.ref == kept))
        assert other.email == OTHER and other.iban_encrypted is not None  # nobody else is touched
        audit = session.scalars(select(AuditEvent).where(AuditEvent.kind == "privacy_erase")).all()
        assert len(audit) == 1 and ref in audit[0].detail and PERSON not in audit[0].detail


def test_erasure_covers_every_registered_kind_of_personal_data(app, client):
    """A new table linked to an e-mail is covered by one `register(...)`: export and erase both call it."""
    seen = []
    register(PersonalData("exemple", lambda context, email: [email], lambda context, email: seen.append(email) or 1))
    try:
        runner = app.test_cli_runner()
        assert json.loads(runner.invoke(args=["privacy", "export", PERSON]).output)["exemple"] == [PERSON]
        assert "exemple : 1" in runner.invoke(args=["privacy", "erase", PERSON, "--yes"]).output
        assert seen == [PERSON]
    finally:
        PERSONAL_DATA[:] = [item for item in PERSONAL_DATA if item.name != "exemple"]


def test_purge_applies_the_retention_defaults(app, db):
    now = utcnow()
    old = now - dt.timedelta(days=800)
    recent_done = make_ticket(db, email=PERSON, status="clos", resolved_at=now - dt.timedelta(days=30))
    old_done = make_ticket(db, email=PERSON, status="resolu", created_at=old, resolved_at=old)
    old_open = make_ticket(db, email=PERSON, status="en_cours", created_at=old)
    with db.transaction() as session:
        session.add(SearchLog(at=now - dt.timedelta(days=91), query="ancienne", result_count=1))
        session.add(SearchLog(at=now - dt.timedelta(days=1), query="récente", result_count=1))
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "tickets : 1" in result.output and "searches : 1" in result.output
    with db.transaction() as session:
        emails = {t.ref: t.email for t in session.scalars(select(Ticket))}
        assert emails == {recent_done.ref: PERSON, old_done.ref: "", old_open.ref: PERSON}
        assert [row.query for row in session.scalars(select(SearchLog))] == ["récente"]
        assert session.scalars(select(AuditEvent.kind)).all() == ["privacy_purge"]
    again = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert "tickets : 0" in again.output  # an anonymised ticket is not anonymised twice


def test_purge_runs_by_itself_once_per_interval(make_app, tmp_path):
    app = make_app("sqlite", RETENTION_AUTO_PURGE_HOURS=24)
    client = app.test_client()
    client.get("/")
    stamp = Path(app.instance_path) / "privacy_purge.stamp"
    import time

    deadline = time.monotonic() + 10
    while not stamp.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stamp.exists()
    with app.extensions["faqbot.db"].transaction() as session:
        assert session.scalars(select(AuditEvent.kind)).all() == ["privacy_purge"]


def test_admin_console_exports_erases_and_purges(app, client):
    _submit(client, PERSON)
    add_staff(app, "admin@example.test", role="admin")
    add_staff(app, "agent@example.test", role="agent")
    login(client, "agent@example.test")
    assert client.get("/staff/donnees-personnelles").status_code == 403
    client.post("/staff/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, "admin@example.test")
    page = client.get("/staff/donnees-personnelles")
    assert page.status_code == 200 and "Droit à l’effacement" in page.get_data(as_text=True)
    exported = post(client, "/staff/donnees-personnelles/export", {"export-email": PERSON}, token_from="/staff/donnees-personnelles")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    assert exported.get_json()["tickets"][0]["email"] == PERSON
    refused = post(client, "/staff/donnees-personnelles/effacer", {"erase-email": PERSON, "erase-confirm_email": "autre@example.test", "erase-understood": "y"}, token_from="/staff/donnees-personnelles")
    assert refused.status_code == 422
    erased = post(client, "/staff/donnees-personnelles/effacer", {"erase-email": PERSON, "erase-confirm_email": PERSON, "erase-understood": "y"}, token_from="/staff/donnees-personnelles")
    assert erased.status_code == 302
    purged = post(client, "/staff/donnees-personnelles/purge", {}, token_from="/staff/donnees-personnelles")
    assert purged.status_code == 302
    with app.extensions["faqbot.db"].transaction() as session:
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("privacy_%")).order_by(AuditEvent.id)).all()
        assert kinds == ["privacy_export", "privacy_erase", "privacy_purge"]
        assert session.scalar(select(Ticket)).email == ""


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [((2026, 3, 31), 1, (2026, 2, 28)), ((2026, 1, 15), 24, (2024, 1, 15)), ((2024, 2, 29), 12, (2023, 2, 28))],
)
def test_subtract_months_keeps_calendar_months(moment, months, expected):
    result = subtract_months(dt.datetime(*moment, tzinfo=dt.timezone.utc), months)
    assert (result.year, result.month, result.day) == expected
