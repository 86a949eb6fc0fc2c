"""`POST /api/tickets` under load next to its floor, in one run: tickets/s and latency on SQLite and PostgreSQL, and
every acknowledged ticket counted in the database afterwards.

    .venv/bin/python bench/tickets_http.py [--backends sqlite,postgresql] [--tickets 2000] [--clients 8]
                                           [--seconds 30] [--workers 2] [--worker-class sync] [--threads 1]
                                           [--window 900] [--label baseline]

For each backend (PostgreSQL: a private throw-away cluster like scripts/test.sh, fsync on), on a fresh instance:
1. faqbot under gunicorn (settings printed); --clients Python threads on keep-alive connections submit valid
   tickets as fast as they are answered (closed loop), each with its own Idempotency-Key, until --tickets are
   acknowledged or --seconds pass. The contact limit is raised by environment (CONTACT_RATE_LIMIT=1000000000) so
   it never refuses, but stays on the path with the product's window (CONTACT_RATE_WINDOW, --window, 900 s by
   default): all clients come from 127.0.0.1, as behind a load balancer that does not forward the address.
2. The floor (bench/floor_app.py) under the same gunicorn settings, same database, same clients and bodies:
   the framework plus one insert of the body in one transaction.
3. Reconciliation: every acknowledged faqbot ticket is in `ticket` exactly once with the reference the client got
   (by Idempotency-Key and by a marker in the message), and nothing unacknowledged was stored.
Reported: tickets/s, p50/p95/p99 of each, faqbot/floor, calibration and load average. Loopback only, bounded.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from crash_tickets import CONNECTION_ERRORS, Connection, ticket_payload  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCH = Path(__file__).resolve().parent


def drive(port: int, run_id: str, args) -> dict:
    """Closed-loop submissions from --clients threads; returns receipts and latencies."""
    lock = threading.Lock()
    counter = iter(range(args.tickets))
    receipts: dict[int, str] = {}
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    problems: list[str] = []
    deadline = time.monotonic() + args.seconds

    def client() -> None:
        connection = Connection(port, 30)
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            body = json.dumps(ticket_payload(index, run_id)).encode()
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"bench-{run_id}-{index:06d}"}
            for _attempt in range(5):
                began = time.perf_counter()
                try:
                    status, _ct, raw = connection.request("POST", "/api/tickets", body, headers)
                except CONNECTION_ERRORS as error:
                    with lock:
                        statuses[type(error).__name__] += 1
                    time.sleep(0.05)
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    statuses[status] += 1
                if status in (200, 201):
                    with lock:
                        receipts[index] = json.loads(raw)["ref"]
                        latencies.append(elapsed)
                    break
                if status < 500 and status != 429:
                    with lock:
                        problems.append(f"{index}: HTTP {status} {raw[:200]!r}")
                    break
                time.sleep(0.05)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 60)
    elapsed = time.monotonic() - started
    return {
        "receipts": receipts,
        "acknowledged": len(receipts),
        "seconds": round(elapsed, 2),
        "per_s": round(len(receipts) / elapsed, 1),
        "p50_ms": round(harness.percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(harness.percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(harness.percentile(latencies, 0.99) * 1000, 1),
        "statuses": {str(k): v for k, v in statuses.items()},
        "problems": problems[:10],
        "problem_count": len(problems),
    }


def server_cpu_s(server) -> dict[str, float]:
    """CPU seconds (user + system) used so far, from /proc: the workers' main threads, their background threads
    (outbox sender thread, search-log writer), and the outbox sender process (MAIL_DELIVERY=process)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"workers": 0, "worker_threads": 0, "sender_process": 0}
    senders = server.sender_pids()
    for pid in server.child_pids():  # the workers and the sender process
        sender = pid in senders
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks_used = int(fields[11]) + int(fields[12])  # utime, stime
            key = "sender_process" if sender else "workers" if int(task.name) == pid else "worker_threads"
            used[key] += ticks_used
    return {key: value / ticks for key, value in used.items()}


