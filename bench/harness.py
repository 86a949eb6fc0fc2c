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
        """The master's live children, read from /proc (no extra dependency)."""
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
