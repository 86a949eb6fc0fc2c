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

from conftest import BACKENDS, POSTGRES_URL, _postgres_schema_url  # noqa: E402

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
    # Each attempt comes from its own loopback address: only the per-account limit (5 per 15 min) can stop them.
    clients = [Client(server) for _ in range(CONCURRENT)]
    attempts = [login_attempt(client, client.form_token("/staff/login"), email) for client in clients]
    statuses = [status for status, _h, _body in fire_together(attempts)]
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == CONCURRENT - 5, statuses
    # Later, from yet another address and another spoofed header: still refused, in French, with Retry-After.
    late = Client(server)
    status, headers, html = login_attempt(late, late.form_token("/staff/login"), email)()
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert "Trop de tentatives de connexion" in html


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
