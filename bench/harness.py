"""Run the real server for reliability checks: gunicorn with N workers on a free loopback port, and a private
PostgreSQL cluster when asked. Used by bench/load_*.py, bench/crash_*.py, bench/fuzz_*.py and tests/test_abuse*.py.

Everything binds to 127.0.0.1 and lives in temporary folders removed on exit.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: str) -> None:
    if os.getuid() == 0:
        subprocess.run(["su", "postgres", "-s", "/bin/bash", "-c", command], check=True, capture_output=True)
    else:
        subprocess.run(["bash", "-c", command], check=True, capture_output=True)


@contextmanager
def private_postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster (Debian's binaries), like scripts/test.sh; yields its URL."""
    existing = os.environ.get("FAQBOT_BENCH_POSTGRES_URL")
    if existing:
        yield existing
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")])
    if not bins:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    pgbin = bins[-1]
    pgdata = Path(tempfile.mkdtemp(prefix="faqbot-bench-pg."))
    port = free_port()
    if os.getuid() == 0:
        shutil.chown(pgdata, "postgres")
    try:
        _as_postgres(f"{pgbin}/initdb -D {pgdata} -A trust -U postgres --no-sync")
        # fsync stays ON here: the crash test is about durability of acknowledged tickets.
        _as_postgres(
            f"{pgbin}/pg_ctl -D {pgdata} -w -l {pgdata}/server.log "
            f"-o \"-p {port} -k {pgdata} -c listen_addresses=127.0.0.1 -c max_connections=200\" start"
        )
        _as_postgres(f"{pgbin}/createdb -h 127.0.0.1 -p {port} -U postgres faqbot_bench")
        yield f"postgresql://postgres@127.0.0.1:{port}/faqbot_bench"
    finally:
        try:
            _as_postgres(f"{pgbin}/pg_ctl -D {pgdata} -m immediate stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(pgdata, ignore_errors=True)


class Server:
    """A gunicorn master running create_app() with its own instance folder."""

    def __init__(self, instance: Path, port: int, process: subprocess.Popen, log_path: Path):
        self.instance = instance
        self.port = port
        self.process = process
        self.log_path = log_path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The master's live children but the outbox sender process, read from /proc (no extra dependency)."""
        return [pid for pid in self.child_pids() if pid not in self.sender_pids()]

    def sender_pids(self) -> list[int]:
        """The outbox sender process gunicorn.conf.py starts beside the workers (MAIL_DELIVERY=process)."""
        pids = []
        for pid in self.child_pids():
            try:
                if b"--parent-pid" in Path(f"/proc/{pid}/cmdline").read_bytes():  # faqbot.mail.process.SENDER_COMMAND
                    pids.append(pid)
            except OSError:
                continue
        return pids

    def child_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            state, ppid = fields[0], int(fields[1])
            if ppid == self.process.pid and state != "Z":
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill_worker(self) -> int:
        """SIGKILL one worker mid-request, like the OOM killer would; the master forks a new one."""
        pids = self.worker_pids()
        if not pids:
            return 0
        victim = pids[int(time.monotonic() * 1000) % len(pids)]
        os.kill(victim, signal.SIGKILL)
        return victim

    def wait_workers(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.worker_pids()) >= count:
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn has fewer than {count} workers; log:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def request(self, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 30):
        """One request on a fresh connection; returns (status, headers, parsed JSON or text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            all_headers = {"Content-Type": "application/json"} if isinstance(body, (dict, list)) else {}
            all_headers.update(headers or {})
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            data = json.loads(raw) if content_type.startswith("application/json") and raw else raw.decode(errors="replace")
            return response.status, dict(response.getheaders()), data
        finally:
            connection.close()


def server_env(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_HOST", "TRUSTED_PROXIES"):
        env.pop(name, None)
    env.update(
        {
            "FAQBOT_INSTANCE_PATH": str(instance),
            "INDEX_DIR": str(instance / "index"),
            "OUTBOX_DIR": str(instance / "outbox"),
            "SECRET_KEY": "bench-secret-" + instance.name,
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update({key: str(value) for key, value in extra.items()})
    return env


def prepare(env: dict[str, str]) -> None:
    """Migrate and build the search index once before the workers start (they would otherwise race to do it)."""
    faqbot = str(VENV_BIN / "faqbot")
    subprocess.run([faqbot, "db", "upgrade"], env=env, cwd=ROOT, check=False, capture_output=True)
    subprocess.run([faqbot, "index", "build"], env=env, cwd=ROOT, check=False, capture_output=True)


@contextmanager
def gunicorn(
    instance: Path | None = None,
    *,
    workers: int = 4,
    database_url: str | None = None,
    timeout: int = 30,
    **extra_env: str,
) -> Iterator[Server]:
    """Start `gunicorn -w N "faqbot:create_app()"` on a free loopback port; stop it (and its workers) on exit."""
    owns_instance = instance is None
    instance = Path(instance or tempfile.mkdtemp(prefix="faqbot-srv."))
    instance.mkdir(parents=True, exist_ok=True)
    env = server_env(instance, database_url, **extra_env)
    prepare(env)
    port = free_port()
    log_path = instance / "gunicorn.log"
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}",
            "--timeout", str(timeout),
            "--graceful-timeout", "5",
            "--log-level", "warning",
            "faqbot:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(instance, port, process, log_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
            try:
                status, _headers, _body = server.request("GET", "/api/openapi.json", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 90 s:\n{server.log()}")
            time.sleep(0.2)
        server.wait_workers(workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        if owns_instance and not os.environ.get("FAQBOT_KEEP_INSTANCE"):
            shutil.rmtree(instance, ignore_errors=True)


# --- Benchmarks that travel: calibration, load, the floor app, wrk -------------------------------------------------
# Absolute times do not travel between machines (nor between two moments of this shared 2-core machine); every
# benchmark therefore measures faqbot next to a floor in the same run and reports the ratio, the machine's
# calibration and the load average before and after.

CALIBRATION_LOOP = 2_000_000


def calibration() -> float:
    """Milliseconds for a fixed pure-Python loop (best of 5): a slower or busier machine gives a larger number."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(CALIBRATION_LOOP):
            total += i * i % 7
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def machine() -> dict:
    """What a figure needs next to it to be read on another machine."""
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "commit": commit,
        "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "calibration_ms": calibration(),
        "calibration_loop": f"sum(i*i % 7 for i in range({CALIBRATION_LOOP:,})), best of 5",
    }


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (values in any unit); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def process_memory(pid: int) -> dict:
    """RSS and PSS (shared pages divided among the processes that map them) of one process, in MB."""
    out = {}
    for name, path, field in (("rss_mb", "status", "VmRSS:"), ("pss_mb", "smaps_rollup", "Pss:")):
        try:
            line = next(l for l in Path(f"/proc/{pid}/{path}").read_text().splitlines() if l.startswith(field))
            out[name] = round(int(line.split()[1]) / 1024, 1)
        except (OSError, StopIteration, ValueError):
            out[name] = None
    return out


