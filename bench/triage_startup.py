"""Start-up and memory cost of the triage classifier, and its latency per message (in-process, no HTTP).

    .venv/bin/python bench/triage_startup.py            # one fresh process per figure

Prints: create_app() time and RSS without touching the classifier, the extra time and RSS to load it (artefact
present), whether scikit-learn or scipy got imported, and suggest() latency p50/p95 over the bank's messages.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    started = time.perf_counter()
    from faqbot import create_app

    app = create_app()
    app_s = time.perf_counter() - started
    app_rss = rss_mb()
    started = time.perf_counter()
    from faqbot.triage.suggest import default_model, suggest

    model = default_model(cache_dir=app.config.get("TRIAGE_MODEL_DIR") or None)
    suggest("premier message", model=model)
    load_s = time.perf_counter() - started
    load_rss = rss_mb()
    from faqbot.triage.examples import load_bank

    messages = [example.message for example in load_bank().examples]
    timings = []
    for message in messages:
        t0 = time.perf_counter()
        suggest(message, model=model)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    print(json.dumps({
        "create_app_s": round(app_s, 2), "rss_after_app_mb": round(app_rss, 1),
        "classifier_load_s": round(load_s, 3), "rss_after_classifier_mb": round(load_rss, 1),
        "classifier_extra_mb": round(load_rss - app_rss, 1),
        "sklearn_imported": "sklearn" in sys.modules, "scipy_imported": "scipy" in sys.modules,
        "suggest_ms_p50": round(timings[len(timings) // 2], 2), "suggest_ms_p95": round(timings[int(len(timings) * 0.95)], 2),
        "features": len(model.vocabulary), "messages": len(messages),
    }))


if __name__ == "__main__":
    main()
