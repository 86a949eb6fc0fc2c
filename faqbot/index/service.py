"""SearchService: correct the query, run it against the Whoosh index, highlight the answer.

The index is read-only once built; each thread gets its own searcher, because a Whoosh searcher shared between
threads returns corrupt blocks and wrong results.
"""
from __future__ import annotations

import heapq
import html
import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from whoosh import query as wq
from whoosh import scoring

from ..content import Entry, Faq
from . import analysis
from .build import FIELDS, VOCABULARY_FILE, ensure_index, entry_fields, open_index
from .correct import Corrector

# Beyond this, a "query" is a pasted document: the first words carry the question.
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 40
SNIPPET_CHARS = 240

# Field weights (question and variants above tags above answer), tuned on the development set.
FIELD_BOOSTS = {"question": 3.0, "variants": 2.2, "tags": 1.6, "answer": 1.0}
# BM25F length normalisation per field: short fields (question, tags) barely need it.
FIELD_B = {"question_B": 0.5, "variants_B": 0.6, "tags_B": 0.3, "answer_B": 0.75}
SYNONYM_WEIGHT = 0.6
BM25_B = 0.75
BM25_K1 = 1.2
# Candidates re-ranked by query coverage, and how strongly coverage counts.
RERANK_DEPTH = 30
COVERAGE_POWER = 1.0
PRECISION_WEIGHT = 0.5


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    snippet_html: str  # escaped answer excerpt, query words in <mark>
    question_html: str = ""  # escaped question, query words in <mark>


@dataclass(frozen=True)
class SearchOutcome:
    query: str
    corrected_query: str | None
    hits: list[Hit] = field(default_factory=list)
    terms: tuple[str, ...] = ()


# (content digest, index folder) -> what SearchService derives from them; see SearchService.__init__.
_DERIVED: dict[tuple[str, str], tuple] = {}


