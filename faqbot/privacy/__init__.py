"""Privacy (RGPD): retention purge, a person's export and erasure — CLI, admin console and automatic purge.

The rules live in `privacy/core.py` (no Flask); this module wires them: `faqbot privacy purge|export|erase`, the
admin page /staff/donnees-personnelles, and the purge that runs by itself every RETENTION_AUTO_PURGE_HOURS.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import threading
import time
from pathlib import Path

from .core import PERSONAL_DATA, Context, PersonalData, audit, erase_person, export_person, purge, register, summary

__all__ = ["PERSONAL_DATA", "PersonalData", "register", "run_purge", "run_export", "run_erase", "init_app"]


def _after_erasure(database) -> None:
    """SQLite keeps old page images in its WAL until a checkpoint: write them back and empty the WAL now."""
    if database.engine.dialect.name == "sqlite":
        raw = database.engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()


def run_purge(app, now: dt.datetime, actor_id: int | None = None) -> dict[str, int]:
    database = app.extensions["faqbot.db"]
    with database.transaction() as session:
        counts = purge(Context(session, now, app.config))
        audit(session, actor_id, "privacy_purge", summary(counts), now)
    _after_erasure(database)
    return counts


def run_export(app, email: str, now: dt.datetime, actor_id: int | None = None) -> dict:
    database = app.extensions["faqbot.db"]
    with database.transaction() as session:
        data = export_person(Context(session, now, app.config), email)
        refs = ", ".join(ticket["ref"] for ticket in data["tickets"]) or "aucun ticket"
        audit(session, actor_id, "privacy_export", refs, now)
    return data


def run_erase(app, email: str, now: dt.datetime, actor_id: int | None = None) -> dict[str, int]:
    database = app.extensions["faqbot.db"]
    with database.transaction() as session:
        context = Context(session, now, app.config)
        refs = [ticket["ref"] for ticket in export_person(context, email)["tickets"]]
        counts = erase_person(context, email)
        # The audit keeps that an erasure happened and which tickets it touched, never the address.
        audit(session, actor_id, "privacy_erase", f"{summary(counts)} ; tickets {', '.join(refs) or 'aucun'}", now)
    _after_erasure(database)
    return counts


def _automatic_purge(app):
    """Before a request, at most once per RETENTION_AUTO_PURGE_HOURS for all workers, start the purge in a thread."""
    hours = float(app.config.get("RETENTION_AUTO_PURGE_HOURS") or 0)
    if hours <= 0:
        return None
    stamp = Path(app.instance_path) / "privacy_purge.stamp"
    state = {"next_check": 0.0}

    def check() -> None:
        now = time.time()
        if now < state["next_check"]:
            return
        state["next_check"] = now + 60  # one look at the stamp a minute per worker
        if stamp.exists() and now - stamp.stat().st_mtime < hours * 3600:
            return
        threading.Thread(target=_purge_once, args=(app, stamp, hours), daemon=True).start()

    return check


def _purge_once(app, stamp: Path, hours: float) -> None:
    with open(stamp.with_suffix(".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another worker is purging: nothing to do
        except BlockingIOError:
            return
        if stamp.exists() and time.time() - stamp.stat().st_mtime < hours * 3600:
            return
        try:
            from ..db import utcnow

            counts = run_purge(app, utcnow())
            app.logger.info("Purge de rétention : %s", summary(counts))
        except Exception:  # retried at the next interval; the site keeps serving
            app.logger.exception("Purge de rétention impossible")
            return
        stamp.touch()


def init_app(app) -> None:
    from . import cli, routes

    app.cli.add_command(cli.privacy_group)
    app.register_blueprint(routes.bp)
    check = _automatic_purge(app)
    if check is not None:
        app.before_request(check)
