"""Size and shape limits of what the public can send: oversized bodies → 413, overlong fields → a French 422 that
names the field, malformed JSON → a French 400 in JSON. Nothing is stored when a limit is hit, and the HTML form
gives back what was typed.
"""
from __future__ import annotations

import http.client
import json
import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import harness  # noqa: E402

BIG = 70 * 1024  # above MAX_CONTENT_LENGTH (64 KiB)
FRENCH = re.compile(r"\b(le|la|les|de|des|du|est|trop|caractères|champ|merci|votre|requête|corps)\b", re.I)

VALID = {
    "reason": "points-ants",
    "name": "Camille Martin",
    "email": "camille@example.test",
    "message": "Ma réattribution a été rejetée.",
    "fields": {"numero_demande": "ANTS-1", "premier_jour_stage": "2026-01-05", "second_jour_stage": "2026-01-06"},
}


def ticket_count(app) -> int:
    with app.extensions["faqbot.db"].sessions() as session:
        return session.scalar(sa.text("SELECT count(*) FROM ticket"))


def assert_french_json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    data = response.get_json()
    text = data.get("error") or " ".join(e["message"] for e in data["errors"])
    assert FRENCH.search(text), text
    assert "Bad Request" not in text and "Traceback" not in text
    return data


# --- Oversized bodies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/tickets", "/api/triage/suggest"])
def test_oversized_json_body_is_413_in_french(client, app, path):
    body = json.dumps({**VALID, "message": "x" * BIG})
    response = client.post(path, data=body, content_type="application/json")
    data = assert_french_json_error(response, 413)
    assert data["error"] == "Le contenu envoyé est trop volumineux."
    assert ticket_count(app) == 0


