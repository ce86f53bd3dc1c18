#!/usr/bin/env python3
"""Replay the agno3 golden request set against this service and compare with the goldens.

Usage (from the repository root; the project venv has psycopg and httpx):

    .venv/bin/python tools/golden/replay.py [--report build/golden-report.json] [--keep]
    .venv/bin/python tools/golden/replay.py --target agno --agno-python <python with agno[os]>
    .venv/bin/python tools/golden/replay.py --compare-only <workdir>/captures

Seeding runs agno itself, so ``--seed-python`` (default ``--python``) needs agno==3.1.10 and
greenlet (``agno.db.postgres`` imports SQLAlchemy's asyncio layer).

Steps (contract ``agno3-contract.md`` section 7):

1. create three fresh databases ``<prefix><random>_{main,second,legacy}`` on ``--pg``
   (standing in for a3_main / a3_second / a3_legacy); they are dropped at the end unless
   ``--keep``;
2. create agno's tables as AgentOS startup does (``PostgresDb._create_all_tables()``: the 16
   ``ai.agno_*`` tables and their ``agno_schema_versions`` rows; seeding alone creates only
   sessions/runs/schema_versions, and #92 needs ``agno_memories`` to exist): main before the
   ``empty`` phase (its reference server was started on the empty database), second and legacy
   after ``seed.py`` (as their reference servers were; the legacy profile relies on its own
   agent run to create ``agno_sessions`` before it adds the legacy ``runs`` column);
3. seed with the contract's ``seed.py``, profiles main, second and legacy;
4. start one server per role (on first use; all stop at the end) and run the phases of
   ``capture_plan.py`` in the contract's order (empty; seeding; list .. delete, multi, legacy,
   edge, auth, edge2, edge3, params, edge4, edge5), each against its role's server:

   * main (``AGNO_PG_DSN`` = main): empty (before seeding, on its own server instance), list,
     dbid <id>, detail, runs, create, rename, patch, delete, edge, edge2, edge3, params, edge4,
     edge5;
   * multi (``AGNO_SESSION_DSN_MAP`` = ``{"main": ..., "second": ...}``): multi;
   * legacy (``AGNO_PG_DSN`` = legacy): legacy;
   * auth (``AGNO_PG_DSN`` = main, ``OS_SECURITY_KEY=s3cret``): auth.

   ``edge3b`` (a resume of ``edge3``) runs only if ``edge3`` failed, and ``FIXUPS`` restore
   golden database state that the plan does not create (both explained where they are defined).
   ``--target service`` (default) starts ``<python> -m gunicorn -c gunicorn.conf.py wsgi:app``
   in the repository root with ``AGNO_SERVICE_PORT`` (and ``AGNO_SERVICE_HOST=127.0.0.1``);
   ``--target agno`` starts the contract's ``run_reference.py`` (a real AgentOS) on the same
   databases instead, which is how the normaliser is self-tested;
5. compare every produced capture with the golden of the same name (``compare.py`` describes
   the normalisation) and classify it as identical / documented (its number appears as
   ``#NNN`` in ``docs/compatibility.md``) / different. Exit code 0 when nothing is
   ``different``, 1 otherwise, 2 when the replay could not run.

``capture_plan.py`` and ``capture.py`` are copied into the work directory and imported from
there, so nothing is written next to the contract. The copy is adjusted at run time: captures go
to the work directory, SQL-log capture is off, one connection per request, the direct-SQL
helper ``_sql`` maps ``a3_main`` / ``a3_second`` / ``a3_legacy`` to the replay databases, and
the requests that created a session in the goldens are paced so that sessions created in one
phase get the same relative ``created_at`` seconds as in the goldens (list order depends on
them; every phase starts on a fresh second).

db_id: the service derives the main database's id as agno does (uuid5 of
``postgresql+psycopg://<user>@<host>:<port>/<db>#ai``); the ``dbid`` phase uses that id, and
it is replaced by the goldens' id in the replayed captures before comparing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from typing import Any
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import compare  # noqa: E402
from servers import Server, free_port, tail  # noqa: E402

ROLES = ("main", "second", "legacy")
PLAN_DB_NAMES = {"a3_main": "main", "a3_second": "second", "a3_legacy": "legacy"}  # as named in capture_plan.py

# Golden database state that capture_plan.py does not reproduce, restored with SQL (main
# database) before the phase named: (phase, statement, why).
FIXUPS: list[tuple[str, str, str]] = [
    (
        "params",
        "UPDATE ai.agno_sessions SET summary = '{\"summary\": \"s\", \"topics\": [], "
        "\"updated_at\": \"2025-10-21T14:30:00+00:00\"}'::jsonb WHERE session_id = 'e-agent-wftype'",
        "e-agent-wftype carries this summary in the goldens from #64 on; #504 shows none and its "
        "updated_at never moved, so it was written outside the API and outside capture_plan.py",
    ),
]

# (phase, server role, needs the main db_id as argument)
PHASES_AFTER_SEED: list[tuple[str, str, bool]] = [
    ("list", "main", False),
    ("dbid", "main", True),
    ("detail", "main", False),
    ("runs", "main", False),
    ("create", "main", False),
    ("rename", "main", False),
    ("patch", "main", False),
    ("delete", "main", False),
    ("multi", "multi", False),
    ("legacy", "legacy", False),
    ("edge", "main", False),
    ("auth", "auth", False),
    ("edge2", "main", False),
    ("edge3", "main", False),
    ("edge3b", "main", False),
    ("params", "main", False),
    ("edge4", "main", False),
    ("edge5", "main", False),
]

PROVISION_CODE = r"""
import os, sys
os.environ.setdefault("AGNO_TELEMETRY", "false")
from agno.db.postgres import PostgresDb
for url in sys.argv[1:]:
    db = PostgresDb(db_url=url)
    db._create_all_tables()   # what AgentOS startup does for every sync PostgresDb
    db.close()
