"""HTTP load on /api/search: gunicorn (2 workers) + wrk on this machine, dev queries in rotation.

    .venv/bin/python bench/search_http.py [--seconds 15] [--connections 8] [--worker-class sync|gthread]
                                          [--threads 1] [--rate 300]
                                          [--modes buffered,per-request,suggest]

Modes, each on a fresh gunicorn and database:
- buffered: plain /api/search; each search is appended to the worker's search-log buffer, written in batches
  (the product's default, SEARCH_LOG_FLUSH_SECONDS=0.5);
- per-request: plain /api/search with SEARCH_LOG_FLUSH_SECONDS=0: one transaction per request, as before the
  buffered writer (the "before" figure);
- suggest: /api/search?suggest=1, the live search, which logs nothing.
After each logged run the server is stopped gracefully and the search_log rows are counted: every request wrk
saw answered must have its row (the buffer is flushed at worker exit).
wrk and gunicorn share the 2 cores, so the figures are a floor.

Until 2026-11-26 this script always passed `--threads 4` (gunicorn then runs gthread workers, even when `-k sync` is
asked) while printing "-k sync": the README's 1,932 req/s was measured that way. The threads are now an option
(default 1: real sync workers) and printed as run. For faqbot next to its floor in the same run, use
bench/search_floor.py.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

LUA = """
local queries = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/search?limit=10%s&q=" .. queries[(i %% #queries) + 1])
end
%s
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%%.1f p50=%%.2f p95=%%.2f p99=%%.2f errors=%%d requests=%%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, summary.requests))
end
"""

MODES = {
    "buffered": ("/api/search (journal en mémoire tampon, écrit par lots)", "", {}),
    "per-request": ("/api/search (une transaction de journal par requête, « avant »)", "", {"SEARCH_LOG_FLUSH_SECONDS": 0}),
    "suggest": ("/api/search?suggest=1 (recherche en direct, sans journal)", "&suggest=1", {}),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_mode(mode: str, args, quoted: str) -> None:
    label, extra, config = MODES[mode]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, FAQBOT_INSTANCE_PATH=folder)
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", "-k", args.worker_class, "--threads", str(args.threads),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", f"faqbot:create_app({config!r})"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        answered = 0
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/api/search?suggest=1&q=stage", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.5)
            script = Path(folder) / "rotate.lua"
            # --rate: each connection pauses between requests so the total is about that many req/s (latency at
            # the target load rather than at saturation).
            pause = (f"delay = function() return {max(0.0, args.connections * 1000.0 / args.rate - 3):.3f} end"
                     if args.rate else "")  # minus ~3 ms: the response time is part of the cycle
            script.write_text(LUA % (quoted, extra, pause))
            # Warm both workers (index, snippet caches) before measuring.
            warm = subprocess.run(["wrk", "-t2", "-c4", "-d3s", "-s", str(script), base], capture_output=True,
                                  text=True, check=True).stdout
            out = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script), base],
                capture_output=True, text=True, check=True,
            ).stdout
            result = re.search(r"RESULT (.*)", out).group(1)
            answered = sum(int(re.search(r"requests=(\d+)", text).group(1)) for text in (warm, out))
            paced = f", ~{args.rate:g} req/s" if args.rate else ""
            print(f"{label}: {result}  (wrk -t2 -c{args.connections} -d{args.seconds}s{paced}, "
                  f"gunicorn -w 2 -k {args.worker_class} --threads {args.threads})", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if extra:
            return
        with sqlite3.connect(Path(folder) / "faqbot.sqlite3") as connection:
            rows = connection.execute("SELECT count(*) FROM search_log").fetchone()[0]
        # wrk does not count the requests in flight when it stops: the server may have logged up to
        # `connections` more (warm-up and run).
        verdict = "ok" if answered <= rows <= answered + 4 + args.connections else "MISSING ROWS"
        print(f"    search_log rows after graceful stop: {rows} for {answered} answered requests -> {verdict}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (>1 means gthread)")
    parser.add_argument("--rate", type=float, default=0, help="aim at this many req/s in total (0: as fast as possible)")
    parser.add_argument("--modes", default="buffered,per-request,suggest")
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "search-dev.yaml"))
    args = parser.parse_args()
    queries = [case["q"] for case in yaml.safe_load(Path(args.dev).read_text(encoding="utf-8"))]
    quoted = ", ".join('"' + urllib.parse.quote(q) + '"' for q in queries)
    for mode in args.modes.split(","):
        run_mode(mode, args, quoted)


if __name__ == "__main__":
    sys.exit(main())
