"""Public pages and the search API through the test client, on a small FAQ written for the tests."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backends import BACKENDS
from faqbot import knowledge
from faqbot.models import FeedbackVote, SearchLog
from faqbot.db import Base, Database
from faqbot.public.searchlog import SearchLogWriter, at_of, reference_of
from test_index import FAQ_DATA, write_faq


@pytest.fixture(params=BACKENDS)
def public_app(request, make_app, tmp_path):
    faq_path = write_faq(tmp_path / "faq.yaml")
    return make_app(request.param, FAQ_PATH=str(faq_path))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def client(public_app):
    return public_app.test_client()


def _logs(app) -> list[SearchLog]:
    with app.extensions["faqbot.db"].sessions() as session:
        return list(session.scalars(select(SearchLog).order_by(SearchLog.id)))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


# -- API ----------------------------------------------------------------------------------------------------------


def test_api_search_contract(client):
    response = client.get("/api/search", query_string={"q": "remboursment", "limit": 3})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) >= {"query", "corrected_query", "results"}
    assert data["query"] == "remboursment"
    assert data["corrected_query"] == "remboursement"
    assert 1 <= len(data["results"]) <= 3
    first = data["results"][0]
    assert set(first) >= {"id", "question", "answer", "category", "score", "url"}
    assert first["id"] == "delai-remboursement"
    assert first["category"] == "annulation"
    assert isinstance(first["score"], float)
    assert "8 jours ouvrés" in first["answer"] and "**" not in first["answer"]
    assert client.get(first["url"]).status_code == 200


def test_api_empty_query_returns_entries(client):
    data = client.get("/api/search").get_json()
    assert data["query"] == "" and data["corrected_query"] is None
    assert [r["id"] for r in data["results"]][:2] == ["moyens-paiement", "paiement-sur-place"]


@pytest.mark.parametrize("limit", ["0", "51", "abc", "-1", "1e3"])
def test_api_rejects_bad_limit_in_french(client, limit):
    response = client.get("/api/search", query_string={"q": "stage", "limit": limit})
    assert response.status_code == 422
    assert "limit" in response.get_json()["error"]


@pytest.mark.parametrize("query", ['"', "title:(a OR", "😀", "\x00", "é" * 10_000, "<script>"])
def test_api_hostile_queries_answer_200(client, query):
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 200
    assert isinstance(response.get_json()["results"], list)


def test_api_logs_searches_but_not_keystrokes(public_app, client):
    client.get("/api/search", query_string={"q": "lettre 48N"})
    client.get("/api/search", query_string={"q": "lett", "suggest": "1"})
    client.get("/api/search")  # empty: nothing searched
    logs = _logs(public_app)
    assert [(log.query, log.result_count > 0, log.top_entry_id) for log in logs] == [
        ("lettre 48N", True, "lettre-48n")
    ]


# -- pages --------------------------------------------------------------------------------------------------------


def test_home_has_search_form_categories_and_script(client):
    html = client.get("/").get_data(as_text=True)
    assert '<label for="q"' in html and 'action="/recherche"' in html and 'method="get"' in html
    assert "Annulation &amp; remboursement" in html
    assert "/static/search.js" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_search_page_works_without_javascript(public_app, client):
    response = client.get("/recherche", query_string={"q": "remboursment"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Résultats pour «\u00a0remboursement\u00a0»" in html  # French spacing, at display
    assert "Vous aviez écrit «\u00a0remboursment\u00a0»" in html
    assert "<mark>" in html
    log = _logs(public_app)[-1]
    assert log.query == "remboursment" and log.corrected_query == "remboursement"
    assert f"/faq/delai-remboursement?s={reference_of(log.at)}" in html


def test_search_page_escapes_the_query(client):
    html = client.get("/recherche", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_search_page_without_results_offers_contact(client):
    html = client.get("/recherche", query_string={"q": "zzzz qqqq"}).get_data(as_text=True)
    assert "Aucune réponse ne correspond" in html
    assert "Contacter le support" in html


def test_click_from_results_page_is_logged(public_app, client):
    client.get("/recherche", query_string={"q": "lettre 48N"})
    log = _logs(public_app)[-1]
    assert client.get(f"/faq/lettre-48n?s={reference_of(log.at)}").status_code == 200
    client.get(f"/faq/rii?s={reference_of(log.at)}")  # a second click does not overwrite the first
    assert _logs(public_app)[-1].clicked_entry_id == "lettre-48n"


def test_click_from_live_search_is_logged(public_app, client):
    client.get("/faq/rii", query_string={"q": "c koi le RII"})
    log = _logs(public_app)[-1]
    assert (log.query, log.clicked_entry_id, log.top_entry_id) == ("c koi le RII", "rii", "rii")


# -- buffered search log ------------------------------------------------------------------------------------------


def _wait_for_rows(app, count: int, seconds: float = 10.0) -> list[SearchLog]:
    deadline = time.monotonic() + seconds
    while True:
        logs = _logs(app)
        if len(logs) >= count or time.monotonic() > deadline:
            return logs
        time.sleep(0.02)


def test_buffered_log_is_written_by_the_background_flusher(make_app, tmp_path, backend):
    app = make_app(backend, FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")), SEARCH_LOG_FLUSH_SECONDS=0.05)
    writer = app.extensions["faqbot.searchlog"]
    client = app.test_client()
    try:
        for query in ("lettre 48N", "remboursment", "zzzz qqqq"):
            assert client.get("/api/search", query_string={"q": query}).status_code == 200
        logs = _wait_for_rows(app, 3)
        assert [(log.query, log.top_entry_id) for log in logs] == [
            ("lettre 48N", "lettre-48n"), ("remboursment", "delai-remboursement"), ("zzzz qqqq", None)
        ]
        assert writer.pending() == 0
    finally:
        writer.close()
    assert writer._thread is not None and not writer._thread.is_alive()


def test_full_batch_is_written_without_waiting_for_the_interval(make_app, tmp_path):
    app = make_app("sqlite", FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")),
                   SEARCH_LOG_FLUSH_SECONDS=3600, SEARCH_LOG_BATCH_ROWS=5)
    writer = app.extensions["faqbot.searchlog"]
    client = app.test_client()
    try:
        for n in range(5):
            client.get("/api/search", query_string={"q": f"stage {n}"})
        assert len(_wait_for_rows(app, 5)) == 5
    finally:
        writer.close()


def test_click_waits_for_a_search_still_buffered_by_another_worker(make_app, tmp_path, backend):
    app = make_app(backend, FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")))
    database = app.extensions["faqbot.db"]
    worker_a, worker_b = SearchLogWriter(database, flush_seconds=0), SearchLogWriter(database, flush_seconds=0)
    reference = worker_a.record_search("lettre 48N", None, 2, "lettre-48n")
    assert worker_b.record_click(reference, "lettre-48n")
    worker_b.flush()  # the search row is not written yet: the click stays queued
    assert _logs(app) == [] and worker_b.pending() == 1
    worker_a.flush()
    worker_b.flush()
    assert worker_b.pending() == 0
    worker_b.record_click(reference, "rii")  # a second click does not overwrite the first
    worker_b.flush()
    assert [(log.query, log.clicked_entry_id) for log in _logs(app)] == [("lettre 48N", "lettre-48n")]
    assert worker_b.pending() == 0  # the row exists: nothing to retry


def test_click_and_its_search_in_the_same_batch(make_app, tmp_path):
    app = make_app("sqlite", FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")))
    writer = SearchLogWriter(app.extensions["faqbot.db"], flush_seconds=0)
    first = writer.record_search("rii", None, 1, "rii")
    second = writer.record_search("rii", None, 1, "rii")  # same text, same microsecond or not: distinct rows
    assert first != second
    writer.record_click(second, "rii")
    writer.flush()
    assert [log.clicked_entry_id for log in _logs(app)] == [None, "rii"]


def test_search_references_are_unique_in_a_process(make_app, tmp_path):
    app = make_app("sqlite", FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")))
    writer = SearchLogWriter(app.extensions["faqbot.db"], flush_seconds=0)
    references = [writer.record_search("stage", None, 1, None) for _ in range(2000)]
    assert len(set(references)) == 2000
    assert at_of(references[0]) is not None and reference_of(at_of(references[0])) == references[0]


@pytest.mark.parametrize("reference", ["abc", "-5", "1e9", "9" * 40, " 12", "٣٤"])
def test_malformed_click_references_are_ignored(client, public_app, reference):
    assert public_app.extensions["faqbot.searchlog"].record_click(reference, "rii") is False
    assert client.get("/faq/rii", query_string={"s": reference}).status_code == 200
    assert _logs(public_app) == []


def test_unwritable_log_keeps_its_rows_for_the_next_flush(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")  # no tables yet: every insert fails
    try:
        writer = SearchLogWriter(database, flush_seconds=0)
        writer.record_search("stage", None, 3, "a")
        writer.flush()
        assert writer.pending() == 1
        Base.metadata.create_all(database.engine)
        writer.flush()
        assert writer.pending() == 0
        with database.sessions() as session:
            assert session.scalars(select(SearchLog.query)).all() == ["stage"]
    finally:
        database.dispose()


def test_buffered_rows_are_written_when_the_process_exits(tmp_path, shared_index_dir):
    faq_path = write_faq(tmp_path / "faq.yaml")
    database_url = f"sqlite:///{tmp_path / 'exit.sqlite3'}"
    script = f"""