"""

# configuration the service reads; never inherited from the caller's environment
SERVICE_ENV_VARS = ("AGNO_PG_DSN", "DATABASE_URL", "AGNO_SESSION_DSN_MAP", "OS_SECURITY_KEY", "AGNO_SERVICE_PORT",
                    "AGNO_SERVICE_HOST")


def log(msg: str) -> None:
    print(f"[replay {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def repo_path(p: str) -> str:
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(REPO, p))


def executable(p: str) -> str:
    """A bare command name is looked up on PATH; a path is made absolute."""
    if os.sep not in p:
        return shutil.which(p) or p
    return os.path.abspath(p)


# ----------------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------------
class Pg:
    def __init__(self, conninfo: str):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        self.psycopg = psycopg
        self.conninfo = conninfo
        d = conninfo_to_dict(conninfo)
        if "dbname" in d:
            raise SystemExit("--pg must not contain dbname")
        self.user = str(d.get("user") or "postgres")
        self.password = d.get("password")
        self.host = str(d.get("host") or "127.0.0.1")
        self.port = str(d.get("port") or "5432")

    def _admin(self):
        return self.psycopg.connect(f"{self.conninfo} dbname=postgres", autocommit=True)

    def create(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, db: str, scheme: str = "postgresql+psycopg") -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(str(self.password), safe="")
        if self.host.startswith("/"):
            return f"{scheme}://{auth}@/{db}?host={quote(self.host)}&port={self.port}"
        return f"{scheme}://{auth}@{self.host}:{self.port}/{db}"


def agno_db_id(sqlalchemy_url: str, schema: str = "ai") -> str:
    """agno's PostgresDb id when no id= is given (contract section 1.8)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{sqlalchemy_url}#{schema}"))


# ----------------------------------------------------------------------------------------------
# pacing (created_at seconds of sessions created within one phase follow the goldens)
# ----------------------------------------------------------------------------------------------
class Pacer:
    def __init__(self, anchors: dict[int, float]):
        self.anchors = anchors
        self.base: tuple[int, int] | None = None  # (golden second, our second) of the first anchor
        self.warnings: list[str] = []

    def start_phase(self) -> None:
        """Start every phase at the beginning of a fresh second."""
        now = time.time()
        time.sleep(math.floor(now) + 1.02 - now)
        self.base = None

    def before(self, nn: Any) -> None:
        g = self.anchors.get(nn) if isinstance(nn, int) else None
        if g is None:
            return
        g = int(g)
        now = time.time()
        if self.base is None:
            self.base = (g, int(now))
            return
        target = self.base[1] + (g - self.base[0])
        if now < target + 0.02:
            time.sleep(target + 0.02 - now)
        elif int(now) > target:
            self.warnings.append(f"#{nn}: {now - target:.2f}s late for its golden created_at second")


