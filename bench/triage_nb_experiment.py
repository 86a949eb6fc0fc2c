"""Would a small statistical model help the rule cues? Multinomial naive Bayes over 6-letter stems of the normalized
text, trained on the test messages (tests/test_triage_suggest.py) and the FAQ entries linked to a reason (question,
variants), measured on the bench sets alone and as a fallback when no cue speaks (rules below MIN_SCORE).

    .venv/bin/python bench/triage_nb_experiment.py a bench/triage_set_c.yaml dev
"""
from __future__ import annotations

import importlib
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from triage_bench import load_set  # noqa: E402

from faqbot.content import load_faq  # noqa: E402
from faqbot.triage import cues  # noqa: E402

S = importlib.import_module("faqbot.triage.suggest")
STOP = set("le la les de du des un une et a au aux je j ai me m mon ma mes pour que qui ce c est en sur pas ne il on vous nous se y".split())


def stems(text: str) -> list[str]:
    return [t[:6] for t in S.normalize(text).split() if t not in STOP]


def train(examples):
    counts, docs, vocab = defaultdict(Counter), Counter(), set()
    for reason, text in examples:
        words = stems(text)
        counts[reason].update(words)
        docs[reason] += 1
        vocab.update(words)
    return counts, docs, vocab


def classify(model, text):
    counts, docs, vocab = model
    total = sum(docs.values())
    best, best_lp = "autre", -math.inf
    for reason in docs:
        size = sum(counts[reason].values())
        lp = math.log(docs[reason] / total)
        for w in stems(text):
            if w in vocab:
                lp += math.log((counts[reason][w] + 1) / (size + len(vocab)))
        if lp > best_lp:
            best, best_lp = reason, lp
    return best


def main(names):
    from test_triage_suggest import MESSAGES

    faq = load_faq(ROOT / "data" / "faq.yaml")
    examples = list(MESSAGES)
    for entry in faq.entries:
        if entry.contact_reason:
            examples.append((entry.contact_reason, entry.question))
            examples += [(entry.contact_reason, v) for v in entry.variants]
    model = train(examples)
    for name in names:
        cases = load_set(name)
        nb = rules = hybrid = 0
        for case in cases:
            want, text = case["reason"], case["message"]
            r = S.suggest(text)
            n = classify(model, text)
            nb += n == want
            rules += r.reason == want
            weak = max(r.scores.values()) < cues.MIN_SCORE
            hybrid += (n if weak else r.reason) == want
        k = len(cases)
        print(f"{name}: rules {rules / k:.3f}  naive-bayes {nb / k:.3f}  rules+NB-when-no-cue {hybrid / k:.3f}  (n={k})")


if __name__ == "__main__":
    main(sys.argv[1:])