class SearchService:
    """Search one FAQ; built once per process (per content version) and shared by its threads."""

    def __init__(
        self,
        faq: Faq,
        index_dir: Path,
        popularity: Callable[[], Mapping[str, float]] | None = None,
    ):
        self.faq = faq
        self.popularity = popularity
        self.folder = ensure_index(faq, Path(index_dir))
        self.index = open_index(self.folder)
        self._local = threading.local()
        self._searchers: list = []
        self._lock = threading.Lock()
        self.weighting = scoring.BM25F(B=BM25_B, K1=BM25_K1, **FIELD_B)
        # Everything below depends only on the content version: computed once per process and shared by every
        # app built on it (the test suite builds hundreds of apps; a worker reloading the same file, too).
        derived = _DERIVED.get((faq.digest, str(self.folder)))
        if derived is None:
            derived = self._derive(faq)
            while len(_DERIVED) >= 8:  # a long-lived worker reloading edited content keeps only recent versions
                _DERIVED.pop(next(iter(_DERIVED)))
            _DERIVED[(faq.digest, str(self.folder))] = derived
        (self.known_terms, self._table, self._doc_ids, self.corrector, self._entry_terms, self._formulations,
         self._idf, self._unknown_idf, self._formulation_weights) = derived
        # Analysed answer sentences per entry, for snippets (filled lazily; a dict write is atomic).
        self._sentence_cache: dict[str, list[tuple[str, list[tuple[str, int, int]]]]] = {}
        self._question_spans: dict[str, list[tuple[str, int, int]]] = {}

    def _derive(self, faq: Faq) -> tuple:
        """Vocabulary, score table, corrector and per-entry analyses of one content version."""
        with self.index.reader() as reader:
            known_terms = {text for _field, text in reader.all_terms() if isinstance(text, str)}
            known_terms |= {
                text.decode("utf-8") for _field, text in reader.all_terms() if isinstance(text, bytes)
            }
        table, doc_ids = self._load_scores()
        raw = json.loads((self.folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        corrector = Corrector({k: (v[0], v[1]) for k, v in raw.items()}, known_terms)
        # Terms of each entry (all fields) and their document frequency, for the coverage factor.
        entry_terms: dict[str, frozenset[str]] = {}
        document_frequency: Counter = Counter()
        for entry in faq.entries:
            terms = frozenset(analysis.analyze(" ".join(entry_fields(faq, entry).values()), mode="index"))
            entry_terms[entry.id] = terms
            document_frequency.update(terms)
        # Each way an entry's question is phrased (question, variants), as words with their synonym groups.
        formulations_by_entry: dict[str, list[list[tuple[str, frozenset[str]]]]] = {
            entry.id: [analysis.analyze_units(text, mode="index") for text in (entry.question, *entry.variants)]
            for entry in faq.entries
        }
        total = max(1, len(faq.entries))
        idf = {term: math.log(1 + total / df) for term, df in document_frequency.items()}
        unknown_idf = math.log(1 + total)
        formulation_weights: dict[str, list[tuple[list[tuple[str, frozenset[str], float]], float]]] = {}
        for entry_id, formulations in formulations_by_entry.items():
            weighted = []
            for units in formulations:
                items = [(term, groups, idf.get(term, 0.0)) for term, groups in units]
                mass = sum(weight for _t, _g, weight in items)
                if mass:
                    weighted.append((items, mass))
            formulation_weights[entry_id] = weighted
        return (known_terms, table, doc_ids, corrector, entry_terms, formulations_by_entry, idf, unknown_idf,
                formulation_weights)

    def _load_scores(self) -> tuple[dict[tuple[str, str], list[tuple[int, float]]], list[str]]:
        """Every (field, term) posting with its BM25F contribution, read once from the index.

        The FAQ is small (hundreds of entries), so the whole scored index fits in memory; summing these
        contributions gives exactly what Whoosh's OR of boosted terms gives (a test checks it), without
        building Whoosh's matcher trees on each query, which cost most of the query time. This table is
        immutable, so threads share it safely.
        """
        table: dict[tuple[str, str], list[tuple[int, float]]] = {}
        with self.index.searcher(weighting=self.weighting) as searcher:
            reader = searcher.reader()
            doc_ids = [""] * reader.doc_count_all()
            for docnum, stored in reader.iter_docs():
                doc_ids[docnum] = stored["id"]
            for name in FIELDS:
                average = searcher.avg_field_length(name) or 1
                b = FIELD_B.get(f"{name}_B", BM25_B)
                for raw in reader.lexicon(name):
                    term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    idf = searcher.idf(name, term)
                    postings = reader.postings(name, term)
                    scored = []
                    while postings.is_active():
                        docnum = postings.id()
                        length = searcher.doc_field_length(docnum, name, 1)
                        scored.append((docnum, scoring.bm25(idf, postings.weight(), length, average, b, BM25_K1)))
                        postings.next()
                    table[(name, term)] = scored
        return table, doc_ids

    def _score(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        """(entry id, BM25F score) of the best entries: the in-memory equivalent of `_build_query`'s query."""
        totals: dict[int, float] = {}
        for term, count in Counter(terms).items():
            weight = analysis.CONCEPT_WEIGHTS.get(term, SYNONYM_WEIGHT) if term.startswith(analysis.SYNONYM_PREFIX) else 1.0
            weight *= min(count, 2) ** 0.5
            for name in FIELDS:
                postings = self._table.get((name, term))
                if not postings:
                    continue
                boost = FIELD_BOOSTS[name] * weight
                for docnum, partial in postings:
                    totals[docnum] = totals.get(docnum, 0.0) + boost * partial
        best = heapq.nlargest(limit, totals.items(), key=lambda item: (item[1], -item[0]))
        return [(self._doc_ids[docnum], score) for docnum, score in best]

    # -- searchers -----------------------------------------------------------------------------------------------
    def searcher(self):
        """This thread's searcher (opened on first use)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.index.searcher(weighting=self.weighting)
            self._local.searcher = searcher
            with self._lock:
                self._searchers.append(searcher)
        return searcher

    def close(self) -> None:
        with self._lock:
            for searcher in self._searchers:
                searcher.close()
            self._searchers.clear()
        self._local = threading.local()
        self.index.close()

    # -- search --------------------------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, popularity: Mapping[str, float] | None = None) -> SearchOutcome:
        """Best entries for a visitor's text; an empty text gives the most consulted entries."""
        query = _clean(query)
        limit = max(1, min(int(limit), 50))
        if not query:
            return SearchOutcome(query="", corrected_query=None, hits=self.popular(limit, popularity))
        correction = self.corrector.correct(query)
        effective = correction.text
        units = [(self._known_form(t), g) for t, g in analysis.analyze_units(effective)[:MAX_QUERY_TERMS]]
        terms = [self._known_form(t) for t in analysis.analyze(effective)[: MAX_QUERY_TERMS * 2]]
        if not terms:
            return SearchOutcome(query=query, corrected_query=correction.text if correction.changed else None)
        wanted = set(terms)
        hits = []
        for entry, score in self._ranked(terms, units, limit):
            hits.append(
                Hit(
                    entry=entry,
                    score=round(score, 4),
                    snippet_html=self._snippet(entry, wanted),
                    question_html=self._highlight_question(entry, wanted),
                )
            )
        return SearchOutcome(
            query=query,
            corrected_query=correction.text if correction.changed else None,
            hits=hits,
            terms=tuple(dict.fromkeys(terms)),
        )

    def _known_form(self, term: str) -> str:
        """A verb's plural that Snowball leaves whole ("chargent") as the stem the index knows ("charg").

        Snowball French keeps a final -ent because nouns end so too ("argent", "client"); those are in the index
        and untouched here. Only a word the index does not know is tried as a first-group verb.
        """
        if term in self.known_terms or len(term) < 6 or not term.endswith("ent"):
            return term
        candidate = analysis.stem(term[:-3] + "er")
        return candidate if candidate in self.known_terms else term

    def _ranked(self, terms: list[str], units: list[tuple[str, frozenset[str]]], limit: int) -> list[tuple[Entry, float]]:
        """BM25F over the fields, re-ranked by how much of the query each entry covers and vice versa.

        OR-grouping finds entries that match only part of a colloquial question, but an entry repeating one
        rare word must not beat one that answers every part of it (coverage); and an entry about a narrower
        case ("annulé par le centre") must not beat the general one that matches the question as asked
        (precision of its best phrasing). A word counts as matched through its synonym groups too.
        """
        results = self._score(terms, max(limit, RERANK_DEPTH))
        query_terms = set(terms)
        merged: dict[str, frozenset[str]] = {}
        for term, groups in units:
            merged[term] = merged.get(term, frozenset()) | groups
        unit_weights = [(term, groups, self._idf.get(term, self._unknown_idf)) for term, groups in merged.items()]
        total = sum(weight for _t, _g, weight in unit_weights) or 1.0
        ranked = []
        for entry_id, bm25_score in results:
            entry = self.faq.by_id.get(entry_id)
            if entry is None:
                continue
            entry_terms = self._entry_terms.get(entry.id, frozenset())
            covered = sum(
                weight for term, groups, weight in unit_weights if term in entry_terms or groups & entry_terms
            )
            precision = self._question_precision(entry.id, query_terms)
            factor = (covered / total) ** COVERAGE_POWER * (1 - PRECISION_WEIGHT + PRECISION_WEIGHT * precision)
            ranked.append((entry, bm25_score * factor))
        ranked.sort(key=lambda pair: -pair[1])
        return ranked[:limit]

    def _question_precision(self, entry_id: str, query_terms: set[str]) -> float:
        """Best share (by idf) of one phrasing of the entry's question that the query says."""
        best = 0.0
        for units, mass in self._formulation_weights.get(entry_id, ()):
            covered = sum(weight for term, groups, weight in units if term in query_terms or groups & query_terms)
            best = max(best, covered / mass)
        return best

    def whoosh_scores(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        """The same scoring through Whoosh's own searcher (this thread's): the reference `_score` must match."""
        results = self.searcher().search(self._build_query(terms), limit=limit)
        return [(hit["id"], float(hit.score)) for hit in results]

    def _build_query(self, terms: list[str]) -> wq.Query:
        """OR of the query's terms, each looked up in every field with that field's weight."""
        counts = Counter(terms)
        clauses = []
        for term, count in counts.items():
            weight = analysis.CONCEPT_WEIGHTS.get(term, SYNONYM_WEIGHT) if term.startswith(analysis.SYNONYM_PREFIX) else 1.0
            weight *= min(count, 2) ** 0.5
            clauses.append(
                wq.Or([wq.Term(name, term, boost=FIELD_BOOSTS[name] * weight) for name in FIELDS])
            )
        return wq.Or(clauses)

    def popular(self, limit: int, popularity: Mapping[str, float] | None = None) -> list[Hit]:
        """Most consulted entries first, then the FAQ's own order."""
        if popularity is None and self.popularity is not None:
            popularity = self.popularity()
        popularity = popularity or {}
        order = {entry.id: position for position, entry in enumerate(self.faq.entries)}
        ranked = sorted(self.faq.entries, key=lambda e: (-float(popularity.get(e.id, 0)), order[e.id]))
        return [
            Hit(
                entry=entry,
                score=float(popularity.get(entry.id, 0)),
                snippet_html=html.escape(_shorten(self._sentences(entry)[0][0] if self._sentences(entry) else "")),
                question_html=html.escape(entry.question),
            )
            for entry in ranked[:limit]
        ]

    def related(self, entry: Entry, limit: int = 4) -> list[Entry]:
        """Entries close to this one: its question searched, itself left out; same category first on ties."""
        text = " ".join([entry.question, *entry.variants[:3], *entry.tags])
        terms = analysis.analyze(text)[:MAX_QUERY_TERMS]
        if not terms:
            return []
        found = [self.faq.by_id[i] for i, _score in self._score(terms, limit + 1) if i != entry.id and i in self.faq.by_id]
        return found[:limit]

    # -- snippets ------------------------------------------------------------------------------------------------
    def _sentences(self, entry: Entry) -> list[tuple[str, list[tuple[str, int, int]]]]:
        cached = self._sentence_cache.get(entry.id)
        if cached is None:
            cached = [(s, analysis.analyze_with_spans(s)) for s in _split_sentences(entry.answer_plain)]
            self._sentence_cache[entry.id] = cached
        return cached

    def _highlight_question(self, entry: Entry, wanted: set[str]) -> str:
        spans = self._question_spans.get(entry.id)
        if spans is None:
            spans = self._question_spans[entry.id] = analysis.analyze_with_spans(entry.question)
        return _mark(entry.question, [(s, e) for t, s, e in spans if t in wanted], None)

    def _snippet(self, entry: Entry, wanted: set[str]) -> str:
        sentences = self._sentences(entry)
        if not sentences:
            return ""
        best_index, best_score = 0, 0.0
        for index, (_text, spans) in enumerate(sentences):
            present = {term for term, _s, _e in spans if term in wanted}
            score = sum(0.5 if t.startswith(analysis.SYNONYM_PREFIX) else 1.0 for t in present)
            if score > best_score:
                best_index, best_score = index, score
        text, spans = sentences[best_index]
        # Add the next sentence when the best one is short, so the excerpt reads as an answer.
        if len(text) < SNIPPET_CHARS // 2 and best_index + 1 < len(sentences):
            following, following_spans = sentences[best_index + 1]
            offset = len(text) + 1
            text = text + " " + following
            spans = spans + [(t, s + offset, e + offset) for t, s, e in following_spans]
        return _mark(text, [(s, e) for t, s, e in spans if t in wanted], SNIPPET_CHARS)


def highlight(text: str, wanted: set[str]) -> str:
    """Escaped text with the words matching the query terms in <mark>."""
    spans = [(s, e) for t, s, e in analysis.analyze_with_spans(text) if t in wanted]
    return _mark(text, spans, None)


def _mark(text: str, spans: list[tuple[int, int]], max_chars: int | None) -> str:
    """Escape `text` and wrap the spans in <mark>; cut to `max_chars` around the first span."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    begin, finish = 0, len(text)
    if max_chars is not None and len(text) > max_chars:
        first = merged[0][0] if merged else 0
        begin = max(0, first - max_chars // 4)
        if begin > 0:  # start on a word boundary
            space = text.find(" ", begin)
            begin = space + 1 if 0 <= space < first else begin
        finish = min(len(text), begin + max_chars)
        if finish < len(text):
            space = text.rfind(" ", begin, finish)
            finish = space if space > begin else finish
    out = ["…" if begin > 0 else ""]
    cursor = begin
    for start, end in merged:
        if end <= begin or start >= finish:
            continue
        start, end = max(start, begin), min(end, finish)
        out.append(html.escape(text[cursor:start], quote=True))
        out.append("<mark>" + html.escape(text[start:end], quote=True) + "</mark>")
        cursor = end
    out.append(html.escape(text[cursor:finish], quote=True))
    if finish < len(text):
        out.append("…")
    return "".join(out)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _shorten(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > 0 else SNIPPET_CHARS] + "…"


def _clean(query: str | None) -> str:
    """Visitor text made safe to process: no control characters, bounded length, spaces collapsed."""
    if not query:
        return ""
    text = _CONTROL.sub(" ", str(query))[:MAX_QUERY_CHARS]
    return " ".join(text.split())
