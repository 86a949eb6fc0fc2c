"""The long fuzz run: ≥ 20,000 generated requests against the JSON API, in-process (WSGI), on a fresh app.

Two generators: schemathesis from faqbot/openapi.yaml (valid and schema-violating data for every operation) and
the hypothesis strategies of tests/test_fuzz.py (hostile text, arbitrary JSON, wrong types, raw bytes).
Counts every status; any 5xx or any "Erreur non gérée" logged by the app is a failure.

    .venv/bin/python bench/fuzz_api.py                 # 20,000+ requests, a few minutes on 2 cores
    .venv/bin/python bench/fuzz_api.py --per-test 500  # shorter

Results: printed, and written to bench/results/fuzz_api.json.
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import test_fuzz as fuzz  # noqa: E402  (the suite's strategies, reused)
from faqbot import create_app  # noqa: E402
from faqbot.api_docs import load_spec  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "fuzz_api.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-test", type=int, default=2200, help="hypothesis examples per generator")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="faqbot-fuzz."))
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance / 'fuzz.sqlite3'}",
        "OUTBOX_DIR": str(instance / "outbox"), "CONTACT_RATE_LIMIT": 10**9,
    })
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    app.logger.addHandler(Collect(logging.ERROR))
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    server_errors: list[str] = []
    client = app.test_client()

    def record(name: str, response, detail: str) -> None:
        statuses[name][response.status_code] += 1
        if response.status_code >= 500:
            server_errors.append(f"{name}: {detail[:300]} -> {response.status_code}")

    run_settings = settings(max_examples=args.per_test, deadline=None, database=None,
                            suppress_health_check=list(HealthCheck))
    started = time.monotonic()

    def run_operation(operation, mode: str, name: str) -> None:
        @run_settings
        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
        def run_case(case):
            response = case.call()
            statuses[name][response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(f"{name}: {case.as_curl_command()[:300]}")

        run_case()

    # 1. schemathesis: every documented operation, positive and negative data.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    for path, item in load_spec()["paths"].items():
        for method in item:
            operation = schema[path][method.upper()]
            modes = ["positive"] + (["negative"] if (path, method.upper()) in {
                ("/api/search", "GET"), ("/api/triage/suggest", "POST"), ("/api/tickets", "POST")} else [])
            for mode in modes:
                name = f"schemathesis {method.upper()} {path} {mode}"
                run_operation(operation, mode, name)
                print(f"{name}: {sum(statuses[name].values())} requests", flush=True)

    # 2. hypothesis strategies of the suite.
    @run_settings
    @given(q=fuzz.hostile_text, limit=st.one_of(st.none(), st.integers(-5, 500).map(str), st.text(max_size=6)))
    def search(q, limit):
        query = {"q": q} if limit is None else {"q": q, "limit": limit}
        record("hypothesis GET /api/search", client.get("/api/search", query_string=query), repr(query))

    @run_settings
    @given(body=st.one_of(fuzz.json_values, st.fixed_dictionaries({"message": fuzz.hostile_text})))
    def suggest(body):
        record("hypothesis POST /api/triage/suggest", client.post("/api/triage/suggest", json=body), repr(body))

    @run_settings
    @given(body=st.one_of(fuzz.ticket_bodies(), fuzz.json_values), key=st.one_of(st.none(), st.text(max_size=90)))
    def tickets(body, key):
        headers = {"Idempotency-Key": key.replace("\n", "").replace("\r", "")} if key else {}
        try:
            response = client.post("/api/tickets", data=json.dumps(body), headers=headers,
                                   content_type="application/json")
        except ValueError:  # the test client itself refuses some header values (not sendable over HTTP)
            return
        record("hypothesis POST /api/tickets", response, repr(body))

    @run_settings
    @given(body=fuzz.valid_tickets_with_hostile_text())
    def valid_tickets(body):
        record("hypothesis POST /api/tickets (valid, hostile text)", client.post("/api/tickets", json=body),
               repr(body))

    @run_settings
    @given(raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
    def raw_bytes(raw, content_type):
        headers = {"Content-Type": content_type} if content_type else {}
        for path in ("/api/triage/suggest", "/api/tickets"):
            record(f"hypothesis POST {path} (bytes)", client.post(path, data=raw, headers=headers), repr(raw))

    @run_settings
    @given(params=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3))
    def reasons(params):
        record("hypothesis GET /api/triage/reasons", client.get("/api/triage/reasons", query_string=params),
               repr(params))

    for test in (search, suggest, tickets, valid_tickets, raw_bytes, reasons):
        test()
        print(f"{test.__name__}: done", flush=True)

    elapsed = time.monotonic() - started
    total = sum(sum(counter.values()) for counter in statuses.values())
    five_xx = sum(n for counter in statuses.values() for code, n in counter.items() if code >= 500)
    result = {
        "requests": total,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(total / elapsed, 1),
        "5xx": five_xx,
        "unhandled_exceptions_logged": len(errors),
        "by_generator": {name: {str(k): v for k, v in sorted(c.items())} for name, c in statuses.items()},
        "examples_5xx": server_errors[:20],
        "examples_logged": errors[:10],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = total >= 20_000 and five_xx == 0 and not errors
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
