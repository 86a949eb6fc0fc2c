"""Accuracy of the reason suggester on message sets, through POST /api/triage/suggest like evalkit (in-process app,
real FAQ search and vocabulary), or on `suggest()` alone (--bare: no FAQ votes).

    .venv/bin/python bench/triage_bench.py a dev tests [-v] [--bare]
    .venv/bin/python bench/triage_bench.py b --open-sealed      # set B: only once, at the end of a tuning round

Sets: `a`, `b` (bench/triage_set_*.yaml), `dev` (../shared/eval/triage-dev.yaml), `tests` (the messages of
tests/test_triage_suggest.py), or any YAML path with `message`/`reason` items. Prints, per set, the accuracy, the
confusion pairs (wanted -> got, count) and, with -v, every miss with its confidence.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import yaml  # noqa: E402

SEALED = {"b"}


def load_set(name: str) -> list[dict]:
    if name in {"a", "b"}:
        return yaml.safe_load((ROOT / "bench" / f"triage_set_{name}.yaml").read_text(encoding="utf-8"))
    if name == "dev":
        return yaml.safe_load((ROOT.parent / "shared" / "eval" / "triage-dev.yaml").read_text(encoding="utf-8"))
    if name == "tests":
        from test_triage_suggest import MESSAGES

        return [{"reason": reason, "message": message} for reason, message in MESSAGES]
    return yaml.safe_load(Path(name).read_text(encoding="utf-8"))


def api_suggester():
    from faqbot import create_app

    app = create_app()
    app.testing = True
    client = app.test_client()

    def run(message: str) -> tuple[str, float]:
        response = client.post("/api/triage/suggest", json={"message": message})
        assert response.status_code == 200, response.status_code
        body = response.get_json()
        return body["reason"], body["confidence"]

    return run


def bare_suggester():
    from faqbot.triage import suggest

    def run(message: str) -> tuple[str, float]:
        result = suggest(message)
        return result.reason, result.confidence

    return run


def evaluate(run, cases: list[dict]) -> dict:
    misses = []
    for case in cases:
        got, confidence = run(case["message"])
        if got != case["reason"]:
            misses.append((case["reason"], got, confidence, case["message"]))
    pairs = Counter((want, got) for want, got, _c, _m in misses)
    return {
        "cases": len(cases),
        "accuracy": round(1 - len(misses) / len(cases), 3),
        "confusions": [f"{want} -> {got}: {n}" for (want, got), n in pairs.most_common()],
        "misses": misses,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--bare", action="store_true", help="suggest() alone, without the FAQ search votes")
    parser.add_argument("--open-sealed", action="store_true", help="allow set B (once, at the end of a round)")
    args = parser.parse_args(argv)
    for name in args.sets:
        if name in SEALED and not args.open_sealed:
            parser.error(f"set {name} is sealed: pass --open-sealed at the end of a tuning round only")
    run = bare_suggester() if args.bare else api_suggester()
    for name in args.sets:
        result = evaluate(run, load_set(name))
        print(json.dumps({"set": name, "cases": result["cases"], "accuracy": result["accuracy"], "confusions": result["confusions"]}, ensure_ascii=False))
        if args.verbose:
            for want, got, confidence, message in result["misses"]:
                print(f"  miss want={want} got={got} conf={confidence} msg={message!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