def outbox_pending(database_url: str) -> int | None:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')")).scalar()
    except sa.exc.OperationalError:
        return None  # the floor has no outbox
    finally:
        engine.dispose()


def driven(server, run_id: str, args, database_url: str | None = None) -> dict:
    """`drive`, then wait for the outbox to be sent (at most 120 s): CPU per acknowledged ticket, split by who
    spent it — a figure the machine's load inflates less than latency — and how long the e-mails lagged."""
    before = server_cpu_s(server)
    run = drive(server.port, run_id, args)
    ended = time.monotonic()
    pending = outbox_pending(database_url) if database_url else None
    while pending and time.monotonic() - ended < 120:
        time.sleep(0.25)
        pending = outbox_pending(database_url)
    run["outbox_drained_s"] = round(time.monotonic() - ended, 2) if database_url and pending == 0 else None
    run["outbox_pending_after"] = pending
    if pending:  # what is left, for the record: status, attempts, next attempt, last error
        import sqlalchemy as sa

        engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            run["outbox_left"] = [[str(value) for value in row] for row in connection.execute(sa.text(
                "SELECT id, status, attempts, created_at, next_attempt_at, last_error FROM outbox_message "
                "WHERE status IN ('pending', 'sending') ORDER BY id LIMIT 20")).all()]
        engine.dispose()
    time.sleep(0.5)
    after = server_cpu_s(server)
    count = run["acknowledged"] or 1
    for key in before:
        run[f"cpu_ms_per_ticket_{key}"] = round(1000 * (after[key] - before[key]) / count, 2)
    run["worker_cpu_ms_per_ticket"] = round(run["cpu_ms_per_ticket_workers"] + run["cpu_ms_per_ticket_worker_threads"], 2)
    return run


def reconcile(database_url: str, run_id: str, receipts: dict[int, str]) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT idempotency_key, ref FROM ticket WHERE idempotency_key LIKE :prefix"),
            {"prefix": f"bench-{run_id}-%"},
        ).all()
        markers = connection.execute(
            sa.text("SELECT message FROM ticket WHERE message LIKE :marker"), {"marker": f"%Marqueur {run_id}/%"}
        ).all()
    engine.dispose()
    by_key = collections.defaultdict(list)
    for key, ref in rows:
        by_key[key].append(ref)
    per_marker = collections.Counter(message.rsplit(f"{run_id}/", 1)[1].rstrip(".") for (message,) in markers)
    missing = [i for i, ref in receipts.items() if by_key.get(f"bench-{run_id}-{i:06d}") != [ref]]
    return {
        "rows": len(rows),
        "acknowledged_missing_or_wrong_ref": len(missing),
        "stored_twice": sum(1 for count in per_marker.values() if count > 1),
        "stored_unacknowledged": sum(1 for key in by_key if int(key.rsplit("-", 1)[1]) not in receipts),
    }


