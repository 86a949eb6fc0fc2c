"""Building the search index of the FAQ, once per content version, safely across processes.

A build is the tables every worker loads as they are (tables.py: postings with their scores, passages, vocabulary,
per-entry details) and the parsed FAQ itself (`faq.pickle`, saved by the first process that parsed the YAML: the
next ones unpickle it instead). Each text is analysed once, by the same Whoosh analyzer chain the queries go
through; the BM25F scores are Whoosh's own formula. A Whoosh index of the same fields is written only when
something asks for it (`reference_index`: the tests and benchmarks that check the tables against Whoosh's own
scoring), never on the serving path.

Each build goes to its own folder named after the FAQ's content hash and the analyzer version, and is renamed
into place only when complete: readers never see a half-written index, and a process still serving the old
content keeps its old folder. A file lock makes concurrent gunicorn workers build it once.
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import pickle
import shutil
import time
import uuid
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path
from typing import Iterator, Mapping

from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema

from ..content import Faq
from . import analysis, tables

READY_FILE = "READY"
FAQ_FILE = "faq.pickle"
VARIANTS_FILE = "variants.pickle"
FAQ_PICKLE_VERSION = 2
# A worker's copy of the FAQ keeps this many variants per entry (`related()` reads them); the full lists — 65 MB of
# Python strings in a worker at 100× today's FAQ — stay in VARIANTS_FILE, read only when something needs them.
KEPT_VARIANTS = 3
WHOOSH_DIR = "whoosh"
# Old builds are removed once this old, so a worker still on the previous content can finish its requests.
KEEP_OLD_SECONDS = 3600


def make_schema() -> Schema:
    analyzer = analysis.ANALYZER
    return Schema(
        id=ID(stored=True, unique=True),
        question=TEXT(analyzer=analyzer, phrase=False),
        variants=TEXT(analyzer=analyzer, phrase=False),
        tags=TEXT(analyzer=analyzer, phrase=False),
        answer=TEXT(analyzer=analyzer, phrase=False),
    )


def build_key(faq: Faq) -> str:
    """Folder name of the build: changes with the content and with the analyzer."""
    return build_key_for(faq.digest or hashlib.sha256(repr(faq.entries).encode()).hexdigest())


@lru_cache(maxsize=None)
def _code_hash() -> str:
    here = Path(__file__).parent
    source = b"".join((here / name).read_bytes() for name in ("analysis.py", "build.py", "tables.py"))
    return hashlib.sha256(source + analysis.THESAURUS.digest.encode()).hexdigest()[:12]


def build_key_for(digest: str) -> str:
    """Folder name of the build of a FAQ of this content digest."""
    return f"{analysis.ANALYZER_VERSION}-{_code_hash()}-{digest[:16]}"


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _publish(target: Path, digest: str, write) -> None:
    """Write a folder beside `target` with `write(staging)`, mark it ready, then rename it into place (a reader
    sees the old folder or the complete new one, never a half-written one); a failed write leaves nothing behind."""
    staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        write(staging)
        (staging / READY_FILE).write_text(digest)
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def ensure_index(faq: Faq, index_dir: Path, force: bool = False) -> Path:
    """Return the folder of an index matching this FAQ, building it first if needed."""
    index_dir = Path(index_dir)
    target = index_dir / build_key(faq)
    if not force and (target / READY_FILE).exists():
        return target
    with _locked(index_dir):
        if not force and (target / READY_FILE).exists():  # another worker built it while we waited
            return target
        _publish(target, faq.digest, lambda staging: _write_index(faq, staging))
        _remove_old_builds(index_dir, keep=target)
    return target


def _write_index(faq: Faq, folder: Path) -> None:
    # Everything the service derives from this version, computed now rather than in every worker.
    tables.derive(faq).save(folder)


def save_faq(faq: Faq, folder: Path, links: Mapping[str, str] | None = None) -> None:
    """The parsed FAQ next to its tables: a worker unpickles it in a fraction of the YAML's parse time and memory.

    Light: each entry keeps its first KEPT_VARIANTS variants, the full lists go to VARIANTS_FILE (written first, so
    a FAQ file never points at variants that are not there yet)."""
    def light(entry):  # without the properties cached by the build (answer_plain…): loaded on demand
        return dataclasses.replace(entry, variants=entry.variants[:KEPT_VARIANTS])

    variants = {entry.id: faq.variants_of(entry, strict=True) for entry in faq.all_entries}
    clean = dataclasses.replace(
        faq, entries=tuple(light(e) for e in faq.entries), hidden=tuple(light(e) for e in faq.hidden),
        variants_loader=None,
    )
    for name, value in ((VARIANTS_FILE, variants),
                        (FAQ_FILE, (FAQ_PICKLE_VERSION, _parser_hash(), dict(links or {}), clean))):
        temporary = folder / f".{name}.{uuid.uuid4().hex}"
        with open(temporary, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / name)


def load_saved_faq(index_dir: Path, digest: str, links: Mapping[str, str] | None = None) -> Faq | None:
    """The FAQ of this content digest as a build saved it, or None (no build yet, other links, other format)."""
    path = Path(index_dir) / build_key_for(digest) / FAQ_FILE
    try:
        with open(path, "rb") as handle:
            version, parser, saved_links, faq = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None
    if (version != FAQ_PICKLE_VERSION or parser != _parser_hash() or saved_links != dict(links or {})
            or not isinstance(faq, Faq) or faq.digest != digest or not (path.parent / VARIANTS_FILE).exists()):
        return None
    return dataclasses.replace(faq, variants_loader=partial(_read_variants, path.parent / VARIANTS_FILE))


def _read_variants(path: Path) -> dict[str, tuple[str, ...]] | None:
    """The full variant lists a light FAQ left in its build folder; None once that build is gone."""
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError):
        return None


@lru_cache(maxsize=None)
def _parser_hash() -> str:
    """The code that turns the YAML into a Faq: a saved FAQ parsed by other code is parsed again."""
    content = Path(__file__).parent.parent / "content"
    source = b"".join((content / name).read_bytes() for name in ("model.py", "overlay.py"))
    return hashlib.sha256(source).hexdigest()[:16]


def reference_index(faq: Faq, folder: Path):
    """A Whoosh index of the build's fields (written on first use, in the build folder): the reference the tables'
    scores are checked against (tests, benchmarks). Serving never opens it."""
    target = Path(folder) / WHOOSH_DIR
    if not (target / READY_FILE).exists():
        with _locked(Path(folder).parent):
            if not (target / READY_FILE).exists():
                def write(staging: Path) -> None:
                    ix = whoosh_index.create_in(str(staging), make_schema())
                    writer = ix.writer()
                    for entry in faq.entries:
                        writer.add_document(id=entry.id, **tables.entry_fields(faq, entry))  # all its variants
                    writer.commit()
                    ix.close()

                _publish(target, faq.digest, write)
    return whoosh_index.open_dir(str(target))


def _remove_old_builds(index_dir: Path, keep: Path) -> None:
    now = time.time()
    for child in index_dir.iterdir():
        if child == keep or not child.is_dir():
            continue
        try:
            if now - child.stat().st_mtime > KEEP_OLD_SECONDS:
                shutil.rmtree(child, ignore_errors=True)
        except FileNotFoundError:
            pass


