"""The reason classifier: a linear model over words, character n-grams and the rules' concepts, run with numpy.

Features of a message (`analyse`), by block:
- `w`: words and word pairs of each clause, after folding and SMS expansion; a word within three words after a
  negation ("pas", "jamais", "aucun"…) is also a `n:` feature, so « pas reçu » and « reçu » differ;
- `c`: character 3–5-grams inside words: robust to the spellings people type (« rembourssement », « debiter »);
- `k`: the concepts the cue rules find (who cancelled, money taken, confirmation missing…);
- `t`: the domain thesaurus's concepts named in each clause (« carton rose » and « permis » alike), shared with search.
Each block is TF-IDF weighted (sublinear counts), scaled to unit length, then weighted; the model is a multinomial
logistic regression whose probabilities are calibrated by one temperature fitted on out-of-fold predictions.

Training (`faqbot.triage.training`, scikit-learn) happens once per example bank; this module only loads the
arrays and scores, so a web worker never imports scikit-learn.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NEGATIONS = frozenset("pas jamais rien aucun aucune ni sans plus personne non".split())
CLAUSE_BREAKS = frozenset("mais et alors pourtant car donc puis sauf cependant or".split())
_CLAUSES = re.compile(r"[.,;:!?…\n()]+")


def clauses(text: str) -> list[str]:
    """Split on punctuation: a negation never reaches past the end of its clause."""
    return [part for part in _CLAUSES.split(text or "") if part.strip()]


# How negation is marked (chosen on the bank's out-of-fold accuracy, see bench/RESULTS-triage.md): "replace" reads a
# negated word only as `n:word`; "add" keeps `w:word` too. Scope: the three words after the negation, within the clause.
NEGATION_MODE = "replace"
NEGATION_SCOPE = 3
NEGATED_CHARS = False  # whether a negated word still gives its character n-grams


def clause_features(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Word and character features of one clause's tokens, negated words marked."""
    words: list[str] = []
    chars: list[str] = []
    negated = 0
    for i, token in enumerate(tokens):
        if token in CLAUSE_BREAKS:
            negated = 0
        if i:
            words.append(f"w:{tokens[i - 1]} {token}")
        if negated:
            words.append(f"n:{token}")
            negated -= 1
            if NEGATION_MODE == "add":
                words.append(f"w:{token}")
            if NEGATED_CHARS:
                chars.extend(char_ngrams(token))
        else:
            words.append(f"w:{token}")
            chars.extend(char_ngrams(token))
        if token in NEGATIONS:
            negated = NEGATION_SCOPE
    return words, chars


def char_ngrams(token: str) -> list[str]:
    padded = f" {token} "
    return [f"c:{padded[i:i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1)]


Normalizer = Callable[[str], str]
ConceptFinder = Callable[[str], Iterable[str]]


def analyse(
    text: str, normalize: Normalizer, concepts: ConceptFinder, topics: ConceptFinder | None = None
) -> dict[str, list[str]]:
    """The features of `text` by block (see the module docstring)."""
    words: list[str] = []
    chars: list[str] = []
    named: list[str] = []
    parts = clauses(text)
    normalized_clauses = [normalize(part) for part in parts]
    if topics is not None:
        for part in parts:
            named.extend(f"t:{concept}" for concept in topics(part))
    for clause in normalized_clauses:
        clause_words, clause_chars = clause_features(clause.split())
        words.extend(clause_words)
        chars.extend(clause_chars)
    whole = " ".join(part for part in normalized_clauses if part)
    return {"w": words, "c": chars, "k": [f"k:{name}" for name in concepts(whole)], "t": named}


BLOCKS = ("w", "c", "k", "t")


@dataclass
class ReasonModel:
    """A fitted model: feature vocabulary with IDF weights, coefficients per reason, a calibration temperature."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_classes)
    intercept: np.ndarray  # (n_classes,)
    block_weights: dict[str, float]
    temperature: float
    digest: str  # the key of the bank and feature code it was trained on
    protected: frozenset[str] = frozenset()  # real words the reading must not "correct" (see suggest.protected_words)

    def vectorize(self, blocks: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of the message's non-zero features (TF-IDF, unit length per block, weighted)."""
        indices: list[int] = []
        values: list[float] = []
        for block in BLOCKS:
            counts = Counter(f for f in blocks.get(block, ()) if f in self.vocabulary)
            if not counts:
                continue
            idx = [self.vocabulary[f] for f in counts]
            val = np.array([1.0 + math.log(n) for n in counts.values()]) * self.idf[idx]
            norm = float(np.linalg.norm(val))
            if norm:
                indices.extend(idx)
                values.extend((val / norm * self.block_weights.get(block, 1.0)).tolist())
        return np.array(indices, dtype=np.int64), np.array(values, dtype=np.float64)

    def logits(self, blocks: dict[str, list[str]]) -> np.ndarray:
        idx, val = self.vectorize(blocks)
        if not len(idx):
            return self.intercept.astype(np.float64).copy()
        return val @ self.coef[idx] + self.intercept

    def probabilities(self, blocks: dict[str, list[str]]) -> dict[str, float]:
        """Calibrated probability of each reason."""
        return dict(zip(self.classes, softmax(self.logits(blocks) / self.temperature).tolist()))

    def save(self, path: Path) -> None:
        """Write the model as one .npz (written aside, then renamed: a reader never sees half a file)."""
        features = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{id(self)}.tmp")
        with open(partial, "wb") as handle:
            np.savez_compressed(
                handle,
                classes=np.array(self.classes), features=np.array(features), idf=self.idf.astype(np.float32),
                coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                blocks=np.array(list(self.block_weights)), block_weights=np.array(list(self.block_weights.values())),
                temperature=np.array(self.temperature), digest=np.array(self.digest),
                protected=np.array(sorted(self.protected)),
            )
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> ReasonModel:
        with np.load(path, allow_pickle=False) as data:
            features = data["features"].tolist()
            return cls(
                classes=tuple(data["classes"].tolist()),
                vocabulary={feature: i for i, feature in enumerate(features)},
                idf=data["idf"].astype(np.float64),
                coef=data["coef"].astype(np.float64),
                intercept=data["intercept"].astype(np.float64),
                block_weights=dict(zip(data["blocks"].tolist(), data["block_weights"].tolist())),
                temperature=float(data["temperature"]),
                digest=str(data["digest"]),
                protected=frozenset(data["protected"].tolist()),
            )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
