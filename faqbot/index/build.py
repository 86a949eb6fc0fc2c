"""Building the search index of the FAQ, once per content version, safely across processes.

A build is the Whoosh index plus the tables every worker loads as they are (tables.py: postings with their scores,
passages, vocabulary, per-entry details): no worker re-analyses the FAQ.

Each build goes to its own folder named after the FAQ's content hash and the analyzer version, and is renamed
into place only when complete: readers never see a half-written index, and a process still serving the old
content keeps its old folder. A file lock makes concurrent gunicorn workers build it once.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema

from ..content import Faq
from . import analysis, tables

VOCABULARY_FILE = "vocabulary.json"
READY_FILE = "READY"
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


def entry_fields(faq: Faq, entry) -> dict[str, str]:
    """The text of each field for one entry (the category label counts as a tag)."""
    category = faq.category_by_id.get(entry.category)
    tags = list(entry.tags) + ([category.label] if category else [])
    return {
        "question": entry.question,
        "variants": "\n".join(entry.variants),
        "tags": "\n".join(tags),
        "answer": entry.answer_plain,
    }


def build_key(faq: Faq) -> str:
    """Folder name of the build: changes with the content and with the analyzer."""
    here = Path(__file__).parent
    source = b"".join((here / name).read_bytes() for name in ("analysis.py", "build.py", "tables.py"))
    code = hashlib.sha256(source + analysis.THESAURUS.digest.encode()).hexdigest()[:12]
    content = faq.digest or hashlib.sha256(repr(faq.entries).encode()).hexdigest()
    return f"{analysis.ANALYZER_VERSION}-{code}-{content[:16]}"


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_index(faq: Faq, index_dir: Path, force: bool = False) -> Path:
    """Return the folder of an index matching this FAQ, building it first if needed."""
    index_dir = Path(index_dir)
    target = index_dir / build_key(faq)
    if not force and (target / READY_FILE).exists():
        return target
    with _locked(index_dir):
        if not force and (target / READY_FILE).exists():  # another worker built it while we waited
            return target
        staging = index_dir / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            _write_index(faq, staging)
            (staging / READY_FILE).write_text(faq.digest)
            if target.exists():
                shutil.rmtree(target)
            os.rename(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        _remove_old_builds(index_dir, keep=target)
    return target


def _write_index(faq: Faq, folder: Path) -> None:
    ix = whoosh_index.create_in(str(folder), make_schema())
    writer = ix.writer()
    vocabulary: dict[str, list] = {}
    for entry in faq.entries:
        fields = entry_fields(faq, entry)
        writer.add_document(id=entry.id, **fields)
        _count_words(vocabulary, " ".join(fields.values()) + " " + entry.question)
    writer.commit()
    (folder / VOCABULARY_FILE).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    # Everything the service derives from this version, computed now rather than in every worker.
    tables.derive(faq, ix, vocabulary).save(folder)
    ix.close()


def _count_words(vocabulary: dict[str, list], text: str) -> None:
    """Unstemmed words for typo correction: folded form -> [a spelling with its accents, number of documents]."""
    seen = set()
    for original, folded in zip(analysis.surface_originals(text), analysis.surface_words(text)):
        if folded in seen or not folded.isalpha():
            continue
        seen.add(folded)
        slot = vocabulary.setdefault(folded, [original.lower(), 0])
        slot[1] += 1


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


def open_index(folder: Path):
    return whoosh_index.open_dir(str(folder))
