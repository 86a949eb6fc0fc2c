"""In-process search cost: build, worker start and query latency on the FAQ scaled N times, and /api/search
against a 404 of the same app (both through Flask's test client, interleaved, same process).

    .venv/bin/python bench/search_inprocess.py [--scale 1 10] [--rounds 30]

A scaled FAQ repeats every entry N times under new ids, each copy's answer prefixed with a shuffled half of its
words (so postings and vocabulary grow like a real bigger FAQ, not as exact duplicates). Prints the machine's load
average and a fixed CPU loop's time, so figures from different runs can be compared.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from faqbot.content.model import parse_faq  # noqa: E402
from faqbot.index import SearchService  # noqa: E402
from faqbot.index import service as service_module  # noqa: E402

QUERIES = [
    "remboursement carte bleue",
    "j'ai perdu mon carton rose",
    "combien de temps pour récupérer mes points après le stage",
    "slt chui inscri mai jsp si c bon",
    "attestation égarée",
    "Bonjour, ma fille a son permis depuis peu et elle a reçu une lettre recommandée. Est-ce qu'elle doit faire un stage ?",
]


def calibration() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return time.perf_counter() - started


def scaled_faq(factor: int):
    data = yaml.safe_load((ROOT / "data" / "faq.yaml").read_text(encoding="utf-8"))
    rnd = random.Random(1)
    entries = []
    for copy in range(factor):
        for entry in data["entries"]:
            entry = dict(entry)
            if copy:
                entry["id"] = f"{entry['id']}-{copy}"
                words = entry["answer"].split()
                rnd.shuffle(words)
                entry["answer"] = " ".join(words[: max(20, len(words) // 2)]) + " " + entry["answer"]
            entries.append(entry)
    data["entries"] = entries
    return parse_faq(data, digest=f"scaled-{factor}")


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * share))]


def bench_scale(factor: int, rounds: int) -> None:
    faq = scaled_faq(factor)
    folder = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    SearchService(faq, folder).close()
    build = time.perf_counter() - started
    service_module._TABLES.clear()  # a new worker: nothing loaded yet
    started = time.perf_counter()
    service = SearchService(faq, folder)
    start = time.perf_counter() - started
    for query in QUERIES:
        service.search(query)
    latencies = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            service.search(query)
            latencies.append(time.perf_counter() - started)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"x{factor}: {len(faq.entries)} entries | build {build:.1f} s | worker start {start:.2f} s | "
        f"search p50 {1000 * percentile(latencies, 0.5):.2f} ms p95 {1000 * percentile(latencies, 0.95):.2f} ms | "
        f"index {size:.1f} MB | max RSS {rss:.0f} MB"
    )


def bench_app(rounds: int) -> None:
    from faqbot import create_app

    instance = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "INSTANCE_PATH": instance, "SECRET_KEY": "bench",
                      "INDEX_DIR": os.path.join(instance, "index"), "SEARCH_LOG_FLUSH_SECONDS": 0.5})
    client = app.test_client()

    def timed(url, **kwargs) -> float:
        started = time.perf_counter()
        client.get(url, **kwargs)
        return time.perf_counter() - started

    for _ in range(20):
        for query in QUERIES:
            timed("/api/search", query_string={"q": query})
            timed("/n-existe-pas")
    searches, missing = [], []
    for _ in range(rounds):
        for query in QUERIES:
            searches.append(timed("/api/search", query_string={"q": query}))
            missing.append(timed("/n-existe-pas"))
    ratio = percentile(searches, 0.5) / percentile(missing, 0.5)
    print(
        f"app: /api/search p50 {1000 * percentile(searches, 0.5):.2f} ms p95 {1000 * percentile(searches, 0.95):.2f} ms"
        f" | 404 p50 {1000 * percentile(missing, 0.5):.2f} ms | search / 404 (p50) {ratio:.2f} (budget ≤ 3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, nargs="*", default=[1, 10])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-app", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} | calibration loop {calibration():.3f} s")
    if not args.no_app:
        bench_app(args.rounds)
    for factor in args.scale:
        bench_scale(factor, args.rounds)


if __name__ == "__main__":
    main()
