"""Everything search derives from one FAQ version, computed once at index build time and stored with the index.

A worker used to re-analyse the whole FAQ when it started (2.7 s at 218 entries, 130 s at 21,800). Now the build
writes these tables in the staging folder that is renamed into place when complete, and every worker maps or
loads them in milliseconds:

- entry postings: for each analysed term, the entries holding it (sorted by entry number) with the term's BM25F
  contribution summed over the fields with their weights — bit for bit what Whoosh's BM25F gives on an index of the
  same fields (a test builds that index and compares);
- passage postings: the same for each sentence of the answers, with BM25 over sentences, so a fact stated in one
  sentence of a long answer is found and shown as the excerpt;
- the correction vocabulary and the terms the index knows (`tables.pickle`, small);
- the phrasings of every entry (question and variants) as words with their idf, and for each term or concept the
  words it says, as flat arrays: the precision of the candidates' best phrasings is a few array operations per
  query, whatever the number of variants;
- per entry, a small pickled record (its question's and sentences' spans) in one file, `details.bin`, read only
  for the entries a query returns.

Posting lists are flat numpy arrays addressed by (start, end) slices: compact, memory-mapped (the workers share the
pages), and summed in C at query time. The build analyses each text once (a sentence or a variant repeated across
entries once for all of them): at 20,200 entries it takes about 40 s of CPU where Whoosh's writer plus a second
analysis for the tables took 120 s.
"""
from __future__ import annotations

import dataclasses
import math
import mmap
import pickle
import re
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from whoosh import scoring

from ..content import Faq
from . import analysis

# Fields and the order of their weight: the question and its variants say what an entry is about, tags
# summarise it, the answer is long and mentions many things in passing.
FIELDS = ("question", "variants", "tags", "answer")

TABLES_FILE = "tables.pickle"
TABLES_VERSION = 6
DETAILS_FILE = "details.bin"
DETAIL_CACHE = 4096  # entries kept decoded per worker
DETAIL_OFFSETS_FILE = "detail_offsets.npy"
# Stored as .npy next to the pickle and memory-mapped on load.
ARRAYS = ("post_docs", "post_scores", "passage_docs", "passage_scores", "first_passage",
          "phrase_keys", "phrase_words", "word_phrasing", "word_weights", "phrasing_masses")

# Field weights (question and variants above tags above answer), tuned on the development set.
FIELD_BOOSTS = {"question": 3.0, "variants": 2.2, "tags": 1.6, "answer": 1.0}
# BM25F length normalisation per field: short fields (question, tags) barely need it.
FIELD_B = {"question_B": 0.5, "variants_B": 0.6, "tags_B": 0.3, "answer_B": 0.75}
BM25_B = 0.75
BM25_K1 = 1.2
# Passages (answer sentences) are scored with plain BM25 over sentences.
PASSAGE_B = 0.5


def entry_fields(faq: Faq, entry) -> dict[str, str]:
    """The text of each field for one entry (the category label counts as a tag)."""
    category = faq.category_by_id.get(entry.category)
    tags = list(entry.tags) + ([category.label] if category else [])
    return {
        "question": entry.question,
        "variants": "\n".join(faq.variants_of(entry, strict=True)),
        "tags": "\n".join(tags),
        "answer": entry.answer_plain,
    }



