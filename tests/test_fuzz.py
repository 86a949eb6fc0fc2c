"""Hostile input against the JSON API with hypothesis: arbitrary text, arbitrary JSON shapes, wrong types.

Whatever comes in, the answer is a French JSON error or a valid result: never a 5xx, never an unhandled exception
(the app logs "Erreur non gérée" for those — the log is checked too). The ≥ 20,000-request run is
bench/fuzz_api.py; this suite keeps to about a minute.
"""
from __future__ import annotations

import json
import logging
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from faqbot.models import Ticket
from faqbot.triage.reasons import REASONS

FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

REASON_IDS = [reason.id for reason in REASONS]
FIELD_IDS = sorted({field.id for reason in REASONS for field in reason.fields})
CONFIRMATION_IDS = sorted({c.id for reason in REASONS for c in reason.confirmations})

# Everything JSON can carry, nested a little.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Text that tends to break parsers and templates: quotes, operators, control characters, emoji, markup.
hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(list('"\'*?:()[]{}^~+-!&|/\\<>%_\x00\t\n\u2019😀é')), max_size=60),
    st.sampled_from(["AND", "OR NOT", "title:*", "*", "?", '"', "\x00", "<script>alert(1)</script>", "' OR 1=1 --"]),
)


@pytest.fixture
def fuzz_app(make_app, request):
    """One app for all examples of a test (hypothesis reuses it): contact limit raised so fuzzing is not throttled."""
    backend = getattr(request, "param", "sqlite")
    return make_app(backend, CONTACT_RATE_LIMIT=10**9, LOGIN_RATE_LIMIT=10**9, LOGIN_ADDRESS_RATE_LIMIT=10**9)


class UnhandledErrors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def unhandled(fuzz_app):
    handler = UnhandledErrors()
    fuzz_app.logger.addHandler(handler)
    yield handler
    fuzz_app.logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records[:3]]


def assert_sane(response, allowed=(200, 201, 400, 413, 415, 422)):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code in allowed, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert isinstance(data, dict)
    if response.status_code >= 400:
        assert data.get("error") or data.get("errors"), data
    return data


@FUZZ_SETTINGS
@given(q=hostile_text, limit=st.one_of(st.none(), st.integers(-5, 500).map(str), st.text(max_size=6)))
def test_search_any_query(fuzz_app, unhandled, q, limit):
    client = fuzz_app.test_client()
    query = {"q": q} if limit is None else {"q": q, "limit": limit}
    data = assert_sane(client.get("/api/search", query_string=query))
    if "results" in data:
        assert isinstance(data["results"], list)
        for result in data["results"]:
            assert {"id", "question", "answer", "category", "score", "url"} <= set(result)


@FUZZ_SETTINGS
@given(params=st.dictionaries(st.text(string.ascii_letters, max_size=8), st.text(max_size=20), max_size=3))
def test_reasons_ignore_any_parameters(fuzz_app, unhandled, params):
    data = assert_sane(fuzz_app.test_client().get("/api/triage/reasons", query_string=params), allowed=(200,))
    assert [reason["id"] for reason in data["reasons"]] == REASON_IDS


@FUZZ_SETTINGS
@given(body=st.one_of(json_values, st.fixed_dictionaries({"message": hostile_text}),
                      st.fixed_dictionaries({"message": json_values})))
def test_suggest_any_body(fuzz_app, unhandled, body):
    response = fuzz_app.test_client().post("/api/triage/suggest", json=body)
    data = assert_sane(response, allowed=(200, 400, 415, 422))
    if response.status_code == 200:
        assert data["reason"] is None or data["reason"] in REASON_IDS
        assert isinstance(data["faq"], list)


@FUZZ_SETTINGS
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_suggest_and_tickets_any_bytes(fuzz_app, unhandled, raw, content_type):
    client = fuzz_app.test_client()
    headers = {"Content-Type": content_type} if content_type else {}
    for path in ("/api/triage/suggest", "/api/tickets"):
        assert_sane(client.post(path, data=raw, headers=headers), allowed=(200, 201, 400, 415, 422))


def ticket_bodies():
    """Submissions shaped like the contract but with any value in any place."""
    field_value = st.one_of(hostile_text, json_values)
    return st.fixed_dictionaries(
        {
            "reason": st.one_of(st.sampled_from(REASON_IDS), json_values),
            "name": st.one_of(hostile_text, json_values),
            "email": st.one_of(st.emails(), hostile_text, json_values),
            "message": st.one_of(hostile_text, json_values),
        },
        optional={
            "confirmations": st.one_of(st.lists(st.sampled_from(CONFIRMATION_IDS) | hostile_text, max_size=6), json_values),
            "fields": st.one_of(st.dictionaries(st.sampled_from(FIELD_IDS) | st.text(max_size=10), field_value, max_size=8),
                                json_values),
            "faq_seen": json_values,
        },
    )


