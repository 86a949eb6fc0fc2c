"""Helpers for the real-browser tests: a live server, a probe that catches any script a payload runs, payloads."""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from faqbot import create_app

CHROMIUM_PATH = "/usr/bin/chromium"
# No sandbox (containers), no GPU, and nothing that phones home: the only traffic is to the app on loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAYLOADS_PATH = Path(__file__).resolve().parent.parent / "xss_payloads.txt"
BEACON = "/__xss_beacon/"


def load_payloads() -> list[str]:
    """The payloads of tests/xss_payloads.txt, each numbered: alert(N) becomes alert(<its number>)."""
    payloads: list[str] = []
    for line in PAYLOADS_PATH.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        number = len(payloads) + 1
        payloads.append(re.sub(r"(?<![A-Za-z0-9])N(?![A-Za-z0-9])", str(number), line))
    return payloads


class _QuietHandler(WSGIRequestHandler):
    """Write the access log to the instance's logs/ folder (it is part of what the secrets sweep greps)."""

    def log(self, type, message, *args):  # noqa: A002 — werkzeug's signature
        self.server.access_log.write(f"{self.address_string()} [{type}] {message % args}\n")
        self.server.access_log.flush()


class _ErrorCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))


@dataclass
class LiveServer:
    app: object
    instance: Path
    url: str = ""
    errors: _ErrorCollector = field(default_factory=_ErrorCollector)
    _server: object = None
    _thread: threading.Thread | None = None

    @property
    def db(self):
        return self.app.extensions["faqbot.db"]

    @property
    def outbox(self) -> Path:
        return Path(self.app.config["OUTBOX_DIR"])

    def start(self) -> "LiveServer":
        logs = self.instance / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(logs / "faqbot.log", encoding="utf-8")
        file_handler.setLevel(logging.INFO)
        self.app.logger.addHandler(file_handler)
        self.app.logger.addHandler(self.errors)
        self.app.logger.setLevel(logging.INFO)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler)
        self._server.access_log = open(logs / "access.log", "a", encoding="utf-8")
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.access_log.close()
            self._server = None
        for handler in list(self.app.logger.handlers):
            if isinstance(handler, (logging.FileHandler, _ErrorCollector)):
                self.app.logger.removeHandler(handler)
                handler.close()
        self.db.dispose()

    def assert_no_server_errors(self) -> None:
        assert self.errors.records == [], "\n".join(self.errors.records)


def start_live_server(instance: Path, index_dir: Path, **config) -> LiveServer:
    """Create the app as production would (not TESTING) on a fresh SQLite database, and serve it on loopback."""
    settings = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'faqbot.sqlite3'}",
        "INDEX_DIR": str(index_dir),
        "OUTBOX_DIR": str(instance / "outbox"),
        "SMTP_HOST": "",
    }
    settings.update(config)
    app = create_app(settings)
    return LiveServer(app=app, instance=instance).start()


# Installed in every frame before any page script: records alert/confirm/prompt/print, writes to window.__xss
# and Content-Security-Policy violations, so that a payload that ran — or markup that got injected and was only
# stopped by the CSP — is seen. (Init scripts are injected by the browser itself, so the CSP does not block them.)
PROBE_SCRIPT = r"""
(() => {
  const hits = [];
  const violations = [];
  Object.defineProperty(window, '__xssHits', {value: hits});
  Object.defineProperty(window, '__cspViolations', {value: violations});
  Object.defineProperty(window, '__xss', {
    configurable: false,
    get() { return undefined; },
    set(value) { hits.push('__xss=' + value); },
  });
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    const original = window[name];
    window[name] = function (...args) { hits.push(name + '(' + args.join(',') + ')'); return original.apply(this, args); };
  }
  document.addEventListener('securitypolicyviolation', (event) => {
    violations.push(event.violatedDirective + ' ' + event.blockedURI + ' ' + (event.sample || ''));
  });
})();
"""