@dataclass(frozen=True)
class EntryDetail:
    """What the excerpt needs of one returned entry."""

    question_spans: tuple[tuple[str, int, int], ...]
    sentences: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...]  # (text, (term, start, end)…)

    # The terms of the question and of each sentence: what a query matches of them is one set intersection (kept
    # with the decoded record, not stored).
    @cached_property
    def question_terms(self) -> frozenset[str]:
        return frozenset(term for term, _s, _e in self.question_spans)

    @cached_property
    def sentence_terms(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(term for term, _s, _e in spans) for _text, spans in self.sentences)


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
    details: list[bytes]  # pickled EntryDetail per entry number (MappedDetails once loaded)
    # The phrasings of each entry's question (question, variants) with a positive total idf, and their words,
    # numbered entry by entry, phrasing by phrasing: a word is said by a query holding its term or one of its concepts.
    phrase_tokens: dict[str, int]  # term or concept -> token number
    phrase_keys: np.ndarray  # sorted: entry number × len(phrase_tokens) + token, one per (entry, token, word);
    # int32 when every such key fits, else int64
    phrase_words: np.ndarray  # int32: the word of each key (ascending within a key)
    word_phrasing: np.ndarray  # each word's phrasing, numbered within its entry (the smallest unsigned type)
    word_weights: np.ndarray  # float64: each word's idf
    phrasing_masses: np.ndarray  # float64, one row per entry: each phrasing's total idf (its words' idfs added in
    # order), then infinity up to the longest row (no phrasing there: a share of 0)

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

    def holds(self, term: str, docnums: np.ndarray) -> np.ndarray:
        """For each entry number, whether the entry holds the term (in any field)."""
        span = self.term_slices.get(term)
        if span is None or not len(docnums):
            return np.zeros(len(docnums), dtype=bool)
        docs = self.post_docs[span[0]: span[1]]
        where = docs.searchsorted(docnums)
        where[where >= len(docs)] = len(docs) - 1
        return docs[where] == docnums

    def phrasing_precisions(self, docnums: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """For each entry number, the best share (by idf) of one of its phrasings that the query says: the idfs of
        the words said (by their term or a concept; a word said twice counts once) summed in the phrasing's word
        order, over the phrasing's total. `tokens`: the query's token numbers (`phrase_tokens`), sorted, unique,
        of the keys' type."""
        best = np.zeros(len(docnums))
        if not len(tokens) or not len(docnums) or not len(self.phrase_keys):
            return best
        docnums = np.asarray(docnums, dtype=self.phrase_keys.dtype)  # keys formed in the stored keys' type
        order = docnums.argsort()
        ascending = docnums[order]
        keys = (ascending[:, None] * max(1, len(self.phrase_tokens)) + tokens).ravel()  # sorted
        starts = self.phrase_keys.searchsorted(keys)
        counts = self.phrase_keys.searchsorted(keys, "right") - starts
        ends = counts.cumsum()
        found = int(ends[-1])
        if not found:
            return best
        # The words of every (entry, token) range found, with the rank of their entry among `ascending`, sorted
        # (entry by entry, phrasing by phrasing, in word order: an entry's words keep their place among the
        # others'), each once: a word said by several of the query's terms counts once.
        words = self.phrase_words[np.arange(found) + (starts - ends + counts).repeat(counts)]
        ranks = (np.arange(len(keys)) // len(tokens)).repeat(counts)
        words.sort()
        if found > 1:
            once = np.concatenate(([True], words[1:] != words[:-1]))
            words, ranks = words[once], ranks[once]
        # Each entry's phrasings side by side, one row per entry: the said words' idfs added in order from 0.0.
        width = self.phrasing_masses.shape[1]
        covered = np.bincount(ranks * width + self.word_phrasing[words], weights=self.word_weights[words],
                              minlength=len(ascending) * width)
        shares = covered.reshape(len(ascending), width) / self.phrasing_masses[ascending]
        best[order] = shares.max(axis=1)
        return best

    def detail(self, docnum: int) -> EntryDetail:
        cache = self.__dict__.get("_detail_cache")
        if cache is None:
            cache = self.__dict__.setdefault("_detail_cache", {})
        found = cache.get(docnum)
        if found is None:
            if len(cache) >= DETAIL_CACHE:  # the entries queries return: a few thousand at most stay decoded
                cache.clear()
            found = cache[docnum] = pickle.loads(self.details[docnum])
        return found

    def save(self, folder: Path) -> None:
        """The arrays as .npy files and the entries' details as one file of pickles (all memory-mapped by every
        worker: the OS shares their pages, and a detail is read only for an entry a query returns); the rest
        (term slices, vocabulary: small) pickled."""
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        offsets = np.zeros(len(self.details) + 1, dtype=np.int64)
        with open(folder / DETAILS_FILE, "wb") as handle:
            for number, blob in enumerate(self.details):
                handle.write(blob)
                offsets[number + 1] = offsets[number] + len(blob)
        np.save(folder / DETAIL_OFFSETS_FILE, offsets, allow_pickle=False)
        rest = dataclasses.replace(self, details=None, **{name: None for name in ARRAYS})
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
        tables.details = MappedDetails(folder)
        return tables


class MappedDetails:
    """The entries' pickled details, read from the memory-mapped file by entry number."""

    def __init__(self, folder: Path):
        self.offsets = np.load(folder / DETAIL_OFFSETS_FILE, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        with open(folder / DETAILS_FILE, "rb") as handle:
            self.data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if self.offsets[-1] else b""

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, docnum: int) -> bytes:
        return self.data[int(self.offsets[docnum]): int(self.offsets[docnum + 1])]


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def derive(faq: Faq) -> SearchTables:
    """Compute the tables of one FAQ version, analysing each text once.

    The entry postings are exactly what Whoosh's BM25F reads from an index of the same fields (`whoosh_postings`,
    a test compares them bit for bit): per field, a term's weight is the sum of its tokens' boosts stored as a
    32-bit float, a document's field length goes through Whoosh's one-byte length encoding, idf is
    log(N / (df + 1)) + 1 and the average length is the field's total over N.
    """

    entries = list(faq.entries)
    doc_ids = [entry.id for entry in entries]
    total = max(1, len(entries))
    # Sentences and variants repeat across entries (a platform's brands share their wording): analysed once, and
    # only what is needed of them kept (a 100× FAQ's tokens would not fit in memory).
    spans_memo: dict[str, tuple] = {}
    units_memo: dict[str, list] = {}
    words_memo: dict[str, dict[str, str]] = {}

    def spans_of(text: str) -> tuple:
        found = spans_memo.get(text)
        if found is None:
            found = spans_memo[text] = tuple(
                (term, start, end) for term, _b, _f, _p, start, end in analysis.index_tokens(text))
        return found

    def units_of(text: str, tokens: list | None = None) -> list:
        found = units_memo.get(text)
        if found is None:
            tokens = analysis.index_tokens(text) if tokens is None else tokens
            found = units_memo[text] = analysis.units_of([(term, first, pos) for term, _b, first, pos, _s, _e in tokens])
        return found

    statistics = {name: FieldStatistics(len(entries)) for name in FIELDS}
    vocabulary: dict[str, list] = {}
    phrasings: list[list] = []  # per entry: the units of its question and of each variant
    question_spans: list[tuple] = []
    sentences_by_doc = []
    for docnum, entry in enumerate(entries):
        fields = entry_fields(faq, entry)
        question = analysis.index_tokens(fields["question"])
        statistics["question"].add(docnum, question)
        for name in ("variants", "tags", "answer"):
            statistics[name].add(docnum, analysis.index_tokens(fields[name]))
        question_spans.append(tuple((term, start, end) for term, _b, _f, _p, start, end in question))
        variants = faq.variants_of(entry, strict=True)
        phrasings.append([units_of(entry.question, question), *(units_of(text) for text in variants)])
        # Passages: the answer's sentences.
        sentences = tuple((text, spans_of(text)) for text in split_sentences(entry.answer_plain))
        sentences_by_doc.append(sentences or (("", ()),))  # every entry owns at least one passage
        # The words of all the fields and the question, in that order, read piece by piece (sentences and variants
        # repeat): the same words in the same order as the whole text, since pieces are cut only at white space.
        pieces = [piece for name in FIELDS for piece in split_sentences(fields[name])] + [entry.question]
        _count_words(vocabulary, [_surface_firsts(words_memo, piece) for piece in pieces])
    merged, known_terms = _entry_postings(statistics, len(entries))
    term_slices, post_docs, post_scores = _flatten(merged)

    first_passage = np.zeros(len(entries) + 1, dtype=np.int32)
    passage_terms: list[Counter] = []
    for docnum, sentences in enumerate(sentences_by_doc):
        first_passage[docnum] = len(passage_terms)
        for _text, spans in sentences:
            passage_terms.append(Counter(term for term, _s, _e in spans))
    first_passage[len(entries)] = len(passage_terms)
    passage_slices, passage_docs, passage_scores = _flatten(_passage_bm25(passage_terms))

    # The phrasings' words and the (entry, token, word) pairs, in flat typed arrays (a 100× FAQ has millions).
    phrase_tokens: dict[str, int] = {}
    pair_entry, pair_token, pair_word = array("i"), array("i"), array("i")
    word_weights, word_phrasing = array("d"), array("i")
    masses_by_entry: list[list[float]] = []
    # Terms and units repeat over the phrasings: each term's idf and each unit's token numbers (in the order of its
    # sorted term and concepts, numbered on first sight) looked up once.
    idf_of = {term: _idf(term_slices, term, total) for term in term_slices}
    tokens_of: dict[tuple[str, frozenset[str]], tuple[int, ...]] = {}
    for docnum, units_by_phrasing in enumerate(phrasings):
        masses: list[float] = []
        for units in units_by_phrasing:
            unit_weights = tuple([idf_of.get(term, 0.0) for term, _groups in units])
            mass = sum(unit_weights)
            if not mass:
                continue
            for unit, weight in zip(units, unit_weights):
                word = len(word_weights)
                tokens = tokens_of.get(unit)
                if tokens is None:
                    tokens = tokens_of[unit] = tuple(
                        phrase_tokens.setdefault(accepted, len(phrase_tokens)) for accepted in sorted({unit[0], *unit[1]}))
                for token in tokens:
                    pair_entry.append(docnum)
                    pair_token.append(token)
                    pair_word.append(word)
                word_weights.append(weight)
                word_phrasing.append(len(masses))
            masses.append(mass)
        masses_by_entry.append(masses)
    phrasing_masses = np.full((len(entries), max(map(len, masses_by_entry), default=0) or 1), np.inf)
    for docnum, masses in enumerate(masses_by_entry):
        phrasing_masses[docnum, : len(masses)] = masses
    keys = np.frombuffer(pair_entry, dtype=np.int32).astype(np.int64) * max(1, len(phrase_tokens))
    keys += np.frombuffer(pair_token, dtype=np.int32)
    words = np.frombuffer(pair_word, dtype=np.int32)
    order = np.lexsort((words, keys))
    del pair_entry, pair_token
    if len(entries) * max(1, len(phrase_tokens)) < 2**31:  # every key a query can form fits: half the size
        keys = keys.astype(np.int32)

    details = [
        pickle.dumps(EntryDetail(question_spans=question_spans[docnum], sentences=sentences_by_doc[docnum]),
                     protocol=pickle.HIGHEST_PROTOCOL)
        for docnum in range(len(entries))
    ]
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
        phrase_tokens=phrase_tokens,
        phrase_keys=keys[order],
        phrase_words=words[order],
        word_phrasing=np.frombuffer(word_phrasing, dtype=np.int32).astype(np.min_scalar_type(phrasing_masses.shape[1])),
        word_weights=np.frombuffer(word_weights, dtype=np.float64).copy(),
        phrasing_masses=phrasing_masses,
    )


def _surface_firsts(memo: dict[str, dict[str, str]], text: str) -> dict[str, str]:
    """Folded word -> its first spelling as typed, for the alphabetic words of a text (memoised by text)."""
    found = memo.get(text)
    if found is None:
        found = memo[text] = {}
        for original in analysis.surface_originals(text):
            folded = analysis.fold(original)
            if folded not in found and folded.isalpha():
                found[folded] = original
    return found


def _count_words(vocabulary: dict[str, list], pieces: list[dict[str, str]]) -> None:
    """Unstemmed words for typo correction: folded form -> [a spelling with its accents, number of documents]."""
    firsts: dict[str, str] = {}
    for piece in pieces:
        for folded, original in piece.items():
            firsts.setdefault(folded, original)
    for folded, original in firsts.items():
        slot = vocabulary.setdefault(folded, [original.lower(), 0])
        slot[1] += 1


class FieldStatistics:
    """One field's analysed terms over the entries, as Whoosh's writer counts them."""

    def __init__(self, count: int):
        self.terms: list[str] = []
        self.docs: list[int] = []
        self.weights: list[float] = []
        self.lengths = np.zeros(count, dtype=np.int64)

    def add(self, docnum: int, tokens: list) -> None:
        summed: dict[str, float] = {}
        for term, boost, *_rest in tokens:
            summed[term] = summed.get(term, 0.0) + boost  # in token order, from 0.0, as Whoosh sums boosts
        self.lengths[docnum] = len(tokens)
        self.terms.extend(summed)
        self.docs.extend([docnum] * len(summed))
        self.weights.extend(summed.values())


def _entry_postings(statistics: dict[str, FieldStatistics], count: int) -> tuple[dict[str, dict[int, float]], set[str]]:
    """term -> {entry number: weighted BM25F contribution summed over the fields}, in Whoosh's lexicon order."""
    from whoosh.util.numeric import byte_to_length, length_to_byte

    per_field = []
    known: set[str] = set()
    for name in FIELDS:
        field = statistics[name]
        terms, lengths = field.terms, field.lengths
        average = (int(lengths.sum()) / (count or 1)) or 1
        stored_length = {int(n): byte_to_length(length_to_byte(int(n))) for n in np.unique(lengths)}
        doc_array = np.asarray(field.docs, dtype=np.int64)
        tf = np.asarray(field.weights, dtype=np.float64).astype(np.float32).astype(np.float64)  # Whoosh stores float32
        fl = np.asarray([stored_length[int(n)] for n in lengths], dtype=np.float64)[doc_array] if len(doc_array) else tf
        names = sorted(set(terms), key=str.encode)  # Whoosh's lexicon order (UTF-8 bytes)
        number = {term: i for i, term in enumerate(names)}
        term_array = np.asarray([number[t] for t in terms], dtype=np.int64)
        frequency = np.bincount(term_array, minlength=len(names))
        idf = np.asarray([math.log(count / (int(n) + 1)) + 1 for n in frequency], dtype=np.float64)
        b = FIELD_B.get(f"{name}_B", BM25_B)
        partial = scoring.bm25(idf[term_array], tf, fl, average, b, BM25_K1)
        per_field.append((names, term_array, doc_array, FIELD_BOOSTS[name] * partial))
        known.update(names)
    merged: dict[str, dict[int, float]] = {}
    for names, term_array, doc_array, contribution in per_field:
        order = np.lexsort((doc_array, term_array))
        starts = np.searchsorted(term_array[order], np.arange(len(names) + 1))
        sorted_docs = doc_array[order].tolist()
        sorted_scores = contribution[order].tolist()
        for i, term in enumerate(names):
            slot = merged.setdefault(term, {})
            for position in range(starts[i], starts[i + 1]):
                docnum = sorted_docs[position]
                slot[docnum] = slot.get(docnum, 0.0) + sorted_scores[position]
    return merged, known


def whoosh_postings(index) -> tuple[dict[str, dict[int, float]], set[str]]:
    """The same entry postings read from a Whoosh index of the fields (the reference `derive` must equal)."""
    weighting = scoring.BM25F(B=BM25_B, K1=BM25_K1, **FIELD_B)
    merged: dict[str, dict[int, float]] = {}
    known_terms = set()
    with index.searcher(weighting=weighting) as searcher:
        reader = searcher.reader()
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
    return merged, known_terms


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
