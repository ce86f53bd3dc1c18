#!/usr/bin/env python3
"""`make smoke`: the service as production runs it, end to end, on a throwaway PostgreSQL.

    .venv/bin/python tools/smoke.py

1. Database: a throwaway cluster (``tools/pgcluster.py``), or, with ``AGNO_SMOKE_PG`` (a libpq
   URL of a server), a uniquely named database created on that server and dropped at the end.
2. ``agno-session-service migrate`` (twice: it must be idempotent), then agno's tables must exist.
3. ``gunicorn -c gunicorn.conf.py wsgi:app`` from the repository root: two sync workers, a fresh
   ``PROMETHEUS_MULTIPROC_DIR``, ``AGNO_GRACEFUL_TIMEOUT=10``, ``AGNO_DRAIN_SECONDS=2``; its output
   goes to a log file.
   Ready when ``/readyz`` answers 200.
4. ``scripts/test-session-api.sh`` against it.
5. ``/openapi.json`` documents every route the script used, ``/docs`` serves Swagger UI without a
   CDN, ``X-Request-ID`` is generated or echoed and lands in a JSON access-log line, and
   ``/metrics`` counts the script's requests per route with both workers' counts aggregated: one
   worker is held inside a PATCH (by a row lock taken from a separate connection) while the other
   serves GETs, and a single scrape must show both.
6. SIGTERM drain: a PATCH is held in flight the same way and the master gets SIGTERM. During the
   drain (``AGNO_DRAIN_SECONDS=2``) the other worker answers ``/readyz`` with 503 "Shutting down"
   and ``/healthz`` with 200; after it a new connection is refused; the lock is released a second
   after the drain, and the PATCH must complete with 200 and be stored; the master must exit 0
   within the graceful timeout.

Prints one line per check and a summary table; exit status 1 if any check failed (with the tail
of the gunicorn log). The server, the cluster (or database) and the temporary directories are
removed whatever happens.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import psycopg

import pgcluster
from servers import Server, free_port, tail

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The virtualenv that runs this script holds gunicorn and the service's console script.
BIN = os.path.dirname(sys.executable)
SCHEMA = "ai"
GRACEFUL_TIMEOUT = 10
DRAIN_SECONDS = 2  # AGNO_DRAIN_SECONDS: /readyz answers 503 while the workers still serve
APP_NAME = "agno-session-service"  # the application_name of the service's database connections

# Routes scripts/test-session-api.sh calls, as (method, route template).
SCRIPT_ROUTES = [
    ("GET", "/sessions"), ("POST", "/sessions"),
    ("GET", "/sessions/{session_id}"), ("PATCH", "/sessions/{session_id}"), ("DELETE", "/sessions/{session_id}"),
    ("GET", "/sessions/{session_id}/runs"), ("POST", "/sessions/{session_id}/rename"),
]
REQUESTS_METRIC = "agno_session_http_requests_total"
DURATION_METRIC = "agno_session_http_request_duration_seconds"

# Settings a developer's shell may carry that would point the smoke run somewhere else.
FOREIGN_ENV = ("DATABASE_URL", "OS_SECURITY_KEY", "API_KEY", "DB_ID", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")


class SmokeError(Exception):
    """A step that later steps depend on failed."""


# --- results ----------------------------------------------------------------------------------

@dataclass
class Results:
    rows: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        detail = " ".join(detail.split())  # one line per check in the table
        self.rows.append((name, bool(passed), detail))
        print(f"{'ok  ' if passed else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        return bool(passed)

    @property
    def failed(self) -> bool:
        return any(not ok for _, ok, _ in self.rows)

    def table(self) -> str:
        width = max(len(name) for name, _, _ in self.rows)
        lines = [f"{'check':<{width}}  result  detail", f"{'-' * width}  ------  {'-' * 40}"]
        for name, ok, detail in self.rows:
            lines.append(f"{name:<{width}}  {'ok' if ok else 'FAIL':<6}  {detail}")
        return "\n".join(lines)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


# --- HTTP -------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class Client:
    """One new connection per request, so that the kernel may hand each to either worker."""

    def __init__(self, port: int):
        self.port = port
        self.session_requests = 0  # requests this client sent to /sessions routes

    def request(self, method: str, path: str, body=None, headers: dict | None = None,
                timeout: float = 15) -> Response:
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if path.startswith("/sessions"):
            self.session_requests += 1
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            conn.close()


def short(data: bytes | str, limit: int = 300) -> str:
    text = (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).strip()
    return text if len(text) <= limit else text[:limit] + "…"


# --- Prometheus text format -------------------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in LABEL.findall(m.group(2) or "")}
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def template(route: str) -> str:
    """Flask's `/sessions/<session_id>` (or `<path:x>`) and OpenAPI's `/sessions/{session_id}` alike."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", route)


