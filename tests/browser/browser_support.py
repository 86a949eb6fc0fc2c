"""Helpers for the real-browser tests: a live server, a probe that catches any script a payload runs, payloads."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PAYLOADS_PATH = PROJECT_ROOT / "tests" / "xss_payloads.txt"
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


# gunicorn's default access-log line holds the query string and the Referer: whatever a visitor typed into the
# search box (a card number, say) would be written to disk. Path, status, size and duration are enough to operate.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'


@dataclass
class LiveServer:
    """The app served by gunicorn (a process of its own, as in production) on a free loopback port.

    `app` is an in-process twin on the same instance folder and database, for seeding and for reading what the
    server stored; it never serves. Logs (gunicorn's access and error logs, with the app's own output) go to
    `instance/logs/`, which the secrets sweep greps.
    """

    app: object
    instance: Path
    url: str = ""
    process: subprocess.Popen | None = None

    @property
    def db(self):
        return self.app.extensions["faqbot.db"]

    @property
    def outbox(self) -> Path:
        return Path(self.app.config["OUTBOX_DIR"])

    @property
    def logs(self) -> Path:
        return self.instance / "logs"

    def start(self, env: dict[str, str], workers: int = 2) -> "LiveServer":
        self.logs.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "2",
            "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2", "--timeout", "60",
            "--access-logfile", str(self.logs / "access.log"), "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", str(self.logs / "server.log"),
            "--capture-output", "faqbot:create_app()",
        ]
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.server_log()}")
            time.sleep(0.1)

    def server_log(self) -> str:
        path = self.logs / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.db.dispose()

    def assert_no_server_errors(self) -> None:
        """Nothing the app logged as an error and no traceback in the server's log."""
        bad = [line for line in self.server_log().splitlines() if "Traceback" in line or "[ERROR]" in line or "Erreur non gérée" in line]
        assert bad == [], self.server_log()[-5000:]


def start_live_server(instance: Path, index_dir: Path, **config) -> LiveServer:
    """Serve the app as production would (gunicorn, not TESTING) on a fresh SQLite database in `instance`.

    `config` overrides go to both processes; only settings read from the environment can be given.
    """
    settings = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'faqbot.sqlite3'}",
        "INDEX_DIR": str(index_dir),
        "OUTBOX_DIR": str(instance / "outbox"),
        "SMTP_HOST": "",
        # Chromium fills a form in well under the time a person needs: the spam delay is tested on its own.
        "CONTACT_MIN_FILL_SECONDS": 0,
        # One browser is one client address: the campaigns search and vote far faster than a person, and the
        # per-client logging limits are tested on their own (tests/test_redteam.py).
        "SEARCH_LOG_RATE_LIMIT": 10**6,
        "VOTE_RATE_LIMIT": 10**6,
    }
    settings.update(config)
    # The twin is created first: it migrates the database and builds the index before any worker starts.
    app = create_app(settings)
    env = {key: str(value) for key, value in settings.items() if key != "INSTANCE_PATH"}
    env["FAQBOT_INSTANCE_PATH"] = str(instance)
    return LiveServer(app=app, instance=instance).start(env)


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


def wait_for_mail(live: LiveServer, predicate, timeout: float = 15.0) -> list:
    """The outbox's e-mails (parsed) that match `predicate`, waiting for the server's sender thread to write them."""
    import email
    import email.policy

    deadline = time.monotonic() + timeout
    while True:
        found = [
            message
            for message in (email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(live.outbox.glob("*.eml")))
            if predicate(message)
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


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


_COLLECT_SCRIPT = (
    "async () => { await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));"
    " return [window.__xssHits || [], window.__cspViolations || [], (" + DOM_AUDIT_SCRIPT + ")(),"
    " document.documentElement.textContent]; }"
)


def visit(page, url: str) -> Visit:
    """Open a page, let autofocus/onerror/timers fire, and report what ran or got injected (one round trip)."""
    response = page.goto(url, wait_until="load")
    hits, violations, injected, text = page.evaluate(_COLLECT_SCRIPT)
    for frame in page.frames[1:]:  # a payload's iframe would be a frame of its own
        try:
            frame_hits, frame_violations, frame_injected, _text = frame.evaluate(_COLLECT_SCRIPT)
        except Exception:
            continue
        hits, violations, injected = hits + frame_hits, violations + frame_violations, injected + frame_injected
    return Visit(url, response.status if response else None, text, hits, violations, injected)


def squash(text: str) -> str:
    """Whitespace-insensitive form, for checking that a payload is shown as text."""
    return " ".join(text.split())


def ascii_lower(text: str) -> str:
    """SQLite's lower(): ASCII letters only."""
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))