@FUZZ_SETTINGS
# Found by this test: a list as the reason crashed the lookup (unhashable) with a 500.
@example(body={"reason": ["autre"], "name": "A", "email": "a@example.test", "message": "m"}, key=None)
@example(body={"reason": {"id": "autre"}, "name": "A", "email": "a@example.test", "message": "m"}, key=None)
# Found by this test: "faq_seen": true (or a number) crashed with a 500.
@example(body={"reason": "autre", "name": "A", "email": "a@example.test", "message": "m", "faq_seen": True}, key=None)
@example(body={"reason": "autre", "name": "A", "email": "a@example.test", "message": "m", "faq_seen": 7}, key=None)
@given(body=st.one_of(ticket_bodies(), json_values),
       key=st.one_of(st.none(), st.text(string.printable, max_size=100)))
def test_tickets_any_submission(fuzz_app, unhandled, body, key):
    client = fuzz_app.test_client()
    headers = {}
    if key is not None:
        headers["Idempotency-Key"] = key.replace("\n", "").replace("\r", "")
    response = client.post("/api/tickets", data=json.dumps(body), headers=headers, content_type="application/json")
    data = assert_sane(response, allowed=(200, 201, 400, 409, 422))
    if response.status_code in (200, 201):
        with fuzz_app.extensions["faqbot.db"].sessions() as session:
            ticket = session.query(Ticket).filter_by(ref=data["ref"]).one()
            assert ticket.reason in REASON_IDS


def valid_tickets_with_hostile_text():
    """Submissions that pass the rules, carrying hostile free text: they exercise storage, redaction and e-mail."""
    return st.fixed_dictionaries(
        {
            "reason": st.just("points-ants"),
            "name": st.text(min_size=1, max_size=200).filter(str.strip),
            "email": st.emails().filter(lambda e: len(e) <= 254),
            "message": hostile_text,
            "fields": st.fixed_dictionaries({
                "numero_demande": st.text(min_size=1, max_size=60).filter(str.strip),
                "premier_jour_stage": st.just("2026-01-05"),
                "second_jour_stage": st.just("2026-01-06"),
            }),
        }
    )


@FUZZ_SETTINGS
@given(body=valid_tickets_with_hostile_text())
def test_valid_tickets_with_hostile_text_are_stored_or_refused_cleanly(fuzz_app, unhandled, body):
    response = fuzz_app.test_client().post("/api/tickets", json=body)
    data = assert_sane(response, allowed=(201, 422))
    if response.status_code == 201:
        with fuzz_app.extensions["faqbot.db"].sessions() as session:
            assert session.query(Ticket).filter_by(ref=data["ref"]).one().reason == "points-ants"


# --- the staff console's query parameters (issue 12: 500s on ?assignee=, ?page=, ?next=) ----------------------

STAFF_PAGES = ["/staff/tickets", "/staff/journal", "/staff/analytics", "/staff/", "/staff/donnees-personnelles"]
STAFF_PARAMS = ["assignee", "page", "status", "queue", "reason", "q", "jours", "canned", "next"]
# What breaks number parsing and headers: huge numbers, Unicode digits, signs, exponents, control characters.
hostile_numbers = st.one_of(
    st.integers(-10**40, 10**40).map(str),
    st.sampled_from(["²", "٣", "①", "1e3", "0x10", " 1", "1 ", "+1", "-0", "NaN", "inf", "9" * 400, "1\r\n2", "moi", "personne", ""]),
    st.text(max_size=30),
)


@pytest.fixture
def staff_fuzz_client(fuzz_app):
    from staff_helpers import add_staff, login

    add_staff(fuzz_app, "fuzz-admin@example.test", role="admin")
    client = fuzz_app.test_client()
    assert login(client, "fuzz-admin@example.test").status_code == 302
    return client


@FUZZ_SETTINGS
@given(path=st.sampled_from(STAFF_PAGES), params=st.dictionaries(st.sampled_from(STAFF_PARAMS), hostile_numbers, max_size=4))
def test_staff_console_any_query_parameters(fuzz_app, unhandled, staff_fuzz_client, path, params):
    response = staff_fuzz_client.get(path, query_string=params)
    assert response.status_code in (200, 400), (path, params, response.status_code)
    if response.status_code == 400:
        assert "invalide" in response.get_data(as_text=True) or "limites" in response.get_data(as_text=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], database=None)
@given(target=st.one_of(st.text(max_size=40), st.sampled_from(["/staff%0d%0aX", "/staff/\r\nSet-Cookie: a=1", "//evil.example", "/staff\\\\x"])))
def test_login_next_any_value_redirects_inside_the_console(fuzz_app, unhandled, target):
    from urllib.parse import urlsplit

    from staff_helpers import PASSWORD, add_staff, token

    with fuzz_app.extensions["faqbot.db"].sessions() as session:
        from faqbot.staff import accounts

        exists = accounts.find_by_email(session, "fuzz-next@example.test") is not None
    if not exists:
        add_staff(fuzz_app, "fuzz-next@example.test")
    client = fuzz_app.test_client()
    csrf = token(client)
    response = client.post("/staff/login", query_string={"next": target}, data={"csrf_token": csrf, "email": "fuzz-next@example.test", "password": PASSWORD})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost") and location.path.startswith("/staff")
    assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]
