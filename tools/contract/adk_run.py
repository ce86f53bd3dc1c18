"""The ADK references of `make contract-test`: ``adk-pg`` and ``adk-sqlite``.

Google ADK 2.13.0's ``adk api_server`` is the reference for this service's ADK session routes
(``/apps/{app}/users/{user}/sessions...``, with and without ``/api``), over ADK's own
``DatabaseSessionService`` tables (``sessions``, ``events``, ``app_states``, ``user_states``,
``adk_internal_metadata``; on PostgreSQL in the connection's default schema):

1. Seed: ``adk_seed.py`` writes one database through ADK itself, cloned twice (``CREATE
   DATABASE … TEMPLATE``; a file copy for SQLite): clone A for ADK, clone B for this service.
2. Servers: ``python -m google.adk.cli api_server --url_prefix /api`` over clone A, with the
   offline placeholder app of ``adk_agents/`` (never run: no model, no credentials); this
   service under gunicorn over clone B, started as for the agno references (``AGNO_PG_DSN``, or
   a ``sqlite:///`` URL in ``AGNO_SESSION_DSN_MAP``).
3. The suite (``adk_cases.py``) goes to both, request by request, the same writes in the same
   order. Answers are compared by ``app.compare`` (status, Content-Type, parsed body). Masked:
   ids each server generated for the same write (session ids of creates without ``sessionId``,
   event ids, PATCH's ``p-<uuid>`` invocation ids: the candidate's id is mapped to the
   reference's at the write that generated it, and compared exactly afterwards) and times
   written during the run (``lastUpdateTime``, event ``timestamp``, the tables' time columns:
   within ``TIME_TOLERANCE`` seconds; the seed's times are compared exactly).
4. Every row of the five tables is compared between the clones, under the same masks.

A difference is documented when ``known.adk_explain`` attributes it to a numbered line of
docs/compatibility.md's ADK section (ADK fails there, this service answers correctly).
``--adk-candidate adk`` serves clone B with a second ADK server instead of this service: the
harness must then find no difference at all (its own check).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from typing import Any

import adk_cases
import psycopg
import run as harness
from known import ADK_TAINTING, adk_created_id, adk_explain, adk_row_line, adk_session_key, adk_target
from servers import Server
from steps import Features, Step

from app.compare.core import Client, Difference, Request, Response, Rules, compare_responses, diff, substitute

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
AGENTS_DIR = os.path.join(HERE, "adk_agents")
UUID_RE = re.compile(r"^(p-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ROW_TABLES = {"sessions": ("app_name", "user_id", "id"), "events": ("app_name", "user_id", "session_id", "id"),
              "app_states": ("app_name",), "user_states": ("app_name", "user_id"), "adk_internal_metadata": ("key",)}
JSON_COLUMNS = {"state", "event_data"}
DATETIME_RE = re.compile(rb"datetime\.datetime\([\d, ]*\)")
FEATURES = {"adk-pg": adk_cases.ADK_PG, "adk-sqlite": adk_cases.ADK_SQLITE}


def mask_500(r: Response) -> Response:
    """ADK's 500 details print the SQL parameters, including the time it was about to write."""
    if r.status != 500 or b"datetime.datetime(" not in r.body:
        return r
    return Response(r.status, r.headers, DATETIME_RE.sub(b"datetime.datetime(<masked>)", r.body), r.elapsed, r.error)


class AdkRules(Rules):
    """``app.compare``'s rules, with ADK's ``lastUpdateTime`` (float epoch seconds) as a timestamp key."""

    def times_equal(self, key: str | None, a: Any, b: Any) -> bool:
        return super().times_equal("timestamp" if key == "lastUpdateTime" else key, a, b)


# ----------------------------------------------------------------------------------------------
# rows
# ----------------------------------------------------------------------------------------------
def _value(column: str, v: Any) -> Any:
    if v is None:
        return "<SQL NULL>"
    if isinstance(v, dt.datetime):  # naive UTC, as ADK writes it; the same text SQLite stores
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if column in JSON_COLUMNS and isinstance(v, str | bytes):
        try:
            return json.loads(v)
        except ValueError:
            return {"<not JSON>": v if isinstance(v, str) else v.decode("utf-8", "replace")}
    return v


