"""Choose the reason classifier: cross-validated accuracy on the example bank, then accuracy on the regression sets.

    .venv/bin/python bench/triage_model_experiment.py [variant ...]

Variants: block weights / C of the logistic regression, a calibrated linear SVM, nearest examples (cosine over
the same features), and the cue rules alone. The regression sets (bench/triage_set_{a,b,c}.yaml, the messages of
tests/test_triage_suggest.py, ../shared/eval/triage-dev*.yaml) are only measured, never trained on.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from faqbot.triage.examples import load_bank  # noqa: E402
from faqbot.triage.suggest import featurize  # noqa: E402
from faqbot.triage import training  # noqa: E402
import importlib  # noqa: E402

suggest_module = importlib.import_module("faqbot.triage.suggest")


def external_sets() -> dict[str, list[tuple[str, str]]]:
    sets = {}
    for name in "abc":
        sets[name] = [(c["reason"], c["message"]) for c in yaml.safe_load((ROOT / "bench" / f"triage_set_{name}.yaml").read_text())]
    from test_triage_suggest import MESSAGES

    sets["tests"] = list(MESSAGES)
    for name in ("triage-dev", "triage-dev-2"):
        path = ROOT.parent / "shared" / "eval" / f"{name}.yaml"  # ../shared beside the checkout
        sets[name] = [(c["reason"], c["message"]) for c in yaml.safe_load(path.read_text())]
    return sets


def evaluate(predict, sets):
    out = {}
    for name, cases in sets.items():
        good = sum(predict(message) == want for want, message in cases)
        out[name] = round(good / len(cases), 3)
    return out


VARIANTS = {
    "lr": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.6}, c_value=10.0),
    "lr-t03": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.3}, c_value=10.0),
    "lr-k07": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.7, "t": 0.3}, c_value=10.0),
    "lr-k02": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.2, "t": 0.3}, c_value=10.0),
    "lr-no-concepts": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.0, "t": 0.3}, c_value=10.0),
    "lr-k1": dict(block_weights={"w": 1.0, "c": 1.0, "k": 1.0, "t": 0.3}, c_value=10.0),
    "lr-k15": dict(block_weights={"w": 1.0, "c": 1.0, "k": 1.5, "t": 0.3}, c_value=10.0),
    "lr-no-thesaurus": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.0}, c_value=10.0),
    "lr-t1": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 1.0}, c_value=10.0),
    "lr-C3": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.3}, c_value=3.0),
    "lr-C30": dict(block_weights={"w": 1.0, "c": 1.0, "k": 0.3, "t": 0.3}, c_value=30.0),
    "lr-words": dict(block_weights={"w": 1.0, "c": 0.0, "k": 0.3, "t": 0.3}, c_value=10.0),
    "lr-chars": dict(block_weights={"w": 0.0, "c": 1.0, "k": 0.3, "t": 0.3}, c_value=10.0),
}


def main(argv):
    bank = load_bank()
    sets = external_sets()
    names = argv or list(VARIANTS)
    if "rules" in names:
        print(json.dumps({"variant": "rules", "bank": round(sum(suggest_module.rules_reason(e.message) == e.reason for e in bank.examples) / len(bank.examples), 3), **evaluate(suggest_module.rules_reason, sets)}))
        names = [n for n in names if n != "rules"]
    for name in names:
        started = time.perf_counter()
        model, report = training.train(bank, **VARIANTS[name])
        took = time.perf_counter() - started

        def predict(message):
            return suggest_module.suggest(message, model=model).reason  # with the rule overrides

        overridden = 0
        for example, probs in zip(bank.examples, report.oof_probabilities):
            probs = dict(probs)
            concepts = {k[2:] for k in featurize(example.message, model.protected)["k"]}
            suggest_module._override(probs, concepts)
            overridden += max(probs, key=probs.get) == example.reason

        styles = Counter(); style_good = Counter()
        for example, (want, got, _c) in zip(bank.examples, report.oof_predictions):
            styles[example.style] += 1; style_good[example.style] += want == got
        print(json.dumps({"variant": name, "bank_oof": report.oof_accuracy,
                          "bank_oof_rules": round(overridden / len(bank.examples), 3), "T": report.temperature,
                          "train_s": round(took, 1), **evaluate(predict, sets),
                          "oof_styles": {s: round(style_good[s] / styles[s], 2) for s in styles}}))


if __name__ == "__main__":
    main(sys.argv[1:])


def knn_oof(bank, weights, k=5):
    """Nearest examples: cosine over the same TF-IDF blocks, the k most similar vote with their similarity."""
    from faqbot.triage.training import _fit_arrays, _folds

    examples = list(bank.examples)
    labels = [e.reason for e in examples]
    classes = sorted(set(labels))
    featurize_text, _protected = training.default_featurizer()
    analysed = [featurize_text(e.message) for e in examples]
    good = 0
    for fold in _folds(labels, training.FOLDS):
        held = set(fold)
        train_idx = [i for i in range(len(examples)) if i not in held]
        shell = _fit_arrays([analysed[i] for i in train_idx], [labels[i] for i in train_idx], classes, weights, 1.0)
        vectors = np.zeros((len(train_idx), len(shell.vocabulary)))
        for row, i in enumerate(train_idx):
            idx, val = shell.vectorize(analysed[i]); vectors[row, idx] = val
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
        for i in fold:
            idx, val = shell.vectorize(analysed[i])
            q = np.zeros(len(shell.vocabulary)); q[idx] = val; q /= np.linalg.norm(q) + 1e-9
            sims = vectors @ q
            votes = Counter()
            for j in np.argsort(-sims)[:k]:
                votes[labels[train_idx[j]]] += sims[j]
            good += votes.most_common(1)[0][0] == labels[i]
    return round(good / len(examples), 3)


def svm_oof(bank, weights):
    """A linear SVM (hinge loss) over the same features, same folds."""
    from sklearn.svm import LinearSVC
    from faqbot.triage.training import _fit_arrays, _folds

    examples = list(bank.examples)
    labels = [e.reason for e in examples]
    classes = sorted(set(labels))
    featurize_text, _protected = training.default_featurizer()
    analysed = [featurize_text(e.message) for e in examples]
    good = 0
    for fold in _folds(labels, training.FOLDS):
        held = set(fold)
        train_idx = [i for i in range(len(examples)) if i not in held]
        shell = _fit_arrays([analysed[i] for i in train_idx], [labels[i] for i in train_idx], classes, weights, 1.0)
        X = np.zeros((len(train_idx), len(shell.vocabulary)))
        for row, i in enumerate(train_idx):
            idx, val = shell.vectorize(analysed[i]); X[row, idx] = val
        svm = LinearSVC(C=1.0).fit(X, [labels[i] for i in train_idx])
        for i in fold:
            idx, val = shell.vectorize(analysed[i]); q = np.zeros((1, len(shell.vocabulary))); q[0, idx] = val
            good += svm.predict(q)[0] == labels[i]
    return round(good / len(examples), 3)


def confusions(name="lr"):
    bank = load_bank()
    model, report = training.train(bank, **VARIANTS[name])
    pairs = Counter((w, g) for w, g, _ in report.oof_predictions if w != g)
    print(pairs.most_common(15))
    buckets = Counter(); right = Counter()
    for w, g, c in report.oof_predictions:
        b = min(int(c * 10), 9); buckets[b] += 1; right[b] += w == g
    print("reliability:", {f"{b/10:.1f}": f"{right[b]}/{buckets[b]}" for b in sorted(buckets)})
