"""Content served by the app: hidden entries never served, merged ids resolving, incomplete answers flagged, and the
content loop (console lists without junk, proposals, admin review, overlay shared by every instance, export)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from faqbot import knowledge
from faqbot.content.cli import content_group
from faqbot.content.export import EXPORT_NAME
from faqbot.content.overlay import apply_changes, is_junk_query, overlay_version
from faqbot.content.writer import dump_faq
from faqbot.db import utcnow
from faqbot.models import AuditEvent, ContentChange, SearchContact, SearchLog
from faqbot.public.searchlog import reference_of
from faqbot.staff.analytics import build_report
from faqbot.staff.content_signals import content_signals

from backends import BACKENDS
from builders import make_ticket
from staff_helpers import add_staff, login, post

SERVED_ANSWER = "Le remboursement arrive sous quatorze jours sur la carte bancaire utilisée lors du paiement."
INCOMPLETE_INTRO = "Pour changer la date de votre stage, passez par votre Espace Stagiaire."
HIDDEN_ANSWER = "Les pièces justificatives du dossier de renouvellement sont les suivantes :"


def tiny_faq() -> dict:
    return {
        "version": 1,
        "categories": [{"id": "annulation-remboursement", "label": "Annulation & remboursement"}],
        "snippets": [],
        "entries": [
            {
                "id": "delai-remboursement",
                "question": "Sous combien de temps suis-je remboursé ?",
                "variants": ["quand serai-je remboursé", "délai du remboursement", "argent pas encore revenu"],
                "answer": SERVED_ANSWER + "\n",
                "category": "annulation-remboursement",
                "tags": ["remboursement"],
                "contact_reason": "remboursement-virement",
                "review": "Fusion : « remboursement-delai-ancien » posait la même question.",
                "aliases": ["remboursement-delai-ancien"],
            },
            {
                "id": "changer-date-stage",
                "question": "Comment changer la date de mon stage ?",
                "variants": ["changer de date", "décaler mon stage", "reporter le stage"],
                "answer": INCOMPLETE_INTRO + "\n\nPour cela :\n",
                "category": "annulation-remboursement",
                "tags": ["transfert"],
                "incomplete": "Les étapes annoncées par « Pour cela : » manquent dans l’export.",
            },
            {
                "id": "pieces-renouvellement-permis",
                "question": "Quelles pièces fournir pour un permis en renouvellement ?",
                "variants": ["papiers renouvellement permis", "justificatifs permis en fabrication", "documents permis suspendu"],
                "answer": HIDDEN_ANSWER + "\n",
                "category": "annulation-remboursement",
                "tags": ["documents"],
                "incomplete": "La liste des pièces manque dans l’export.",
                "hidden": "Coquille vide : à rédiger.",
            },
        ],
    }


@pytest.fixture
def faq_file(tmp_path) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(dump_faq(tiny_faq()), encoding="utf-8")
    return path


@pytest.fixture(params=BACKENDS)
def app(request, make_app, faq_file, tmp_path):
    """An app serving the tiny FAQ, on each available backend (SQLite, and PostgreSQL in CI)."""
    return make_app(request.param, FAQ_PATH=str(faq_file), INDEX_DIR=str(tmp_path / "index"))


@pytest.fixture
def agent_client(app):
    add_staff(app, "agent@support.test")
    client = app.test_client()
    assert login(client, "agent@support.test").status_code == 302
    return client


@pytest.fixture
def admin_client(app):
    add_staff(app, "admin@support.test", "admin")
    client = app.test_client()
    assert login(client, "admin@support.test").status_code == 302
    return client


def _search_ids(client, query: str) -> list[str]:
    results = client.get("/api/search", query_string={"q": query}).get_json()["results"]
    return [r["id"] for r in results]


# ---------------------------------------------------------------- hidden, merged and incomplete entries


def test_hidden_entry_is_never_served(app, agent_client):
    client = app.test_client()
    assert "pieces-renouvellement-permis" not in _search_ids(client, "pièces justificatives renouvellement permis")
    assert client.get("/faq/pieces-renouvellement-permis").status_code == 404
    category_page = client.get("/categorie/annulation-remboursement").get_data(as_text=True)
    assert "Sous combien de temps" in category_page and "Quelles pièces fournir" not in category_page
    assert "Quelles pièces fournir" not in client.get("/").get_data(as_text=True)
    ticket = make_ticket(app.extensions["faqbot.db"], faq_seen=["pieces-renouvellement-permis"])
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    assert 'value="pieces-renouvellement-permis"' not in page
    assert agent_client.get("/staff/canned/pieces-renouvellement-permis").status_code == 404


def test_merged_id_redirects_and_resolves_in_canned_replies(app, agent_client):
    client = app.test_client()
    response = client.get("/faq/remboursement-delai-ancien")
    assert response.status_code == 301 and response.headers["Location"].endswith("/faq/delai-remboursement")
    assert client.get("/faq/inconnue-du-tout").status_code == 404
    ticket = make_ticket(app.extensions["faqbot.db"], faq_seen=["remboursement-delai-ancien"])
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    page = agent_client.get(f"/staff/tickets/{ticket.ref}").get_data(as_text=True)
    seen_group = page.split("Réponses vues par le stagiaire", 1)[1].split("</optgroup>", 1)[0]
    assert 'value="delai-remboursement"' in seen_group
    assert agent_client.get("/staff/canned/remboursement-delai-ancien").get_json()["id"] == "delai-remboursement"


def test_incomplete_entry_shows_a_pointer_and_needs_confirmation_as_canned_reply(app, agent_client):
    page = app.test_client().get("/faq/changer-date-stage").get_data(as_text=True)
    assert INCOMPLETE_INTRO in page
    assert "Pour cela" not in page  # no dangling announcement
    assert "answer-incomplete" in page and "/contact" in page.split("answer-incomplete", 1)[1]
    refused = agent_client.get("/staff/canned/changer-date-stage")
    assert refused.status_code == 409 and refused.get_json()["confirm_required"] is True
    assert INCOMPLETE_INTRO in agent_client.get("/staff/canned/changer-date-stage?confirm=1").get_json()["text"]
    ticket = make_ticket(app.extensions["faqbot.db"])
    post(agent_client, f"/staff/tickets/{ticket.ref}/claim")
    without = agent_client.get(f"/staff/tickets/{ticket.ref}?canned=changer-date-stage").get_data(as_text=True)
    assert "Cette réponse est incomplète" in without and INCOMPLETE_INTRO not in without.split("reply-body", 1)[1]
    confirmed = agent_client.get(f"/staff/tickets/{ticket.ref}?canned=changer-date-stage&canned_confirm=1").get_data(as_text=True)
    assert INCOMPLETE_INTRO in confirmed.split("reply-body", 1)[1]
    canned_select = confirmed.split('id="canned"', 1)[1].split("</select>", 1)[0]
    complete_group = canned_select.split("Toutes les réponses de la FAQ", 1)[1].split("</optgroup>", 1)[0]
    assert 'value="changer-date-stage"' not in complete_group  # offered apart, behind the confirmation


def test_incomplete_and_hidden_entries_are_listed_for_staff(agent_client):
    page = agent_client.get("/staff/contenu/a-completer").get_data(as_text=True)
    assert "Les étapes annoncées par « Pour cela : » manquent dans l’export." in page
    assert "Quelles pièces fournir" in page and "Coquille vide : à rédiger." in page


# ---------------------------------------------------------------- the lists: junk filtered, dismissed, contacts


JUNK = ["😀😀", "a", "?", "4970 1012 3456 7890", "[numéro de carte masqué]", "!!!"]


@pytest.mark.parametrize("query", JUNK)
def test_junk_queries_are_recognised(query):
    assert is_junk_query(query)


@pytest.mark.parametrize("query", ["remboursement carte expirée", "48n", "cpf ?", "stage 2 jours"])
def test_real_queries_are_not_junk(query):
    assert not is_junk_query(query)


def _log(db, query: str, result_count: int = 0, top: str | None = None, clicked: str | None = None, at: dt.datetime | None = None) -> dt.datetime:
    at = at or utcnow() - dt.timedelta(minutes=len(query))
    with db.transaction() as session:
        session.add(SearchLog(at=at, query=query, result_count=result_count, top_entry_id=top, clicked_entry_id=clicked))
    return at


def test_analytics_and_content_lists_leave_junk_out(app, agent_client):
    db = app.extensions["faqbot.db"]
    for query in JUNK + ["stage annulé par la préfecture", "stage annulé par la préfecture"]:
        _log(db, query)
    _log(db, "payer en espèces", result_count=3, top="delai-remboursement")
    with db.transaction() as session:
        report = build_report(session, 30, utcnow())
        signals = content_signals(session, knowledge.faq(app), 30, utcnow())
    assert [q for q, _n in report.zero_queries] == ["stage annulé par la préfecture"]
    assert [q for q, _n, _z in report.top_queries] == ["stage annulé par la préfecture", "payer en espèces"]
    assert [(s.query, s.count) for s in signals.zero] == [("stage annulé par la préfecture", 2)]
    assert [(s.query, s.suggested_entry) for s in signals.unclicked] == [("payer en espèces", "delai-remboursement")]
    assert signals.junk_hidden == len(JUNK)
    page = agent_client.get("/staff/contenu").get_data(as_text=True)
    assert "stage annulé par la préfecture" in page and "😀" not in page and "4970" not in page
    # Dismissed as noise: gone from the lists, and audited.
    post(agent_client, "/staff/contenu/bruit", {"query": "stage annulé par la préfecture"}, token_from="/staff/contenu")
    with db.transaction() as session:
        assert content_signals(session, knowledge.faq(app), 30, utcnow()).zero == []
        kinds = [e.kind for e in session.scalars(select(AuditEvent))]
    assert "content_dismissed" in kinds


def test_search_followed_by_a_contact_is_listed(app):
    db = app.extensions["faqbot.db"]
    at = _log(db, "mon centre ne répond plus", result_count=2, top="delai-remboursement")
    client = app.test_client()
    assert client.get("/contact", query_string={"s": reference_of(at)}).status_code == 200
    client.get("/contact", query_string={"s": "pas-une-reference"})  # ignored, not an error
    with db.transaction() as session:
        assert len(list(session.scalars(select(SearchContact)))) == 1
        signals = content_signals(session, knowledge.faq(app), 30, utcnow())
    assert [(s.query, s.suggested_entry) for s in signals.contact] == [("mon centre ne répond plus", "delai-remboursement")]


def test_no_votes_list_the_searches_that_led_there(app):
    db = app.extensions["faqbot.db"]
    from faqbot.models import FeedbackVote

    _log(db, "carte expirée remboursée où", result_count=1, top="delai-remboursement", clicked="remboursement-delai-ancien")
    with db.transaction() as session:
        session.add(FeedbackVote(entry_id="remboursement-delai-ancien", helpful=False, at=utcnow()))
    with db.transaction() as session:
        signals = content_signals(session, knowledge.faq(app), 30, utcnow())
    assert signals.no_votes[0].entry_id == "delai-remboursement"  # a merged id counts for its survivor
    assert [s.query for s in signals.no_votes[0].queries] == ["carte expirée remboursée où"]


# ---------------------------------------------------------------- proposals, review, overlay on two instances


def test_overlay_is_served_by_every_instance_sharing_the_database(app, make_app, faq_file, tmp_path, agent_client):
    other = make_app("sqlite", DATABASE_URL=app.config["DATABASE_URL"], FAQ_PATH=str(faq_file), INDEX_DIR=str(tmp_path / "index-2"))
    add_staff(app, "admin@support.test", "admin")
    admin = app.test_client()
    login(admin, "admin@support.test")
    query = "remboursé sur quel compte bancaire"
    before = [_search_ids(app.test_client(), query), _search_ids(other.test_client(), query)]
    # Click 1: the suggested entry is pre-filled in the row; click 2: "Ajouter comme variante".
    db = app.extensions["faqbot.db"]
    _log(db, query, result_count=0)
    page = agent_client.get("/staff/contenu").get_data(as_text=True)
    assert query in page
    response = post(agent_client, "/staff/contenu/variante", {"query": query, "signal": "zero", "entry_id": "delai-remboursement"}, token_from="/staff/contenu")
    assert response.status_code == 302
    with db.transaction() as session:
        change = session.scalar(select(ContentChange))
        assert (change.status, change.kind, change.entry_id, change.payload) == ("proposed", "variant", "delai-remboursement", {"variant": query})
        assert overlay_version(session) == 0
    assert post(agent_client, "/staff/contenu/propositions/decision", {"change_id": change.id, "decision": "accepter", "note": ""}, token_from="/staff/contenu/propositions").status_code == 403
    assert post(admin, "/staff/contenu/propositions/decision", {"change_id": change.id, "decision": "accepter", "note": "ok"}, token_from="/staff/contenu/propositions").status_code == 302
    with db.transaction() as session:
        assert overlay_version(session) == 1
    # Served at once by the instance that accepted; the other sees the new version at its next check.
    assert query in knowledge.faq(app).by_id["delai-remboursement"].variants
    knowledge.store(other).check(force=True)
    assert query in knowledge.faq(other).by_id["delai-remboursement"].variants
    after = [_search_ids(app.test_client(), query), _search_ids(other.test_client(), query)]
    assert after[0][:1] == after[1][:1] == ["delai-remboursement"], (before, after)
    # The query is handled: it leaves the lists.
    with db.transaction() as session:
        assert content_signals(session, knowledge.faq(app), 30, utcnow()).zero == []


def test_new_entry_proposal_reviewed_and_audited(app, agent_client, admin_client):
    response = agent_client.get("/staff/contenu/nouvelle", query_string={"q": "stage annulé neige", "signal": "zero"})
    assert response.status_code == 200 and "Stage annulé neige ?" in response.get_data(as_text=True)
    bad = post(agent_client, "/staff/contenu/nouvelle", {"query": "x", "question": "Pas de point d'interrogation", "answer": "Une réponse assez longue pour passer.", "category": "annulation-remboursement"}, token_from="/staff/contenu/nouvelle")
    assert bad.status_code == 422 and "« ? »" in bad.get_data(as_text=True)
    data = {
        "query": "stage annulé neige", "signal": "zero", "question": "Mon stage est-il maintenu en cas de neige ?",
        "answer": "Le centre vous prévient par SMS et e-mail s'il reporte le stage.", "category": "annulation-remboursement",
        "variants": "stage annulé à cause de la neige\nmétéo stage maintenu",
    }
    assert post(agent_client, "/staff/contenu/nouvelle", data, token_from="/staff/contenu/nouvelle").status_code == 302
    db = app.extensions["faqbot.db"]
    with db.transaction() as session:
        change = session.scalar(select(ContentChange).where(ContentChange.kind == "entry"))
        assert change.payload["answer"].startswith("Le centre vous prévient par SMS et e-mail s’il")  # house typography
        assert change.payload["variants"][0] == "stage annulé neige"
    proposals = admin_client.get("/staff/contenu/propositions").get_data(as_text=True)
    assert "Mon stage est-il maintenu en cas de neige ?" in proposals
    assert post(admin_client, "/staff/contenu/propositions/decision", {"change_id": change.id, "decision": "refuser", "note": "déjà couvert"}, token_from="/staff/contenu/propositions").status_code == 302
    again = post(admin_client, "/staff/contenu/propositions/decision", {"change_id": change.id, "decision": "accepter", "note": ""}, token_from="/staff/contenu/propositions")
    assert again.status_code == 302  # refused with a message: already reviewed
    with db.transaction() as session:
        change = session.get(ContentChange, change.id)
        assert change.status == "rejected" and change.review_note == "déjà couvert" and change.reviewed_by is not None
        events = [(e.kind, e.actor_id, json.loads(e.detail)) for e in session.scalars(select(AuditEvent).where(AuditEvent.kind.like("content_%")))]
        assert overlay_version(session) == 0
    assert [kind for kind, _actor, _detail in events] == ["content_proposed", "content_rejected"]
    assert all(actor is not None for _kind, actor, _detail in events)
    assert events[0][2]["question"] == "Mon stage est-il maintenu en cas de neige ?" and events[1][2]["note"] == "déjà couvert"
    journal = admin_client.get("/staff/journal").get_data(as_text=True)
    assert "FAQ : proposition refusée" in journal


def test_a_proposal_that_would_break_the_faq_is_refused(app, agent_client, admin_client):
    db = app.extensions["faqbot.db"]
    answer = post(agent_client, "/staff/contenu/variante", {"query": "décaler mon stage", "entry_id": "delai-remboursement"}, token_from="/staff/contenu")
    assert answer.status_code == 302  # already a variant of another entry: refused with a message, nothing stored
    assert "déjà une variante" in agent_client.get("/staff/contenu").get_data(as_text=True)
    from faqbot import knowledge
    from faqbot.content.check import MAX_VARIANTS

    with app.app_context():
        room = MAX_VARIANTS - len(knowledge.faq().by_id["delai-remboursement"].variants)
    for n in range(room + 1):  # its variants + `room` accepted = MAX_VARIANTS, the most an entry may have
        with db.transaction() as session:
            session.add(ContentChange(kind="variant", entry_id="delai-remboursement", payload={"variant": f"formulation numéro {n}"}, query=f"q{n}", status="accepted" if n < room else "proposed", review_note=""))
    with db.transaction() as session:
        last = session.scalar(select(ContentChange).where(ContentChange.status == "proposed"))
    post(admin_client, "/staff/contenu/propositions/decision", {"change_id": last.id, "decision": "accepter", "note": ""}, token_from="/staff/contenu/propositions")
    with db.transaction() as session:
        assert session.get(ContentChange, last.id).status == "proposed"
    assert "ne serait plus valide" in admin_client.get("/staff/contenu/propositions").get_data(as_text=True)


def test_overlay_is_idempotent():
    change = ContentChange(kind="variant", entry_id="remboursement-delai-ancien", payload={"variant": "sous quel délai"}, status="accepted")
    new = ContentChange(kind="entry", entry_id="neige-stage-maintenu", payload={"question": "Neige ?", "answer": "x"}, status="accepted")
    once = apply_changes(tiny_faq(), [change, new])
    twice = apply_changes(once, [change, new])
    assert once == twice
    assert once["entries"][0]["variants"][-1] == "sous quel délai"  # through the alias, to the survivor
    assert [e["id"] for e in once["entries"]][-1] == "neige-stage-maintenu"


# ---------------------------------------------------------------- export → check → reload


def test_export_check_reload_round_trip(app, admin_client, faq_file, tmp_path):
    db = app.extensions["faqbot.db"]
    # A tiny export whose lines the tiny FAQ carries, so `content check` can validate the result.
    raw = tmp_path / "raw"
    raw.mkdir()
    export = raw / EXPORT_NAME
    export.write_text("\n".join([SERVED_ANSWER, INCOMPLETE_INTRO, "Pour cela :", HIDDEN_ANSWER]) + "\n", encoding="utf-8")
    dropped = tmp_path / "dropped.yaml"
    dropped.write_text("[]\n", encoding="utf-8")
    admin_id = add_staff(app, "relecteur@support.test", "admin")
    with db.transaction() as session:
        session.add(ContentChange(kind="variant", entry_id="delai-remboursement", payload={"variant": "remboursement pas reçu après 10 jours"},
                                  query="remboursement pas reçu après 10 jours", status="accepted", proposed_by=admin_id, review_note=""))
        from faqbot.models import ContentVersion

        session.add(ContentVersion(id=1, version=1, changed_at=utcnow()))
    knowledge.store(app).check(force=True)
    served_before = knowledge.faq(app).by_id["delai-remboursement"].variants
    before = faq_file.read_text(encoding="utf-8")
    args = ["export", "--faq", str(faq_file), "--export", str(export), "--dropped", str(dropped),
            "--database-url", app.config["DATABASE_URL"], "--min-carried", "50"]
    result = CliRunner().invoke(content_group, args)
    assert result.exit_code == 0, result.output
    after = faq_file.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert (added, removed) == (["  - remboursement pas reçu après 10 jours"], [])  # the stable writer: a one-line diff
    check = CliRunner().invoke(content_group, ["check", "--faq", str(faq_file), "--export", str(export), "--dropped", str(dropped), "--min-carried", "50"])
    assert check.exit_code == 0, check.output
    knowledge.store(app).check(force=True)
    assert knowledge.faq(app).by_id["delai-remboursement"].variants == served_before  # no duplicate
    with db.transaction() as session:
        change = session.scalar(select(ContentChange))
        assert change.exported_at is not None
        exported = session.scalar(select(AuditEvent).where(AuditEvent.kind == "content_exported"))
        assert json.loads(exported.detail)["operator"] and json.loads(exported.detail)["changes"] == [change.id]
    again = CliRunner().invoke(content_group, args)
    assert "Aucune proposition acceptée à exporter" in again.output and faq_file.read_text(encoding="utf-8") == after


def test_export_that_breaks_the_check_leaves_the_file_untouched(app, faq_file, tmp_path):
    db = app.extensions["faqbot.db"]
    with db.transaction() as session:
        session.add(ContentChange(kind="entry", entry_id="entree-sans-categorie", payload={"question": "Sans catégorie ?", "variants": ["a b", "c d", "e f"], "answer": "Texte.\n", "category": "inconnue", "tags": ["x"]},
                                  query="", status="accepted", review_note=""))
    before = faq_file.read_text(encoding="utf-8")
    result = CliRunner().invoke(content_group, ["export", "--faq", str(faq_file), "--database-url", app.config["DATABASE_URL"]])
    assert result.exit_code != 0 and "Export annulé" in result.output
    assert faq_file.read_text(encoding="utf-8") == before
    with db.transaction() as session:
        assert session.scalar(select(ContentChange)).exported_at is None
