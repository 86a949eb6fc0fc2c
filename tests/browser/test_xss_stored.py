"""Stored XSS campaign: every payload of tests/xss_payloads.txt through every public field, then every staff view
opened in Chromium. A payload that ran would call alert(N), set window.__xss or request /__xss_beacon/N; markup
that merely got injected (an `on…` attribute, a `javascript:` URL, an inline <script>/<style>, an <iframe>…) is
found by auditing the DOM. Each view must also really show the payloads — as text — or the check proves nothing.

Public fields: the ticket API (name, e-mail where a payload can be an address, message, every free-text field of
seven reasons), the real contact form in Chromium (message of step 1, name, message, fields — including the form
coming back with an error), search queries (API and results page: the search log and analytics), and the staff
login e-mail (the audit log). Staff views: queues, ticket list pages and staff search, every ticket page, analytics
(20 queries per report, so in batches), the audit log, the CSV exports (read as text) and the e-mails sent.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import http.cookiejar
import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from browser_support import (
    add_staff, ascii_lower, load_payloads, login_staff, squash, start_live_server, visit, wait_until,
)
from faqbot.models import AuditEvent, SearchLog, Ticket

pytestmark = pytest.mark.browser

PAYLOADS = load_payloads()
ADMIN_EMAIL = "admin.xss@example.test"
ADMIN_PASSWORD = "Campagne-XSS-Admin-2026!"
REPORT_PATH = Path(__file__).resolve().parents[2] / "test-artifacts" / "xss_report.json"
# The search log keeps 200 characters and analytics shows 20 queries per list: batches of 20.
ANALYTICS_BATCH = 20
_EMAIL_OK = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")  # what the contact form accepts
PARIS = ZoneInfo("Europe/Paris")

# The reasons whose forms have free-text fields, in turn: every payload lands in a name, a message and fields.
ROTATION = [
    "inscription-impossible",
    "annulation-centre",
    "debit-sans-confirmation",
    "points-ants",
    "acces-refuse-jour-j",
    "remboursement-virement",
    "autre",
]


@dataclass
class Tally:
    """What the campaign measured, written to test-artifacts/xss_report.json."""

    payloads: int = len(PAYLOADS)
    stored: dict[str, int] = field(default_factory=dict)  # field -> payloads stored through it
    views: dict[str, dict] = field(default_factory=dict)  # view -> {"pages", "shown", "executions", "dialogs", …}
    refused: dict[str, int] = field(default_factory=dict)  # field -> payloads refused by validation (kept safe)

    def view(self, name: str) -> dict:
        return self.views.setdefault(
            name, {"pages": 0, "payloads_expected": 0, "payloads_shown": 0, "executions": 0, "dialogs": 0, "injected": 0, "csp_violations": 0, "seconds": 0.0}
        )

    def write(self) -> None:
        REPORT_PATH.parent.mkdir(exist_ok=True)
        REPORT_PATH.write_text(json.dumps(self.__dict__, indent=2, ensure_ascii=False), encoding="utf-8")


TALLY = Tally()


# --- HTTP without a browser, for volume --------------------------------------------------------------------------


class Http:
    """A tiny cookie-keeping HTTP client (urllib): JSON API calls and form posts with the CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, method: str, path: str, *, json_body=None, form=None, headers=None):
        data, all_headers = None, dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def csrf(self, path: str) -> str:
        status, body = self.request("GET", path)
        assert status == 200, (status, path)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', body)
        return match.group(1) or match.group(2)


