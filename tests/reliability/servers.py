"""Real servers for the fault and shutdown tests: a PostgreSQL cluster the test stops and starts,
gunicorn as production runs it, a plain HTTP client and a load generator that remembers every
write it got acknowledged.

Everything here uses real processes and real sockets; nothing is mocked. Timing figures are
`time.monotonic()` seconds, so a test can compare them with the moments it stopped a server or
sent a signal.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import create_engine

import pgcluster
from servers import Server, tail

from app.sessions import store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)  # the virtualenv running the tests holds gunicorn
SCHEMA = "ai"
APP_NAME = "agno-session-service"  # application_name of the service's database connections
# Settings a developer's shell may carry that would point the servers elsewhere.
FOREIGN_ENV = ("DATABASE_URL", "OS_SECURITY_KEY", "API_KEY", "DB_ID", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")


# --- PostgreSQL -------------------------------------------------------------------------------

class PgCluster:
    """A cluster of our own with durable settings (fsync, full-page writes and synchronous commit
    on): what it acknowledged survives an immediate stop. Restarted on the same port, so the
    service's URL stays valid."""

    def __init__(self, directory: str):
        self.directory = directory
        self.port: int | None = None
        self.server_url = ""

    def start(self) -> None:
        self.server_url = pgcluster.start(self.directory, self.port, durable=True)
        self.port = int(self.server_url.rsplit(":", 1)[1].split("/")[0])

    def stop(self, mode: str = "fast") -> None:
        pgcluster.stop(self.directory, mode)

    def running(self) -> bool:
        return pgcluster.running(self.directory)

    def database(self, name: str) -> str:
        """A libpq URL of a new database holding agno's tables (as `migrate` creates them)."""
        url = pgcluster.ensure_database(self.server_url, name)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as conn:
                store.bootstrap_tables(conn, SCHEMA)
        finally:
            engine.dispose()
        return url


@contextmanager
def pg_cluster() -> Iterator[PgCluster]:
    # As root the cluster runs as the postgres user, in a directory that user can reach.
    directory = tempfile.mkdtemp(prefix="agno-faults-pg-", dir=os.environ.get("AGNO_TEST_PG_DIR", "/tmp"))
    cluster = PgCluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        try:
            pgcluster.stop(directory, "immediate")
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def row_lock(url: str, session_id: str) -> Iterator[psycopg.Connection]:
    """Hold the session's row FOR UPDATE until the block ends: a write of that session waits in
    the database for as long as the test likes."""
    conn = psycopg.connect(url, application_name="agno-faults-lock")
    try:
        row = conn.execute(f"SELECT session_id FROM {SCHEMA}.agno_sessions WHERE session_id = %s FOR UPDATE",
                           (session_id,)).fetchone()
        assert row is not None, f"session {session_id} is not in {SCHEMA}.agno_sessions"
        yield conn
    finally:
        conn.rollback()
        conn.close()


def wait_for_lock_waiters(url: str, count: int = 1, timeout: float = 15) -> bool:
    """True once `count` of the service's connections wait for a lock."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True, application_name="agno-faults-watch") as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                                   " AND wait_event_type = 'Lock' AND datname = current_database()",
                                   (APP_NAME,)).fetchone()[0]
            if waiting >= count:
                return True
            time.sleep(0.05)
    return False


def stored_sessions(url: str, prefix: str) -> dict[str, dict]:
    """session_id -> session_data of every stored session whose id starts with `prefix`."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f"SELECT session_id, session_data FROM {SCHEMA}.agno_sessions WHERE session_id LIKE %s",
                            (prefix.replace("_", r"\_") + "%",)).fetchall()
    return {sid: data or {} for sid, data in rows}


# --- gunicorn ---------------------------------------------------------------------------------

def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AGNO_") and k not in FOREIGN_ENV}


