"""Cost of one rate-limit check as traffic grows: the limiter must not slow down with the attempts it counted.

Runs the database store (SQLite file, WAL) with a limit no client reaches (as load tests set CONTACT_RATE_LIMIT),
counts N attempts on one key, then times checks at that level. Prints the load average and a fixed CPU loop's time
so that figures from different machines and moments can be compared.

    .venv/bin/python bench/limiter_cost.py            # this tree
    PYTHONPATH=<other tree> .venv/bin/python bench/limiter_cost.py   # the same on another version
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from faqbot.db import Database, import_models
from faqbot.throttle import DatabaseThrottle

LEVELS = (0, 1_000, 5_000, 20_000)
SAMPLES = 200
WINDOW = dt.timedelta(minutes=15)


def calibration_ms() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i * i
    return (time.perf_counter() - start) * 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    database = Database(f"sqlite:///{folder / 'limiter.sqlite3'}")
    import_models()
    database.upgrade(folder)
    throttle = DatabaseThrottle(database, "bench")
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    counted = 0
    print(f"load average {os.getloadavg()}, calibration loop {calibration_ms():.0f} ms")
    print("attempts already counted | check p50 (ms) | check p95 (ms)")
    for level in LEVELS:
        while counted < level:  # spread over the last ten minutes, as real traffic would be
            throttle.check_and_hit("contact", "127.0.0.1", 10**9, WINDOW, now + dt.timedelta(seconds=counted * 600 / LEVELS[-1]))
            counted += 1
        times = []
        for _ in range(SAMPLES):
            start = time.perf_counter()
            throttle.check_and_hit("contact", "127.0.0.1", 10**9, WINDOW, now + dt.timedelta(minutes=10))
            times.append((time.perf_counter() - start) * 1000)
            counted += 1
        times.sort()
        print(f"{level:>24} | {statistics.median(times):>14.2f} | {times[int(len(times) * 0.95)]:>14.2f}")
    database.dispose()


if __name__ == "__main__":
    main()
