"""The one owner of the process's knowledge: the FAQ, the thesaurus and the search service built on them.

Public pages, the contact form and the staff console ask this module, never `app.extensions`:

    from faqbot import knowledge
    knowledge.faq()        # the loaded Faq (content.Faq)
    knowledge.search()     # the SearchService of that FAQ
    knowledge.thesaurus()  # the domain thesaurus (content.thesaurus.Thesaurus)

The served FAQ is data/faq.yaml with the database overlay of accepted console proposals applied
(`content.overlay`). Both are watched (one stat call and one indexed SELECT every RELOAD_CHECK_SECONDS, from a
request hook), so every worker of every host picks up an accepted proposal: when either changes,
a background thread loads it, builds its index (once for all workers: the build holds a file lock and renames a
complete folder into place) and swaps the new snapshot in with one assignment. Requests keep being answered from
the previous snapshot meanwhile: no request ever waits for a rebuild. A file that does not load (half-saved,
invalid) is logged and the previous content kept. `faqbot index build` builds ahead of time, so workers start on a
ready index.
"""
from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from flask import Flask, current_app

from .content import Faq
from .content.model import PLATFORM_LINKS
from .content.overlay import load_served_faq, overlay_version
from .content.thesaurus import Thesaurus
from .index import SearchService
from .index.build import load_saved_faq, save_faq
from .index import analysis

# How often a worker looks at the FAQ file's modification time (one stat call).
RELOAD_CHECK_SECONDS = 5.0
_EXTENSION = "faqbot.knowledge"  # the module's own slot; read only through the functions below


@dataclass(frozen=True)
class Snapshot:
    """One consistent version of the knowledge: never mutated, replaced as a whole."""

    faq: Faq
    search: SearchService
    thesaurus: Thesaurus


class KnowledgeStore:
    """Holds the current snapshot and replaces it when the FAQ file changes."""

    def __init__(self, faq_path: str | Path, index_dir: str | Path, logger=None, database=None,
                 links: Mapping[str, str] | None = None):
        self.path = Path(faq_path)
        self.index_dir = Path(index_dir)
        self.logger = logger
        self.database = database  # faqbot.db.Database: the overlay of accepted proposals lives there
        self.links = dict(links or {})
        self.popularity: Callable[[], Mapping[str, float]] | None = None  # set by the public area (search log)
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()  # just loaded: the first look is one period away
        self._stamp = self._file_stamp()
        self._overlay_version = self._current_overlay_version()
        self._reloading: threading.Thread | None = None
        self._parsed_from_build = False  # whether the last _read_faq came from the build's saved copy
        self.current: Snapshot = self._load(self._read_faq())

    def _popularity(self) -> Mapping[str, float]:
        return self.popularity() if self.popularity is not None else {}

    def _load(self, faq: Faq) -> Snapshot:
        service = SearchService(faq, self.index_dir, popularity=self._popularity)
        if not self._parsed_from_build:  # the next worker (and the next start) unpickles this instead of the YAML
            try:
                save_faq(faq, service.folder, self.links)
            except OSError:  # a read-only index folder only costs the next worker the YAML parse
                pass
        return Snapshot(faq=faq, search=service, thesaurus=analysis.THESAURUS)

    def _saved_faq(self, digest: str) -> Faq | None:
        faq = load_saved_faq(self.index_dir, digest, self.links)
        self._parsed_from_build = faq is not None
        return faq

    def _current_overlay_version(self) -> int | None:
        """The overlay's version in the shared database; None when it cannot be read (no table yet, database down)."""
        if self.database is None:
            return None
        try:
            with self.database.sessions() as session:
                return overlay_version(session)
        except Exception:  # serve the file alone rather than fail
            return None

    def _read_faq(self) -> Faq:
        """data/faq.yaml with the accepted overlay applied (the file alone when the overlay cannot be read)."""
        self._parsed_from_build = False
        if self.database is not None and self._overlay_version is not None:
            with self.database.sessions() as session:
                return load_served_faq(self.path, session, self.links, saved=self._saved_faq)
        return load_served_faq(self.path, None, self.links, saved=self._saved_faq)

    def _file_stamp(self):
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def check(self, force: bool = False) -> None:
        """Start a background reload when the file or the overlay changed (at most one look every
        RELOAD_CHECK_SECONDS); `force` looks now and waits for the reload (tests, the CLI)."""
        now = time.monotonic()
        if now - self._checked_at < RELOAD_CHECK_SECONDS and not force:
            return
        with self._lock:
            if now - self._checked_at < RELOAD_CHECK_SECONDS and not force:
                return
            self._checked_at = now
            if self._reloading and self._reloading.is_alive():
                return
            stamp = self._file_stamp()
            version = self._current_overlay_version()
            if (stamp is None or stamp == self._stamp) and version == self._overlay_version:
                return
            self._stamp = stamp
            self._overlay_version = version
            self._reloading = threading.Thread(target=self.reload, name="faqbot-knowledge-reload", daemon=True)
            self._reloading.start()
        if force:
            self.wait()

    def reload(self) -> bool:
        """Load the file and swap it in if its content changed; False (previous content kept) when it fails."""
        try:
            self._overlay_version = self._current_overlay_version()
            faq = self._read_faq()
            if faq.digest == self.current.faq.digest:
                return True
            snapshot = self._load(faq)
        except Exception:  # a half-saved or invalid file: keep serving the content we have
            if self.logger is not None:
                self.logger.exception("Rechargement de la FAQ impossible ; contenu précédent conservé")
            return False
        self.current = snapshot  # one assignment: a request sees the old snapshot or the new one, never a mix
        if self.logger is not None:
            self.logger.info("FAQ rechargée : %s entrées", len(faq.entries))
        return True

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for a reload in progress (tests, the CLI)."""
        thread = self._reloading
        if thread is not None:
            thread.join(timeout)


def init_app(app: Flask) -> None:
    """Load the knowledge once for this app (building the index if needed) and watch the FAQ file."""
    store = KnowledgeStore(
        app.config["FAQ_PATH"], app.config["INDEX_DIR"], logger=app.logger,
        database=app.extensions.get("faqbot.db"), links=platform_links(app.config),
    )
    app.extensions[_EXTENSION] = store
    # The knowledge loaded at start lives as long as the worker: out of the cyclic collector's scans, which would
    # otherwise walk its objects at every full collection (requests allocate enough to trigger them: at 100× a
    # pause of tens of ms); preloaded workers also keep its pages shared, since the collector no longer writes to
    # them. Garbage already there is collected first, so nothing unreachable is frozen with it.
    gc.collect()
    gc.freeze()
    if app.config.get("FAQ_WATCH", True):
        app.before_request(store.check)


def platform_links(config: Mapping) -> dict[str, str]:
    """The platform URLs the FAQ's `{NAME}` link targets resolve to (settings with documented defaults)."""
    return {name: config.get(name) or default for name, default in PLATFORM_LINKS.items()}


def reload_now(app: Flask | None = None) -> bool:
    """Reload the served FAQ in this worker now (after an accepted proposal); the others follow at their next check."""
    return store(app).reload()


def store(app: Flask | None = None) -> KnowledgeStore:
    return (app or current_app).extensions[_EXTENSION]


def snapshot(app: Flask | None = None) -> Snapshot:
    """The current knowledge; hold on to it for the whole of a request that needs several parts of it."""
    return store(app).current


def faq(app: Flask | None = None) -> Faq:
    return store(app).current.faq


def search(app: Flask | None = None) -> SearchService:
    return store(app).current.search


def thesaurus(app: Flask | None = None) -> Thesaurus:
    return store(app).current.thesaurus