@pytest.mark.parametrize("path", ["/contact/points-ants/envoyer", "/contact/suggestion", "/staff/login"])
def test_oversized_form_is_413_page_in_french(sqlite_app, path):
    response = sqlite_app.test_client().post(path, data={"message": "x" * BIG, "name": "A"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "Le contenu envoyé est trop volumineux." in response.get_data(as_text=True)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with harness.gunicorn(tmp_path_factory.mktemp("limits"), workers=1) as server:
        yield server


def send_chunked(server, path: str, content_type: str, parts: list[bytes]):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", content_type)
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        try:
            for part in parts:
                connection.send(b"%x\r\n%s\r\n" % (len(part), part))
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before we are done sending
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def test_oversized_body_is_refused_by_the_real_server_too(live):
    """Through gunicorn, with a declared length and chunked (no length): 413, never a truncated body."""
    status, _headers, data = live.request("POST", "/api/tickets", json.dumps({"message": "x" * BIG}).encode(),
                                          {"Content-Type": "application/json"})
    assert status == 413 and data["error"] == "Le contenu envoyé est trop volumineux."
    # Found by this test: a chunked body was silently cut at 64 KiB and its prefix parsed as the whole request.
    valid_but_big = [b'{"message": "'] + [b"x" * 8192] * 20 + [b'"}']
    status, content_type, body = send_chunked(live, "/api/triage/suggest", "application/json", valid_but_big)
    assert status == 413 and content_type.startswith("application/json")
    assert json.loads(body)["error"] == "Le contenu envoyé est trop volumineux."
    form = [b"name=Camille&message="] + [b"x" * 8192] * 20
    status, content_type, body = send_chunked(live, "/contact/points-ants/envoyer",
                                              "application/x-www-form-urlencoded", form)
    assert status == 413 and "Le contenu envoyé est trop volumineux." in body
    # A small chunked body is still read whole.
    status, _ct, body = send_chunked(live, "/api/triage/suggest", "application/json",
                                     [b'{"message": "', b"je n'ai pas recu mon mail", b'"}'])
    assert status == 200 and json.loads(body)["reason"]


def test_chunked_body_just_at_the_limit_is_accepted(sqlite_app):
    import io

    limit = sqlite_app.config["MAX_CONTENT_LENGTH"]
    body = b'{"message": "' + b"x" * (limit - len(b'{"message": "') - 2) + b'"}'
    assert len(body) == limit
    client = sqlite_app.test_client()
    exact = client.post("/api/triage/suggest", input_stream=io.BytesIO(body), content_type="application/json",
                        environ_overrides={"wsgi.input_terminated": True})
    assert exact.status_code == 422  # read whole (too long a message for suggest), not refused as too big
    over = client.post("/api/triage/suggest", input_stream=io.BytesIO(body + b" "), content_type="application/json",
                       environ_overrides={"wsgi.input_terminated": True})
    assert over.status_code == 413


# --- Overlong fields → French 422 naming the field, nothing stored --------------------------------------------

OVERLONG = [
    ("name", {"name": "N" * 201}),
    ("email", {"email": "a" * 250 + "@example.test"}),
    ("message", {"message": "m" * 5001}),
    ("numero_demande", {"fields": {**VALID["fields"], "numero_demande": "1" * 61}}),
]


@pytest.mark.parametrize(("field", "change"), OVERLONG, ids=[f for f, _c in OVERLONG])
def test_overlong_api_field_is_a_french_422(client, app, field, change):
    response = client.post("/api/tickets", json={**VALID, **change})
    data = assert_french_json_error(response, 422)
    assert field in {error["field"] for error in data["errors"]}, data
    assert ticket_count(app) == 0


def test_overlong_suggest_message_is_a_french_422(client):
    data = assert_french_json_error(client.post("/api/triage/suggest", json={"message": "m" * 5001}), 422)
    assert "5000" in data["errors"][0]["message"]


def test_overlong_idempotency_key_is_a_french_422(client, app):
    response = client.post("/api/tickets", json=VALID, headers={"Idempotency-Key": "k" * 81})
    data = assert_french_json_error(response, 422)
    assert data["errors"][0]["field"] == "idempotency_key"
    assert ticket_count(app) == 0


def test_overlong_form_field_comes_back_with_a_french_error(make_app):
    app = make_app("sqlite", WTF_CSRF_ENABLED=False)
    typed = "Ceci est mon message. " + "m" * 5001
    response = app.test_client().post(
        "/contact/points-ants/envoyer",
        data={"name": "Camille Martin", "email": "camille@example.test", "message": typed,
              "f_numero_demande": "ANTS-1", "f_premier_jour_stage": "2026-01-05", "f_second_jour_stage": "2026-01-06"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "5000 caractères au maximum" in html
    assert "Ceci est mon message." in html and "Camille Martin" in html  # nothing typed is lost
    assert ticket_count(app) == 0


def test_long_search_query_never_fails(client):
    response = client.get("/api/search", query_string={"q": "remboursement " * 800})  # ~11 KB
    assert response.status_code == 200
    assert isinstance(response.get_json()["results"], list)


@pytest.mark.parametrize("limit", ["0", "51", "-1", "abc", "1e3"])
def test_search_limit_out_of_range_is_a_french_422(client, limit):
    assert_french_json_error(client.get("/api/search", query_string={"q": "stage", "limit": limit}), 422)


# --- Malformed JSON → French 400 in JSON ------------------------------------------------------------------------

MALFORMED = [
    ("truncated", b'{"reason": "autre", "name": '),
    ("not-utf8", b'\xff\xfe{"reason": "autre"}'),
    ("single-quotes", b"{'reason': 'autre'}"),
    ("trailing-garbage", b'{"reason": "autre"} xyz'),
    ("nested-too-deep", b"[" * 30000 + b"]" * 30000),
]


@pytest.mark.parametrize("path", ["/api/tickets", "/api/triage/suggest"])
@pytest.mark.parametrize(("case", "raw"), MALFORMED, ids=[c for c, _r in MALFORMED])
def test_malformed_json_is_a_french_400(client, app, path, case, raw):
    data = assert_french_json_error(client.post(path, data=raw, content_type="application/json"), 400)
    assert data["error"] == "Le corps de la requête n’est pas un JSON valide."
    assert ticket_count(app) == 0


@pytest.mark.parametrize("path", ["/api/tickets", "/api/triage/suggest"])
def test_body_not_sent_as_json_is_a_french_415(client, path):
    response = client.post(path, data=json.dumps(VALID), content_type="text/plain")
    assert_french_json_error(response, 415)


@pytest.mark.parametrize("raw", [b"null", b"[]", b"42", b'"texte"'])
def test_json_that_is_not_an_object_is_a_french_422(client, app, raw):
    assert_french_json_error(client.post("/api/tickets", data=raw, content_type="application/json"), 422)
    assert ticket_count(app) == 0


# --- the console's numeric parameters are bounded (issue 12) -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/staff/tickets?assignee=" + "9" * 30, 400),
        ("/staff/tickets?assignee=²", 400),
        ("/staff/tickets?assignee=2147483648", 400),
        ("/staff/tickets?assignee=2147483647", 200),
        ("/staff/tickets?page=" + "9" * 30, 200),
        ("/staff/journal?page=" + "9" * 30, 200),
        ("/staff/journal?page=abc", 200),
    ],
)
def test_console_numbers_out_of_bounds_are_a_french_400_or_clamped(app, url, status):
    from staff_helpers import add_staff, login

    add_staff(app, "admin-limites@example.test", role="admin")
    client = app.test_client()
    login(client, "admin-limites@example.test")
    response = client.get(url)
    assert response.status_code == status
    if status == 400:
        assert "Paramètre numérique" in response.get_data(as_text=True) or "invalide" in response.get_data(as_text=True)
