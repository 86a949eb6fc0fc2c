"""Abuse limits hold for the whole server, not per worker, and a spoofed X-Forwarded-For does not reset them.

A real gunicorn with 4 workers runs on a free loopback port with a temporary instance folder (and on PostgreSQL
too when FAQBOT_TEST_POSTGRES_URL is set). Attempts are fired concurrently, so several workers serve them: with a
per-process counter, 4 × the limit would get through. Each test speaks from its own loopback source address
(127.0.0.x all reach the server), so the tests do not share a client address and stay independent.
"""
from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import harness  # noqa: E402

from backends import BACKENDS, POSTGRES_URL, postgres_schema_url as _postgres_schema_url  # noqa: E402

CONTACT_LIMIT = 5
CONCURRENT = 16


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    database_url = None
    schema = None
    if request.param == "postgresql":
        schema = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
        database_url = _postgres_schema_url(schema)
    instance = tmp_path_factory.mktemp(f"abuse-{request.param}")
    try:
        with harness.gunicorn(
            instance, workers=4, database_url=database_url, CONTACT_RATE_LIMIT=str(CONTACT_LIMIT),
            CONTACT_MIN_FILL_SECONDS="0",  # these raw posts carry no "form shown at" token: the limit is the subject
            CONTACT_RATE_WINDOW="600",
        ) as running:
            yield running
    finally:
        if schema:
            engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            engine.dispose()


class Client:
    """A browser-like client on its own loopback source address, keeping its cookies."""

    _next = iter(range(10, 250))

    def __init__(self, server, source: str | None = None):
        self.server = server
        self.source = source or f"127.0.0.{next(Client._next)}"
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60,
                                                source_address=(self.source, 0))
        try:
            all_headers = dict(headers or {})
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie_name, cookie_value = value.split(";", 1)[0].split("=", 1)
                    self.cookies[cookie_name] = cookie_value
            return response.status, dict(response.getheaders()), raw.decode("utf-8", errors="replace")
        finally:
            connection.close()

    def form_token(self, path: str) -> str:
        status, _headers, html = self.request("GET", path)
        assert status == 200, html[:300]
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', html
        )
        assert match, "no CSRF token in the form"
        return match.group(1)


def spoofed_headers() -> dict[str, str]:
    """What an attacker sends to look like a new client each time."""
    fake = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    return {"X-Forwarded-For": fake, "X-Real-IP": fake, "Forwarded": f"for={fake}"}


def fire_together(attempts):
    """Run the callables at the same instant (a barrier), so several workers serve them concurrently."""
    barrier = threading.Barrier(len(attempts))
    results = [None] * len(attempts)

    def run(index, attempt):
        barrier.wait(timeout=60)
        results[index] = attempt()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_server_runs_four_workers(server):
    assert len(server.worker_pids()) == 4


def login_attempt(client: Client, token: str, email: str):
    body = urlencode({"csrf_token": token, "email": email, "password": "pas-le-bon-mot-de-passe"})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **spoofed_headers()}
    return lambda: client.request("POST", "/staff/login", body, headers)


def test_staff_login_account_limit_holds_across_workers_and_spoofing(server):
    email = f"cible-{uuid.uuid4().hex[:6]}@example.test"
    # One guesser, one address, each attempt with its own spoofed X-Forwarded-For, served by four workers at once:
    # the per-account-and-address limit (5 per 15 min) lets exactly five through.
    guesser = Client(server)
    tokens = [guesser.form_token("/staff/login") for _ in range(CONCURRENT)]
    statuses = [status for status, _h, _body in fire_together([login_attempt(guesser, token, email) for token in tokens])]
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == CONCURRENT - 5, statuses
    # Later, from the same address and another spoofed header: still refused, in French, with Retry-After.
    status, headers, html = login_attempt(guesser, guesser.form_token("/staff/login"), email)()
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert "Trop de tentatives de connexion" in html
    # The account is not locked for everyone: from another address (its owner's), the form still answers.
    owner = Client(server)
    status, _headers, html = login_attempt(owner, owner.form_token("/staff/login"), email)()
    assert status == 200 and "Adresse e-mail ou mot de passe incorrect" in html


def test_staff_login_address_limit_holds_across_workers_and_spoofing(server):
    client = Client(server)
    tokens = [client.form_token("/staff/login") for _ in range(1)]
    # 40 different accounts from one address, each with a fresh spoofed X-Forwarded-For: 30 get through, not 40
    # (and not 4 × 30 as a per-worker counter would allow).
    attempts = [login_attempt(client, tokens[0], f"compte{n}-{uuid.uuid4().hex[:4]}@example.test") for n in range(40)]
    results = []
    for start in range(0, len(attempts), 10):  # ten at a time: concurrent, without exhausting the 4 workers' backlog
        results += fire_together(attempts[start:start + 10])
    statuses = [status for status, _h, _body in results]
    assert statuses.count(200) == 30, statuses
    assert statuses.count(429) == 10, statuses


