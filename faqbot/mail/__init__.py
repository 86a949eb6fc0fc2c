"""E-mail in and out: the outbox and its sender, the words of each message, and the IMAP reader of replies.

- `outbox.py`: rows written in the transaction of their event; `deliver_pending` sends what is due.
- `compose.py`: the French text of each message, built at send time with a fresh follow-up link.
- `transport.py`: SMTP, or .eml files in OUTBOX_DIR when SMTP_HOST is empty.
- `inbound.py` / `imap.py`: `faqbot mail fetch` threads replies into their tickets.

MAIL_DELIVERY says who runs the sender: `thread` (a background thread in each web worker, woken after each
commit that queued mail — it then gathers the burst for GATHER_SECONDS and sends it as one batch — and every
MAIL_SEND_INTERVAL seconds for retries, a read when nothing is due), `inline` (right after the commit,
in the request's thread: the default under TESTING so tests see their mail at once), `process` (one sender
process for the whole server, started by gunicorn.conf.py: the default under gunicorn, see process.py), or `cron`
(only `faqbot mail send`, e.g. from a timer).
"""
from __future__ import annotations

import logging
import os
import threading
import time

from .transport import build_message, send_email  # noqa: F401  (public API)

log = logging.getLogger(__name__)

# After a wake-up the sender waits this long before its round, so the tickets of a burst go out in one batch
# (three write transactions per batch instead of three per e-mail); an acknowledgment leaves at most this late.
GATHER_SECONDS = 0.2
# Rows per round; a full round is followed by another at once.
BATCH = 50


def deliver_pending(app, limit: int = BATCH):
    """Send every due outbox row now (in this thread); returns the outbox Report."""
    from ..db import utcnow
    from . import outbox, transport
    from .compose import compose

    with app.app_context():
        return outbox.deliver_due(
            app.extensions["faqbot.db"],
            compose,
            lambda message: transport.deliver(app.config, message),
            utcnow,
            limit=limit,
        )


class _Sender:
    """One background sender per worker process, started on first use (gunicorn forks after the factory)."""

    def __init__(self, app):
        self.app = app
        self.wake = threading.Event()
        self.pid: int | None = None
        self.lock = threading.Lock()

    def ensure_started(self) -> None:
        if self.pid == os.getpid():  # the common case, on every request: no lock
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            threading.Thread(target=self._run, name="faqbot-mail-sender", daemon=True).start()

    def _run(self) -> None:
        interval = float(self.app.config.get("MAIL_SEND_INTERVAL") or 30)
        while True:
            if self.wake.wait(interval):
                time.sleep(GATHER_SECONDS)
            self.wake.clear()
            try:
                while True:  # an idle round is one read: no write lock taken while there is nothing to send
                    report = deliver_pending(self.app)
                    if len(report.sent) + len(report.retried) + len(report.failed) < BATCH:
                        break
            except Exception:  # a broken database connection must not kill the thread: next round retries
                log.exception("outbox sender round failed")


def notify_sender(app) -> None:
    """Call after committing a transaction that queued mail."""
    mode = app.config.get("MAIL_DELIVERY") or ("inline" if app.testing else "thread")
    if mode == "inline":
        try:
            deliver_pending(app)
        except Exception:  # the request already succeeded: the row stays queued for the next round
            log.exception("inline outbox delivery failed")
    elif mode == "thread":  # `process` and `cron`: the sender looks by itself
        sender = app.extensions.get("faqbot.mail.sender")
        if sender is not None:
            sender.ensure_started()
            sender.wake.set()


def init_app(app) -> None:
    """Register `faqbot mail …` and, in thread mode, the sender that starts with the first request of a worker."""
    from .cli import mail_group

    app.cli.add_command(mail_group)
    mode = app.config.get("MAIL_DELIVERY") or ("inline" if app.testing else "thread")
    if mode == "thread":
        sender = _Sender(app)
        app.extensions["faqbot.mail.sender"] = sender

        @app.before_request
        def _start_sender():
            sender.ensure_started()