class GunicornSettings:
    """The gunicorn settings of a run, the same for faqbot and its floor, printed with every figure."""

    def __init__(self, workers: int = 2, worker_class: str = "sync", threads: int = 1, preload: bool = False,
                 timeout: int = 30):
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.preload = preload
        self.timeout = timeout

    def args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class, "--threads", str(self.threads),
                "--timeout", str(self.timeout)]
        return args + (["--preload"] if self.preload else [])

    def describe(self) -> str:
        text = f"gunicorn -w {self.workers} -k {self.worker_class} --threads {self.threads}"
        if self.threads > 1 and self.worker_class == "sync":
            text += " (gunicorn turns sync into gthread when threads > 1)"
        text += (" --preload" if self.preload else "") + f" --timeout {self.timeout}"
        if (ROOT / "gunicorn.conf.py").exists():  # gunicorn reads it from the working folder, for both apps
            text += " + ./gunicorn.conf.py"
        return text

    def as_dict(self) -> dict:
        return {"workers": self.workers, "worker_class": self.worker_class, "threads": self.threads,
                "preload": self.preload, "timeout": self.timeout, "as_run": self.describe()}


@contextmanager
def serve(app_spec: str, settings: GunicornSettings, env: dict[str, str], log_path: Path,
          ready_path: str = "/", start_timeout: float = 120) -> Iterator[Server]:
    """Start gunicorn on a free loopback port with any WSGI app; yields once every worker answers or is up.

    `server.started_s` is the time from launching gunicorn to the first answer on `ready_path`.
    """
    port = free_port()
    log = open(log_path, "ab")
    started = time.monotonic()
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *settings.args(), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
         "--log-level", "warning", app_spec],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server(Path(env.get("FAQBOT_INSTANCE_PATH", log_path.parent)), port, process, log_path)
    try:
        deadline = started + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()[-3000:]}")
            try:
                status, _headers, _body = server.request("GET", ready_path, timeout=start_timeout)
                if status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in {start_timeout:.0f} s:\n{server.log()[-3000:]}")
            time.sleep(0.05)
        server.started_s = round(time.monotonic() - started, 2)
        server.wait_workers(settings.workers, timeout=start_timeout)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%%.1f p50=%%.3f p95=%%.3f p99=%%.3f errors=%%d requests=%%d non2xx=%%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.requests, summary.errors.status))
