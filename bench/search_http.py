"""HTTP load on /api/search: gunicorn (2 sync workers) + wrk on this machine, dev queries in rotation.

    .venv/bin/python bench/search_http.py [--seconds 15] [--connections 8]

Two runs: plain /api/search (each request also writes its search-log row to SQLite) and the live-search form
(suggest=1, no log row). wrk and gunicorn share the 2 cores, so the figures are a floor.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
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
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%%.1f p50=%%.2f p95=%%.2f p99=%%.2f errors=%%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "search-dev.yaml"))
    args = parser.parse_args()
    queries = [case["q"] for case in yaml.safe_load(Path(args.dev).read_text(encoding="utf-8"))]
    quoted = ", ".join('"' + urllib.parse.quote(q) + '"' for q in queries)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, FAQBOT_INSTANCE_PATH=folder)
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", "-k", args.worker_class, "--threads", "4",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "faqbot:create_app()"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/api/search?q=stage", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.5)
            for label, extra in (("/api/search (avec journal de recherche)", ""), ("/api/search?suggest=1 (sans journal)", "&suggest=1")):
                script = Path(folder) / "rotate.lua"
                script.write_text(LUA % (quoted, extra))
                # Warm both workers (index, snippet caches) before measuring.
                subprocess.run(["wrk", "-t2", "-c4", "-d3s", "-s", str(script), base], capture_output=True, check=True)
                out = subprocess.run(
                    ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script), base],
                    capture_output=True, text=True, check=True,
                ).stdout
                result = re.search(r"RESULT (.*)", out).group(1)
                print(f"{label}: {result}  (wrk -t2 -c{args.connections} -d{args.seconds}s, gunicorn -w 2 -k {args.worker_class})")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