def _value_for(field_def: dict, reason_id: str, payload: str, today: dt.date) -> str:
    kind, field_id = field_def["type"], field_def["id"]
    if kind == "text":
        return {"bic": "BNPAFRPPXXX"}.get(field_id, payload)
    if kind == "email":
        return "inscription@example.test"
    if kind == "tel":
        return "06 12 34 56 78"
    if kind == "number":
        return "229"
    if kind == "iban":
        return "FR76 3000 6000 0112 3456 7890 189"
    if kind == "datetime":
        return (dt.datetime.now(PARIS) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    if kind == "choice":
        return field_def["choices"][0]["value"]
    if kind == "date":
        offsets = {
            ("points-ants", "premier_jour_stage"): -20,
            ("points-ants", "second_jour_stage"): -19,
            ("acces-refuse-jour-j", "date_stage"): 0,
            ("annulation-centre", "date_stage"): 2,
        }
        return (today + dt.timedelta(days=offsets.get((reason_id, field_id), 20))).isoformat()
    raise AssertionError(f"unknown field type {kind}")


def _seed_tickets(http: Http) -> list[dict]:
    """One ticket per payload through POST /api/tickets: name, message, every text field, the e-mail if it can be."""
    status, body = http.request("GET", "/api/triage/reasons")
    assert status == 200
    reasons = {reason["id"]: reason for reason in json.loads(body)["reasons"]}
    today = dt.datetime.now(PARIS).date()
    seeded = []
    for number, payload in enumerate(PAYLOADS, start=1):
        reason = reasons[ROTATION[number % len(ROTATION)]]
        candidate_email = re.sub(r"\s+", "", payload)[:60] + "@example.test"
        email_carries = bool(_EMAIL_OK.match(candidate_email)) and "@" not in payload
        submission = {
            "reason": reason["id"],
            "name": payload,
            "email": candidate_email if email_carries else f"visiteur{number}@example.test",
            "message": f"Bonjour, {payload}",
            "confirmations": [c["id"] for c in reason["confirmations"]],
            "fields": {f["id"]: _value_for(f, reason["id"], payload, today) for f in reason["fields"]},
        }
        status, body = http.request("POST", "/api/tickets", json_body=submission)
        if status == 422:
            # A field that refuses the payload (a format, a length) gets a plain value; the refusal is counted.
            for error in json.loads(body)["errors"]:
                key = error.get("field")
                TALLY.refused[key] = TALLY.refused.get(key, 0) + 1
                if key in ("name", "message"):
                    submission[key] = "Texte neutre"
                elif key == "email":
                    submission["email"], email_carries = f"visiteur{number}@example.test", False
                elif key in submission["fields"]:
                    submission["fields"][key] = "Texte neutre"
            status, body = http.request("POST", "/api/tickets", json_body=submission)
        assert status == 201, (status, body, submission)
        carried = {"name": submission["name"] == payload, "message": payload in submission["message"]}
        if email_carries:
            carried["email"] = True
        for field_def in reason["fields"]:
            if field_def["type"] == "text" and submission["fields"][field_def["id"]] == payload:
                carried[f"{reason['id']}.{field_def['id']}"] = True
        for key, value in carried.items():
            if value:
                TALLY.stored[f"api:{key}"] = TALLY.stored.get(f"api:{key}", 0) + 1
        seeded.append({"ref": json.loads(body)["ref"], "number": number, "payload": payload, "carried": carried, "email": submission["email"]})
    return seeded


def _seed_login_attempts(http: Http) -> list[str]:
    """Payloads typed as a staff login e-mail: failed (then throttled) attempts are written to the audit log."""
    attempted = []
    for payload in PAYLOADS:
        candidate = re.sub(r"\s+", "", payload)
        if "@" in candidate or not candidate:
            continue
        address = candidate[:100] + "@example.test"
        token = http.csrf("/staff/login")
        http.request("POST", "/staff/login", form={"csrf_token": token, "email": address, "password": "mauvais-mot-de-passe"})
        attempted.append(address.strip().lower())
    TALLY.stored["staff-login:email"] = len(attempted)
    return attempted


@dataclass
class Campaign:
    server: object
    tickets: list[dict]
    login_emails: list[str]
    admin_state: dict


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, shared_index_dir, chromium):
    started = time.perf_counter()
    # The per-client ticket limit (10 per 15 min) would stop the campaign after ten tickets: lifted here only.
    server = start_live_server(
        tmp_path_factory.mktemp("xss"), shared_index_dir, CONTACT_RATE_LIMIT=1_000_000, SEARCH_LOG_FLUSH_SECONDS=0.1
    )
    add_staff(server, ADMIN_EMAIL, ADMIN_PASSWORD, role="admin", name="Admin Campagne")
    # Log the admin in before the login campaign exhausts this address's login attempts.
    context = chromium.new_context()
    page = context.new_page()
    login_staff(page, server, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_state = context.storage_state()
    context.close()
    http = Http(server.url)
    tickets = _seed_tickets(http)
    login_emails = _seed_login_attempts(http)
    TALLY.views["seeding"] = {"seconds": round(time.perf_counter() - started, 2), "tickets": len(tickets)}
    yield Campaign(server, tickets, login_emails, admin_state)
    TALLY.write()
    server.stop()


@pytest.fixture
def admin_page(campaign, browser_context):
    context, probe = browser_context(storage_state=campaign.admin_state, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.probe = probe
    return page


def _check_visit(name: str, page, url: str, expected: list[str], *, transform=squash) -> list[str]:
    """Visit, tally, and return the problems: anything that ran or got injected, payloads not shown as text."""
    stats = TALLY.view(name)
    started = time.perf_counter()
    seen = visit(page, url)
    stats["seconds"] = round(stats["seconds"] + time.perf_counter() - started, 3)
    stats["pages"] += 1
    dialogs = len(page.probe.dialogs)
    page.probe.dialogs.clear()
    stats["executions"] += len(seen.hits)
    stats["dialogs"] += dialogs
    stats["injected"] += len(seen.injected)
    stats["csp_violations"] += len(seen.violations)
    problems = []
    if seen.status != 200:
        problems.append(f"{url}: HTTP {seen.status}")
    if seen.hits or dialogs or seen.injected or seen.violations or page.probe.beacons:
        problems.append(f"{url}: ran {seen.hits}, dialogs {dialogs}, injected {seen.injected}, csp {seen.violations}, beacons {page.probe.beacons}")
        page.probe.beacons.clear()
    text = transform(seen.text)
    missing = [p for p in expected if transform(p) not in text]
    stats["payloads_expected"] += len(expected)
    stats["payloads_shown"] += len(expected) - len(missing)
    if missing:
        problems.append(f"{url}: {len(missing)} payload(s) not shown as text, e.g. {missing[:2]!r}")
    return problems


# --- Staff views ---------------------------------------------------------------------------------------------------


def test_every_ticket_page_shows_the_payloads_as_text_and_runs_nothing(campaign, admin_page):
    problems = []
    for ticket in campaign.tickets:
        expected = [ticket["payload"]] if any(ticket["carried"].values()) else []
        problems += _check_visit("staff ticket page", admin_page, f"{campaign.server.url}/staff/tickets/{ticket['ref']}", expected)
    assert problems == [], "\n".join(problems[:20])
    campaign.server.assert_no_server_errors()


def test_queues_ticket_lists_and_staff_search_run_nothing(campaign, admin_page):
    url = campaign.server.url
    problems = _check_visit("staff queues", admin_page, f"{url}/staff/", [])
    pages = -(-len(campaign.tickets) // 50)
    shown_names = []
    for number in range(1, pages + 1):
        problems += _check_visit("staff ticket list", admin_page, f"{url}/staff/tickets?status=tous&page={number}", [])
        shown_names.append(squash(admin_page.evaluate("document.querySelector('main').textContent")))
    listed = " ".join(shown_names)
    # The list shows each ticket's e-mail: the payloads that are valid addresses must be there, as text.
    addresses = [t["email"] for t in campaign.tickets]
    shown = sum(address in listed for address in addresses)
    stats = TALLY.view("staff ticket list")
    stats["payloads_expected"] = sum(bool(t["carried"].get("email")) for t in campaign.tickets)
    stats["payloads_shown"] = sum(t["email"] in listed for t in campaign.tickets if t["carried"].get("email"))
    assert shown == len(addresses) and stats["payloads_shown"] == stats["payloads_expected"] > 0
    # Staff search: the query comes back in the search box and the filters.
    for ticket in campaign.tickets[::10]:
        query = urllib.parse.quote(ticket["payload"])
        problems += _check_visit("staff ticket search", admin_page, f"{url}/staff/tickets?status=tous&q={query}", [])
        value = admin_page.locator("input[name='q']").input_value()
        if value != ticket["payload"].strip()[:254]:
            problems.append(f"staff search box shows {value!r} for {ticket['payload']!r}")
    assert problems == [], "\n".join(problems[:20])
    campaign.server.assert_no_server_errors()


def test_audit_log_shows_login_payloads_as_text(campaign, admin_page):
    url = campaign.server.url
    problems, text = [], ""
    for number in range(1, 6):
        problems += _check_visit("staff audit log", admin_page, f"{url}/staff/journal?page={number}", [])
        text += squash(admin_page.evaluate("document.querySelector('main').textContent"))
        if not admin_page.locator("a[href*='page=%d']" % (number + 1)).count():
            break
    shown = sum(squash(address[:120]) in text for address in campaign.login_emails)
    stats = TALLY.view("staff audit log")
    stats["payloads_expected"], stats["payloads_shown"] = len(campaign.login_emails), shown
    assert shown >= 0.9 * len(campaign.login_emails), (shown, len(campaign.login_emails))
    assert problems == [], "\n".join(problems[:20])


def test_analytics_and_csv_exports_show_search_payloads_as_inert_text(campaign, admin_page):
    """Searches go through the API (logged) and the results page, 20 at a time, then analytics and its CSVs."""
    server, url = campaign.server, campaign.server.url
    http = Http(url)
    problems = []
    for start in range(0, len(PAYLOADS), ANALYTICS_BATCH):
        batch = PAYLOADS[start : start + ANALYTICS_BATCH]
        with server.db.transaction() as session:
            session.execute(delete(SearchLog))
        for index, payload in enumerate(batch):
            if index % 4 == 0:  # some through the real results page (itself a view that echoes the query)
                problems += _check_visit(
                    "public search results", admin_page, f"{url}/recherche?q={urllib.parse.quote(payload)}", [payload[:200]]
                )
            else:
                status, _body = http.request("GET", "/api/search?q=" + urllib.parse.quote(payload))
                assert status == 200
        # The search log is buffered per worker and written in batches (SEARCH_LOG_FLUSH_SECONDS): wait for it.
        def logged_queries():
            with server.db.sessions() as session:
                return list(session.scalars(select(SearchLog.query)))

        wait_until(lambda: len(logged_queries()) >= len(batch), timeout=10)
        logged = logged_queries()
        assert len(logged) == len(batch), (len(logged), batch)
        TALLY.stored["search:query"] = TALLY.stored.get("search:query", 0) + len(logged)
        expected = sorted({ascii_lower(query.strip()) for query in logged})
        problems += _check_visit(
            "staff analytics", admin_page, f"{url}/staff/analytics", expected, transform=lambda s: squash(ascii_lower(s))
        )
        problems += _check_csv(admin_page, url, expected)
    assert problems == [], "\n".join(problems[:20])
    server.assert_no_server_errors()


def _check_csv(page, url: str, expected_queries: list[str]) -> list[str]:
    """Every export read as text: no cell a spreadsheet would run as a formula, the queries all there."""
    from faqbot.staff import analytics

    problems = []
    stats = TALLY.view("staff CSV exports")
    for dataset in analytics.DATASETS:
        response = page.request.get(f"{url}/staff/analytics/{dataset}.csv")
        stats["pages"] += 1
        if response.status != 200 or "text/csv" not in response.headers.get("content-type", ""):
            problems.append(f"{dataset}.csv: {response.status} {response.headers.get('content-type')}")
            continue
        rows = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff")), delimiter=";"))
        for row in rows[1:]:
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"-?\d+([.,]\d+)?", cell):
                    problems.append(f"{dataset}.csv: formula cell {cell!r}")
        if dataset in ("requetes", "requetes-sans-resultat"):
            cells = {row[0] for row in rows[1:] if row}
            if dataset == "requetes":
                # A query a spreadsheet would read as a formula is exported with an apostrophe in front.
                queries = ["'" + q if q.startswith(analytics.FORMULA_PREFIXES) else q for q in expected_queries]
                missing = [q for q in queries if q not in cells]
                stats["payloads_expected"] += len(queries)
                stats["payloads_shown"] += len(queries) - len(missing)
                if missing:
                    problems.append(f"{dataset}.csv misses {len(missing)} queries, e.g. {missing[:2]!r}")
    return problems


def test_escaping_alone_holds_with_the_csp_switched_off(campaign, browser_context):
    """The CSP is the second wall: with Chromium told to ignore it, escaping alone must still stop every payload."""
    context, probe = browser_context(storage_state=campaign.admin_state, bypass_csp=True)
    page = context.new_page()
    page.probe = probe
    url = campaign.server.url
    problems = []
    for ticket in campaign.tickets[::3]:
        problems += _check_visit("staff ticket page, CSP off", page, f"{url}/staff/tickets/{ticket['ref']}", [ticket["payload"]])
    problems += _check_visit("staff audit log, CSP off", page, f"{url}/staff/journal", [])
    problems += _check_visit("staff ticket list, CSP off", page, f"{url}/staff/tickets?status=tous", [])
    assert problems == [], "\n".join(problems[:20])


# --- Public views and the real form --------------------------------------------------------------------------------


FORM_PAYLOADS = [PAYLOADS[i] for i in (0, 12, 40, 75, 113, 150, 190, 230)]


@pytest.mark.parametrize("payload", FORM_PAYLOADS, ids=[f"p{PAYLOADS.index(p) + 1}" for p in FORM_PAYLOADS])
def test_contact_form_in_chromium_echoes_payloads_as_text_and_stores_them(campaign, page, admin_page, payload):
    """Step 1 message, then name/message/fields; an invalid e-mail brings the form back with everything typed."""
    url = campaign.server.url
    page.goto(f"{url}/contact")
    page.get_by_label("Décrivez votre problème en quelques mots").fill(payload)
    page.get_by_role("button", name="Trouver mon motif").click()
    page.wait_for_load_state("load")
    problems = _check_visit_current("public contact suggestion", page, [])
    # The message is carried on in hidden fields (an attribute context): intact, and inert.
    carried = [box.input_value() for box in page.locator("input[name='message']").all()]
    assert carried and all(value == payload.strip() for value in carried), carried

    page.goto(f"{url}/contact?reason=inscription-impossible")
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    for box in page.locator("input[type='checkbox']").all():
        box.check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Vos informations").wait_for()
    page.get_by_label("Nom et prénom").fill(payload)
    page.get_by_label("Adresse e-mail pour vous répondre").fill("pas-une-adresse")
    for field_id in ("appareil_navigateur", "erreur_affichee", "stage_souhaite"):
        page.locator(f"#f_{field_id}").fill(payload)
    page.locator("textarea[name='message']").fill(payload)
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.get_by_role("heading", name="Vos informations").wait_for()
    problems += _check_visit_current("public contact form with errors", page, [])
    assert page.get_by_label("Nom et prénom").input_value() == payload.strip()  # nothing typed is lost
    page.get_by_label("Adresse e-mail pour vous répondre").fill("formulaire@example.test")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/contact/merci/**")
    problems += _check_visit_current("public contact confirmation", page, [])
    ref = page.url.rsplit("/", 1)[-1]
    with campaign.server.db.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        assert ticket.name == payload.strip() and ticket.fields["erreur_affichee"] == payload.strip()
    TALLY.stored["form:name+message+3 fields"] = TALLY.stored.get("form:name+message+3 fields", 0) + 1
    problems += _check_visit("staff ticket page (from the form)", admin_page, f"{url}/staff/tickets/{ref}", [payload.strip()])
    assert problems == [], "\n".join(problems)


def _check_visit_current(name: str, page, expected: list[str]) -> list[str]:
    """Audit the page the browser is on (after a form post) without reloading it."""
    from browser_support import DOM_AUDIT_SCRIPT, SETTLE_SCRIPT, Probe

    stats = TALLY.view(name)
    page.evaluate(SETTLE_SCRIPT)
    hits, violations = Probe.page_hits(page)
    injected = page.evaluate(DOM_AUDIT_SCRIPT)
    dialogs = len(page.probe.dialogs)
    stats["pages"] += 1
    stats["executions"] += len(hits)
    stats["dialogs"] += dialogs
    stats["injected"] += len(injected)
    stats["csp_violations"] += len(violations)
    text = squash(page.evaluate("document.documentElement.textContent"))
    missing = [p for p in expected if squash(p) not in text]
    stats["payloads_expected"] += len(expected)
    stats["payloads_shown"] += len(expected) - len(missing)
    problems = []
    if hits or dialogs or injected or violations or page.probe.beacons:
        problems.append(f"{page.url}: ran {hits}, dialogs {dialogs}, injected {injected}, csp {violations}")
    if missing:
        problems.append(f"{page.url}: not shown as text: {missing!r}")
    return problems


# --- E-mails -------------------------------------------------------------------------------------------------------


def test_emails_are_plain_text_with_one_recipient(campaign):
    """The acknowledgments (the e-mail "preview" of what visitors get) carry visitor text only as plain text."""
    # Line breaks in the name and message must not become headers (Bcc injection).
    status, body = Http(campaign.server.url).request(
        "POST", "/api/tickets",
        json_body={"reason": "autre", "name": "Jean\r\nBcc: intrus@example.test", "email": "jean@example.test",
                   "message": "Bonjour\r\nBcc: intrus@example.test\r\n\r\n<b>gras</b>", "confirmations": ["aucune-reponse-faq"]},
    )
    assert status in (201, 422), body
    mails = sorted(campaign.server.outbox.glob("*.eml"))
    assert len(mails) >= len(campaign.tickets)
    for path in mails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert [part.get_content_type() for part in message.walk()] == ["text/plain"], path
        assert len(message.get_all("To")) == 1 and message.get_all("Bcc") is None and message.get_all("Cc") is None
        assert "intrus@example.test" not in str(message["To"]) + str(message["Subject"])
    TALLY.view("e-mails (outbox)").update(pages=len(mails))


def test_no_payload_ran_anywhere(campaign):
    """The campaign's totals: executions and dialogs over every view."""
    executions = sum(v.get("executions", 0) for v in TALLY.views.values())
    dialogs = sum(v.get("dialogs", 0) for v in TALLY.views.values())
    injected = sum(v.get("injected", 0) for v in TALLY.views.values())
    TALLY.write()
    assert len(PAYLOADS) >= 200
    assert (executions, dialogs, injected) == (0, 0, 0)
    with campaign.server.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) >= len(campaign.tickets)
        assert session.scalar(select(func.count()).select_from(AuditEvent)) > 0
