"""Where a ticket's time goes, in one process: transactions and statements per ticket, time waiting for the write
lock, and a cProfile of `POST /api/tickets` through Flask's test client.

    .venv/bin/python bench/tickets_profile.py [--backend sqlite|postgresql] [--tickets 300] [--delivery thread]
                                              [--profile 25]

PostgreSQL: a private throw-away cluster (bench/harness.py). The mail sender runs as in production
(MAIL_DELIVERY=thread) unless --delivery says otherwise; its transactions are counted apart (thread name).
Reported: per ticket, transactions and statements of the request thread and of the sender, ms spent in BEGIN
(SQLite: BEGIN IMMEDIATE waits for the write lock) and in COMMIT, and the top cumulative functions.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from crash_tickets import ticket_payload  # noqa: E402


def instrument(engine) -> dict:
    """Count transactions and statements per thread, and time BEGIN and COMMIT."""
    from sqlalchemy import event

    stats = collections.defaultdict(collections.Counter)
    timing = collections.defaultdict(float)

    def who() -> str:
        return "sender" if threading.current_thread().name.startswith("faqbot-mail") else (
            "request" if threading.current_thread() is threading.main_thread() else threading.current_thread().name)

    @event.listens_for(engine, "begin")
    def _begin(connection):
        stats[who()]["transactions"] += 1

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection, cursor, statement, parameters, context, executemany):
        stats[who()]["statements"] += 1
        connection.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(connection, cursor, statement, parameters, context, executemany):
        timing[(who(), statement.split()[0].upper())] += time.perf_counter() - connection.info.pop("t0", time.perf_counter())

    @event.listens_for(engine, "commit")
    def _commit(connection):
        stats[who()]["commits"] += 1

    # BEGIN IMMEDIATE is emitted by db.py's own "begin" listener (exec_driver_sql, timed above as BEGIN).
    return {"stats": stats, "timing": timing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--delivery", default="thread")
    parser.add_argument("--profile", type=int, default=25, help="functions listed")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime…")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(harness.private_postgres()) if args.backend == "postgresql" else None
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faqbot-ticket-profile.")))
        env = harness.server_env(instance, database_url, CONTACT_RATE_LIMIT="1000000000", MAIL_DELIVERY=args.delivery)
        harness.prepare(env)
        import os

        os.environ.update(env)
        from faqbot import create_app

        app = create_app()
        database = app.extensions["faqbot.db"]
        counters = instrument(database.engine)
        client = app.test_client()
        run_id = uuid.uuid4().hex[:8]

        def post(index: int):
            response = client.post("/api/tickets", json=ticket_payload(index, run_id),
                                   headers={"Idempotency-Key": f"prof-{run_id}-n{index}"})
            assert response.status_code == 201, response.get_data(as_text=True)

        for index in range(20):  # warm up: imports, caches, the sender thread started
            post(index)
        time.sleep(1.0)
        counters["stats"].clear()
        counters["timing"].clear()
        profiler = cProfile.Profile()
        started, cpu_started = time.perf_counter(), time.process_time()
        latencies = []
        if args.profile:
            profiler.enable()
        for index in range(20, 20 + args.tickets):
            began = time.perf_counter()
            post(index)
            latencies.append(time.perf_counter() - began)
        profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        time.sleep(1.5)  # let the sender finish what the last tickets queued
        n = args.tickets
        print(f"{args.backend}, MAIL_DELIVERY={args.delivery}: {n} tickets in {elapsed:.2f} s, "
              f"{1000 * elapsed / n:.2f} ms each (p50 {1000 * harness.percentile(latencies, 0.5):.2f}, "
              f"p95 {1000 * harness.percentile(latencies, 0.95):.2f} ms), CPU {1000 * cpu / n:.2f} ms each (process, "
              f"{'with' if args.profile else 'without'} cProfile); load {harness.load_average()}")
        for thread, counts in sorted(counters["stats"].items()):
            print(f"  {thread}: " + ", ".join(f"{name} {value / n:.2f}/ticket" for name, value in sorted(counts.items())))
        for (thread, verb), seconds in sorted(counters["timing"].items(), key=lambda item: -item[1]):
            print(f"  {thread} {verb}: {1000 * seconds / n:.3f} ms/ticket")
        if args.profile:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
            print(out.getvalue())
        if args.delivery == "cron":  # what the sender costs, apart: every queued acknowledgment sent in batches
            from faqbot.mail import deliver_pending

            profiler = cProfile.Profile()
            began, cpu_began, sent = time.perf_counter(), time.process_time(), 0
            if args.profile:
                profiler.enable()
            while (report := deliver_pending(app)).sent:
                sent += len(report.sent)
            profiler.disable()
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            print(f"sender: {sent} e-mails in {seconds:.2f} s, {1000 * seconds / max(sent, 1):.2f} ms each, "
                  f"CPU {1000 * cpu / max(sent, 1):.2f} ms each")
            if args.profile:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
                print(out.getvalue())
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