class Gunicorn(Server):
    """`gunicorn -c gunicorn.conf.py wsgi:app` from the repository root, as production runs it,
    in its own process group, logging to a file; ready when /readyz answers 200."""

    def __init__(self, db_url: str, workdir: str, **settings: str | int):
        port = pgcluster.free_port()
        metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=workdir)
        env = {**base_env(), "AGNO_PG_DSN": db_url, "AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": str(port),
               "WEB_CONCURRENCY": "2", "AGNO_ACCESS_LOG_LEVEL": "WARNING", "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
               # Stopped at the end of a test: no drain unless the test is about it.
               "AGNO_DRAIN_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
        env.update({key: str(value) for key, value in settings.items()})
        logfile = os.path.join(workdir, f"gunicorn-{port}.log")
        super().__init__("gunicorn", [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                         env, ROOT, port, logfile)
        self.client = Client(port)

    def start(self, timeout: float = 60, health_path: str = "/readyz") -> None:
        super().start(timeout, health_path)
        # /readyz answered: at least one worker is up; wait for all of them.
        wanted = int(self.env["WEB_CONCURRENCY"])
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> set[int]:
        """The master's children: its workers."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children", encoding="ascii") as fh:
                return {int(pid) for pid in fh.read().split()}
        except (OSError, AssertionError):
            return set()

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int | None:
        """The master's exit status, or None if it is still running after `timeout` seconds."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.logfile, lines)


@contextmanager
def gunicorn(db_url: str, workdir: str, **settings: str | int) -> Iterator[Gunicorn]:
    server = Gunicorn(db_url, workdir, **settings)
    server.start()
    try:
        yield server
    finally:
        proc = server.proc
        server.stop()
        if proc is not None and proc.poll() is None:  # pragma: no cover - stop() killed the group
            os.killpg(proc.pid, signal.SIGKILL)


# --- HTTP -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """One request: when it started, when its connection was accepted, when it ended, and what
    came back (a status and body, or the error that replaced them)."""

    method: str
    path: str
    started: float
    connected: float | None = None
    ended: float = 0.0
    status: int | None = None
    body: bytes = b""
    error: str = ""

    @property
    def elapsed(self) -> float:
        return self.ended - self.started

    @property
    def refused(self) -> bool:
        return self.error.startswith("ConnectionRefusedError")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def detail(self) -> str | None:
        """The `detail` string of a JSON error body, else None."""
        doc = self.json()
        value = doc.get("detail") if isinstance(doc, dict) else None
        return value if isinstance(value, str) and value else None

    def describe(self) -> str:
        what = f"{self.status} {self.body[:160].decode('utf-8', 'replace')}" if self.status else self.error
        return f"{self.method} {self.path} -> {what} after {self.elapsed:.2f}s"


class Client:
    """A new connection per request with `Connection: close` (no keep-alive), explicit timeouts."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout

    def request(self, method: str, path: str, body=None, timeout: float | None = None) -> Outcome:
        out = Outcome(method, path, time.monotonic())
        headers = {"Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
        try:
            conn.connect()
            out.connected = time.monotonic()
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            out.body = resp.read()
            out.status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            out.error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
            out.ended = time.monotonic()
        return out


# --- load -------------------------------------------------------------------------------------

@dataclass
class Owned:
    """A session one load thread created and alone writes: what it got acknowledged and what
    it merely attempted (a write whose answer was an error may still have committed)."""

    session_id: str
    state_acked: int = 0
    state_tried: int = 0
    name_acked: int = 0
    name_tried: int = 0


@dataclass
class Load:
    """Threads sending a mix of creates, PATCHes, renames, list and detail reads, each thread on
    sessions of its own, so the last acknowledged value of every session is known exactly."""

    client: Client
    threads: int = 4
    pause: float = 0.0
    pause_after_error: float = 0.02  # a refused or failed request comes back at once: do not spin
    timeout: float = 30
    prefix: str = field(default_factory=lambda: f"load-{uuid.uuid4().hex[:8]}-")
    outcomes: list[Outcome] = field(default_factory=list)
    owned: list[Owned] = field(default_factory=list)
    creates_acked: int = 0
    updates_acked: int = 0  # PATCHes and renames answered 200
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for index in range(self.threads):
            thread = threading.Thread(target=self._run, args=(index,), daemon=True, name=f"load-{index}")
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(self.timeout + 10)
            assert not thread.is_alive(), f"{thread.name} still running: a request hangs"

    def _send(self, method: str, path: str, body=None) -> Outcome:
        out = self.client.request(method, path, body, timeout=self.timeout)
        with self._lock:
            self.outcomes.append(out)
        return out

    def _run(self, index: int) -> None:
        mine: list[Owned] = []
        step = 0
        while not self._stop.is_set():
            step += 1
            kind = step % 6
            out: Outcome
            if kind == 1 or not mine:
                sid = f"{self.prefix}{index}-{step}"
                out = self._send("POST", "/sessions?type=agent", {
                    "session_id": sid, "session_name": "name-0", "user_id": f"user-{index}",
                    "agent_id": "load-agent", "session_state": {"v": 0}})
                if out.status == 201:
                    owned = Owned(sid)
                    mine.append(owned)
                    with self._lock:
                        self.owned.append(owned)
                        self.creates_acked += 1
            elif kind in (2, 4):
                owned = mine[step % len(mine)]
                owned.state_tried += 1
                value = owned.state_tried
                out = self._send("PATCH", f"/sessions/{owned.session_id}?type=agent", {"session_state": {"v": value}})
                if out.status == 200:
                    owned.state_acked = value
                    with self._lock:
                        self.updates_acked += 1
            elif kind == 3:
                owned = mine[step % len(mine)]
                owned.name_tried += 1
                value = owned.name_tried
                out = self._send("POST", f"/sessions/{owned.session_id}/rename?type=agent",
                                 {"session_name": f"name-{value}"})
                if out.status == 200:
                    owned.name_acked = value
                    with self._lock:
                        self.updates_acked += 1
            elif kind == 5:
                self._send("GET", f"/sessions/{mine[-1].session_id}?type=agent")
            else:
                self._send("GET", f"/sessions?type=agent&user_id=user-{index}&limit=5")
            failed = out.status is None or out.status >= 500
            if self.pause or failed:
                time.sleep(max(self.pause, self.pause_after_error if failed else 0))

    @property
    def writes_acked(self) -> int:
        with self._lock:
            return self.creates_acked + self.updates_acked

    def verify(self, db_url: str) -> list[str]:
        """Every acknowledged write against the database: one problem per missing session, and
        per session whose stored state or name is older than the last one acknowledged."""
        stored = stored_sessions(db_url, self.prefix)
        problems = []
        for owned in self.owned:
            data = stored.get(owned.session_id)
            if data is None:
                problems.append(f"{owned.session_id}: created with 201, not in the database")
                continue
            state = (data.get("session_state") or {}).get("v")
            if not isinstance(state, int) or not owned.state_acked <= state <= owned.state_tried:
                problems.append(f"{owned.session_id}: session_state v={state!r}, acknowledged {owned.state_acked},"
                                f" tried up to {owned.state_tried}")
            name = str(data.get("session_name", ""))
            number = int(name[5:]) if name.startswith("name-") and name[5:].isdigit() else None
            if number is None or not owned.name_acked <= number <= owned.name_tried:
                problems.append(f"{owned.session_id}: session_name {name!r}, acknowledged name-{owned.name_acked},"
                                f" tried up to name-{owned.name_tried}")
        return problems


def poll(client: Client, path: str, stop: threading.Event, interval: float, into: list[Outcome]) -> threading.Thread:
    """A thread sending `GET path` every `interval` seconds until `stop` is set."""

    def run() -> None:
        while not stop.is_set():
            into.append(client.request("GET", path, timeout=10))
            stop.wait(interval)

    thread = threading.Thread(target=run, daemon=True, name=f"poll {path}")
    thread.start()
    return thread