class PgTables:
    """ADK's tables of one PostgreSQL database, in the connection's default schema."""

    def __init__(self, url: str):
        self.url = url

    def has_table(self, table: str) -> bool:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]

    def tables(self) -> set[str]:
        with psycopg.connect(self.url) as conn:
            return {f"{s}.{t}" for s, t in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()}

    def rows(self, table: str) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            cols = [d.name for d in cur.description]
            return [{c: _value(c, v) for c, v in zip(cols, rec, strict=True)} for rec in cur.fetchall()]


class SqliteTables:
    def __init__(self, path: str):
        self.path = path

    def has_table(self, table: str) -> bool:
        with closing(sqlite3.connect(self.path)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None

    def tables(self) -> set[str]:
        with closing(sqlite3.connect(self.path)) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def rows(self, table: str) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(self.path)) as conn:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            return [{c: _value(c, v) for c, v in zip(cols, rec, strict=True)} for rec in cur.fetchall()]


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------
class AdkRun:
    def __init__(self, args, features: Features, ref: Client, cand: Client):
        self.args, self.features = args, features
        self.ref, self.cand = ref, cand
        self.results: list[dict[str, Any]] = []
        self.bindings: dict[str, dict[str, str]] = {"ref": {}, "cand": {}}
        self.subs: dict[str, str] = {}  # candidate's generated id -> reference's
        self.taints: dict[str, set[int]] = {}  # session key -> lines whose writes left it different
        self.started = time.time()
        self.pool = concurrent.futures.ThreadPoolExecutor(2)

    def rules(self) -> AdkRules:
        return AdkRules(time_tolerance=harness.TIME_TOLERANCE, time_window=(self.started - 1, float("inf")),
                        substitutions=dict(self.subs))

    def run_step(self, step: Step) -> dict[str, Any]:
        req_a = step.request(self.bindings["ref"])
        req_b = step.request(self.bindings["cand"])
        fa = self.pool.submit(self.ref.send, req_a)
        fb = self.pool.submit(self.cand.send, req_b)
        a, b = mask_500(fa.result()), mask_500(fb.result())
        if step.is_write and a.status == 200 and b.status == 200:
            self.map_generated(step, a, b)
        rules = self.rules()
        diffs = compare_responses(a, b, rules)
        return self.record(step, req_a, a, b, diffs, rules)

    def map_generated(self, step: Step, a: Response, b: Response) -> None:
        """Map the ids this write generated on the candidate to the reference's: the session id
        of a create without one, and ids of the events it added (uuid-shaped, so never an id the
        seed or a request chose)."""
        try:
            body_a, body_b = json.loads(a.body), json.loads(b.body)
        except ValueError:
            return
        if not (isinstance(body_a, dict) and isinstance(body_b, dict)):
            return
        pairs = [(body_a.get("id"), body_b.get("id"))]
        events_a, events_b = body_a.get("events") or [], body_b.get("events") or []
        for ea, eb in zip(events_a, events_b, strict=False):
            if isinstance(ea, dict) and isinstance(eb, dict):
                pairs += [(ea.get("id"), eb.get("id")), (ea.get("invocationId"), eb.get("invocationId"))]
        for ida, idb in pairs:
            if (isinstance(ida, str) and isinstance(idb, str) and ida != idb and UUID_RE.match(ida)
                    and UUID_RE.match(idb) and idb not in self.subs):
                self.subs[idb] = ida
        if step.capture and isinstance(body_a.get("id"), str) and isinstance(body_b.get("id"), str):
            self.bindings["ref"][step.capture] = body_a["id"]
            self.bindings["cand"][step.capture] = body_b["id"]

    def record(self, step: Step, req: Request, a: Response, b: Response, diffs: list[Difference],
               rules: Rules) -> dict[str, Any]:
        kind, line = "identical", None
        if diffs:
            line = adk_explain(step, req, a, b, diffs, self.taints, rules, self.features)
            kind = "documented" if line is not None else "different"
            where, sid = adk_target(req), adk_created_id(req)
            if line in ADK_TAINTING and where and sid is not None:  # the write left ADK's rows different too
                self.taints.setdefault(adk_session_key(where[0], where[1], sid), set()).add(line)
        res = {"reference": self.features.name, "phase": step.phase, "role": step.role, "request": req.describe(),
               "kind": kind, "line": line, "status": [a.status, b.status],
               "elapsed_ms": [round(a.elapsed * 1000, 1), round(b.elapsed * 1000, 1)],
               "diffs": [d.as_dict() for d in diffs[:20]], "note": step.note}
        self.results.append(res)
        if kind == "different":
            print(harness.format_result(res), flush=True)
        res["_pair"] = (req, a, b)
        return res

    def compare_rows(self, src_a, src_b) -> list[dict[str, Any]]:
        """Every row of ADK's five tables, the reference's clone against the candidate's."""
        rules = self.rules()
        out: list[dict[str, Any]] = []

        def record(what: str, diffs: list[Difference], line: int | None) -> None:
            kind = "identical" if not diffs else "documented" if line is not None else "different"
            res = {"reference": self.features.name, "phase": "rows", "role": "single", "request": what, "kind": kind,
                   "line": line if diffs else None, "status": [None, None],
                   "diffs": [d.as_dict() for d in diffs[:20]], "note": ""}
            out.append(res)
            if kind == "different":
                print(harness.format_result(res), flush=True)

        # the candidate creates no table of its own (agno's, say) in an ADK database, and drops none
        tables_a, tables_b = src_a.tables(), src_b.tables()
        for table in sorted(tables_a ^ tables_b):
            record(f"table {table}", [Difference(f"table {table}", "present" if table in tables_a else "absent",
                                                 "present" if table in tables_b else "absent")], None)
        for table, key_cols in ROW_TABLES.items():
            has_a, has_b = src_a.has_table(table), src_b.has_table(table)
            if not (has_a and has_b):
                if has_a or has_b:
                    record(f"table {table}", [Difference(table, "present" if has_a else "absent",
                                                         "present" if has_b else "absent")], None)
                continue
            rows_a = {"|".join(str(r[c]) for c in key_cols): r for r in src_a.rows(table)}
            rows_b = {}
            for r in src_b.rows(table):
                r = substitute(r, self.subs)
                rows_b["|".join(str(r[c]) for c in key_cols)] = r
            for k in sorted(set(rows_a) | set(rows_b)):
                ra, rb = rows_a.get(k), rows_b.get(k)
                if ra is None or rb is None:
                    diffs = [Difference(f"{table}[{k}]", "present" if ra else "absent", "present" if rb else "absent")]
                else:
                    diffs = diff(ra, rb, rules, f"{table}[{k}]")
                line = adk_row_line(table, ra or rb, diffs, self.taints, self.features) if diffs else None
                record(f"row {table} {'/'.join(key_cols)}={k}", diffs, line)
        return out


