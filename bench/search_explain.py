"""Why a query ranks what it ranks: correction, analysed terms, and the top entries with their score factors.

    .venv/bin/python bench/search_explain.py "ma question" [--top 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faqbot.content import load_faq  # noqa: E402
import numpy as np  # noqa: E402

from faqbot.index import SearchService  # noqa: E402
from faqbot.index import query as query_analysis  # noqa: E402
from faqbot.index.service import term_weight  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("queries", nargs="+")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    args = parser.parse_args()
    faq = load_faq(args.faq)
    with tempfile.TemporaryDirectory() as folder:
        service = SearchService(faq, Path(folder))
        for query in args.queries:
            correction = service.corrector.correct(query)
            print(f"\n== {query!r}" + (f" -> {correction.text!r}" if correction.changed else ""))
            parsed = query_analysis.parse(correction.text)
            if parsed.story:
                print("   story: asking sentence(s) weigh 1, narrative", query_analysis.NARRATIVE_WEIGHT)
            print("   terms:", " ".join(f"{t}({w:g})" for t, w, _n in parsed.terms))
            weights = {}
            for term, weight, count in parsed.terms:
                known = service._known_form(term)
                weights[known] = max(weights.get(known, 0.0), weight * term_weight(known, count))
            units = {service._known_form(t): (g, w) for t, g, w in parsed.units}
            entry_scores = service._entry_scores(weights)
            passages = service._passage_scores(weights)
            best = np.maximum.reduceat(passages, service.tables.first_passage[:-1])
            for docnum, score, _passage in service._ranked(weights, units, args.top):
                precision = service._question_precision(docnum, set(weights))
                entry = service._entries[docnum]
                print(f"   {score:7.3f}  bm25f={entry_scores[docnum]:6.2f} passage={best[docnum]:5.2f} "
                      f"prec={precision:.2f}  {entry.id}: {entry.question[:70]}")
        service.close()


if __name__ == "__main__":
    main()