# --- Public ticket submissions: the API and the form share one budget per client address --------------------

def ticket_body(n: int) -> dict:
    return {
        "reason": "points-ants",
        "name": f"Visiteur {n}",
        "email": f"visiteur{n}@example.test",
        "message": "Ma réattribution de points a été rejetée.",
        "fields": {"numero_demande": f"ANTS-{n}", "premier_jour_stage": "2026-01-05", "second_jour_stage": "2026-01-06"},
    }


def form_data(n: int, token: str | None = None) -> dict:
    data = {
        "name": f"Visiteur {n}",
        "email": f"visiteur{n}@example.test",
        "message": f"Texte tapé par le visiteur {n}",
        "f_numero_demande": f"ANTS-{n}",
        "f_premier_jour_stage": "2026-01-05",
        "f_second_jour_stage": "2026-01-06",
        "idempotency_key": f"form-{uuid.uuid4().hex}",
    }
    if token:
        data["csrf_token"] = token
    return data


def api_attempt(client: Client, n: int):
    body = json.dumps(ticket_body(n))
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"abuse-{uuid.uuid4().hex}", **spoofed_headers()}
    return lambda: client.request("POST", "/api/tickets", body, headers)


def test_contact_limit_holds_across_workers_and_spoofing(server):
    client = Client(server)
    results = fire_together([api_attempt(client, n) for n in range(CONCURRENT)])
    statuses = [status for status, _h, _body in results]
    others = [(status, body[:300]) for status, _h, body in results if status not in (201, 429)]
    assert statuses.count(201) == CONTACT_LIMIT, statuses
    assert not others, others
    assert statuses.count(429) == CONCURRENT - CONTACT_LIMIT, statuses
    refused = next(json.loads(body) for status, _h, body in results if status == 429)
    assert refused["error"].startswith("Trop de demandes envoyées depuis cette connexion")
    # The HTML form from the same address shares the budget: refused too, with what was typed kept.
    token = client.form_token("/contact")
    status, headers, html = client.request(
        "POST", "/contact/points-ants/envoyer", urlencode(form_data(99, token)),
        {"Content-Type": "application/x-www-form-urlencoded", **spoofed_headers()},
    )
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert "Trop de demandes envoyées depuis cette connexion" in html
    assert "Texte tapé par le visiteur 99" in html and "ANTS-99" in html
    # Someone else is not affected.
    status, _headers, _body = api_attempt(Client(server), 100)()
    assert status == 201


# --- In-process: the client address comes from the socket unless TRUSTED_PROXIES says otherwise -------------

def post_ticket(client, n, remote, forwarded=None):
    headers = {"Idempotency-Key": f"proxy-{uuid.uuid4().hex}"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return client.post("/api/tickets", json=ticket_body(n), headers=headers,
                       environ_base={"REMOTE_ADDR": remote}).status_code


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    client = make_app("sqlite", CONTACT_RATE_LIMIT=1, TRUSTED_PROXIES=0).test_client()
    assert post_ticket(client, 1, "192.0.2.10", "198.51.100.1") == 201
    assert post_ticket(client, 2, "192.0.2.10", "198.51.100.2") == 429  # a new fake header changes nothing
    assert post_ticket(client, 3, "192.0.2.11") == 201  # another real client is fine


def test_forwarded_for_is_honoured_for_the_configured_proxy_hops(make_app):
    client = make_app("sqlite", CONTACT_RATE_LIMIT=1, TRUSTED_PROXIES=1).test_client()
    proxy = "10.0.0.2"
    assert post_ticket(client, 1, proxy, "198.51.100.1") == 201
    assert post_ticket(client, 2, proxy, "198.51.100.1") == 429
    # A client that prepends its own fake hop: the proxy appended the real address last, and that one counts.
    assert post_ticket(client, 3, proxy, "203.0.113.9, 198.51.100.1") == 429
    assert post_ticket(client, 4, proxy, "198.51.100.2") == 201


def test_contact_form_refusal_keeps_what_was_typed(make_app):
    app = make_app("sqlite", CONTACT_RATE_LIMIT=2, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/contact/points-ants/envoyer", data=form_data(1)).status_code == 303
    assert client.post("/contact/points-ants/envoyer", data=form_data(2)).status_code == 303
    response = client.post("/contact/points-ants/envoyer", data=form_data(3))
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Trop de demandes envoyées depuis cette connexion" in html
    assert "Texte tapé par le visiteur 3" in html and "ANTS-3" in html and "visiteur3@example.test" in html
    with app.extensions["faqbot.db"].sessions() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM ticket")) == 2
