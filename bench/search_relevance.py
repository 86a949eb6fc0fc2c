"""Relevance of the search service on a case file, in-process (no web app needed), scored like evalkit.

    .venv/bin/python bench/search_relevance.py ../shared/eval/search-dev.yaml [--faq data/faq.yaml] [-v]
    .venv/bin/python bench/search_relevance.py ../shared/eval/search-dev-styles.yaml   # per style too

Same hit rule as ../shared/eval/evalkit.py (its `fold` and `first_hit` are imported), so the figures match
`evalkit.py search`, which goes through /api/search.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "shared" / "eval"))  # the repository sits beside shared/
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from evalkit import first_hit  # noqa: E402

from faqbot.content import load_faq  # noqa: E402
from faqbot.index import SearchService  # noqa: E402


def styles_of(path: Path) -> list[str]:
    """Each case's style letter when the file marks blocks with "# --- (x) name" lines (else "all")."""
    styles, style = [], "all"
    for line in path.read_text(encoding="utf-8").splitlines():
        marker = re.match(r"#\s*---\s*\((\w)\)", line)
        if marker:
            style = marker.group(1)
        if line.startswith("- q:"):
            styles.append(style)
    return styles


def evaluate(service: SearchService, cases: list[dict], verbose: bool = False, styles: list[str] | None = None) -> dict:
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
    by_style: dict[str, list] = {}
    for style, rank in zip(styles or [], ranks):
        by_style.setdefault(style, []).append(rank)
    per_style = {
        style: round(sum(1 for r in rs if r == 1) / len(rs), 3) for style, rs in by_style.items()
    } if len(by_style) > 1 else None
    return {
        **({"by_style_r@1": per_style} if per_style else {}),
        "cases": n,
        "recall@1": round(at(1), 3),
        "recall@3": round(at(3), 3),
        "recall@10": round(at(10), 3),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 3),
        "p50_ms": round(1000 * latencies[n // 2], 2),
        "p95_ms": round(1000 * latencies[min(n - 1, int(n * 0.95))], 2),
    }


def evaluate_ids(service: SearchService, cases, verbose: bool = False) -> dict:
    """Held-out style cases whose answer is given as entry ids (see search_cases.py)."""
    ranks = []
    for query, wanted in cases:
        outcome = service.search(query, limit=10)
        ids = [h.entry.id for h in outcome.hits]
        rank = next((i for i, entry_id in enumerate(ids, 1) if entry_id in wanted), None)
        ranks.append(rank)
        if verbose and rank != 1:
            print(f"miss rank={rank} q={query!r} corrected={outcome.corrected_query!r} top={ids[:1]}")
    n = len(cases)
    at = lambda k: sum(1 for r in ranks if r is not None and r <= k) / n  # noqa: E731
    return {"cases": n, "recall@1": round(at(1), 3), "recall@3": round(at(3), 3), "recall@10": round(at(10), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", help="a YAML case file like search-dev.yaml, or 'heldout' / 'heldout2' / 'heldout3' for search_cases.py")
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    faq = load_faq(args.faq)
    with tempfile.TemporaryDirectory() as folder:
        service = SearchService(faq, Path(folder))
        if args.cases in ("heldout", "heldout2", "heldout3"):
            import search_cases

            chosen = {"heldout": search_cases.HELDOUT, "heldout2": search_cases.HELDOUT_2,
                      "heldout3": search_cases.HELDOUT_3}[args.cases]
            # Ids merged into another entry count as that entry (its `aliases`), as old links do on the site.
            chosen = [(q, [faq.resolve(i).id if faq.resolve(i) else i for i in ids]) for q, ids in chosen]
            missing = sorted({i for _q, ids in chosen for i in ids if i not in faq.by_id})
            if missing:
                print("ids not in the FAQ:", ", ".join(missing), file=sys.stderr)
            summary = evaluate_ids(service, [c for c in chosen if any(i in faq.by_id for i in c[1])], args.v)
        else:
            cases = yaml.safe_load(Path(args.cases).read_text(encoding="utf-8"))
            styles = styles_of(Path(args.cases))
            summary = evaluate(service, cases, args.v, styles if len(styles) == len(cases) else None)
        print(json.dumps({"entries": len(faq.entries), **summary}))
        service.close()


if __name__ == "__main__":
    main()