from faqbot import create_app
app = create_app({{"INSTANCE_PATH": {str(tmp_path / "instance")!r}, "DATABASE_URL": {database_url!r},
    "FAQ_PATH": {str(faq_path)!r}, "INDEX_DIR": {str(shared_index_dir)!r}, "SECRET_KEY": "x",
    "SEARCH_LOG_FLUSH_SECONDS": 3600}})
client = app.test_client()
for n in range(7):
    assert client.get("/api/search", query_string={{"q": f"stage {{n}}"}}).status_code == 200
assert app.extensions["faqbot.searchlog"].pending() == 7
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, cwd=Path(__file__).parent.parent)
    database = Database(database_url)
    try:
        with database.sessions() as session:
            assert session.scalar(select(func.count()).select_from(SearchLog)) == 7
    finally:
        database.dispose()


def test_popular_entries_follow_clicks(make_app, tmp_path):
    app = make_app("sqlite", FAQ_PATH=str(write_faq(tmp_path / "faq.yaml")))
    client = app.test_client()
    for _ in range(3):
        client.get("/faq/rii", query_string={"q": "rii"})
    service = knowledge.search(app)
    assert service.search("", limit=1, popularity=None).hits[0].entry.id in {"rii", "moyens-paiement"}
    fresh = make_app("sqlite", FAQ_PATH=str(tmp_path / "faq.yaml"), DATABASE_URL=app.config["DATABASE_URL"])
    assert knowledge.search(fresh).search("", limit=1).hits[0].entry.id == "rii"