class Probe:
    """Everything suspicious a browser context saw: dialogs, canary hits, beacon requests, CSP violations, 5xx."""

    def __init__(self, context):
        self.dialogs: list[str] = []
        self.beacons: list[str] = []
        self.server_errors: list[str] = []
        self.page_errors: list[str] = []
        context.add_init_script(PROBE_SCRIPT)
        context.on("page", self._watch_page)
        context.on("request", self._on_request)
        context.on("response", self._on_response)

    def _watch_page(self, page):
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def _on_dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message} @ {dialog.page.url if dialog.page else '?'}")
        dialog.dismiss()

    def _on_request(self, request):
        from urllib.parse import urlsplit

        if urlsplit(request.url).path.startswith(BEACON):
            self.beacons.append(request.url)

    def _on_response(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    @staticmethod
    def page_hits(page) -> tuple[list[str], list[str]]:
        """Canary hits and CSP violations recorded in every frame of the page."""
        hits: list[str] = []
        violations: list[str] = []
        for frame in page.frames:
            try:
                frame_hits, frame_violations = frame.evaluate("[window.__xssHits || [], window.__cspViolations || []]")
            except Exception:  # a frame that navigated away or was detached has nothing left to read
                continue
            hits += [f"{frame.url}: {hit}" for hit in frame_hits]
            violations += [f"{frame.url}: {v}" for v in frame_violations]
        return hits, violations


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05):
    """Poll until predicate() is truthy (for effects that land on the server after a browser action)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --- Seeding -------------------------------------------------------------------------------------------------


def add_staff(live: LiveServer, email: str, password: str, role: str = "agent", name: str = "") -> None:
    """Create a staff account the way the README says: `faqbot staff add EMAIL --role …` (password prompted)."""
    runner = live.app.test_cli_runner()
    args = ["staff", "add", email, "--role", role] + (["--name", name] if name else [])
    result = runner.invoke(args=args, input=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output


def store_ticket_directly(live: LiveServer, reason_id: str, data: dict, *, now=None) -> str:
    """Validate and store a submission through the triage rules (no HTTP): for tests whose subject is elsewhere."""
    from faqbot.db import utcnow
    from faqbot.triage import create_ticket, validate

    now = now or utcnow()
    result = validate(reason_id, data, now)
    assert result.ok, [problem.code for problem in result.problems]
    with live.db.transaction() as session:
        created = create_ticket(session, result.submission, now=now, iban_key=live.app.config["IBAN_KEY"])
        return created.ticket.ref


def login_staff(page, live: LiveServer, email: str, password: str) -> None:
    """Log in through the real form (the page lands where /staff/ sends a fresh session)."""
    page.goto(live.url + "/staff/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/staff/login" not in url)


# --- Visiting a page and auditing it --------------------------------------------------------------------------

# Markup no page of the app ever contains: if it is in the DOM, a visitor's text became markup (escaping failed),
# whether or not it got to run. Checked in every frame after load.
DOM_AUDIT_SCRIPT = r"""
() => {
  const found = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster', 'dynsrc', 'lowsrc', 'srcset'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      const value = attr.value.toLowerCase().replace(/[\s\u0000-\u001f]/g, '');
      if (name.startsWith('on')) found.push(`<${tag} ${name}>`);
      if (name === 'style') found.push(`<${tag} style>`);
      if (name === 'srcdoc') found.push(`<${tag} srcdoc>`);
      if (urlAttributes.includes(name) && /^(javascript|vbscript|data:text\/html)/.test(value)) found.push(`<${tag} ${name}=${value.slice(0, 40)}>`);
      if (urlAttributes.includes(name) && value.includes('__xss_beacon')) found.push(`<${tag} ${name}=beacon>`);
    }
    if (tag === 'script' && !el.getAttribute('src')) found.push('<script> inline');
    if (tag === 'style') found.push('<style> element');
    if (['iframe', 'object', 'embed', 'base', 'frameset', 'frame', 'portal', 'applet', 'math'].includes(tag)) found.push(`<${tag}>`);
    if (tag === 'meta' && el.getAttribute('http-equiv')) found.push('<meta http-equiv>');
    if (tag === 'template' && el.closest('main')) found.push('<template> in main');
  }
  return found;
}
"""

SETTLE_SCRIPT = "() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))"


@dataclass
class Visit:
    url: str
    status: int | None
    text: str
    hits: list[str]
    violations: list[str]
    injected: list[str]


def visit(page, url: str) -> Visit:
    """Open a page, let autofocus/onerror/timers fire, and report what ran or got injected."""
    response = page.goto(url, wait_until="load")
    page.evaluate(SETTLE_SCRIPT)
    hits, violations = Probe.page_hits(page)
    injected: list[str] = []
    for frame in page.frames:
        try:
            injected += frame.evaluate(DOM_AUDIT_SCRIPT)
        except Exception:
            continue
    text = page.evaluate("document.documentElement.textContent")
    return Visit(url, response.status if response else None, text, hits, violations, injected)


def squash(text: str) -> str:
    """Whitespace-insensitive form, for checking that a payload is shown as text."""
    return " ".join(text.split())


def ascii_lower(text: str) -> str:
    """SQLite's lower(): ASCII letters only."""
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))
