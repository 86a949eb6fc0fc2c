"""Self-retrieval of the FAQ's own variants: hide a quarter of every entry's variants, search them, repeat.

    .venv/bin/python bench/search_selfcheck.py [--faq data/faq.yaml] [--folds 4] [--pairs 40] [--json OUT]

A relevance measure that needs no evaluation set: each variant is a visitor phrasing written from the answer; with
it out of the index, does its entry still come first? It prints recall@1/@3 over the hidden variants and the pairs
of entries most often confused (the hidden variant of one brings the other first): the sibling entries whose
variants should say what tells them apart (bench/RESULTS-search.md, « Round 6 »).

The figure is comparable only between runs on the same variants (adding variants changes what is hidden); to
compare two rankings, run both on one FAQ file. Seeded: the same file always gives the same folds.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from faqbot.content import load_faq  # noqa: E402
from faqbot.index import SearchService  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=40, help="how many confused pairs to print")
    parser.add_argument("--json", help="write every hidden variant with the ids ranked for it")
    args = parser.parse_args()

    source = Path(args.faq)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    rng = random.Random(args.seed)
    fold_of = {
        (entry["id"], position): rng.randrange(args.folds)
        for entry in data["entries"]
        for position, _variant in enumerate(entry.get("variants") or [])
    }
    hidden_entries = {entry["id"] for entry in data["entries"] if entry.get("hidden")}  # never served: not searched for
    results = []
    for fold in range(args.folds):
        copy = yaml.safe_load(source.read_text(encoding="utf-8"))
        hidden = []
        for entry in copy["entries"]:
            variants = entry.get("variants") or []
            kept = []
            for position, variant in enumerate(variants):
                if fold_of[(entry["id"], position)] == fold:
                    if entry["id"] not in hidden_entries:
                        hidden.append((entry["id"], variant))
                else:
                    kept.append(variant)
            if variants:
                entry["variants"] = kept
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "faq.yaml"
            path.write_text(yaml.safe_dump(copy, allow_unicode=True, sort_keys=False), encoding="utf-8")
            service = SearchService(load_faq(str(path)), Path(folder) / "index")
            for entry_id, variant in hidden:
                ranked = [hit.entry.id for hit in service.search(variant, limit=5).hits]
                results.append({"entry": entry_id, "variant": variant, "ranked": ranked})
            service.close()
    total = len(results)
    first = sum(1 for r in results if r["ranked"][:1] == [r["entry"]])
    top3 = sum(1 for r in results if r["entry"] in r["ranked"][:3])
    print(f"{total} hidden variants, {args.folds} folds: recall@1 {first / total:.3f}, recall@3 {top3 / total:.3f}")
    pairs = collections.Counter(
        tuple(sorted((r["entry"], r["ranked"][0]))) for r in results if r["ranked"] and r["ranked"][0] != r["entry"]
    )
    print(f"{len(pairs)} pairs of entries confused; the most frequent:")
    for (one, other), count in pairs.most_common(args.pairs):
        print(f"  {count:3d}  {one}  <->  {other}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
