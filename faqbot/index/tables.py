"""Everything search derives from one FAQ version, computed once at index build time and stored with the index.

A worker used to re-analyse the whole FAQ when it started (2.7 s at 218 entries, 130 s at 21,800). Now the build
writes `tables.pickle` next to the Whoosh files, in the same staging folder that is renamed into place when
complete, and every worker loads it in milliseconds:

- entry postings: for each analysed term, the entries holding it (sorted by entry number) with the term's BM25F
  contribution summed over the fields with their weights — exactly what Whoosh's BM25F gives (a test checks it);
- passage postings: the same for each sentence of the answers, with BM25 over sentences, so a fact stated in one
  sentence of a long answer is found and shown as the excerpt;
- the correction vocabulary and the terms the index knows;
- per entry, a small pickled record (its phrasings as weighted words, its question's and sentences' spans) read only
  for the entries a query returns.

Posting lists are flat numpy arrays addressed by (start, end) slices: compact, loaded without building millions of
Python objects, and summed in C at query time.
"""
from __future__ import annotations

import dataclasses
import math
import pickle
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from whoosh import scoring

from ..content import Faq
from . import analysis

# Fields and the order of their weight: the question and its variants say what an entry is about, tags
# summarise it, the answer is long and mentions many things in passing.
FIELDS = ("question", "variants", "tags", "answer")

TABLES_FILE = "tables.pickle"
TABLES_VERSION = 4
# Stored as .npy next to the pickle and memory-mapped on load.
ARRAYS = ("post_docs", "post_scores", "passage_docs", "passage_scores", "first_passage")

# Field weights (question and variants above tags above answer), tuned on the development set.
FIELD_BOOSTS = {"question": 3.0, "variants": 2.2, "tags": 1.6, "answer": 1.0}
# BM25F length normalisation per field: short fields (question, tags) barely need it.
FIELD_B = {"question_B": 0.5, "variants_B": 0.6, "tags_B": 0.3, "answer_B": 0.75}
BM25_B = 0.75
BM25_K1 = 1.2
# Passages (answer sentences) are scored with plain BM25 over sentences.
PASSAGE_B = 0.5


@dataclass(frozen=True)
class EntryDetail:
    """What the ranking and the excerpt need of one returned entry."""

    # Each phrasing of the question (question, variants) as words: a word is said by the query when its term or one of
    # its concepts is. term -> the (phrasing, word) pairs it satisfies; weights[phrasing][word] = the word's idf;
    # masses[phrasing] = the phrasing's total idf.
    units_of_term: dict[str, tuple[tuple[int, int], ...]]
    weights: tuple[tuple[float, ...], ...]
    masses: tuple[float, ...]
    question_spans: tuple[tuple[str, int, int], ...]
    sentences: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...]  # (text, (term, start, end)…)