# ----------------------------------------------------------------------------------------------
# set-up
# ----------------------------------------------------------------------------------------------
def seed_database(python: str, url: str, workdir: str, label: str) -> dict[str, Any]:
    path = os.path.join(workdir, f"manifest-{label}.json")
    proc = subprocess.run([python, os.path.join(HERE, "adk_seed.py"), url, "--manifest", path], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"seeding {label} failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def adk_server(name: str, url: str, env: dict[str, str], workdir: str, python: str) -> Server:
    # ADK_DISABLE_LOCAL_STORAGE: artifacts and memory in memory, nothing written under adk_agents/
    env = dict(env, ADK_DISABLE_LOCAL_STORAGE="1", PYTHONUNBUFFERED="1")
    cmd = [python, "-m", "google.adk.cli", "api_server", "--host", "127.0.0.1", "--port", "{port}", "--no-reload",
           "--session_service_uri", url, "--url_prefix", "/api", AGENTS_DIR]
    return harness._server(f"adk-{name}", cmd, env, workdir)


def service_server(name: str, url: str, env: dict[str, str], workdir: str, python: str) -> Server:
    # AGNO_DRAIN_SECONDS=0: a test server stops at once instead of serving on for the drain.
    env = dict(env, WEB_CONCURRENCY="2", AGNO_SERVICE_HOST="127.0.0.1", AGNO_DRAIN_SECONDS="0")
    if url.startswith("sqlite"):
        env["AGNO_SESSION_DSN_MAP"] = json.dumps({"main": url})
    else:
        env["AGNO_PG_DSN"] = url
    cmd = [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    return harness._server(f"service-{name}", cmd, env, workdir)


def run_reference(name: str, args, pg, workdir: str, own_cluster: bool) -> dict[str, Any]:
    """Seed, clone, start ADK and the candidate, run the suite and the row comparison."""
    features = FEATURES[name]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL",
                                                                     "GOOGLE_", "ADK_"))}
    databases: list[str] = []
    servers: list[Server] = []
    t0 = time.monotonic()
    try:
        if features.sqlite:
            seed_file, file_a, file_b = (os.path.join(workdir, f"adk-sqlite-{k}.db") for k in ("seed", "a", "b"))
            manifest = seed_database(args.python, f"sqlite+aiosqlite:///{seed_file}", workdir, name)
            shutil.copyfile(seed_file, file_a)
            shutil.copyfile(seed_file, file_b)
            ref_url, cand_url = f"sqlite+aiosqlite:///{file_a}", f"sqlite:///{file_b}"
            adk_url_b = f"sqlite+aiosqlite:///{file_b}"
            src_a, src_b = SqliteTables(file_a), SqliteTables(file_b)
        else:
            prefix = f"ct_{secrets.token_hex(3)}_adk"
            names = {k: f"{prefix}_{k}" for k in ("seed", "a", "b")}
            databases = list(names.values())
            pg.create(names["seed"])
            manifest = seed_database(args.python, pg.url(names["seed"], driver=True), workdir, name)
            for clone in ("a", "b"):
                pg.create(names[clone], names["seed"])
            ref_url, cand_url = pg.url(names["a"], driver=True), pg.url(names["b"])
            adk_url_b = pg.url(names["b"], driver=True)
            src_a, src_b = PgTables(pg.url(names["a"])), PgTables(pg.url(names["b"]))
        harness.log(f"{name}: seeded and copied in {time.monotonic() - t0:.1f} s: {len(manifest['sessions'])} sessions")
        ref = adk_server(f"{name}-a", ref_url, env, workdir, args.python)
        if args.adk_candidate == "adk":
            cand = adk_server(f"{name}-b", adk_url_b, env, workdir, args.python)
        else:
            cand = service_server(name, cand_url, env, workdir, args.python)
        servers = [ref, cand]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            list(ex.map(lambda srv: srv.start(90), servers))
        harness.log(f"{name}: 2 servers up in {time.monotonic() - t0:.1f} s (candidate: {args.adk_candidate})")
        section = execute(args, features, ref, cand, manifest, src_a, src_b)
        section.update(adk="2.13.0", database="sqlite" if features.sqlite else "postgresql", layout="adk",
                       pairs=["single"], candidate=args.adk_candidate)
        return section
    finally:
        for srv in servers:
            srv.stop()
        if pg is not None and not args.keep and not own_cluster:
            for db in databases:
                try:
                    pg.drop(db)
                except psycopg.Error:
                    pass


def execute(args, features: Features, ref: Server, cand: Server, manifest, src_a, src_b) -> dict[str, Any]:
    run = AdkRun(args, features, Client(ref.base, 120), Client(cand.base, 120))
    lines = harness.documented_lines(os.path.join(REPO, "docs", "compatibility.md"))
    report: dict[str, Any] = {"started": run.started}
    t0 = time.monotonic()
    steps = adk_cases.build(manifest, features)
    for step in steps:
        run.run_step(step)
    harness.log(f"{features.name}: {len(run.results)} requests compared in {time.monotonic() - t0:.1f} s")
    rows = run.compare_rows(src_a, src_b)
    for res in run.results + rows:
        if res["line"] is not None and res["line"] not in lines:
            res["kind"], res["note"] = "different", f"line {res['line']} is not in docs/compatibility.md"
    report["self_test"] = harness.self_test(run)
    report["requests"] = harness._strip(run.results)
    report["rows"] = rows
    report["summary"] = harness.summarise(report)
    report["ok"] = harness._ok(report)
    run.ref.close()
    run.cand.close()
    return report
