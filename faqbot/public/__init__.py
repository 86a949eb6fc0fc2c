"""Visitor-facing pages and the search API; owns the loaded FAQ and the search service of the process.

`init_app` creates the process's search-log writer (`app.extensions["faqbot.searchlog"]`), loads the FAQ into `app.extensions["faqbot.faq"]` and puts one `SearchService` at
`app.extensions["faqbot.search"]`. The FAQ file is watched: when its content changes (curators edit it while the
site runs) the FAQ is reloaded and the index rebuilt, once for all workers thanks to the index's file lock.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flask import Flask

from ..content.overlay import load_served_faq, overlay_version
from ..index import SearchService
from . import searchlog
from .routes import bp

# How often a worker looks at the FAQ file's modification time (one stat call).
RELOAD_CHECK_SECONDS = 5.0


class ContentWatcher:
    """Reload the FAQ and its search service when the file changes."""

    def __init__(self, app: Flask):
        self.app = app
        self.path = Path(app.config["FAQ_PATH"])
        self.index_dir = Path(app.config["INDEX_DIR"])
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._stamp = None
        self._overlay_version = None
        self.load()

    def _file_stamp(self):
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _current_overlay_version(self):
        """The database overlay's version (proposals accepted in the console); None if it cannot be read."""
        database = self.app.extensions.get("faqbot.db")
        if database is None:
            return None
        try:
            with database.sessions() as session:
                return overlay_version(session)
        except Exception:  # no table yet (AUTO_MIGRATE off), database down: serve the file alone
            return None

    def load(self) -> None:
        stamp = self._file_stamp()
        database = self.app.extensions.get("faqbot.db")
        links = platform_links(self.app.config)
        self._overlay_version = self._current_overlay_version()
        if database is not None and self._overlay_version is not None:
            with database.sessions() as session:
                faq = load_served_faq(self.path, session, links)
        else:
            faq = load_served_faq(self.path, None, links)
        previous = self.app.extensions.get("faqbot.faq")
        if previous is not None and previous.digest == faq.digest:
            self._stamp = stamp
            return
        service = SearchService(faq, self.index_dir, popularity=searchlog.popularity_for(self.app))
        old_service = self.app.extensions.get("faqbot.search")
        self.app.extensions["faqbot.faq"] = faq
        self.app.extensions["faqbot.search"] = service
        self._stamp = stamp
        if old_service is not None:
            # Threads holding the old service finish their request with it; its files stay readable.
            self.app.logger.info("FAQ rechargée : %s entrées", len(faq.entries))

    def check(self, force: bool = False) -> None:
        now = time.monotonic()
        if now - self._checked_at < RELOAD_CHECK_SECONDS and not force:
            return
        with self._lock:
            if now - self._checked_at < RELOAD_CHECK_SECONDS and not force:
                return
            self._checked_at = now
            stamp = self._file_stamp()
            # An accepted proposal changes the overlay's version in the shared database: every worker of every
            # host sees it at its next check (one indexed SELECT every RELOAD_CHECK_SECONDS).
            if (stamp is not None and stamp != self._stamp) or self._current_overlay_version() != self._overlay_version:
                try:
                    self.load()
                except Exception:  # a half-saved or invalid file: keep serving the content we have
                    self.app.logger.exception("Rechargement de la FAQ impossible ; contenu précédent conservé")


def platform_links(config) -> dict[str, str]:
    """The platform URLs the FAQ's `{NAME}` link targets resolve to (settings with documented defaults)."""
    from ..content.model import PLATFORM_LINKS

    return {name: config.get(name) or default for name, default in PLATFORM_LINKS.items()}


def reload_content(app: Flask) -> None:
    """Reload the served FAQ now (after an accepted proposal: this worker need not wait for its next check)."""
    watcher = app.extensions.get("faqbot.content_watcher")
    if watcher is not None:
        with watcher._lock:
            watcher.load()


def init_app(app: Flask) -> None:
    # Search-log rows are buffered per process and written in batches (see SearchLogWriter); tests write at the
    # end of each request so they see their rows deterministically.
    flush_seconds = app.config.get("SEARCH_LOG_FLUSH_SECONDS")
    if flush_seconds is None:
        flush_seconds = 0.0 if app.config.get("TESTING") else 0.5
    writer = searchlog.SearchLogWriter(
        app.extensions["faqbot.db"], flush_seconds=float(flush_seconds), logger=app.logger,
        batch_rows=int(app.config.get("SEARCH_LOG_BATCH_ROWS", 200)),
    )
    app.extensions["faqbot.searchlog"] = writer
    if not writer.buffered:
        app.teardown_request(lambda _exc: writer.flush())
    watcher = ContentWatcher(app)
    app.extensions["faqbot.content_watcher"] = watcher
    if app.config.get("FAQ_WATCH", True):
        app.before_request(watcher.check)
    app.register_blueprint(bp)
    from .cli import index_group

    app.cli.add_command(index_group)
