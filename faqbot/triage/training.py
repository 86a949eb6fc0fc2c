"""Fit the reason classifier on the example bank (scikit-learn, imported only here, once per bank).

    python -m faqbot.triage.training [bank.yaml] [model.npz]     # train, report cross-validated accuracy, save

The fitted arrays go into a `ReasonModel` (numpy only at run time). Calibration: the temperature that minimises
the log-loss of out-of-fold predictions (5 folds stratified by reason), so a confidence of 0.8 means right about
8 times in 10 on messages the model has not seen.
"""
from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .examples import DEFAULT_BANK, Example, ExampleBank, load_bank
from .model import BLOCKS, ReasonModel

# Word and character blocks carry the message; the rules' concepts are a strong but partial signal.
DEFAULT_BLOCK_WEIGHTS = {"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.6}
DEFAULT_C = 10.0  # little regularisation: 300 short messages, the vocabulary of each reason is sparse
FOLDS = 5


@dataclass
class TrainingReport:
    oof_accuracy: float  # out-of-fold accuracy on the bank
    temperature: float
    oof_predictions: list[tuple[str, str, float]] = field(default_factory=list)  # (wanted, got, confidence)
    oof_probabilities: list[dict[str, float]] = field(default_factory=list)  # calibrated, per held-out example


def _analyse_all(examples: Sequence[Example], featurize) -> list[dict[str, list[str]]]:
    return [featurize(example.message) for example in examples]


def _fit_arrays(analysed, labels, classes, block_weights, c_value):
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    vocabulary: dict[str, int] = {}
    document_frequency: Counter[str] = Counter()
    for blocks in analysed:
        present = set()
        for block in BLOCKS:
            present.update(blocks.get(block, ()))
        document_frequency.update(present)
        for feature in present:
            vocabulary.setdefault(feature, len(vocabulary))
    n = len(analysed)
    idf = np.ones(len(vocabulary))
    for feature, i in vocabulary.items():
        idf[i] = math.log((1 + n) / (1 + document_frequency[feature])) + 1.0
    shell = ReasonModel(tuple(classes), vocabulary, idf, np.zeros((len(vocabulary), len(classes))),
                        np.zeros(len(classes)), dict(block_weights), 1.0, "")
    rows, cols, vals = [], [], []
    for row, blocks in enumerate(analysed):
        idx, val = shell.vectorize(blocks)
        rows.extend([row] * len(idx))
        cols.extend(idx.tolist())
        vals.extend(val.tolist())
    matrix = csr_matrix((vals, (rows, cols)), shape=(n, len(vocabulary)))
    target = np.array([classes.index(label) for label in labels])
    from threadpoolctl import threadpool_limits

    classifier = LogisticRegression(C=c_value, solver="newton-cg", max_iter=1000)
    # One BLAS thread: on a busy 2-core machine, the default thread pool made a 0.1 s fit take 10 s.
    with threadpool_limits(limits=1):
        classifier.fit(matrix, target)
    shell.coef = classifier.coef_.T.copy()
    shell.intercept = classifier.intercept_.copy()
    return shell


def _folds(labels: Sequence[str], k: int) -> list[list[int]]:
    """Stratified folds, deterministic: the i-th message of each reason goes to fold i mod k."""
    folds: list[list[int]] = [[] for _ in range(k)]
    seen: Counter[str] = Counter()
    for i, label in enumerate(labels):
        folds[seen[label] % k].append(i)
        seen[label] += 1
    return folds


def _best_temperature(logits: np.ndarray, target: np.ndarray) -> float:
    best, best_loss = 1.0, float("inf")
    for temperature in np.exp(np.linspace(math.log(0.2), math.log(5.0), 81)):
        scaled = logits / temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_prob = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_prob[np.arange(len(target)), target].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def default_featurizer():
    """The production reading: `suggest.featurize` with the real French words that must not be corrected."""
    from .suggest import featurize, protected_words
    from .text import french_words

    protected = protected_words(french_words())
    return (lambda text: featurize(text, protected)), protected


def train(
    bank: ExampleBank,
    featurize=None,
    *,
    block_weights: dict[str, float] | None = None,
    c_value: float = DEFAULT_C,
    folds: int = FOLDS,
    digest: str = "",
) -> tuple[ReasonModel, TrainingReport]:
    """Fit on the whole bank; calibrate on out-of-fold logits. `featurize(text)`: `default_featurizer()` unless given."""
    protected: frozenset[str] = frozenset()
    if featurize is None:
        featurize, protected = default_featurizer()
    weights = dict(block_weights or DEFAULT_BLOCK_WEIGHTS)
    examples = list(bank.examples)
    labels = [example.reason for example in examples]
    classes = sorted(set(labels))
    analysed = _analyse_all(examples, featurize)
    oof = np.zeros((len(examples), len(classes)))
    for fold in _folds(labels, folds):
        held = set(fold)
        train_idx = [i for i in range(len(examples)) if i not in held]
        model = _fit_arrays([analysed[i] for i in train_idx], [labels[i] for i in train_idx], classes, weights, c_value)
        for i in fold:
            oof[i] = model.logits(analysed[i])
    target = np.array([classes.index(label) for label in labels])
    temperature = _best_temperature(oof, target)
    predictions, probabilities = [], []
    for i, label in enumerate(labels):
        scaled = oof[i] / temperature
        prob = np.exp(scaled - scaled.max())
        prob /= prob.sum()
        best = int(prob.argmax())
        predictions.append((label, classes[best], float(prob[best])))
        probabilities.append(dict(zip(classes, prob.tolist())))
    accuracy = sum(want == got for want, got, _ in predictions) / len(predictions)
    model = _fit_arrays(analysed, labels, classes, weights, c_value)
    model.temperature = temperature
    model.digest = digest
    model.protected = protected
    return model, TrainingReport(round(accuracy, 3), round(temperature, 3), predictions, probabilities)


def main(argv: list[str]) -> int:
    """`training.py [bank] [out.npz] [key]`: train, print the cross-validated accuracy, save when asked."""
    from pathlib import Path

    from .classifier import model_key
    from .suggest import features_key

    bank_path = Path(argv[0]) if argv else DEFAULT_BANK
    bank = load_bank(bank_path)
    key = argv[2] if len(argv) > 2 else model_key(bank_path.read_bytes(), features_key())
    model, report = train(bank, digest=key)
    print(f"{len(bank.examples)} exemples, précision hors pli {report.oof_accuracy}, température {report.temperature}")
    if len(argv) > 1:
        model.save(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