def test_entry_page(client):
    html = client.get("/faq/debit-sans-confirmation").get_data(as_text=True)
    assert "<h1>J’ai été débité mais je n’ai reçu aucune confirmation, que faire\u202f?</h1>" in html
    assert "Cette réponse vous a-t-elle aidé\u202f?" in html
    assert 'value="Oui"' in html and 'value="Non"' in html
    assert "Contacter le support" in html
    assert "reason=debit-sans-confirmation" in html
    assert "Questions proches" in html


def test_entry_without_reason_links_to_the_general_contact(client):
    html = client.get("/faq/rii").get_data(as_text=True)
    assert "Contacter le support" in html and "reason=" not in html


def test_entry_html_in_content_is_not_interpreted(client):
    html = client.get("/faq/balise").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<b>rien</b>" not in html


def test_unknown_entry_and_category_are_404_in_french(client):
    response = client.get("/faq/nexiste-pas")
    assert response.status_code == 404
    assert "n’existe pas" in response.get_data(as_text=True)
    assert client.get("/categorie/nexiste-pas").status_code == 404


def test_category_page_lists_its_entries(client):
    html = client.get("/categorie/points").get_data(as_text=True)
    assert "Points &amp; permis" in html
    assert "/faq/lettre-48n" in html and "/faq/rii" in html and "/faq/moyens-paiement" not in html


