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
from faqbot.index import SearchService, analysis  # noqa: E402


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
            terms = [service._known_form(t) for t in analysis.analyze(correction.text)]
            units = [(service._known_form(t), g) for t, g in analysis.analyze_units(correction.text)]
            print("   terms:", " ".join(terms))
            bm25 = dict(service._score(terms, 50))
            for entry, score in service._ranked(terms, units, args.top):
                precision = service._question_precision(entry.id, set(terms))
                print(f"   {score:7.3f}  bm25={bm25.get(entry.id, 0):6.2f} prec={precision:.2f}  {entry.id}: {entry.question[:80]}")
        service.close()


if __name__ == "__main__":
    main()