# ----------------------------------------------------------------------------------------------
# the replay
# ----------------------------------------------------------------------------------------------
class Replay:
    def __init__(self, args: argparse.Namespace, workdir: str, out: str, goldens: dict[str, Any]):
        self.args = args
        self.workdir = workdir
        self.out = out
        self.goldens = goldens
        self.pg = Pg(args.pg)
        tag = secrets.token_hex(3)
        self.dbnames = {r: f"{args.prefix}{tag}_{r}" for r in ROLES}
        self.created: list[str] = []
        self.servers: dict[str, Server] = {}
        self.phase_errors: list[dict[str, str]] = []
        self.pacer = Pacer(compare.anchors_from_goldens(goldens))
        self.python = args.python
        self.seed_python = args.seed_python
        self.reference = args.reference
        self.main_url = self.pg.url(self.dbnames["main"])
        self.main_db_id = agno_db_id(self.main_url)

    # -- databases --------------------------------------------------------------------------
    def create_databases(self) -> None:
        for r in ROLES:
            self.pg.create(self.dbnames[r])
            self.created.append(self.dbnames[r])
        log("databases: " + ", ".join(self.dbnames[r] for r in ROLES))

    def drop_databases(self) -> None:
        for name in self.created:
            try:
                self.pg.drop(name)
            except Exception as e:  # noqa: BLE001
                log(f"could not drop {name}: {e}")

    def _run(self, what: str, cmd: list[str], timeout: float = 600) -> None:
        logfile = os.path.join(self.workdir, f"{what}.log")
        env = dict(os.environ, AGNO_TELEMETRY="false", PYTHONDONTWRITEBYTECODE="1")
        with open(logfile, "wb") as fh:
            rc = subprocess.run(cmd, cwd=self.workdir, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=timeout).returncode
        if rc != 0:
            raise RuntimeError(f"{what} failed ({rc}); log {logfile}:\n{tail(logfile)}")

    def provision(self, role: str) -> None:
        self._run(f"provision_{role}", [self.seed_python, "-c", PROVISION_CODE, self.pg.url(self.dbnames[role])])

    def seed(self, role: str) -> None:
        t = time.time()
        self._run(f"seed_{role}", [self.seed_python, os.path.join(self.reference, "seed.py"),
                                   "--dsn", self.pg.url(self.dbnames[role], "postgresql"), "--profile", role])
        log(f"seeded {self.dbnames[role]} ({time.time() - t:.1f}s)")

    # -- servers ----------------------------------------------------------------------------
    def _server_spec(self, role: str) -> tuple[list[str], dict[str, str], str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV_VARS}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        dbs = {"main": ["main"], "multi": ["main", "second"], "legacy": ["legacy"], "auth": ["main"]}[role]
        if role == "auth":
            env["OS_SECURITY_KEY"] = "s3cret"
        if self.args.target == "agno":
            env["AGNO_TELEMETRY"] = "false"
            cmd = [self.args.agno_python, os.path.join(self.reference, "run_reference.py")]
            for d in dbs:
                cmd += ["--dsn", self.pg.url(self.dbnames[d], "postgresql")]
                if len(dbs) > 1:
                    cmd += ["--db-id", d]
            return cmd, env, self.workdir
        if len(dbs) > 1:
            env["AGNO_SESSION_DSN_MAP"] = json.dumps({d: self.pg.url(self.dbnames[d]) for d in dbs})
        else:
            env["AGNO_PG_DSN"] = self.pg.url(self.dbnames[dbs[0]])
        env["AGNO_DRAIN_SECONDS"] = "0"  # a test server stops at once instead of serving on for the drain
        return [self.python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env, REPO

    def server(self, role: str) -> Server:
        if role in self.servers:
            return self.servers[role]
        cmd, env, cwd = self._server_spec(role)
        port = free_port()
        if self.args.target == "agno":
            cmd += ["--port", str(port)]
        else:
            env["AGNO_SERVICE_PORT"] = str(port)
            env["AGNO_SERVICE_HOST"] = "127.0.0.1"
        srv = Server(role, cmd, env, cwd, port, os.path.join(self.workdir, f"server_{role}.log"))
        log(f"starting {role} server on port {port}")
        srv.start(self.args.startup_timeout)
        self.servers[role] = srv
        return srv

    def stop_server(self, role: str) -> None:
        srv = self.servers.pop(role, None)
        if srv:
            srv.stop()

    def stop_all(self) -> None:
        for role in list(self.servers):
            self.stop_server(role)

    # -- capture plan -----------------------------------------------------------------------
    def load_plan(self):
        plan_dir = os.path.join(self.workdir, "plan")
        os.makedirs(plan_dir, exist_ok=True)
        for f in ("capture.py", "capture_plan.py"):
            shutil.copyfile(os.path.join(self.reference, f), os.path.join(plan_dir, f))
        os.environ["AGNO3_GOLDEN_DIR"] = self.out
        os.environ["PG_LOG"] = ""
        os.environ["AGNO3_PG_CONNINFO"] = self.pg.conninfo
        sys.dont_write_bytecode = True
        sys.path.insert(0, plan_dir)
        import capture_plan as cp  # noqa: E402  (the copy)

        cp.OUT, cp.LOG, cp.CONNINFO = self.out, None, self.pg.conninfo
        names = {plan_name: self.dbnames[role] for plan_name, role in PLAN_DB_NAMES.items()}
        original_sql = cp._sql

        def _sql(dbname, stmt, params=None):
            if dbname not in names:
                raise KeyError(f"capture_plan uses an unknown database name {dbname!r}")
            return original_sql(names[dbname], stmt, params)

        cp._sql = _sql
        pacer = self.pacer
        base_cls = cp.Capturer

        class PacedCapturer(base_cls):  # type: ignore[misc, valid-type]
            def __init__(self, base, out, log=None, dbnames=()):
                super().__init__(base, out, None, dbnames)  # no SQL-log capture
                # One connection per request: a server may drop a kept-alive connection right
                # after a 500 (uvicorn does); the original capture run only escaped that race
                # because it paused 0.4 s after each request to read the PostgreSQL log.
                import httpx

                self.client.close()
                self.client = httpx.Client(base_url=self.base, timeout=60,
                                           limits=httpx.Limits(max_keepalive_connections=0))

            def cap(self, nn, *a, **k):
                if k.get("save", True):
                    pacer.before(nn)
                return super().cap(nn, *a, **k)

        cp.Capturer = PacedCapturer
        return cp

    def run_phase(self, cp, phase: str, role: str, args: tuple[str, ...] = ()) -> bool:
        try:
            srv = self.server(role)
        except Exception as e:  # noqa: BLE001
            self.phase_errors.append({"phase": phase, "error": str(e).splitlines()[0]})
            log(f"phase {phase}: server {role} unavailable: {e}")
            return False
        self.pacer.start_phase()
        t = time.time()
        try:
            getattr(cp, "phase_" + phase)(srv.base, *args)
        except Exception as e:  # noqa: BLE001
            tb = traceback.format_exc(limit=4)
            self.phase_errors.append({"phase": phase, "error": f"{type(e).__name__}: {e}", "traceback": tb})
            log(f"phase {phase} ({role}) FAILED: {type(e).__name__}: {e}")
            return False
        log(f"phase {phase} ({role}) done in {time.time() - t:.1f}s")
        return True

    def run(self) -> None:
        cp = self.load_plan()
        self.create_databases()
        self.provision("main")  # the reference server was started on the empty database
        self.run_phase(cp, "empty", "main")
        self.stop_server("main")  # #01-#04 came from an earlier server instance
        self.seed("main")
        self.seed("second")
        self.provision("second")
        self.seed("legacy")
        self.provision("legacy")
        failed = set()
        for phase, role, needs_id in PHASES_AFTER_SEED:
            if phase == "edge3b" and "edge3" not in failed:
                # edge3b re-runs the tail of edge3 (#534, #535) after edge3 broke off in the
                # original capture session (#534 still counts both u9 sessions). capture_plan's
                # edge3 holds those captures itself, so edge3b only runs when edge3 failed.
                log("phase edge3b skipped (edge3 completed; edge3b only resumes it)")
                continue
            for before, stmt, why in [] if self.args.no_fixups else FIXUPS:
                if before == phase:
                    cp._sql("a3_main", stmt)
                    log(f"fixup before {phase}: {why}")
            if not self.run_phase(cp, phase, role, (self.main_db_id,) if needs_id else ()):
                failed.add(phase)


# ----------------------------------------------------------------------------------------------
# comparison / report
# ----------------------------------------------------------------------------------------------
def load_goldens(golden_dir: str) -> dict[str, Any]:
    return {n: compare.load_json(p) for n, p in compare.list_captures(golden_dir).items()}


def golden_db_id(goldens: dict[str, Any]) -> str | None:
    for name, rec in goldens.items():
        if compare.golden_number(name) == 90:
            q = (rec.get("request") or {}).get("query") or {}
            if isinstance(q, dict) and q.get("db_id"):
                return q["db_id"]
    return None


def compare_dir(goldens: dict[str, Any], out: str, meta: dict[str, Any], compat: str,
                max_paths: int) -> dict[str, Any]:
    produced = compare.list_captures(out)
    gid = golden_db_id(goldens)
    subs = {meta["main_db_id"]: gid} if gid and meta.get("main_db_id") else {}
    documented = compare.documented_numbers(compat)
    cmp_ = compare.Comparison(compare.golden_window(goldens), tuple(meta["window"]), subs,
                              [gid] if gid else [], documented)
    results = []
    for name in goldens:  # in number order
        ours = compare.load_json(produced[name]) if name in produced else None
        results.append(cmp_.compare(name, goldens[name], ours))
    results.sort(key=lambda r: (r["number"], r["file"]))
    counts = compare.summarise(results)
    for r in results:
        if r["class"] == "different":
            print(compare.format_result(r, max_paths))
    documented_files = [r["file"] for r in results if r["class"] == "documented"]
    if documented_files:
        print(f"documented ({len(documented_files)}): " + ", ".join(f.split('_')[0] for f in documented_files))
    extra = sorted(set(produced) - set(goldens))
    if extra:
        print("captures without a golden: " + ", ".join(extra))
    for e in meta.get("phase_errors") or []:
        print(f"phase error: {e['phase']}: {e['error']}")
    for w in meta.get("pacing_warnings") or []:
        print(f"pacing: {w}")
    notes = sum(1 for r in results if r["notes"])
    print(f"identical {counts['identical']}, documented {counts['documented']}, different {counts['different']}"
          f"  (of {len(results)} goldens; {notes} with tie-order notes; documented numbers from "
          f"{os.path.relpath(compat) if os.path.exists(compat) else 'none (no ' + os.path.relpath(compat) + ')'})")
    return {
        "summary": counts,
        "goldens": len(results),
        "documented_numbers": sorted(documented),
        "target": meta.get("target"),
        "databases": meta.get("databases"),
        "captures_dir": out,
        "phase_errors": meta.get("phase_errors") or [],
        "pacing_warnings": meta.get("pacing_warnings") or [],
        "captures_without_golden": extra,
        "files": results,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get("GOLDEN_PG", "host=127.0.0.1 port=5432 user=postgres"),
                    help="libpq conninfo of the PostgreSQL server, without dbname (env GOLDEN_PG)")
    ap.add_argument("--prefix", default="agr_", help="prefix of the database names created (default agr_)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases and the work directory (captures, server and seed logs)")
    ap.add_argument("--python", default=None,
                    help="python that runs the service, with agno==3.1.10 for seeding (default .venv/bin/python)")
    ap.add_argument("--seed-python", default=None,
                    help="python for seed.py and table creation (default: --python); needs agno==3.1.10 and greenlet")
    ap.add_argument("--contract", default=os.environ.get("GOLDEN_CONTRACT_DIR"),
                    help="contract folder (default ../shared/contract; env GOLDEN_CONTRACT_DIR)")
    ap.add_argument("--golden", default=None, help="golden folder (default <contract>/agno3-golden)")
    ap.add_argument("--reference", default=None, help="seed/capture scripts (default <contract>/reference/agno3)")
    ap.add_argument("--compat", default=None, help="documented differences, #NNN tokens (default docs/compatibility.md)")
    ap.add_argument("--report", default=None, help="write the JSON report here")
    ap.add_argument("--workdir", default=None,
                    help="work directory, kept (default: a temporary directory, removed unless --keep)")
    ap.add_argument("--target", choices=("service", "agno"), default="service",
                    help="service: this repository's gunicorn app (default); agno: the reference AgentOS")
    ap.add_argument("--agno-python", default=None, help="python with agno[os] for --target agno")
    ap.add_argument("--no-fixups", action="store_true",
                    help="do not restore the golden database state that capture_plan.py misses (FIXUPS)")
    ap.add_argument("--startup-timeout", type=float, default=60.0)
    ap.add_argument("--max-paths", type=int, default=5, help="differing paths printed per file")
    ap.add_argument("--compare-only", metavar="DIR", default=None,
                    help="skip the replay; compare the captures of an earlier run (its captures/ folder)")
    args = ap.parse_args(argv)
    # defaults are relative to the repository root, paths given on the command line to the cwd
    args.contract = os.path.abspath(args.contract) if args.contract else repo_path("../shared/contract")
    args.golden = os.path.abspath(args.golden or os.path.join(args.contract, "agno3-golden"))
    args.reference = os.path.abspath(args.reference or os.path.join(args.contract, "reference", "agno3"))
    args.compat = os.path.abspath(args.compat) if args.compat else repo_path("docs/compatibility.md")
    args.python = executable(args.python) if args.python else repo_path(".venv/bin/python")
    args.seed_python = executable(args.seed_python) if args.seed_python else args.python
    args.agno_python = executable(args.agno_python) if args.agno_python else args.python
    return args


def preflight(args: argparse.Namespace) -> str | None:
    """Why the replay cannot start, checked before any database is created."""
    checks = [(args.seed_python, "import agno.db.postgres, greenlet, psycopg",
               "needs agno==3.1.10, greenlet and psycopg (use --seed-python to pick another interpreter)")]
    if args.target == "agno":
        checks.append((args.agno_python, "import agno.os, fastapi, uvicorn", "needs agno[os] (fastapi, uvicorn)"))
    else:
        checks.append((args.python, "import gunicorn", "needs gunicorn (the service's dependencies)"))
        if not os.path.exists(os.path.join(REPO, "gunicorn.conf.py")):
            return "gunicorn.conf.py is missing in the repository root"
    for py, code, need in checks:
        try:
            r = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=120)
        except OSError as e:
            return f"{py}: {e}"
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["?"])[-1]
            return f"{py} {need}: {last}"
    for f in ("seed.py", "capture.py", "capture_plan.py") + (("run_reference.py",) if args.target == "agno" else ()):
        if not os.path.exists(os.path.join(args.reference, f)):
            return f"{f} not found in {args.reference}"
    return None