end
"""


def load_get(port: int, paths: list[str], connections: int, seconds: float, folder: Path) -> dict:
    """Drive GET requests over `paths` in rotation on keep-alive connections: wrk when installed, else Python threads.

    Returns req/s, p50/p95/p99 in ms, errors, and the client used. Loopback only; bounded by `seconds`.
    """
    if shutil.which("wrk"):
        script = folder / f"paths-{port}.lua"
        script.write_text(WRK_LUA % ", ".join(json.dumps(p) for p in paths))
        threads = min(2, connections)
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--timeout", "10s",
             "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
        fields = dict(item.split("=") for item in out.split("RESULT ", 1)[1].split())
        return {"client": f"wrk -t{threads} -c{connections} -d{int(seconds)}s", "rps": float(fields["rps"]),
                "p50_ms": float(fields["p50"]), "p95_ms": float(fields["p95"]), "p99_ms": float(fields["p99"]),
                "requests": int(fields["requests"]), "errors": int(fields["errors"]) + int(fields["non2xx"])}
    return _python_load(port, paths, connections, seconds)


def _python_load(port: int, paths: list[str], connections: int, seconds: float, timeout: float = 10) -> dict:
    import threading

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mine, bad, i = [], 0, offset
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                connection.request("GET", paths[i % len(paths)])
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
                mine.append(time.perf_counter() - began)
            except (OSError, http.client.HTTPException):
                bad += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            i += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n * 7,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + timeout + 30)
    elapsed = time.monotonic() - started
    return {"client": f"Python http.client, {connections} threads, {seconds:g} s", "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 3), "p95_ms": round(percentile(latencies, 0.95) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3), "requests": len(latencies), "errors": errors[0],
            "max_ms": round(max(latencies, default=0) * 1000, 1), "over_1s": sum(1 for x in latencies if x > 1)}


def dev_queries() -> list[str]:
    """The shared dev set's questions (measuring only; their wording never goes into data/ or tests/)."""
    import yaml

    # The repository sits beside shared/ (a worktree one level deeper: wt/<name>).
    candidates = [base / "shared" / "eval" / "search-dev.yaml" for base in (ROOT.parent, ROOT.parent.parent)]
    path = next((c for c in candidates if c.exists()), candidates[0])
    return [case["q"] for case in yaml.safe_load(path.read_text(encoding="utf-8"))]


def search_paths(queries: list[str], limit: int = 10) -> list[str]:
    import urllib.parse

    return [f"/api/search?limit={limit}&q={urllib.parse.quote(q)}" for q in queries]
