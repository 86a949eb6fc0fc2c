"""Analytics page and CSV exports: the figures, the charts, and formula injection neutralised."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from builders import make_ticket
from backends import BACKENDS
from faqbot.db import utcnow
from faqbot.models import AuditEvent, Deflection, FeedbackVote, SearchLog
from faqbot.staff.analytics import build_report, csv_safe, to_csv
from staff_helpers import add_staff, login, write_tiny_faq


@pytest.fixture(params=BACKENDS)
def app(request, make_app, tmp_path):
    return make_app(request.param, FAQ_PATH=str(write_tiny_faq(tmp_path)), INDEX_DIR=str(tmp_path / "index"))


@pytest.fixture
def admin_client(app):
    add_staff(app, "admin@support.test", "admin")
    client = app.test_client()
    assert login(client, "admin@support.test").status_code == 302
    return client


# "-stage+3", not "-2+3": a query without a letter is junk the analytics leave out (content.overlay.is_junk_query).
INJECTIONS = ["=HYPERLINK(\"http://evil.example\",\"clic\")", "+cmd|' /C calc'!A0", "-stage+3", "@SUM(A1:A2)", "\tindent", "\rretour"]


@pytest.fixture
def seeded(db):
    now = utcnow()
    yesterday = now - dt.timedelta(days=1)
    with db.transaction() as session:
        for _ in range(3):
            session.add(SearchLog(at=now, query="Remboursement ", result_count=4))
        session.add(SearchLog(at=yesterday, query="remboursement", result_count=4))
        for _ in range(2):
            session.add(SearchLog(at=now, query="stage en visio", result_count=0))
        for query in INJECTIONS:
            session.add(SearchLog(at=now, query=query, result_count=0))
        session.add(SearchLog(at=now - dt.timedelta(days=60), query="trop ancien", result_count=0))
        for helpful in (False, False, False, True):
            session.add(FeedbackVote(at=now, entry_id="changer-de-date", helpful=helpful))
        session.add(FeedbackVote(at=now, entry_id="debite-sans-confirmation", helpful=False))
        for outcome in ("resolved", "resolved", "resolved", "continued", "submitted"):
            session.add(Deflection(at=now, reason="debit-sans-confirmation", outcome=outcome))
    make_ticket(db, reason="debit-sans-confirmation", created_at=now - dt.timedelta(hours=3), first_response_at=now - dt.timedelta(hours=2))
    make_ticket(db, reason="debit-sans-confirmation", created_at=now - dt.timedelta(hours=5), first_response_at=now - dt.timedelta(hours=2))
    make_ticket(db, reason="annulation-centre", created_at=now - dt.timedelta(hours=1), first_response_at=now - dt.timedelta(minutes=40))
    make_ticket(db, reason="points-ants", created_at=yesterday)
    return now


def test_report_figures(app, db, seeded):
    with db.transaction() as session:
        report = build_report(session, 30, seeded)
    assert report.search_total == 12 and report.zero_total == 8
    assert report.top_queries[0] == ("remboursement", 4, 0)  # case and spaces folded together
    assert report.zero_queries[0] == ("stage en visio", 2)
    assert "trop ancien" not in [query for query, _ in report.zero_queries]  # outside the 30 days
    assert report.no_votes[0] == ("changer-de-date", 3, 1)
    [(reason, counts)] = report.deflection
    assert reason == "debit-sans-confirmation" and counts["resolved"] == 3 and counts["submitted"] == 1
    assert report.ticket_total == 4
    assert dict(report.tickets_per_reason) == {"debit-sans-confirmation": 2, "annulation-centre": 1, "points-ants": 1}
    # Response times 1 h, 3 h, 20 min: the median is 1 h.
    assert report.median_first_response == dt.timedelta(hours=1)
    assert {queue: median for queue, median, _ in report.first_response_by_queue} == {
        "paiement": dt.timedelta(hours=2), "jour-j": dt.timedelta(minutes=20),
    }
    assert len(report.searches_per_day) == 30 and report.searches_per_day[-1][1] >= 11


def test_analytics_page_shows_the_figures_with_charts(seeded, admin_client):
    response = admin_client.get("/staff/analytics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for expected in ("Recherches par jour", "stage en visio", "Comment changer la date de mon stage ?", "75 %",
                     "Tickets par jour et par file", "1 h 00 min", "<svg class=\"chart", "Paiement"):
        assert expected in text, expected
    assert "=hyperlink(&#34;http://evil.example&#34;" in text  # escaped, shown as typed (folded to lower case)
    assert admin_client.get("/staff/analytics?jours=7").status_code == 200
    assert admin_client.get("/staff/analytics?jours=abc").status_code == 200


def test_empty_analytics_page(admin_client):
    text = admin_client.get("/staff/analytics?jours=90").get_data(as_text=True)
    assert "Aucune donnée sur la période" in text and "Aucune recherche sur la période." in text


def _read_csv(response) -> list[list[str]]:
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_csv_exports_neutralise_formulas(app, db, seeded, admin_client):
    rows = _read_csv(admin_client.get("/staff/analytics/requetes-sans-resultat.csv"))
    assert rows[0] == ["requete", "recherches"]
    cells = {row[0] for row in rows[1:]}
    for query in INJECTIONS:
        folded = query.strip(" ").lower()  # the report groups on lower(trim(query)); SQL trim removes spaces only
        assert "'" + folded in cells, folded
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    with db.transaction() as session:
        exports = session.query(AuditEvent).filter(AuditEvent.kind == "export").all()
    assert len(exports) == 1


def test_every_dataset_exports(seeded, admin_client):
    for dataset in ("recherches-par-jour", "requetes", "requetes-sans-resultat", "votes-non", "evitement", "tickets", "premiere-reponse"):
        rows = _read_csv(admin_client.get(f"/staff/analytics/{dataset}.csv?jours=7"))
        assert len(rows) >= 2, dataset
    assert admin_client.get("/staff/analytics/inconnu.csv").status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+33 6 12", "'+33 6 12"), ("-x", "'-x"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("normal", "normal"), ("", ""), (None, ""), (-3, -3), (2.5, 2.5), ("a=b", "a=b")],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_to_csv_quotes_separators_and_newlines():
    text = to_csv(("a", "b"), [("x;y", "ligne\nsuivante"), ("=cmd", 3)])
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows == [["a", "b"], ["x;y", "ligne\nsuivante"], ["'=cmd", "3"]]
