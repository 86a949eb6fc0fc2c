"""Relevance of the search service on a case file, in-process (no web app needed), scored like evalkit.

    .venv/bin/python bench/search_relevance.py ../shared/eval/search-dev.yaml [--faq data/faq.yaml] [-v]

Same hit rule as ../shared/eval/evalkit.py (its `fold` and `first_hit` are imported), so the figures match
`evalkit.py search`, which goes through /api/search.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "shared" / "eval"))

import yaml  # noqa: E402
from evalkit import first_hit  # noqa: E402

from faqbot.content import load_faq  # noqa: E402
from faqbot.index import SearchService  # noqa: E402


def evaluate(service: SearchService, cases: list[dict], verbose: bool = False) -> dict:
    ranks, latencies = [], []
    for case in cases:
        started = time.perf_counter()
        outcome = service.search(case["q"], limit=10)
        latencies.append(time.perf_counter() - started)
        results = [{"question": h.entry.question, "answer": h.entry.answer_plain} for h in outcome.hits]
        rank = first_hit(results, case["expect"])
        ranks.append(rank)
        if verbose and rank != 1:
            top = outcome.hits[0].entry.id if outcome.hits else "-"
            print(f"miss rank={rank} q={case['q']!r} corrected={outcome.corrected_query!r} top={top}")
    n = len(cases)
    at = lambda k: sum(1 for r in ranks if r is not None and r <= k) / n  # noqa: E731
    latencies.sort()
    return {
        "cases": n,
        "recall@1": round(at(1), 3),
        "recall@3": round(at(3), 3),
        "recall@10": round(at(10), 3),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 3),
        "p50_ms": round(1000 * latencies[n // 2], 2),
        "p95_ms": round(1000 * latencies[min(n - 1, int(n * 0.95))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases")
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    faq = load_faq(args.faq)
    cases = yaml.safe_load(Path(args.cases).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        service = SearchService(faq, Path(folder))
        print(json.dumps({"entries": len(faq.entries), **evaluate(service, cases, args.v)}))
        service.close()


if __name__ == "__main__":
    main()