def request_counts(samples) -> dict[tuple[str, str, str], float]:
    counts: dict[tuple[str, str, str], float] = {}
    for name, labels, value in samples:
        if name == REQUESTS_METRIC:
            key = (labels.get("method", "").upper(), template(labels.get("route", "")), labels.get("status", ""))
            counts[key] = counts.get(key, 0.0) + value
    return counts


def count_for(counts, method: str, route: str, status: str | None = None) -> float:
    return sum(v for (m, r, s), v in counts.items() if m == method and r == route and (status is None or s == status))


# --- database ---------------------------------------------------------------------------------

@contextmanager
def smoke_database() -> Iterator[str]:
    """A libpq URL of an empty database that exists only for this run."""
    given = os.environ.get("AGNO_SMOKE_PG")
    if given:
        name = f"agno_smoke_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = pgcluster.ensure_database(given, name)
        print(f"database {name} on the AGNO_SMOKE_PG server")
        try:
            yield url
        finally:
            with psycopg.connect(given, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    # The cluster runs as the postgres user when we are root: its directory must be reachable.
    directory = tempfile.mkdtemp(prefix="agno-smoke-pg-", dir=os.environ.get("AGNO_TEST_PG_DIR") or None)
    try:
        server = pgcluster.start(directory)
        url = pgcluster.ensure_database(server, "agno_smoke")
        print(f"throwaway PostgreSQL cluster on port {urlsplit(server).port}, database agno_smoke")
        yield url
    finally:
        try:
            pgcluster.stop(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def row_lock(url: str, session_id: str) -> Iterator[psycopg.Connection]:
    """Hold the session's agno_sessions row FOR UPDATE in an open transaction until the block ends,
    so that a PATCH of that session waits in the database: a request in flight for as long as we
    like, without touching the application."""
    conn = psycopg.connect(url, application_name="agno-smoke-lock")
    try:
        row = conn.execute(f"SELECT session_id FROM {SCHEMA}.agno_sessions WHERE session_id = %s FOR UPDATE",
                           (session_id,)).fetchone()
        if row is None:
            raise SmokeError(f"session {session_id} is not in {SCHEMA}.agno_sessions")
        yield conn
    finally:
        conn.rollback()
        conn.close()


def wait_for_lock_wait(url: str, timeout: float = 10) -> float | None:
    """Seconds until one of the service's connections waits for a lock; None if none does in time."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True, application_name="agno-smoke-watch") as conn:
        while time.monotonic() - started < timeout:
            waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                                   " AND wait_event_type = 'Lock' AND datname = current_database()",
                                   (APP_NAME,)).fetchone()[0]
            if waiting:
                return time.monotonic() - started
            time.sleep(0.05)
    return None


def stored_state(url: str, session_id: str):
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT session_data -> 'session_state' FROM {SCHEMA}.agno_sessions WHERE session_id = %s",
                           (session_id,)).fetchone()
    return None if row is None else row[0]


class InFlight(threading.Thread):
    """A request sent from a thread; `response` or `error` once it is done."""

    def __init__(self, client: Client, method: str, path: str, body=None, timeout: float = 60):
        super().__init__(daemon=True)
        self.client, self.method, self.path, self.body, self.timeout = client, method, path, body, timeout
        self.response: Response | None = None
        self.error: BaseException | None = None
        self.started_at = self.finished_at = 0.0

    def run(self) -> None:
        self.started_at = time.monotonic()
        try:
            self.response = self.client.request(self.method, self.path, self.body, timeout=self.timeout)
        except BaseException as exc:  # reported by the caller
            self.error = exc
        finally:
            self.finished_at = time.monotonic()

    def outcome(self) -> str:
        if self.is_alive():
            return "still running"
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        return f"{self.response.status} {short(self.response.body, 200)}"


# --- the stages -------------------------------------------------------------------------------

def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AGNO_") and k not in FOREIGN_ENV}


def migrate(results: Results, url: str) -> None:
    section("migrate")
    env = {**base_env(), "AGNO_PG_DSN": url}
    cmd = [os.path.join(BIN, "agno-session-service"), "migrate"]
    for attempt in ("first run", "second run (idempotent)"):
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        except (OSError, subprocess.TimeoutExpired) as exc:
            results.check(f"migrate: {attempt}", False, f"{type(exc).__name__}: {exc}")
            return
        output = (proc.stdout + proc.stderr).strip()
        for line in output.splitlines():
            print(f"    {line}")
        results.check(f"migrate: {attempt}", proc.returncode == 0,
                      f"exit {proc.returncode} in {time.monotonic() - started:.1f}s"
                      + ("" if proc.returncode == 0 else f": {short(output, 400)}"))
    with psycopg.connect(url, autocommit=True) as conn:
        found = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (SCHEMA,))}
    wanted = {"agno_sessions", "agno_runs"}
    results.check("migrate: agno's tables exist", wanted <= found,
                  f"{SCHEMA}: {', '.join(sorted(found)) or 'no tables'}"
                  + ("" if wanted <= found else f"; missing {', '.join(sorted(wanted - found))}"))


def start_gunicorn(results: Results, url: str, workdir: str) -> Server:
    section("gunicorn")
    port = free_port()
    metrics_dir = os.path.join(workdir, "metrics")
    os.makedirs(metrics_dir)
    env = {
        **base_env(),
        "AGNO_PG_DSN": url,
        "AGNO_SERVICE_HOST": "127.0.0.1",
        "AGNO_SERVICE_PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "AGNO_THREADS": "1",  # sync workers: a worker inside a request takes no other one
        "AGNO_GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "AGNO_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "PYTHONUNBUFFERED": "1",
    }
    logfile = os.path.join(workdir, "gunicorn.log")
    server = Server("gunicorn", [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                    env, ROOT, port, logfile)
    started = time.monotonic()
    try:
        server.start(timeout=60, health_path="/readyz")
    except RuntimeError as exc:
        print(exc)
        results.check("gunicorn: /readyz 200", False, short(str(exc).splitlines()[0], 300))
        raise SmokeError("stopped: gunicorn did not become ready, later checks skipped") from exc
    results.check("gunicorn: /readyz 200", True,
                  f"port {port}, ready after {time.monotonic() - started:.1f}s, master pid {server.proc.pid}")
    return server


SCRIPT_SUMMARY = re.compile(r"passed: (\d+) steps, (\d+) requests \((\d+) to /sessions routes\)")


def run_script(results: Results, base: str) -> int:
    """Run the curl smoke script; return how many requests it sent to /sessions routes."""
    section("scripts/test-session-api.sh")
    try:
        proc = subprocess.run(["bash", "scripts/test-session-api.sh", base], cwd=ROOT, env=base_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        results.check("test-session-api.sh", False, f"timed out after {exc.timeout}s")
        return 0
    for line in proc.stdout.rstrip().splitlines():
        print(f"    {line}")
    m = SCRIPT_SUMMARY.search(proc.stdout)
    results.check("test-session-api.sh", proc.returncode == 0 and m is not None,
                  f"exit {proc.returncode}" + (f", {m.group(1)} steps, {m.group(2)} requests" if m else ""))
    return int(m.group(3)) if m else 0


def check_openapi(results: Results, client: Client) -> None:
    section("OpenAPI and docs")
    resp = client.request("GET", "/openapi.json")
    try:
        doc = resp.json() if resp.status == 200 else None
    except ValueError:
        doc = None
    ok = results.check("/openapi.json: 200 application/json",
                       resp.status == 200 and resp.content_type.startswith("application/json") and isinstance(doc, dict),
                       f"{resp.status} {resp.content_type}" + ("" if resp.status == 200 else f" {short(resp.body)}"))
    if ok:
        version = str(doc.get("openapi", ""))
        results.check("/openapi.json: OpenAPI 3.1 document", version.startswith("3.1"), f"openapi: {version or '(missing)'}")
        paths = doc.get("paths") or {}
        missing = [f"{m} {r}" for m, r in SCRIPT_ROUTES if m.lower() not in (paths.get(r) or {})]
        results.check("/openapi.json: documents the script's routes", not missing,
                      f"{len(paths)} paths" + (f"; missing {', '.join(missing)}" if missing else ""))
    resp = client.request("GET", "/docs")
    html = resp.body.decode("utf-8", "replace")
    ok = results.check("/docs: 200 text/html", resp.status == 200 and resp.content_type.startswith("text/html"),
                       f"{resp.status} {resp.content_type}")
    if ok:
        # Swagger UI from the package's own files: every script and stylesheet is served by us.
        assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
        remote = [a for a in assets if re.match(r"^(?:[a-z]+:)?//", a)]
        fetched = {}
        for asset in assets:
            if asset not in remote:
                # Resolved as a browser resolves it against the page's URL.
                target = urlsplit(urljoin(f"http://127.0.0.1:{client.port}/docs", asset))
                fetched[asset] = client.request("GET", target.path + (f"?{target.query}" if target.query else "")).status
        broken = [f"{a} -> {st}" for a, st in fetched.items() if st != 200]
        results.check("/docs: assets served locally, no CDN", bool(fetched) and not remote and not broken,
                      f"{len(fetched)} local assets, all 200" if fetched and not remote and not broken else
                      "; ".join(filter(None, [f"remote: {', '.join(remote)}" if remote else "",
                                              f"failing: {', '.join(broken)}" if broken else "",
                                              "" if fetched else "no local script or stylesheet"])))


def create_session(client: Client, session_id: str) -> None:
    resp = client.request("POST", "/sessions?type=agent", {
        "session_id": session_id, "session_name": "smoke drain", "user_id": "smoke-user",
        "agent_id": "smoke-agent", "session_state": {"phase": "created"}})
    if resp.status != 201:
        raise SmokeError(f"stopped: POST /sessions for {session_id} answered {resp.status} {short(resp.body)}")


def check_request_id(results: Results, client: Client, logfile: str, session_id: str) -> None:
    section("request ids and the access log")
    resp = client.request("GET", "/healthz")
    generated = resp.headers.get("X-Request-ID", "")
    results.check("X-Request-ID generated when none is sent", bool(generated), f"/healthz -> {generated or '(none)'}")

    rid = f"smoke-{uuid.uuid4().hex}"
    path = f"/sessions/{session_id}"
    resp = client.request("GET", path, headers={"X-Request-ID": rid})
    echoed = resp.headers.get("X-Request-ID", "")
    results.check("X-Request-ID echoed when valid", resp.status == 200 and echoed == rid,
                  f"GET {path} -> {resp.status}, sent {rid}, got {echoed or '(none)'}")

    bad = 'not a valid id <"> ' * 30
    resp = client.request("GET", "/healthz", headers={"X-Request-ID": bad})
    replaced = resp.headers.get("X-Request-ID", "")
    results.check("X-Request-ID replaced when invalid", bool(replaced) and replaced != bad,
                  f"sent {len(bad)} characters with spaces and quotes, got {short(replaced, 80) or '(none)'}")

    # The access log line is written by the worker that served the request; give it a moment.
    wanted = ("request_id", "method", "route", "status")
    line, candidates, deadline = None, [], time.monotonic() + 5
    while line is None and time.monotonic() < deadline:
        candidates = []
        with open(logfile, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict) and rid in (str(v) for v in record.values()):
                    candidates.append(record)
        for record in candidates:
            has_duration = any(k.startswith("duration") and isinstance(v, int | float) for k, v in record.items())
            if (all(k in record for k in wanted) and has_duration and record["request_id"] == rid
                    and str(record["method"]).upper() == "GET" and template(str(record["route"])) == "/sessions/{session_id}"
                    and str(record["status"]) == "200"):
                line = record
                break
        else:
            time.sleep(0.2)
    if line is not None:
        detail = ", ".join(f"{k}={line[k]}" for k in (*wanted, *[k for k in line if k.startswith("duration")]))
    elif candidates:
        detail = f"lines with the id lack request_id/method/route/status/duration*: {short(json.dumps(candidates[-1]), 400)}"
    else:
        detail = f"no JSON line in the gunicorn log carries {rid}"
    results.check("access log: a JSON line with the request id, method, route, status, duration", line is not None, detail)


def check_metrics(results: Results, client: Client, url: str, session_id: str, script_requests: int) -> None:
    section("metrics")
    resp = client.request("GET", "/metrics")
    text = resp.body.decode("utf-8", "replace")
    ok = results.check("/metrics: 200 text/plain", resp.status == 200 and resp.content_type.startswith("text/plain"),
                       f"{resp.status} {resp.content_type}" + ("" if resp.status == 200 else f" {short(resp.body)}"))
    if not ok:
        return
    samples = parse_metrics(text)
    before = request_counts(samples)
    missing = [f"{m} {r}" for m, r in SCRIPT_ROUTES if count_for(before, m, r) < 1]
    results.check(f"/metrics: {REQUESTS_METRIC} per route the script called", bool(before) and not missing,
                  f"{len(before)} series" + (f"; no samples for {', '.join(missing)}" if missing else ""))
    total = sum(v for (_, r, _), v in before.items() if r.startswith("/sessions"))
    expected = script_requests + client.session_requests
    results.check("/metrics: /sessions requests counted", total >= expected > 0,
                  f"sum over /sessions samples {total:g}, requests sent {expected}")
    buckets = [s for s in samples if s[0] == f"{DURATION_METRIC}_bucket" and "le" in s[1]]
    results.check(f"/metrics: {DURATION_METRIC} histogram", bool(buckets)
                  and any(s[0] == f"{DURATION_METRIC}_count" for s in samples),
                  f"{len(buckets)} bucket samples")

    # Both workers' counts in one scrape: worker A is held inside a PATCH; the GETs sent meanwhile
    # can only be served by worker B; the scrape afterwards must show A's PATCH and B's GETs.
    path = f"/sessions/{session_id}"
    gets = 6
    detail = ""
    with row_lock(url, session_id) as lock:
        patch = InFlight(client, "PATCH", path, {"session_state": {"phase": "two-workers"}})
        patch.start()
        waited = wait_for_lock_wait(url)
        served = []
        if waited is not None:
            for _ in range(gets):
                try:
                    served.append(client.request("GET", path, timeout=5).status)
                except OSError as exc:
                    served.append(type(exc).__name__)
        lock.rollback()
    patch.join(30)
    if waited is None:
        detail = f"the PATCH never waited for the row lock (PATCH: {patch.outcome()})"
    elif served != [200] * gets:
        detail = f"GETs while one worker was busy: {served}"
    after = request_counts(parse_metrics(client.request("GET", "/metrics").body.decode("utf-8", "replace")))
    route = "/sessions/{session_id}"
    patches = count_for(after, "PATCH", route, "200") - count_for(before, "PATCH", route, "200")
    got = count_for(after, "GET", route, "200") - count_for(before, "GET", route, "200")
    ok = not detail and patch.response is not None and patch.response.status == 200 and patches >= 1 and got >= gets
    results.check("/metrics: both workers' requests in one scrape", ok,
                  detail or f"PATCH held in worker A (answered {patch.response.status if patch.response else patch.outcome()}),"
                            f" {gets} GETs served by worker B meanwhile; the scrape counts +{patches:g} PATCH and +{got:g} GET")


def check_drain(results: Results, server: Server, client: Client, url: str, session_id: str) -> None:
    section("SIGTERM drain")
    path = f"/sessions/{session_id}"
    state = {"phase": "drained", "marker": uuid.uuid4().hex}
    master = server.proc
    during: dict[str, dict[str, str]] = {"readyz": {}, "healthz": {}}
    after: dict[str, str] = {}
    with row_lock(url, session_id) as lock:
        patch = InFlight(client, "PATCH", path, {"session_state": state})
        patch.start()
        waited = wait_for_lock_wait(url)
        if waited is None:
            results.check("drain: PATCH in flight", False, f"it never waited for the row lock ({patch.outcome()})")
            return
        results.check("drain: PATCH in flight", True, f"waiting for the row lock after {waited:.2f}s")
        t0 = time.monotonic()
        os.kill(master.pid, signal.SIGTERM)
        events = [(0.0, f"SIGTERM to the master (pid {master.pid})")]
        # During the drain the other worker still serves: readiness says 503, the rest answers.
        time.sleep(0.5)
        probe_port(server.port, during["readyz"], t0, "/readyz")
        probe_port(server.port, during["healthz"], t0, "/healthz")
        # After it, the listeners are closed: a new connection is refused.
        time.sleep(max(0.0, t0 + DRAIN_SECONDS + 0.7 - time.monotonic()))
        probe_port(server.port, after, t0, "/healthz")
        time.sleep(max(0.0, t0 + DRAIN_SECONDS + 1.0 - time.monotonic()))
        lock.rollback()
        events.append((time.monotonic() - t0, "row lock released"))
    patch.join(GRACEFUL_TIMEOUT + 5)
    try:
        code = master.wait(timeout=GRACEFUL_TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        code = None
    exited = time.monotonic() - t0
    if patch.finished_at:
        events.append((patch.finished_at - t0, f"PATCH answered: {short(patch.outcome(), 60)}"))
    events.append((exited, f"master exited with {code}" if code is not None else "master still running"))
    for name, probe in (("during the drain", during["readyz"]), ("during the drain", during["healthz"]),
                        ("after the drain", after)):
        if "at" in probe:
            events.append((float(probe["at"]), f"new connection {name}: {probe.get('outcome', 'no outcome')}"))
    for at, what in sorted(events):
        print(f"    +{at:.2f}s {what}")

    readyz, healthz = during["readyz"], during["healthz"]
    results.check("drain: /readyz answers 503 Shutting down", readyz.get("status") == "503"
                  and '"Shutting down"' in readyz.get("body", ""),
                  f"{readyz.get('at', '?')}s after SIGTERM: {readyz.get('outcome', 'not tried')}")
    results.check("drain: other requests still served", healthz.get("status") == "200",
                  f"/healthz {healthz.get('at', '?')}s after SIGTERM: {healthz.get('outcome', 'not tried')}")
    results.check("drain: then new connections are refused", after.get("kind") == "refused",
                  f"{after.get('at', '?')}s after SIGTERM ({DRAIN_SECONDS} s drain): {after.get('outcome', 'not tried')}")
    status = patch.response.status if patch.response is not None else None
    results.check("drain: in-flight PATCH completed with 200", status == 200,
                  (f"{status}, answered {patch.finished_at - t0:.2f}s after SIGTERM" if status is not None
                   else patch.outcome()[:200]))
    stored = stored_state(url, session_id)
    results.check("drain: the PATCH is in the database", stored == state, f"session_state {json.dumps(stored)}")
    results.check(f"drain: master exited 0 within {GRACEFUL_TIMEOUT}+5 s", code == 0 and exited <= GRACEFUL_TIMEOUT + 5,
                  f"exit {code} at +{exited:.2f}s")


def probe_port(port: int, probe: dict[str, str], t0: float, path: str = "/healthz") -> None:
    """Send `GET path` on a new connection and record what happened to it."""
    probe["at"] = f"{time.monotonic() - t0:.2f}"
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    except ConnectionRefusedError:
        probe.update(kind="refused", outcome="refused (listener closed)")
        return
    except OSError as exc:
        probe.update(kind="error", outcome=f"connect failed: {exc}")
        return
    try:
        sock.settimeout(GRACEFUL_TIMEOUT + 5)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: smoke\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        if data.startswith(b"HTTP/"):
            head, _, body = data.partition(b"\r\n\r\n")
            status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            probe.update(kind="answered", status=status_line.split(" ")[1], body=body.decode("utf-8", "replace"),
                         outcome=f"{path} answered: {status_line} {short(body, 80)}")
        else:
            probe.update(kind="dropped", outcome="accepted, then closed without an answer "
                                                  f"{time.monotonic() - t0:.2f}s after SIGTERM")
    except OSError as exc:
        probe.update(kind="dropped", outcome=f"accepted, then {type(exc).__name__} without an answer "
                                              f"{time.monotonic() - t0:.2f}s after SIGTERM")
    finally:
        sock.close()


def main() -> int:
    results = Results()
    workdir = tempfile.mkdtemp(prefix="agno-smoke-")
    server: Server | None = None
    try:
        with smoke_database() as url:
            try:
                migrate(results, url)
                server = start_gunicorn(results, url, workdir)
                base = f"http://127.0.0.1:{server.port}"
                client = Client(server.port)
                script_requests = run_script(results, base)
                session_id = f"smoke-drain-{uuid.uuid4().hex[:12]}"
                create_session(client, session_id)
                check_openapi(results, client)
                check_request_id(results, client, server.logfile, session_id)
                check_metrics(results, client, url, session_id, script_requests)
                check_drain(results, server, client, url, session_id)
            except SmokeError as exc:
                results.check("smoke run", False, str(exc))
            finally:
                if server is not None:
                    server.stop()
    except Exception as exc:  # the database could not be set up, or a step crashed
        traceback.print_exc()
        results.check("smoke run", False, f"{type(exc).__name__}: {exc}")
    finally:
        log_tail = tail(server.logfile, 30) if server is not None else ""
        shutil.rmtree(workdir, ignore_errors=True)
    section("summary")
    print(results.table())
    if results.failed:
        if log_tail:
            print("\n== gunicorn log (tail)\n" + log_tail.rstrip())
        print(f"\nsmoke: {sum(not ok for _, ok, _ in results.rows)} of {len(results.rows)} checks failed")
        return 1
    print(f"\nsmoke: all {len(results.rows)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
