"""Load and crash test: nothing acknowledged is lost, nothing is stored twice.

gunicorn with 4 workers; 8 concurrent clients submit 10,000 tickets through `POST /api/tickets`, each with its own
Idempotency-Key, and retry with the same key on any connection error or 5xx; meanwhile search clients query
`/api/search`, and a worker is killed with SIGKILL every 30 s for 5 cycles. Afterwards the client receipts are
reconciled with the database: every acknowledged ticket present once with the reference the client got, no
duplicates, no unacknowledged leftovers.

    .venv/bin/python bench/crash_tickets.py --backend sqlite
    .venv/bin/python bench/crash_tickets.py --backend postgresql   # starts a private PostgreSQL cluster

Loopback only; every loop is bounded. Results: printed, and written to bench/results/crash_<backend>.json.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import http.client
import json
import random
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"

SEARCH_QUERIES = [
    "remboursement", "rembourssement stage", "pas recu mail confirmation", "j'ai ete debite sans confirmation",
    "changer d'avis", "delai retractation", "annulation stage", "combien de points", "cb refusee", "3d secure",
    "attestation de stage", "stage complet", "transferer mon stage", "ants reattribution", "48n", "permis probatoire",
    "horaires du stage", "paiement en plusieurs fois", "cpf", "jai pa recu le sms", "facture", "", "😀", "a" * 300,
]


def ticket_payload(index: int, run_id: str) -> dict:
    """A valid submission; the marker in the message lets the reconciliation spot duplicates under any key."""
    stage = dt.date(2026, 1, 5) + dt.timedelta(days=index % 300)
    return {
        "reason": "points-ants",
        "name": f"Stagiaire {index}",
        "email": f"stagiaire{index}@example.test",
        "message": f"Réattribution rejetée. Marqueur {run_id}/{index}.",
        "confirmations": [],
        "fields": {
            "numero_demande": f"ANTS-{index:06d}",
            "premier_jour_stage": stage.isoformat(),
            "second_jour_stage": (stage + dt.timedelta(days=1)).isoformat(),
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Connection:
    """A keep-alive HTTP connection that reconnects after any error."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            return response.status, response.getheader("Content-Type", ""), response.read()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


CONNECTION_ERRORS = (OSError, http.client.HTTPException, socket.timeout)


