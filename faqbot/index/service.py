"""SearchService: correct the query, read what it asks, score it on the build's tables, excerpt the answer.

Everything derived from the FAQ comes precomputed with the index (see tables.py): a service starts by loading one
file. A query is corrected and analysed once (cached), its terms' posting lists are summed as arrays (entries by
BM25F, answer sentences by BM25), the best candidates are re-ranked by how much of the question they cover, and
only the returned entries get an excerpt: the answer sentence that best matches the question.
"""
from __future__ import annotations

import heapq
import html
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from operator import truediv
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..content import Entry, Faq
from . import analysis, query as query_analysis
from .build import ensure_index, reference_index
from .tables import FIELDS
from .correct import Correction, Corrector
from .tables import BM25_B, BM25_K1, FIELD_B, FIELD_BOOSTS, SearchTables

__all__ = ["FIELD_BOOSTS", "Hit", "SearchOutcome", "SearchService"]

# Beyond this, a "query" is a pasted document.
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = query_analysis.MAX_QUERY_TERMS
SNIPPET_CHARS = 240
# A concept standing for a word the FAQ never uses.
UNKNOWN_WORD_CONCEPT_WEIGHT = 1.0
NEGATION_WEIGHT = 0.4
SYNONYM_WEIGHT = 0.6  # a concept token's default weight against the visitor's own word (thesaurus `weight`)
# The best answer sentence's BM25 adds this share to an entry's score: a fact stated in one sentence counts.
PASSAGE_WEIGHT = 0.15
# Candidates re-ranked by query coverage, and how strongly coverage counts.
RERANK_DEPTH = 30
COVERAGE_POWER = 1.0
PRECISION_WEIGHT = 0.5
CORRECTION_CACHE = 4096
MARKED_CACHE = 20_000
IDF_CACHE = 50_000


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


# Index folder -> its loaded tables, shared by every service of the process on that content version.
_TABLES: dict[str, SearchTables] = {}
_TABLES_LOCK = threading.Lock()


def load_tables(folder: Path) -> SearchTables:
    key = str(folder)
    tables = _TABLES.get(key)
    if tables is None:
        with _TABLES_LOCK:
            tables = _TABLES.get(key)
            if tables is None:
                tables = SearchTables.load(folder)
                while len(_TABLES) >= 8:  # a long-lived worker reloading edited content keeps only recent versions
                    _TABLES.pop(next(iter(_TABLES)))
                _TABLES[key] = tables
    return tables