def test_feedback_vote_is_stored_once(public_app, client):
    page = client.get("/faq/rii").get_data(as_text=True)
    token = _csrf(page)
    response = client.post("/faq/rii/avis", data={"csrf_token": token, "no": "Non"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/faq/rii#avis")
    followed = client.get("/faq/rii").get_data(as_text=True)
    # One thank-you, in the vote section: the vote's own message, not a flash at the top as well.
    assert followed.count("Merci pour votre avis") == 1 and "votre avis sur cette réponse a été enregistré" not in followed
    assert 'class="flash' not in followed
    client.post("/faq/rii/avis", data={"csrf_token": token, "yes": "Oui"})  # double submit: not counted
    with public_app.extensions["faqbot.db"].sessions() as session:
        votes = session.execute(select(FeedbackVote.entry_id, FeedbackVote.helpful)).all()
    assert [tuple(v) for v in votes] == [("rii", False)]


def test_feedback_vote_needs_csrf(public_app, client):
    response = client.post("/faq/rii/avis", data={"yes": "Oui"})
    assert response.status_code == 400
    with public_app.extensions["faqbot.db"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackVote)) == 0


def test_index_command_builds(public_app):
    from faqbot.index.build import FAQ_FILE, load_saved_faq

    result = public_app.test_cli_runner().invoke(args=["index", "build", "--force"])
    assert result.exit_code == 0, result.output
    assert f"{len(FAQ_DATA['entries'])} entrées" in result.output
    # The rebuilt folder holds the parsed FAQ again, for the workers that start next.
    folder = Path(result.output.strip().rsplit(" dans ", 1)[1])
    assert (folder / FAQ_FILE).exists()
    served = knowledge.faq(public_app)
    links = knowledge.platform_links(public_app.config)
    assert load_saved_faq(Path(public_app.config["INDEX_DIR"]), served.digest, links) == served


def test_a_second_worker_loads_the_faq_the_first_one_parsed(tmp_path, monkeypatch):
    """Issue 13: the first process parses the YAML and saves it with the build; the next ones (gunicorn's other
    workers, the next start) unpickle it instead, and serve the same content."""
    from faqbot.content import overlay

    path = write_faq(tmp_path / "faq.yaml")
    first = knowledge.KnowledgeStore(path, tmp_path / "index")
    parsed = []
    real_parse = overlay.parse_faq_bytes
    monkeypatch.setattr(overlay, "parse_faq_bytes", lambda raw: parsed.append(len(raw)) or real_parse(raw))
    second = knowledge.KnowledgeStore(path, tmp_path / "index")
    assert parsed == []
    assert second.current.faq == first.current.faq and second.current.faq.digest == first.current.faq.digest
    hits = [h.entry.id for h in second.current.search.search("remboursement").hits]
    assert hits == [h.entry.id for h in first.current.search.search("remboursement").hits] and hits
    path.write_text(path.read_text(encoding="utf-8") + "# modifiée\n", encoding="utf-8")
    third = knowledge.KnowledgeStore(path, tmp_path / "index")  # another version: parsed from the file
    assert len(parsed) == 1 and third.current.faq.digest != first.current.faq.digest


def test_faq_edit_is_picked_up_without_restart(public_app, tmp_path):
    """The request that notices the edit is answered from the old content; the rebuild runs in the background."""
    store = knowledge.store(public_app)
    data = dict(FAQ_DATA)
    data["entries"] = FAQ_DATA["entries"] + [
        {"id": "groupon", "question": "Acceptez-vous les bons Groupon ?", "answer": "Non.", "category": "paiement"}
    ]
    write_faq(tmp_path / "faq.yaml", data)
    store._checked_at = -1e9  # the next request looks at the file now
    client = public_app.test_client()
    first = client.get("/api/search", query_string={"q": "groupon"}).get_json()["results"]
    assert all(result["id"] != "groupon" for result in first)  # not waiting for the rebuild
    store.wait()
    results = client.get("/api/search", query_string={"q": "groupon"}).get_json()["results"]
    assert results[0]["id"] == "groupon"
    assert knowledge.faq(public_app).by_id["groupon"].question.startswith("Acceptez")


def test_broken_faq_edit_keeps_serving(public_app, tmp_path):
    store = knowledge.store(public_app)
    (tmp_path / "faq.yaml").write_text("entries: [unclosed", encoding="utf-8")
    store._checked_at = -1e9
    response = public_app.test_client().get("/api/search", query_string={"q": "remboursement"})
    store.wait()
    assert response.status_code == 200
    assert response.get_json()["results"][0]["id"] == "delai-remboursement"
    response = public_app.test_client().get("/api/search", query_string={"q": "remboursement"})
    assert response.get_json()["results"][0]["id"] == "delai-remboursement"


def test_faq_edit_under_load_is_served_after_the_swap_by_two_workers(tmp_path):
    """Issue 13: gunicorn, 2 workers, requests in a loop, one FAQ edit. Every request is answered, requests are
    answered while the new index is being built (no request waits for it), and both workers end up serving the edit."""
    import json
    import os
    import shutil
    import socket
    import threading
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    faq_path = tmp_path / "faq.yaml"
    shutil.copy(root / "data" / "faq.yaml", faq_path)  # the real FAQ: its build takes long enough to be seen
    index_dir = tmp_path / "index"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, FAQ_PATH=str(faq_path), INDEX_DIR=str(index_dir), SECRET_KEY="x",
               FAQBOT_INSTANCE_PATH=str(tmp_path / "instance"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'load.sqlite3'}")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "--bind", f"127.0.0.1:{port}", "faqbot:create_app()"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/search?suggest=1&q=zorglub"

    def top() -> str:
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            results = json.load(response)["results"]
            return results[0]["id"] if results else ""

    try:
        for _ in range(600):
            try:
                top()
                break
            except OSError:
                time.sleep(0.1)
        answered: list[tuple[bool, str]] = []  # (started and finished during a build, first result)
        errors: list[BaseException] = []
        stop = threading.Event()

        def building() -> bool:
            return any(p.name.startswith(".staging-") for p in index_dir.iterdir())

        def hammer():
            while not stop.is_set():
                try:
                    during = building()
                    first = top()
                    answered.append((during and building(), first))
                except BaseException as error:  # reported below
                    errors.append(error)

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        text = faq_path.read_text(encoding="utf-8")
        edited = text.replace("entries:\n", "entries:\n- id: zorglub-groupon\n  question: Acceptez-vous les bons Zorglub ?\n"
                              "  answer: Non, pas les bons Zorglub.\n  category: inscription-paiement\n", 1)
        faq_path.write_text(edited, encoding="utf-8")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            recent = [first for _during, first in answered[-20:]]
            if len(recent) == 20 and all(first == "zorglub-groupon" for first in recent):
                break
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert [first for _d, first in answered[-20:]] == ["zorglub-groupon"] * 20  # both workers swapped
        assert any(during for during, _first in answered)  # answered while the new version was being built
        assert answered[0][1] != "zorglub-groupon"
    finally:
        server.terminate()
        server.wait(30)