def ensure_imports(args: argparse.Namespace) -> None:
    """Re-run under --python when this interpreter lacks psycopg/httpx."""
    try:
        import httpx  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        py = args.python
        if os.path.realpath(sys.executable) != os.path.realpath(py) and os.path.exists(py):
            os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
        raise


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    goldens = load_goldens(args.golden)
    if not goldens:
        log(f"no golden captures in {args.golden}")
        return 2

    if args.compare_only:
        out = args.compare_only
        meta_path = os.path.join(out, "replay-meta.json")
        if not os.path.exists(meta_path):
            log(f"{meta_path} missing")
            return 2
        meta = compare.load_json(meta_path)
    else:
        ensure_imports(args)
        problem = preflight(args)
        if problem:
            log("cannot replay: " + problem)
            return 2
        workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="golden-replay-")
        out = os.path.join(workdir, "captures")
        os.makedirs(out, exist_ok=True)
        for stale in list(compare.list_captures(out).values()):  # a reused --workdir
            os.remove(stale)
        log(f"work directory {workdir}")
        rp = Replay(args, workdir, out, goldens)
        started = time.time()
        fatal = None
        interrupted = False
        try:
            rp.run()
        except KeyboardInterrupt:
            interrupted = True
        except Exception as e:  # noqa: BLE001
            fatal = f"{type(e).__name__}: {e}"
            log("replay aborted: " + fatal)
        finally:
            rp.stop_all()
            if not args.keep:
                rp.drop_databases()
            else:
                log("kept databases: " + ", ".join(rp.created))
        meta = {
            "target": args.target,
            "window": [started - 3600, time.time() + 3600],
            "main_db_id": rp.main_db_id,
            "databases": rp.dbnames,
            "phase_errors": rp.phase_errors + ([{"phase": "<replay>", "error": fatal}] if fatal else []),
            "pacing_warnings": rp.pacer.warnings,
        }
        with open(os.path.join(out, "replay-meta.json"), "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2)
        if interrupted:
            log(f"interrupted; work directory kept: {workdir}")
            return 130
        if fatal and not compare.list_captures(out):
            log(f"nothing captured; logs kept in {workdir}")
            return 2

    report = compare_dir(goldens, out, meta, args.compat, args.max_paths)
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)) or ".", exist_ok=True)
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, ensure_ascii=False)
        log(f"report written to {args.report}")
    if not args.compare_only:
        if args.keep or args.workdir:
            log(f"captures in {out}")
        else:
            shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    return 0 if report["summary"]["different"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