def run_backend(backend: str, args, settings: harness.GunicornSettings) -> dict:
    row: dict = {"backend": backend, "load_before": harness.load_average(), "calibration_ms": harness.calibration()}
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(harness.private_postgres()) if backend == "postgresql" else None
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"faqbot-tickets-{backend}.")))
        extra = {"REDIS_URL": args.redis_url} if args.redis_url else {}
        env = harness.server_env(instance, database_url, CONTACT_RATE_LIMIT="1000000000",
                                 CONTACT_RATE_WINDOW=str(args.window), **extra)
        database_url = database_url or f"sqlite:///{instance / 'faqbot.sqlite3'}"
        harness.prepare(env)
        run_id = uuid.uuid4().hex[:8]
        with harness.serve("faqbot:create_app()", settings, env, instance / "faqbot-gunicorn.log",
                           ready_path="/api/openapi.json", start_timeout=300) as server:
            faqbot = driven(server, run_id, args, database_url)
            row["faqbot_tracebacks"] = server.log().count("Traceback")
            row["outbox_failed_attempts"] = [line for line in server.log().splitlines() if "outbox row" in line][:20]
        row["reconciliation"] = reconcile(database_url, run_id, faqbot.pop("receipts"))
        row["faqbot"] = faqbot
        floor_db = database_url if backend == "postgresql" else f"sqlite:///{instance / 'floor.sqlite3'}"
        floor_env = dict(env, FLOOR_DATABASE_URL=floor_db, PYTHONPATH=str(BENCH))
        subprocess.run([sys.executable, "-c", "import floor_app; floor_app.create_tables()"], env=floor_env,
                       cwd=BENCH, check=True, timeout=120)
        with harness.serve("floor_app:app", settings, floor_env, instance / "floor-gunicorn.log",
                           ready_path="/api/search", start_timeout=120) as floor:
            floor_run = driven(floor, uuid.uuid4().hex[:8], args)
        floor_run.pop("receipts")
        row["floor"] = floor_run
    row["per_s_ratio"] = round(row["faqbot"]["per_s"] / row["floor"]["per_s"], 3) if row["floor"]["per_s"] else None
    row["load_after"] = harness.load_average()
    f, fl, rc = row["faqbot"], row["floor"], row["reconciliation"]
    print(f"[{backend}] faqbot {f['per_s']}/s p50 {f['p50_ms']} p95 {f['p95_ms']} ms, worker CPU "
          f"{f['cpu_ms_per_ticket_workers']} ms/ticket in the workers' request threads + "
          f"{f['cpu_ms_per_ticket_worker_threads']} in their background threads + {f['cpu_ms_per_ticket_sender_process']} in "
          f"the sender process (floor {fl['worker_cpu_ms_per_ticket']}); e-mails all sent "
          f"{f['outbox_drained_s']} s after the last ticket ({f['acknowledged']} in "
          f"{f['seconds']} s, statuses {f['statuses']}) | floor {fl['per_s']}/s p50 {fl['p50_ms']} p95 {fl['p95_ms']} ms "
          f"| faqbot/floor {row['per_s_ratio']} | rows {rc['rows']}, missing {rc['acknowledged_missing_or_wrong_ref']}, "
          f"twice {rc['stored_twice']}, unacknowledged {rc['stored_unacknowledged']} | load {row['load_before']} -> "
          f"{row['load_after']}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tickets", type=int, default=2000, help="stop after this many acknowledged")
    parser.add_argument("--seconds", type=float, default=30, help="…or after this long")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preload", action="store_true")
    parser.add_argument("--window", type=int, default=900, help="CONTACT_RATE_WINDOW, seconds (product default 900)")
    parser.add_argument("--redis-url", default="", help="count submissions in Redis (REDIS_URL) instead of the database")
    parser.add_argument("--label", default="run")
    args = parser.parse_args()
    settings = harness.GunicornSettings(args.workers, args.worker_class, args.threads, args.preload)
    result = {"label": args.label, "machine": harness.machine(), "gunicorn": settings.as_dict(),
              "client": f"{args.clients} Python threads, keep-alive, closed loop, up to {args.tickets} tickets or "
                        f"{args.seconds:g} s", "contact_rate_window_s": args.window,
              "limiter_store": "redis" if args.redis_url else "database", "backends": []}
    print(f"{result['machine']} | {settings.describe()} | {result['client']}", flush=True)
    for backend in args.backends.split(","):
        result["backends"].append(run_backend(backend, args, settings))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"tickets_http_{args.label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    ok = all(b["reconciliation"]["acknowledged_missing_or_wrong_ref"] == 0 and b["reconciliation"]["stored_twice"] == 0
             and b["reconciliation"]["stored_unacknowledged"] == 0 and b["faqbot"]["problem_count"] == 0
             for b in result["backends"])
    print("every acknowledged ticket stored once" if ok else "RECONCILIATION FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
