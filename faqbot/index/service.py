"""SearchService: correct the query, read what it asks, score it on the build's tables, excerpt the answer.

Everything derived from the FAQ comes precomputed with the index (see tables.py): a service starts by loading one
file. A query is corrected and analysed once (cached), its terms' posting lists are summed as arrays (entries by
BM25F, answer sentences by BM25), the best candidates are re-ranked by how much of the question they cover and by the
precision of their best phrasing (all candidates at once, from the build's phrasing arrays), and only the returned
entries get an excerpt: the answer sentence that best matches the question.
"""
from __future__ import annotations

import html
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..content import Entry, Faq
from . import analysis, query as query_analysis
from .build import KEPT_VARIANTS, ensure_index, reference_index
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
MARKED_CACHE = 20_000  # (entry, sentence) pairs whose terms and marked texts are kept
MARKED_PER_EXCERPT = 64  # marked texts kept per (entry, sentence): one per set of terms matched
IDF_CACHE = 50_000


@dataclass(frozen=True, slots=True)
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


# A float's 52 bits of fraction hold this many terms' presence bits exactly (summed by bincount: one per entry).
PRESENCE_BITS = 52


@dataclass(frozen=True)
class QueryPlan:
    """What scoring one query reading takes from this content version's tables, worked out once per reading (no
    result in it: sizes are those of the query, not of the postings)."""

    # Views of the (memory-mapped) postings, which keep no copy: the entries' of the weighted terms (scored), then of
    # the other unit terms; the passages' of the weighted terms.
    entry_docs: tuple[np.ndarray, ...]
    entry_scores: tuple[np.ndarray, ...]  # the scored ones
    entry_lengths: list[int]  # of each entry postings list
    entry_weights: np.ndarray  # weight of each scored slice
    scored_postings: int  # how many postings the scored slices hold
    passage_docs: tuple[np.ndarray, ...]
    passage_scores: tuple[np.ndarray, ...]
    passage_lengths: list[int]
    passage_weights: np.ndarray
    presence_bits: np.ndarray | None  # per entry slice: its term's bit (2**k; 0.0 for a term coverage ignores)
    units: tuple[tuple[int, tuple[str, ...], float], ...]  # per unit: its terms' bits, terms past the bits, weight
    overflow: bool  # whether a unit has terms past the presence bits
    coverage_total: float
    phrase_tokens: np.ndarray  # the query terms' token numbers in the phrasings, sorted
    terms: frozenset[str]  # the weighted terms (what the excerpts mark)


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
        self._present = np.asarray([entry is not None for entry in self._entries], dtype=bool)
        self._all_present = bool(self._present.all())  # tables and FAQ of the same version: always, in practice
        self._first_passage: list[int] = self.tables.first_passage.tolist()  # read per returned entry
        self._corrections: dict[str, Correction] = {}
        self._readings: dict[str, tuple] = {}
        self._idfs: dict[str, float] = {}
        # (entry number, sentence) -> the terms of the question and of the excerpt from that sentence, and the
        # escaped, marked texts by the terms of each the query matches
        self._excerpts: dict[tuple[int, int], tuple[frozenset[str], frozenset[str], dict]] = {}
        self._unknown_idf = float(np.log(1 + max(1, self.tables.entry_count)))
        self._local = threading.local()
        self._searchers: list = []
        self._lock = threading.Lock()
        self._index = None  # Whoosh's own index is written and opened only to cross-check the scores (tests, benchmarks)

    # -- scoring -------------------------------------------------------------------------------------------------
    def _entry_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """Each entry's BM25F score for these term weights (the first stage of `_ranked`)."""
        plan = self._plan(weights, {})
        docs = np.concatenate(plan.entry_docs) if plan.entry_docs else np.zeros(0, dtype=np.int32)
        return _weighted_sums(docs, plan.entry_scores, plan.entry_weights, plan.entry_lengths, self.tables.entry_count)

    def _passage_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        return self._passage_scores_of(self._plan(weights, {}))

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
        corrected, weights, units, plan = self._read(query)
        if not weights:
            return SearchOutcome(query=query, corrected_query=corrected)
        wanted = plan.terms
        hits = []
        excerpts, entries = self._excerpts, self._entries
        if len(excerpts) >= MARKED_CACHE:
            excerpts.clear()
        for docnum, score, passage in self._ranked(weights, units, limit, plan):
            if passage is None:
                passage = _best_sentence(self.tables.detail(docnum), wanted)
            # The escaped, marked question and excerpt depend only on the entry, the sentence and which of their
            # terms the query matches: kept, since the same entries come back for many queries.
            excerpt = excerpts.get((docnum, passage))
            if excerpt is None:
                excerpt = excerpts[(docnum, passage)] = (*_excerpt_terms(self.tables.detail(docnum), passage), {})
            question_terms, excerpt_terms, marked = excerpt
            matched = (question_terms & wanted, excerpt_terms & wanted)
            texts = marked.get(matched)
            if texts is None:
                if len(marked) >= MARKED_PER_EXCERPT:
                    marked.clear()
                texts = marked[matched] = self._marked_texts(docnum, passage, wanted)
            hits.append(Hit(entries[docnum], round(score, 4), texts[1], texts[0]))
        return SearchOutcome(query=query, corrected_query=corrected, hits=hits, terms=tuple(weights))

    def _marked_texts(self, docnum: int, passage: int, wanted: frozenset[str]) -> tuple[str, str]:
        """The entry's question and its excerpt from this sentence, escaped, the query's terms in <mark>."""
        detail = self.tables.detail(docnum)
        spans = [(s, e) for t, s, e in detail.question_spans if t in wanted]
        return _mark(self._entries[docnum].question, spans, None), _snippet(detail, wanted, passage)

    def _read(
        self, query: str
    ) -> tuple[str | None, dict[str, float], dict[str, tuple[frozenset[str], float]], QueryPlan | None]:
        """(corrected text, term weights, units, plan) of a cleaned query: a pure function of the text on this
        content version, cached like the corrections (visitors repeat the same questions)."""
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
            return corrected, weights, {}, None
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
        reading = (corrected, weights, units, self._plan(weights, units))
        if len(self._readings) >= CORRECTION_CACHE:
            self._readings.clear()
        self._readings[query] = reading
        return reading

    def _plan(self, weights: Mapping[str, float], units: Mapping[str, tuple[frozenset[str], float]]) -> QueryPlan:
        """The postings slices, presence bits, coverage weights and phrasing tokens of a query reading."""
        tables = self.tables
        scored = [(term, tables.term_slices[term]) for term in weights if term in tables.term_slices]
        passages = [(term, tables.passage_slices[term]) for term in weights if term in tables.passage_slices]
        # Coverage: each unit's term and concepts, one presence bit each (past PRESENCE_BITS, looked up per term).
        bit_of: dict[str, int] = {}
        plan_units = []
        for term, (groups, weight) in units.items():
            mask, others = 0, []
            for token in (term, *sorted(groups)):
                if token not in bit_of and len(bit_of) < PRESENCE_BITS:
                    bit_of[token] = len(bit_of)
                if token in bit_of:
                    mask |= 1 << bit_of[token]
                else:
                    others.append(token)
            plan_units.append((mask, tuple(others), weight * self.idf(term)))
        slices = [span for _term, span in scored]
        bits = [float(1 << bit_of[term]) if term in bit_of else 0.0 for term, _span in scored]
        in_scored = {term for term, _span in scored}
        for token, bit in bit_of.items():
            span = tables.term_slices.get(token)
            if span is not None and token not in in_scored:
                slices.append(span)
                bits.append(float(1 << bit))
        phrase_tokens = sorted({tables.phrase_tokens[term] for term in weights if term in tables.phrase_tokens})
        return QueryPlan(
            entry_docs=tuple(tables.post_docs[a:b] for a, b in slices),
            entry_scores=tuple(tables.post_scores[a:b] for _term, (a, b) in scored),
            entry_lengths=[b - a for a, b in slices],
            entry_weights=np.asarray([weights[term] for term, _span in scored], dtype=np.float64),
            scored_postings=sum(b - a for _term, (a, b) in scored),
            passage_docs=tuple(tables.passage_docs[a:b] for _term, (a, b) in passages),
            passage_scores=tuple(tables.passage_scores[a:b] for _term, (a, b) in passages),
            passage_lengths=[b - a for _term, (a, b) in passages],
            passage_weights=np.asarray([weights[term] for term, _span in passages], dtype=np.float64),
            presence_bits=np.asarray(bits, dtype=np.float64) if bit_of else None,
            units=tuple(plan_units),
            overflow=any(others for _mask, others, _weight in plan_units),
            coverage_total=sum(weight for _mask, _others, weight in plan_units) or 1.0,
            phrase_tokens=np.asarray(phrase_tokens, dtype=tables.phrase_keys.dtype),
            terms=frozenset(weights),
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

    def _ranked(
        self, weights: Mapping[str, float], units: Mapping[str, tuple[frozenset[str], float]], limit: int,
        plan: QueryPlan | None = None,
    ) -> list[tuple[int, float, int | None]]:
        """(entry number, score, best passage) of the best entries.

        BM25F over the fields plus a share of the best answer sentence's BM25, then the best candidates re-ranked
        by how much of the query each covers (an entry repeating one rare word must not beat one that answers
        every part of it) and by the precision of its best phrasing (a narrower case, "annulé par le centre",
        must not beat the general entry that matches the question as asked). A word counts as matched through
        its concepts too; a story's narrative words weigh less in both.
        """
        if plan is None:
            plan = self._plan(weights, units)
        tables = self.tables
        # Entry postings concatenated once: weighted and summed per entry (term after term, from 0.0, in one
        # bincount), and each unit term's presence bit summed per entry (distinct powers of two: exact).
        lengths, scored = plan.entry_lengths, len(plan.entry_weights)
        docs = np.concatenate(plan.entry_docs) if plan.entry_docs else np.zeros(0, dtype=np.int32)
        count = tables.entry_count
        entry_scores = _weighted_sums(
            docs[: plan.scored_postings], plan.entry_scores, plan.entry_weights, lengths[:scored], count
        )
        passage_scores = self._passage_scores_of(plan)
        first = tables.first_passage
        best_passage = np.maximum.reduceat(passage_scores, first[:-1]) if len(passage_scores) else passage_scores
        totals = entry_scores + PASSAGE_WEIGHT * best_passage
        candidates = _top(totals, max(limit, RERANK_DEPTH))
        if not len(candidates):
            return []
        if plan.units:
            present = (np.bincount(docs, weights=plan.presence_bits.repeat(lengths), minlength=count)[candidates]
                       .astype(np.int64).tolist() if plan.presence_bits is not None else [0] * len(candidates))
            held_by_unit = None
            if plan.overflow:  # a unit with terms past the presence bits: those looked up one by one
                held_by_unit = [[bits & mask != 0 for bits in present] for mask, _others, _weight in plan.units]
                for held, (_mask, others, _weight) in zip(held_by_unit, plan.units):
                    for token in others:
                        for position, found in enumerate(tables.holds(token, candidates).tolist()):
                            held[position] = held[position] or found
            # Each unit's weight added unit after unit from 0.0, when the entry holds its term or a concept.
            sums = []
            for position, bits in enumerate(present):
                total = 0.0
                if held_by_unit is None:
                    for mask, _others, weight in plan.units:
                        if bits & mask:
                            total += weight
                else:
                    for (_mask, _others, weight), held in zip(plan.units, held_by_unit):
                        if held[position]:
                            total += weight
                sums.append(total)
            covered = np.asarray(sums)
        else:
            covered = np.zeros(len(candidates))
        # Re-rank: the precision factor lies in [1 - PRECISION_WEIGHT, 1] (a phrasing's said words add up to at
        # most its total, summed in the same order), so an entry's score lies between its bound times the lowest
        # factor and its bound: an entry whose bound is below the `limit`-th bound times that factor cannot be
        # returned, and its precision is not computed. Entries ranked by score, ties in the order of their bounds
        # (then of their BM25F rank).
        coverage = covered / plan.coverage_total
        if COVERAGE_POWER != 1.0:  # (x ** 1.0 is x)
            coverage **= COVERAGE_POWER
        bounds = totals[candidates] * coverage
        by_bound = (-bounds).argsort(kind="stable")
        if not self._all_present:
            by_bound = by_bound[self._present[candidates[by_bound]]]
        bounds = bounds[by_bound]
        if len(bounds) > limit:
            reachable = bounds >= bounds[limit - 1] * (1 - PRECISION_WEIGHT)  # a prefix: bounds descend
            by_bound, bounds = by_bound[reachable], bounds[reachable]
        chosen = candidates[by_bound]
        precision = tables.phrasing_precisions(chosen, plan.phrase_tokens)
        scores = bounds * (1 - PRECISION_WEIGHT + PRECISION_WEIGHT * precision)
        best = (-scores).argsort(kind="stable")[:limit]
        returned = chosen[best]
        # The excerpt is the best sentence of the entries returned (and of those only).
        offsets = self._first_passage
        return [
            (docnum, score, int(passage_scores[offsets[docnum]: offsets[docnum + 1]].argmax()) if found > 0 else None)
            for docnum, score, found in zip(returned.tolist(), scores[best].tolist(), best_passage[returned].tolist())
        ]

    def _passage_scores_of(self, plan: QueryPlan) -> np.ndarray:
        """Each passage's sum of weight × BM25 over the query's terms."""
        docs = np.concatenate(plan.passage_docs) if plan.passage_docs else np.zeros(0, dtype=np.int32)
        return _weighted_sums(
            docs, plan.passage_scores, plan.passage_weights, plan.passage_lengths, self.tables.passage_count
        )

    def _question_precision(self, docnum: int, query_terms: set[str]) -> float:
        """Best share (by idf) of one phrasing of the entry's question that the query says."""
        tokens = sorted({self.tables.phrase_tokens[t] for t in query_terms if t in self.tables.phrase_tokens})
        tokens = np.asarray(tokens, dtype=self.tables.phrase_keys.dtype)
        return float(self.tables.phrasing_precisions(np.asarray([docnum]), tokens)[0])

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
        text = " ".join([entry.question, *entry.variants[:KEPT_VARIANTS], *entry.tags])  # what a light FAQ keeps
        terms = analysis.analyze(text)[:MAX_QUERY_TERMS]
        if not terms:
            return []
        found = [self.faq.by_id[i] for i, _score in self._score(terms, limit + 1) if i != entry.id and i in self.faq.by_id]
        return found[:limit]


def _weighted_sums(docs: np.ndarray, scores: tuple[np.ndarray, ...], weights: np.ndarray, lengths: list[int],
                   size: int) -> np.ndarray:
    """Each document's sum of weight × score over the terms' postings (`docs`: their documents, concatenated), in
    one pass: bincount adds the contributions in the order given, i.e. term after term from 0.0."""
    if not len(weights):
        return np.zeros(size)
    return np.bincount(docs, weights=np.concatenate(scores) * weights.repeat(lengths), minlength=size)


def _top(totals: np.ndarray, limit: int) -> np.ndarray:
    """Entry numbers of the `limit` best positive scores, best first (ties: lower number first)."""
    positive = (totals > 0).nonzero()[0]
    lowered = -totals[positive]
    if len(positive) > limit:
        kept = lowered.argpartition(limit - 1)[:limit]
        positive, lowered = positive[kept], lowered[kept]
    return positive[np.lexsort((positive, lowered))]


def _best_sentence(detail, wanted: frozenset[str] | set[str]) -> int:
    """The answer sentence holding the most query terms (a concept counts half), the first one on ties."""
    best_index, best_score = 0, 0.0
    for index, present in enumerate(detail.sentence_terms):
        score = sum(0.5 if t.startswith(analysis.SYNONYM_PREFIX) else 1.0 for t in present & wanted)
        if score > best_score:
            best_index, best_score = index, score
    return best_index


def _joined(sentences, index: int) -> bool:
    """Whether the excerpt from this sentence goes on with the next one (it is short)."""
    return len(sentences[index][0]) < SNIPPET_CHARS // 2 and index + 1 < len(sentences)


def _excerpt_terms(detail, index: int) -> tuple[frozenset[str], frozenset[str]]:
    """The terms of the entry's question and of its excerpt from this sentence (with the next one when joined)."""
    terms = detail.sentence_terms
    if _joined(detail.sentences, index):
        return detail.question_terms, terms[index] | terms[index + 1]
    return detail.question_terms, terms[index]


def _snippet(detail, wanted: frozenset[str] | set[str], passage: int | None) -> str:
    """The answer sentence that best matches the query (its passage), with the next one when it is short."""
    sentences = detail.sentences
    if not sentences or not sentences[0][0]:
        return ""
    index = _best_sentence(detail, wanted) if passage is None else passage
    text, spans = sentences[index]
    matched = [(s, e) for t, s, e in spans if t in wanted]
    if _joined(sentences, index):
        following, following_spans = sentences[index + 1]
        offset = len(text) + 1
        text = text + " " + following
        matched += [(s + offset, e + offset) for t, s, e in following_spans if t in wanted]
    return _mark(text, matched, SNIPPET_CHARS)


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
