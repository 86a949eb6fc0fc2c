"""Accuracy of the reason suggester on message sets, through POST /api/triage/suggest like evalkit (in-process app,
real FAQ search votes), or on `suggest()` alone (--bare: no FAQ votes).

    .venv/bin/python bench/triage_bench.py a b c dev dev2 tests [-v] [--bare]

Sets: `a`, `b`, `c` (bench/triage_set_*.yaml, regression sets: the cue rules were tuned on them, the classifier
never trained on them), `dev`, `dev2` (../shared/eval/triage-dev*.yaml), `tests` (the messages of
tests/test_triage_suggest.py), or any YAML path with `message`/`reason` items. Prints, per set, the accuracy, the
confusion pairs (wanted -> got, count) and, with -v, every miss with its confidence. The example bank
(data/triage_examples.yaml) is measured out-of-fold by bench/triage_model_experiment.py, not here.
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

DEV = {"dev": "triage-dev.yaml", "dev2": "triage-dev-2.yaml"}


def load_set(name: str) -> list[dict]:
    if name in {"a", "b", "c"}:
        return yaml.safe_load((ROOT / "bench" / f"triage_set_{name}.yaml").read_text(encoding="utf-8"))
    if name in DEV:
        # the repository sits beside shared/ (a git worktree one level deeper)
        for base in (ROOT.parent, ROOT.parent.parent):
            path = base / "shared" / "eval" / DEV[name]
            if path.exists():
                return yaml.safe_load(path.read_text(encoding="utf-8"))
        raise SystemExit(f"{DEV[name]} introuvable sous shared/eval")
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
    args = parser.parse_args(argv)
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