def term_weight(term: str, occurrences: int = 1) -> float:
    """A term's weight in a query: a concept token weighs less than a word; a word said twice a little more; a
    negation ("plus", "pas", "aucun") is kept for the meaning (concepts, coverage) but weighs little as a word."""
    if term.startswith(analysis.SYNONYM_PREFIX):
        weight = analysis.CONCEPT_WEIGHTS.get(term, SYNONYM_WEIGHT)
    else:
        weight = NEGATION_WEIGHT if term in analysis.NEGATIONS else 1.0
    return weight * min(occurrences, 2) ** 0.5


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
        self.tables = load_tables(self.folder)
        self.known_terms = self.tables.known_terms
        self.corrector = Corrector(self.tables.vocabulary, self.known_terms)
        self._entries: list[Entry | None] = [faq.by_id.get(entry_id) for entry_id in self.tables.doc_ids]
        self._docnum = {entry_id: number for number, entry_id in enumerate(self.tables.doc_ids)}
        self._corrections: dict[str, Correction] = {}
        self._readings: dict[str, tuple] = {}
        self._idfs: dict[str, float] = {}
        self._marked: dict[tuple, str] = {}  # (entry number, [sentence,] matched spans) -> escaped, marked text
        self._unknown_idf = float(np.log(1 + max(1, self.tables.entry_count)))
        self._local = threading.local()
        self._searchers: list = []
        self._lock = threading.Lock()
        self._index = None  # Whoosh's own index is written and opened only to cross-check the scores (tests, benchmarks)

    # -- scoring -------------------------------------------------------------------------------------------------
    def _entry_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        return _summed(self.tables.postings, weights, self.tables.entry_count)

    def _passage_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        return _summed(self.tables.passage_postings, weights, self.tables.passage_count)

    def _score(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        """(entry id, BM25F score) of the best entries for these terms: what Whoosh's OR of boosted terms gives."""
        weights = {term: term_weight(term, count) for term, count in Counter(terms).items()}
        totals = self._entry_scores(weights)
        return [(self.tables.doc_ids[d], float(totals[d])) for d in _top(totals, limit)]

    def idf(self, term: str) -> float:
        found = self._idfs.get(term)
        if found is None:
            frequency = self.tables.document_frequency(term)
            found = float(np.log(1 + self.tables.entry_count / frequency)) if frequency else self._unknown_idf
            if len(self._idfs) >= IDF_CACHE:
                self._idfs.clear()
            self._idfs[term] = found
        return found

    # -- searchers (Whoosh, for cross-checks only) ----------------------------------------------------------------
    @property
    def index(self):
        with self._lock:
            if self._index is None:
                self._index = reference_index(self.faq, self.folder)
        return self._index

    def searcher(self):
        """This thread's Whoosh searcher (opened on first use)."""
        from whoosh import scoring

        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.index.searcher(weighting=scoring.BM25F(B=BM25_B, K1=BM25_K1, **FIELD_B))
            self._local.searcher = searcher
            with self._lock:
                self._searchers.append(searcher)
        return searcher

    def close(self) -> None:
        with self._lock:
            for searcher in self._searchers:
                searcher.close()
            self._searchers.clear()
            if self._index is not None:
                self._index.close()
                self._index = None
        self._local = threading.local()

    # -- search --------------------------------------------------------------------------------------------------
    def correct(self, text: str) -> Correction:
        """The corrected query (cached: visitors repeat the same questions)."""
        cached = self._corrections.get(text)
        if cached is None:
            cached = self.corrector.correct(text)
            if len(self._corrections) >= CORRECTION_CACHE:
                self._corrections.clear()
            self._corrections[text] = cached
        return cached

    def search(self, query: str, limit: int = 10, popularity: Mapping[str, float] | None = None) -> SearchOutcome:
        """Best entries for a visitor's text; an empty text gives the most consulted entries."""
        query = _clean(query)
        limit = max(1, min(int(limit), 50))
        if not query:
            return SearchOutcome(query="", corrected_query=None, hits=self.popular(limit, popularity))
        corrected, weights, units = self._read(query)
        if not weights:
            return SearchOutcome(query=query, corrected_query=corrected)
        wanted = set(weights)
        hits = []
        marked = self._marked
        if len(marked) >= MARKED_CACHE:
            marked.clear()
        for docnum, score, passage in self._ranked(weights, units, limit):
            entry = self._entries[docnum]
            detail = self.tables.detail(docnum)
            # The escaped, marked texts depend only on the entry, the sentence and which of its words the query
            # matches: kept, since the same entries come back for many queries.
            spans = tuple([(s, e) for t, s, e in detail.question_spans if t in wanted])
            question_html = marked.get((docnum, spans))
            if question_html is None:
                question_html = marked[(docnum, spans)] = _mark(entry.question, list(spans), None)
            hits.append(
                Hit(
                    entry=entry,
                    score=round(score, 4),
                    snippet_html=_snippet(detail.sentences, wanted, passage, marked, docnum),
                    question_html=question_html,
                )
            )
        return SearchOutcome(query=query, corrected_query=corrected, hits=hits, terms=tuple(weights))

    def _read(self, query: str) -> tuple[str | None, dict[str, float], dict[str, tuple[frozenset[str], float]]]:
        """(corrected text, term weights, units) of a cleaned query: a pure function of the text on this content
        version, cached like the corrections (visitors repeat the same questions)."""
        cached = self._readings.get(query)
        if cached is not None:
            return cached
        correction = self.correct(query)
        corrected = correction.text if correction.changed else None
        parsed = query_analysis.parse(correction.text)
        weights: dict[str, float] = {}
        for term, weight, count in parsed.terms:
            known = self._known_form(term)
            weights[known] = max(weights.get(known, 0.0), weight * term_weight(known, count))
        if not weights:
            return corrected, weights, {}
        units: dict[str, tuple[frozenset[str], float]] = {}
        for term, groups, weight in parsed.units:
            known = self._known_form(term)
            previous = units.get(known, (frozenset(), 0.0))
            units[known] = (previous[0] | groups, max(previous[1], weight))
        # A concept weighs less than the visitor's own word (which then usually matches too); when that word is
        # unknown to the FAQ (« carton rose »), the concept is all the evidence there is and counts in full.
        for term, (groups, weight) in units.items():
            if groups and self.tables.document_frequency(term) == 0:
                for group in groups:
                    if group in weights:
                        weights[group] = max(weights[group], weight * UNKNOWN_WORD_CONCEPT_WEIGHT)
        if len(self._readings) >= CORRECTION_CACHE:
            self._readings.clear()
        self._readings[query] = (corrected, weights, units)
        return corrected, weights, units

    def _known_form(self, term: str) -> str:
        """A verb's plural that Snowball leaves whole ("chargent") as the stem the index knows ("charg").

        Snowball French keeps a final -ent because nouns end so too ("argent", "client"); those are in the index
        and untouched here. Only a word the index does not know is tried as a first-group verb.
        """
        if term in self.known_terms or len(term) < 6 or not term.endswith("ent"):
            return term
        candidate = analysis.stem(term[:-3] + "er")
        return candidate if candidate in self.known_terms else term

    def _ranked(
        self, weights: Mapping[str, float], units: Mapping[str, tuple[frozenset[str], float]], limit: int
    ) -> list[tuple[int, float, int | None]]:
        """(entry number, score, best passage) of the best entries.

        BM25F over the fields plus a share of the best answer sentence's BM25, then the best candidates re-ranked
        by how much of the query each covers (an entry repeating one rare word must not beat one that answers
        every part of it) and by the precision of its best phrasing (a narrower case, "annulé par le centre",
        must not beat the general entry that matches the question as asked). A word counts as matched through
        its concepts too; a story's narrative words weigh less in both.
        """
        entry_scores = self._entry_scores(weights)
        passage_scores = self._passage_scores(weights)
        first = self.tables.first_passage
        best_passage = np.maximum.reduceat(passage_scores, first[:-1]) if len(passage_scores) else passage_scores
        totals = entry_scores + PASSAGE_WEIGHT * best_passage
        candidates = _top(totals, max(limit, RERANK_DEPTH))
        if not len(candidates):
            return []
        unit_weights = [(term, groups, weight * self.idf(term)) for term, (groups, weight) in units.items()]
        total = sum(w for _t, _g, w in unit_weights) or 1.0
        covered = np.zeros(len(candidates))
        holding: dict[str, np.ndarray] = {}  # a concept shared by several words of the query is looked up once
        for term, groups, weight in unit_weights:
            held = holding.get(term)
            if held is None:
                held = holding[term] = self.tables.holds(term, candidates)
            for group in groups:
                in_group = holding.get(group)
                if in_group is None:
                    in_group = holding[group] = self.tables.holds(group, candidates)
                held = held | in_group
            covered += weight * held
        query_terms = set(weights)
        # Re-rank with a bound: the precision factor lies in [1 - PRECISION_WEIGHT, 1], so once a candidate's best
        # possible score falls below the limit-th exact score, neither it nor any after it can enter the results.
        bounds = totals[candidates] * (covered / total) ** COVERAGE_POWER
        ranked: list[tuple[int, float]] = []
        best: list[float] = []  # min-heap of the `limit` best exact scores so far
        bound_values, candidate_numbers, entries = bounds.tolist(), candidates.tolist(), self._entries
        for position in np.argsort(-bounds, kind="stable").tolist():
            if len(best) >= limit and bound_values[position] < best[0]:
                break
            docnum = candidate_numbers[position]
            if entries[docnum] is None:
                continue
            precision = self._question_precision(docnum, query_terms)
            score = bound_values[position] * (1 - PRECISION_WEIGHT + PRECISION_WEIGHT * precision)
            ranked.append((docnum, score))
            if len(best) < limit:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
        ranked.sort(key=lambda item: -item[1])
        # The excerpt is the best sentence of the entries returned (and of those only).
        return [
            (docnum, score, int(passage_scores[first[docnum]: first[docnum + 1]].argmax()) if best_passage[docnum] > 0 else None)
            for docnum, score in ranked[:limit]
        ]

    def _question_precision(self, docnum: int, query_terms: set[str]) -> float:
        """Best share (by idf) of one phrasing of the entry's question that the query says."""
        detail = self.tables.detail(docnum)
        # (The same insertions in the same order as one update per term: the same set, summed in the same order.)
        said: set[tuple[int, int]] = set().union(*map(detail.units_of_term.get, query_terms, repeat(())))
        covered = [0.0] * len(detail.masses)
        weights = detail.weights
        for phrasing, word in said:
            covered[phrasing] += weights[phrasing][word]
        return max(map(truediv, covered, detail.masses), default=0.0)

    def whoosh_scores(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        """The same scoring through Whoosh's own searcher (this thread's): the reference `_score` must match."""
        from whoosh import query as wq

        clauses = [
            wq.Or([wq.Term(name, term, boost=FIELD_BOOSTS[name] * term_weight(term, count)) for name in FIELDS])
            for term, count in Counter(terms).items()
        ]
        results = self.searcher().search(wq.Or(clauses), limit=limit)
        return [(hit["id"], float(hit.score)) for hit in results]

    def popular(self, limit: int, popularity: Mapping[str, float] | None = None) -> list[Hit]:
        """Most consulted entries first, then the FAQ's own order."""
        if popularity is None and self.popularity is not None:
            popularity = self.popularity()
        popularity = popularity or {}
        order = {entry.id: position for position, entry in enumerate(self.faq.entries)}
        ranked = sorted(self.faq.entries, key=lambda e: (-float(popularity.get(e.id, 0)), order[e.id]))
        hits = []
        for entry in ranked[:limit]:
            docnum = self._docnum.get(entry.id)
            first = self.tables.detail(docnum).sentences[0][0] if docnum is not None else ""
            hits.append(
                Hit(
                    entry=entry,
                    score=float(popularity.get(entry.id, 0)),
                    snippet_html=html.escape(_shorten(first)),
                    question_html=html.escape(entry.question),
                )
            )
        return hits

    def related(self, entry: Entry, limit: int = 4) -> list[Entry]:
        """Entries close to this one: its question searched, itself left out; same category first on ties."""
        text = " ".join([entry.question, *entry.variants[:3], *entry.tags])
        terms = analysis.analyze(text)[:MAX_QUERY_TERMS]
        if not terms:
            return []
        found = [self.faq.by_id[i] for i, _score in self._score(terms, limit + 1) if i != entry.id and i in self.faq.by_id]
        return found[:limit]


def _summed(postings_of: Callable, weights: Mapping[str, float], size: int) -> np.ndarray:
    """Each document's sum of weight × score over the terms' posting lists, in one pass: bincount adds the
    contributions in the order given, i.e. term after term from 0.0, as one `totals[docs] += …` per term did."""
    docs, contributions = [], []
    for term, weight in weights.items():
        postings = postings_of(term)
        if postings is not None:
            docs.append(postings[0])
            contributions.append(weight * postings[1])
    if not docs:
        return np.zeros(size)
    return np.bincount(np.concatenate(docs), weights=np.concatenate(contributions), minlength=size)


def _top(totals: np.ndarray, limit: int) -> np.ndarray:
    """Entry numbers of the `limit` best positive scores, best first (ties: lower number first)."""
    positive = np.flatnonzero(totals > 0)
    if len(positive) > limit:
        positive = positive[np.argpartition(-totals[positive], limit - 1)[:limit]]
    order = np.lexsort((positive, -totals[positive]))
    return positive[order]


def _snippet(sentences, wanted: set[str], passage: int | None, marked: dict | None = None, docnum: int = -1) -> str:
    """The answer sentence that best matches the query (its passage), with the next one when it is short
    (`marked`: a cache of the result by entry, sentence and matched spans)."""
    if not sentences or not sentences[0][0]:
        return ""
    best_index = passage
    if best_index is None:
        best_index, best_score = 0, 0.0
        for index, (_text, spans) in enumerate(sentences):
            present = {term for term, _s, _e in spans if term in wanted}
            score = sum(0.5 if t.startswith(analysis.SYNONYM_PREFIX) else 1.0 for t in present)
            if score > best_score:
                best_index, best_score = index, score
    text, spans = sentences[best_index]
    matched = [(s, e) for t, s, e in spans if t in wanted]
    if len(text) < SNIPPET_CHARS // 2 and best_index + 1 < len(sentences):
        following, following_spans = sentences[best_index + 1]
        offset = len(text) + 1
        text = text + " " + following
        matched += [(s + offset, e + offset) for t, s, e in following_spans if t in wanted]
    if marked is None:
        return _mark(text, matched, SNIPPET_CHARS)
    key = (docnum, best_index, tuple(matched))
    found = marked.get(key)
    if found is None:
        found = marked[key] = _mark(text, matched, SNIPPET_CHARS)
    return found


def highlight(text: str, wanted: set[str]) -> str:
    """Escaped text with the words matching the query terms in <mark>."""
    spans = [(s, e) for t, s, e in analysis.analyze_with_spans(text) if t in wanted]
    return _mark(text, spans, None)


def _mark(text: str, spans: list[tuple[int, int]], max_chars: int | None) -> str:
    """Escape `text` and wrap the spans in <mark>; cut to `max_chars` around the first span."""
    if not spans and (max_chars is None or len(text) <= max_chars):
        return html.escape(text, quote=True)
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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
