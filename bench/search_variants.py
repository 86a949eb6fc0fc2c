"""How the search's cost grows with the phrasings per entry: data/faq.yaml with each entry's variants repeated k
times (each copy behind its own prefix, "Bonjour, ", "Question : "…), `SearchService.search` alone over the shared
dev questions, the median of each question's best of --passes (what a busy machine disturbs least).

    .venv/bin/python bench/search_variants.py [--factors 1 2 4 8] [--passes 20]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/search_variants.py   # its faqbot on this FAQ

Prints the machine's calibration and load average with the figures.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

PREFIXES = ["", "Bonjour, ", "Question : ", "Svp ", "Dites-moi ", "Une question : ", "Salut, ", "Madame, "]


def with_variants(factor: int):
    import yaml

    from faqbot.content.model import parse_faq

    data = yaml.safe_load((harness.ROOT / "data" / "faq.yaml").read_text(encoding="utf-8"))
    for entry in data["entries"]:
        variants = entry.get("variants") or []
        entry["variants"] = [prefix + variant for prefix in PREFIXES[:factor] for variant in variants]
    return parse_faq(data, digest=f"variants-{factor}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", type=int, nargs="*", default=[1, 2, 4, 8])
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    from faqbot.index import SearchService

    print(f"calibration {harness.calibration()} ms | load {harness.load_average()}", flush=True)
    queries = harness.dev_queries()
    for factor in args.factors:
        if not 1 <= factor <= len(PREFIXES):
            parser.error(f"factors from 1 to {len(PREFIXES)}")
        faq = with_variants(factor)
        with tempfile.TemporaryDirectory() as folder:
            service = SearchService(faq, Path(folder))
            for query in queries:
                service.search(query, 10)
            best = []
            for query in queries:
                samples = []
                for _ in range(args.passes):
                    began = time.perf_counter()
                    service.search(query, 10)
                    samples.append(time.perf_counter() - began)
                best.append(min(samples))
            service.close()
        phrasings = sum(1 + len(entry.variants) for entry in faq.entries) / len(faq.entries)
        print(f"variants ×{factor}: {phrasings:.1f} phrasings per entry | search p50 of the best passes "
              f"{harness.percentile(best, 0.5) * 1e6:.0f} µs", flush=True)
    print(f"load after {harness.load_average()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