def run(args) -> dict:
    run_id = uuid.uuid4().hex[:8]
    stop = threading.Event()
    lock = threading.Lock()
    receipts: dict[int, str] = {}
    stats = collections.Counter()
    statuses = collections.Counter()
    ticket_latencies: list[float] = []
    search_latencies: list[float] = []
    search_statuses = collections.Counter()
    problems: list[str] = []
    kills: list[dict] = []
    next_index = iter(range(args.tickets))

    with contextlib.ExitStack() as stack:
        database_url = None
        if args.backend == "postgresql":
            database_url = stack.enter_context(harness.private_postgres())
        server = stack.enter_context(
            harness.gunicorn(
                workers=args.workers,
                database_url=database_url,
                # The throttle stays on the path (its cost is part of a submission) but cannot refuse the bench:
                # a one-second window keeps the counted rows per client small, as a real limit of 10 does.
                CONTACT_RATE_LIMIT="1000000",
                CONTACT_RATE_WINDOW="1",
            )
        )
        if database_url is None:
            database_url = f"sqlite:///{server.instance / 'faqbot.sqlite3'}"
        print(f"[{args.backend}] gunicorn pid {server.process.pid} on {server.base_url}, workers {server.worker_pids()}",
              flush=True)

        # Paced so that the submissions span every kill cycle (a run that ended before the kills would prove nothing).
        duration = args.cycles * args.kill_every + 10
        rate = args.tickets / duration
        start = time.monotonic()

        def ticket_client() -> None:
            connection = Connection(server.port, args.request_timeout)
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    break
                delay = start + index / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                key = f"bench-{run_id}-{index:06d}"
                body = json.dumps(ticket_payload(index, run_id)).encode()
                headers = {"Content-Type": "application/json", "Idempotency-Key": key}
                for attempt in range(args.max_attempts):
                    began = time.monotonic()
                    try:
                        status, content_type, raw = connection.request("POST", "/api/tickets", body, headers)
                    except CONNECTION_ERRORS as error:
                        with lock:
                            stats["connection_errors"] += 1
                            stats[f"error:{type(error).__name__}"] += 1
                        time.sleep(min(2.0, 0.05 * (attempt + 1)))
                        continue
                    with lock:
                        statuses[status] += 1
                    if status in (200, 201):
                        ref = json.loads(raw)["ref"]
                        with lock:
                            ticket_latencies.append(time.monotonic() - began)
                            if index in receipts and receipts[index] != ref:
                                problems.append(f"ticket {index}: two references {receipts[index]} / {ref}")
                            receipts[index] = ref
                            if attempt:
                                stats["retried_then_acknowledged"] += 1
                        break
                    if status >= 500 or status == 429:
                        time.sleep(min(2.0, 0.05 * (attempt + 1)))
                        continue
                    with lock:
                        problems.append(f"ticket {index}: HTTP {status} {raw[:300]!r}")
                    break
                else:
                    with lock:
                        problems.append(f"ticket {index}: no answer after {args.max_attempts} attempts")
            connection.close()

        def search_client(seed: int) -> None:
            rng = random.Random(seed)
            connection = Connection(server.port, args.request_timeout)
            from urllib.parse import quote

            while not stop.is_set():
                query = rng.choice(SEARCH_QUERIES)
                began = time.monotonic()
                try:
                    status, _ct, _raw = connection.request("GET", f"/api/search?q={quote(query)}&limit=5")
                except CONNECTION_ERRORS:
                    with lock:
                        search_statuses["connection_error"] += 1
                    time.sleep(0.05)
                    continue
                with lock:
                    search_statuses[status] += 1
                    if status == 200:
                        search_latencies.append(time.monotonic() - began)
                if args.search_pause:
                    time.sleep(args.search_pause)
            connection.close()

        def killer() -> None:
            for cycle in range(args.cycles):
                if stop.wait(max(0.0, start + (cycle + 1) * args.kill_every - time.monotonic())):
                    return
                victim = server.kill_worker()
                kills.append({"cycle": cycle + 1, "pid": victim, "at_s": round(time.monotonic() - start, 1)})
                print(f"[{args.backend}] t={time.monotonic() - start:5.1f}s kill -9 {victim} "
                      f"({len(receipts)} acknowledged)", flush=True)
                try:
                    server.wait_workers(args.workers, timeout=60)
                except RuntimeError as error:
                    problems.append(str(error)[:500])

        ticket_threads = [threading.Thread(target=ticket_client, daemon=True) for _ in range(args.clients)]
        search_threads = [threading.Thread(target=search_client, args=(n,), daemon=True)
                          for n in range(args.search_clients)]
        killer_thread = threading.Thread(target=killer, daemon=True)
        for thread in ticket_threads + search_threads + [killer_thread]:
            thread.start()
        for thread in ticket_threads:
            thread.join(timeout=duration * 4 + 300)
        tickets_done = time.monotonic()
        killer_thread.join(timeout=max(0.0, start + args.cycles * args.kill_every + 5 - time.monotonic()) + 70)
        stop.set()
        for thread in search_threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - start
        ticket_elapsed = tickets_done - start
        server_log = server.log()

        # Reconcile the receipts with what the database holds.
        import sqlalchemy as sa

        url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT idempotency_key, ref, message FROM ticket WHERE idempotency_key LIKE :prefix"),
                {"prefix": f"bench-{run_id}-%"},
            ).all()
            marker_rows = connection.execute(
                sa.text("SELECT message FROM ticket WHERE message LIKE :marker"), {"marker": f"%Marqueur {run_id}/%"}
            ).all()
        engine.dispose()

    by_key = collections.defaultdict(list)
    for key, ref, _message in rows:
        by_key[key].append(ref)
    markers = collections.Counter(message.rsplit(f"{run_id}/", 1)[1].rstrip(".") for (message,) in marker_rows)
    missing = [i for i, ref in receipts.items() if by_key.get(f"bench-{run_id}-{i:06d}") != [ref]]
    duplicates = {marker: count for marker, count in markers.items() if count > 1}
    unacknowledged = [key for key in by_key if int(key.rsplit("-", 1)[1]) not in receipts]
    result = {
        "backend": args.backend,
        "workers": args.workers,
        "clients": args.clients,
        "tickets_requested": args.tickets,
        "tickets_acknowledged": len(receipts),
        "tickets_in_database": len(rows),
        "acknowledged_missing": len(missing),
        "duplicates": len(duplicates),
        "unacknowledged_in_database": len(unacknowledged),
        "kills": kills,
        "connection_errors_seen_by_clients": stats["connection_errors"],
        "retried_then_acknowledged": stats["retried_then_acknowledged"],
        "ticket_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "ticket_seconds": round(ticket_elapsed, 1),
        "tickets_per_s": round(len(receipts) / ticket_elapsed, 1),
        "ticket_p50_ms": round(percentile(ticket_latencies, 0.50) * 1000, 1),
        "ticket_p95_ms": round(percentile(ticket_latencies, 0.95) * 1000, 1),
        "search_requests": sum(search_statuses.values()),
        "search_statuses": {str(k): v for k, v in sorted(search_statuses.items(), key=str)},
        "search_per_s": round(len(search_latencies) / elapsed, 1),
        "search_p50_ms": round(percentile(search_latencies, 0.50) * 1000, 1),
        "search_p95_ms": round(percentile(search_latencies, 0.95) * 1000, 1),
        "search_mean_ms": round(statistics.fmean(search_latencies) * 1000, 1) if search_latencies else None,
        "server_5xx_or_tracebacks_in_log": server_log.count("Traceback"),
        "problems": problems[:50],
        "problem_count": len(problems),
        "examples_missing": missing[:10],
        "examples_duplicates": list(duplicates.items())[:10],
    }
    if result["server_5xx_or_tracebacks_in_log"]:
        result["log_excerpt"] = server_log[-4000:]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--search-clients", type=int, default=2)
    parser.add_argument("--search-pause", type=float, default=0.0, help="seconds between a search client's requests")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=30.0)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--max-attempts", type=int, default=200)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    args = parser.parse_args()
    result = run(args)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"crash_{args.backend}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "log_excerpt"}, indent=2, ensure_ascii=False))
    ok = (
        result["acknowledged_missing"] == 0
        and result["duplicates"] == 0
        and result["tickets_acknowledged"] == args.tickets
        and result["problem_count"] == 0
        and len(result["kills"]) == args.cycles
    )
    print("OK" if ok else "FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