@dataclass
class SearchTables:
    version: int
    doc_ids: list[str]
    term_slices: dict[str, tuple[int, int]]
    post_docs: np.ndarray  # int32 entry numbers, sorted within each term
    post_scores: np.ndarray  # float64 weighted BM25F contributions
    passage_slices: dict[str, tuple[int, int]]
    passage_docs: np.ndarray  # int32 passage numbers
    passage_scores: np.ndarray  # float64 BM25 of the term in the passage
    first_passage: np.ndarray  # int32: entry i's passages are first_passage[i] .. first_passage[i+1]-1
    passage_count: int
    vocabulary: dict[str, tuple[str, int]]
    known_terms: frozenset[str]
    details: list[bytes]  # pickled EntryDetail per entry number

    @property
    def entry_count(self) -> int:
        return len(self.doc_ids)

    def document_frequency(self, term: str) -> int:
        span = self.term_slices.get(term)
        return span[1] - span[0] if span else 0

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        span = self.term_slices.get(term)
        if span is None:
            return None
        return self.post_docs[span[0]: span[1]], self.post_scores[span[0]: span[1]]

    def passage_postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        span = self.passage_slices.get(term)
        if span is None:
            return None
        return self.passage_docs[span[0]: span[1]], self.passage_scores[span[0]: span[1]]

    def holds(self, term: str, docnums: np.ndarray) -> np.ndarray:
        """For each entry number, whether the entry holds the term (in any field)."""
        span = self.term_slices.get(term)
        if span is None or not len(docnums):
            return np.zeros(len(docnums), dtype=bool)
        docs = self.post_docs[span[0]: span[1]]
        where = np.searchsorted(docs, docnums)
        where[where >= len(docs)] = len(docs) - 1
        return docs[where] == docnums

    def detail(self, docnum: int) -> EntryDetail:
        return _decode_detail(self.details[docnum])

    def save(self, folder: Path) -> None:
        """The arrays as .npy files (memory-mapped by every worker: the OS shares their pages), the rest pickled."""
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        rest = dataclasses.replace(self, **{name: None for name in ARRAYS})
        with open(folder / TABLES_FILE, "wb") as handle:
            pickle.dump(rest, handle, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(folder: Path) -> "SearchTables":
        with open(folder / TABLES_FILE, "rb") as handle:
            tables = pickle.load(handle)
        if not isinstance(tables, SearchTables) or tables.version != TABLES_VERSION:
            raise ValueError(f"{folder / TABLES_FILE}: tables of another version")
        for name in ARRAYS:
            mapped = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            setattr(tables, name, mapped.view(np.ndarray))  # same mapped pages, without np.memmap's per-slice cost
        return tables


@lru_cache(maxsize=4096)
def _decode_detail(blob: bytes) -> EntryDetail:
    return pickle.loads(blob)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def derive(faq: Faq, index, vocabulary: dict[str, list]) -> SearchTables:
    """Compute the tables of one FAQ version from its freshly written Whoosh index."""
    weighting = scoring.BM25F(B=BM25_B, K1=BM25_K1, **FIELD_B)
    merged: dict[str, dict[int, float]] = {}
    with index.searcher(weighting=weighting) as searcher:
        reader = searcher.reader()
        doc_ids = [""] * reader.doc_count_all()
        for docnum, stored in reader.iter_docs():
            doc_ids[docnum] = stored["id"]
        known_terms = set()
        for name in FIELDS:
            average = searcher.avg_field_length(name) or 1
            b = FIELD_B.get(f"{name}_B", BM25_B)
            for raw in reader.lexicon(name):
                term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                known_terms.add(term)
                idf = searcher.idf(name, term)
                postings = reader.postings(name, term)
                slot = merged.setdefault(term, {})
                while postings.is_active():
                    docnum = postings.id()
                    length = searcher.doc_field_length(docnum, name, 1)
                    partial = scoring.bm25(idf, postings.weight(), length, average, b, BM25_K1)
                    slot[docnum] = slot.get(docnum, 0.0) + FIELD_BOOSTS[name] * partial
                    postings.next()
    term_slices, post_docs, post_scores = _flatten(merged)

    by_id = {entry.id: entry for entry in faq.entries}
    entries = [by_id[entry_id] for entry_id in doc_ids]
    total = max(1, len(entries))
    # Passages: the answer's sentences, analysed once here.
    sentences_by_doc = []
    for entry in entries:
        sentences = tuple(
            (text, tuple(analysis.analyze_with_spans(text))) for text in split_sentences(entry.answer_plain)
        )
        sentences_by_doc.append(sentences or (("", ()),))  # every entry owns at least one passage
    first_passage = np.zeros(len(entries) + 1, dtype=np.int32)
    passage_terms: list[Counter] = []
    for docnum, sentences in enumerate(sentences_by_doc):
        first_passage[docnum] = len(passage_terms)
        for _text, spans in sentences:
            passage_terms.append(Counter(term for term, _s, _e in spans))
    first_passage[len(entries)] = len(passage_terms)
    passage_slices, passage_docs, passage_scores = _flatten(_passage_bm25(passage_terms))

    details = []
    for docnum, entry in enumerate(entries):
        units_of_term: dict[str, list[tuple[int, int]]] = {}
        weights, masses = [], []
        for text in (entry.question, *entry.variants):
            units = analysis.analyze_units(text, mode="index")
            unit_weights = tuple(_idf(term_slices, term, total) for term, _groups in units)
            if not sum(unit_weights):
                continue
            phrasing = len(masses)
            for word, (term, groups) in enumerate(units):
                for accepted in {term, *groups}:
                    units_of_term.setdefault(accepted, []).append((phrasing, word))
            weights.append(unit_weights)
            masses.append(sum(unit_weights))
        detail = EntryDetail(
            units_of_term={term: tuple(pairs) for term, pairs in units_of_term.items()},
            weights=tuple(weights),
            masses=tuple(masses),
            question_spans=tuple(analysis.analyze_with_spans(entry.question)),
            sentences=sentences_by_doc[docnum],
        )
        details.append(pickle.dumps(detail, protocol=pickle.HIGHEST_PROTOCOL))
    return SearchTables(
        version=TABLES_VERSION,
        doc_ids=doc_ids,
        term_slices=term_slices,
        post_docs=post_docs,
        post_scores=post_scores,
        passage_slices=passage_slices,
        passage_docs=passage_docs,
        passage_scores=passage_scores,
        first_passage=first_passage,
        passage_count=len(passage_terms),
        vocabulary={k: (v[0], v[1]) for k, v in vocabulary.items()},
        known_terms=frozenset(known_terms),
        details=details,
    )


def _idf(term_slices: dict[str, tuple[int, int]], term: str, total: int) -> float:
    span = term_slices.get(term)
    return math.log(1 + total / (span[1] - span[0])) if span else 0.0


def _passage_bm25(passages: list[Counter]) -> dict[str, dict[int, float]]:
    count = max(1, len(passages))
    average = (sum(sum(c.values()) for c in passages) / count) or 1.0
    frequency: Counter = Counter()
    for terms in passages:
        frequency.update(terms.keys())
    scored: dict[str, dict[int, float]] = {}
    for number, terms in enumerate(passages):
        length = sum(terms.values())
        for term, tf in terms.items():
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            scored.setdefault(term, {})[number] = scoring.bm25(idf, tf, length, average, PASSAGE_B, BM25_K1)
    return scored


def _flatten(table: dict[str, dict[int, float]]) -> tuple[dict[str, tuple[int, int]], np.ndarray, np.ndarray]:
    slices: dict[str, tuple[int, int]] = {}
    docs: list[int] = []
    scores: list[float] = []
    for term, postings in table.items():
        start = len(docs)
        for docnum in sorted(postings):
            docs.append(docnum)
            scores.append(postings[docnum])
        slices[term] = (start, len(docs))
    return slices, np.asarray(docs, dtype=np.int32), np.asarray(scores, dtype=np.float64)
