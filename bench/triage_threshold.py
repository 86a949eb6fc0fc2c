"""Choose TWO_CHOICES_BELOW: for each threshold, how many suggestions would offer two reasons, how often the single
suggestion above it is right, and how often the right reason is among the two offered below it.

    .venv/bin/python bench/triage_threshold.py

Measured on the bank's out-of-fold predictions (the model never saw the message) and on the regression sets.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from faqbot.triage import training  # noqa: E402
from faqbot.triage.examples import load_bank  # noqa: E402

suggest_module = importlib.import_module("faqbot.triage.suggest")


def table(rows: list[tuple[str, list[tuple[str, float]]]]) -> dict:
    """rows: (wanted, ranked [(reason, p), ...]) after the rule overrides."""
    out = {}
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        sure = [(w, r) for w, r in rows if r[0][1] >= threshold]
        unsure = [(w, r) for w, r in rows if r[0][1] < threshold]
        out[str(threshold)] = {
            "two_offered": f"{len(unsure)}/{len(rows)}",
            "one_right": round(sum(r[0][0] == w for w, r in sure) / max(1, len(sure)), 3),
            "below_top1_right": round(sum(r[0][0] == w for w, r in unsure) / max(1, len(unsure)), 3),
            "below_top2_right": round(sum(w in (r[0][0], r[1][0]) for w, r in unsure) / max(1, len(unsure)), 3),
        }
    return out


def main() -> None:
    bank = load_bank()
    _model, report = training.train(bank)
    rows = []
    for example, probabilities in zip(bank.examples, report.oof_probabilities):
        probabilities = dict(probabilities)
        concepts = {k[2:] for k in suggest_module.featurize(example.message, _model.protected)["k"]}
        suggest_module._override(probabilities, concepts)
        rows.append((example.reason, sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)))
    print(json.dumps({"bank out-of-fold": table(rows)}, indent=1))
    from triage_model_experiment import external_sets

    rows = []
    for cases in external_sets().values():
        for want, message in cases:
            result = suggest_module.suggest(message)
            rows.append((want, [(result.reason, result.confidence), *result.alternatives]))
    print(json.dumps({"regression sets": table(rows)}, indent=1))


if __name__ == "__main__":
    main()
