"""The outbox sender as a process of its own (MAIL_DELIVERY=process), next to the web workers rather than in them.

A sender thread inside each sync worker competed with that worker's requests for the interpreter (building an
e-mail costs about as much CPU as storing the ticket), and a request holding the database's write lock waited for
the thread to give the interpreter back: tickets were slow for every worker. Here one process, started by
gunicorn's master (gunicorn.conf.py) with a lower CPU priority, delivers the outbox for the whole server: a burst
of tickets is answered first and its e-mails follow within a second or so. It looks for due rows every
POLL_SECONDS with a read (no write lock while nothing is due) and leaves when the master is gone.

`faqbot mail send --watch` runs the same loop by hand (or under systemd) when gunicorn.conf.py is not used.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # an acknowledgment leaves at most this long after its ticket (plus the sending itself)
NICE = 10  # the web workers come first when the CPU is short; the mail catches up in the quieter moments

_process: subprocess.Popen | None = None
# `faqbot mail send --watch`, run by the app's own command line (which builds the app): this module stays a part of
# the mail package and never imports the factory above it.
SENDER_COMMAND = [sys.executable, "-m", "faqbot.cli", "mail", "send", "--watch", "--parent-pid"]


def adopt_default() -> None:
    """Under gunicorn, an unset MAIL_DELIVERY means `process` (workers inherit the master's environment)."""
    if not os.environ.get("MAIL_DELIVERY"):
        os.environ["MAIL_DELIVERY"] = "process"


def start(server) -> None:
    """gunicorn `when_ready`: start the sender next to faqbot's workers (not next to another WSGI app)."""
    global _process
    app_uri = getattr(getattr(server, "app", None), "app_uri", "") or ""
    if os.environ.get("MAIL_DELIVERY") != "process" or not app_uri.startswith("faqbot"):
        return
    _process = subprocess.Popen(SENDER_COMMAND + [str(os.getpid())], preexec_fn=lambda: os.nice(NICE))


def stop(_server=None) -> None:
    """gunicorn `on_exit`: stop the sender (it would also leave by itself once the master is gone)."""
    global _process
    if _process is not None and _process.poll() is None:
        _process.terminate()
        try:
            _process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _process.kill()
    _process = None


def run_forever(app, *, parent_pid: int | None = None, poll_seconds: float = POLL_SECONDS) -> None:
    """Deliver what is due, then look again every `poll_seconds`; return when `parent_pid` is no longer the parent."""
    from . import BATCH, deliver_pending

    while parent_pid is None or os.getppid() == parent_pid:
        try:
            while True:  # a full batch is followed by the next at once
                report = deliver_pending(app)
                if len(report.sent) + len(report.retried) + len(report.failed) < BATCH:
                    break
        except Exception:  # a database restart must not stop the mail: the next look retries
            log.exception("outbox sender round failed")
        time.sleep(poll_seconds)
