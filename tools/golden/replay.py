#!/usr/bin/env python3
"""Replay the agno3 golden request set against this service and compare with the goldens.

Usage (from the repository root; run it with the project venv, which has psycopg and httpx):

    .venv/bin/python tools/golden/replay.py [--report build/golden-report.json]
    .venv/bin/python tools/golden/replay.py --target agno --agno-python /path/to/venv-with-fastapi/bin/python
    .venv/bin/python tools/golden/replay.py --compare-only DIR     # re-compare an earlier capture dir

Steps (contract ``agno3-contract.md`` section 7):

1. create three fresh databases ``<prefix><random>_{main,second,legacy}`` on ``--pg``
   (standing in for a3_main / a3_second / a3_legacy);
2. create agno's tables exactly as AgentOS startup does (``PostgresDb._create_all_tables()``:
   the 16 ``ai.agno_*`` tables plus their ``agno_schema_versions`` rows): main before the
   ``empty`` phase (the reference server was started on the empty database), second and legacy
   after seeding them (their reference servers started after ``seed.py``; the legacy profile
   needs ``agno_sessions`` to exist, which its own agent run creates lazily, before it adds the
   legacy ``runs`` column);
3. seed with the contract's ``seed.py`` (profiles main, second, legacy) using ``--python``;
4. start one server per role and run the phases of ``capture_plan.py`` in the contract's order:

   =========  ==========================================  =====================================
   role       databases / environment                     phases
   =========  ==========================================  =====================================
   main       ``AGNO_PG_DSN`` = main                      empty (before seeding; restarted
                                                          after seeding), list, dbid <id>,
                                                          detail, runs, create, rename, patch,
                                                          delete, edge, edge2, edge3, edge3b,
                                                          params, edge4, edge5
   multi      ``AGNO_SESSION_DSN_MAP`` main/second        multi
   legacy     ``AGNO_PG_DSN`` = legacy                    legacy
   auth       ``AGNO_PG_DSN`` = main, ``OS_SECURITY_KEY``  auth
   =========  ==========================================  =====================================

   ``--target service`` (default) starts ``<python> -m gunicorn -c gunicorn.conf.py wsgi:app``
   in the repository root with ``AGNO_SERVICE_PORT``; ``--target agno`` starts the contract's
   ``run_reference.py`` (a real agno AgentOS, needs fastapi/uvicorn in ``--agno-python``) with
   the same databases, which is how the normaliser is self-tested;
5. compare every produced capture with the golden of the same name (see ``compare.py`` for the
   normalisation) and classify it as identical / documented (its number appears as ``#NNN`` in
   ``docs/compatibility.md``) / different. Exit code 0 when nothing is ``different``, 1
   otherwise, 2 when the replay could not run.

``capture_plan.py`` and ``capture.py`` are copied into the work directory and imported from
there (nothing is written next to the contract). The copy is adjusted at run time: captures go
to the work directory, SQL-log capture is off, the direct-SQL helper ``_sql`` maps the names
``a3_main`` / ``a3_second`` / ``a3_legacy`` to the replay databases, and requests that created
a session in the goldens are paced so that sessions created in one phase get the same relative
``created_at`` seconds as in the goldens (list order depends on them).

db_id: the main database's id is derived by the service exactly as agno does (uuid5 of
``postgresql+psycopg://<user>@<host>:<port>/<db>#ai``); the ``dbid`` phase uses it, and in the
replayed captures it is replaced by the goldens' id before comparing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import compare  # noqa: E402

PLAN_DB_NAMES = ("a3_main", "a3_second", "a3_legacy")  # names used inside capture_plan.py
ROLES = ("main", "second", "legacy")

# (phase, server role, needs the main db_id as argument)
PHASES_AFTER_SEED: List[Tuple[str, str, bool]] = [
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

SERVICE_ENV_VARS = ("AGNO_PG_DSN", "AGNO_SESSION_DSN_MAP", "OS_SECURITY_KEY", "AGNO_SERVICE_PORT")


def log(msg: str) -> None:
    print(f"[replay {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def repo_path(p: str) -> str:
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(REPO, p))


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
# servers
# ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, role: str, cmd: List[str], env: Dict[str, str], cwd: str, port: int, logfile: str):
        self.role, self.cmd, self.env, self.cwd, self.port, self.logfile = role, cmd, env, cwd, port, logfile
        self.proc: Optional[subprocess.Popen] = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self, timeout: float) -> None:
        fh = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        fh.close()
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server '{self.role}' exited with {self.proc.returncode}; log {self.logfile}:\n"
                                   + tail(self.logfile))
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
                    last = f"status {r.status}"
            except urllib.error.HTTPError as e:
                last = f"status {e.code}"
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server '{self.role}' not healthy after {timeout:.0f}s ({last}); log {self.logfile}:\n"
                           + tail(self.logfile))

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the group we created with start_new_session
            except ProcessLookupError:
                pass
            p.wait(timeout=5)


def tail(path: str, n: int = 25) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-n:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------------------------
# pacing (created_at seconds of sessions created within one phase follow the goldens)
# ----------------------------------------------------------------------------------------------
class Pacer:
    def __init__(self, anchors: Dict[int, float]):
        self.anchors = anchors
        self.base: Optional[Tuple[int, int]] = None  # (golden second, our second) of the first anchor
        self.warnings: List[str] = []

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
    def __init__(self, args: argparse.Namespace, workdir: str, out: str, goldens: Dict[str, Any]):
        self.args = args
        self.workdir = workdir
        self.out = out
        self.goldens = goldens
        self.pg = Pg(args.pg)
        tag = secrets.token_hex(3)
        self.dbnames = {r: f"{args.prefix}{tag}_{r}" for r in ROLES}
        self.created: List[str] = []
        self.servers: Dict[str, Server] = {}
        self.phase_errors: List[Dict[str, str]] = []
        self.pacer = Pacer(compare.anchors_from_goldens(goldens))
        self.python = repo_path(args.python)
        self.seed_python = repo_path(args.seed_python or args.python)
        self.reference = repo_path(args.reference)
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

    def _run(self, what: str, cmd: List[str], timeout: float = 600) -> None:
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
    def _server_spec(self, role: str) -> Tuple[List[str], Dict[str, str], str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV_VARS}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        dbs = {"main": ["main"], "multi": ["main", "second"], "legacy": ["legacy"], "auth": ["main"]}[role]
        if role == "auth":
            env["OS_SECURITY_KEY"] = "s3cret"
        if self.args.target == "agno":
            env["AGNO_TELEMETRY"] = "false"
            cmd = [repo_path(self.args.agno_python or self.args.python), os.path.join(self.reference, "run_reference.py")]
            for d in dbs:
                cmd += ["--dsn", self.pg.url(self.dbnames[d], "postgresql")]
                if len(dbs) > 1:
                    cmd += ["--db-id", d]
            return cmd, env, self.workdir
        if len(dbs) > 1:
            env["AGNO_SESSION_DSN_MAP"] = json.dumps({d: self.pg.url(self.dbnames[d]) for d in dbs})
        else:
            env["AGNO_PG_DSN"] = self.pg.url(self.dbnames[dbs[0]])
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
        names = {"a3_main": self.dbnames["main"], "a3_second": self.dbnames["second"], "a3_legacy": self.dbnames["legacy"]}
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
                super().__init__(base, out, None, [names.get(n, n) for n in dbnames])
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

    def run_phase(self, cp, phase: str, role: str, args: Tuple[str, ...] = ()) -> None:
        try:
            srv = self.server(role)
        except Exception as e:  # noqa: BLE001
            self.phase_errors.append({"phase": phase, "error": str(e).splitlines()[0]})
            log(f"phase {phase}: server {role} unavailable: {e}")
            return
        self.pacer.start_phase()
        t = time.time()
        try:
            getattr(cp, "phase_" + phase)(srv.base, *args)
        except Exception as e:  # noqa: BLE001
            tb = traceback.format_exc(limit=4)
            self.phase_errors.append({"phase": phase, "error": f"{type(e).__name__}: {e}", "traceback": tb})
            log(f"phase {phase} ({role}) FAILED: {type(e).__name__}: {e}")
            return
        log(f"phase {phase} ({role}) done in {time.time() - t:.1f}s")

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
        for phase, role, needs_id in PHASES_AFTER_SEED:
            self.run_phase(cp, phase, role, (self.main_db_id,) if needs_id else ())


# ----------------------------------------------------------------------------------------------
# comparison / report
# ----------------------------------------------------------------------------------------------
def load_goldens(golden_dir: str) -> Dict[str, Any]:
    return {n: compare.load_json(p) for n, p in compare.list_captures(golden_dir).items()}


def golden_db_id(goldens: Dict[str, Any]) -> Optional[str]:
    for name, rec in goldens.items():
        if compare.golden_number(name) == 90:
            q = (rec.get("request") or {}).get("query") or {}
            if isinstance(q, dict) and q.get("db_id"):
                return q["db_id"]
    return None


def compare_dir(goldens: Dict[str, Any], out: str, meta: Dict[str, Any], compat: str,
                max_paths: int) -> Dict[str, Any]:
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


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get("GOLDEN_PG", "host=127.0.0.1 port=5432 user=postgres"),
                    help="libpq conninfo of the PostgreSQL server, without dbname (env GOLDEN_PG)")
    ap.add_argument("--prefix", default="agr_", help="prefix of the database names created (default agr_)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases and the work directory (captures, server and seed logs)")
    ap.add_argument("--python", default=".venv/bin/python",
                    help="python with agno==3.1.10 (seeding) and the service (default .venv/bin/python)")
    ap.add_argument("--seed-python", default=None,
                    help="python used for seed.py and table creation (default: --python); needs agno==3.1.10, "
                         "psycopg and greenlet")
    ap.add_argument("--contract", default=os.environ.get("GOLDEN_CONTRACT_DIR", "../shared/contract"),
                    help="contract folder (default ../shared/contract; env GOLDEN_CONTRACT_DIR)")
    ap.add_argument("--golden", default=None, help="golden folder (default <contract>/agno3-golden)")
    ap.add_argument("--reference", default=None, help="seed/capture scripts (default <contract>/reference/agno3)")
    ap.add_argument("--compat", default="docs/compatibility.md", help="documented differences (#NNN tokens)")
    ap.add_argument("--report", default=None, help="write the JSON report here")
    ap.add_argument("--workdir", default=None,
                    help="work directory, kept (default: a temporary directory, removed unless --keep)")
    ap.add_argument("--target", choices=("service", "agno"), default="service",
                    help="service: this repository's gunicorn app (default); agno: the reference AgentOS")
    ap.add_argument("--agno-python", default=None, help="python with agno[os] for --target agno")
    ap.add_argument("--startup-timeout", type=float, default=60.0)
    ap.add_argument("--max-paths", type=int, default=5, help="differing paths printed per file")
    ap.add_argument("--compare-only", metavar="DIR", default=None,
                    help="skip the replay; compare the captures of an earlier run (its captures/ folder)")
    args = ap.parse_args(argv)
    args.contract = repo_path(args.contract)
    args.golden = repo_path(args.golden) if args.golden else os.path.join(args.contract, "agno3-golden")
    args.reference = repo_path(args.reference) if args.reference else os.path.join(args.contract, "reference", "agno3")
    args.compat = repo_path(args.compat)
    return args


def ensure_imports(args: argparse.Namespace) -> None:
    """Re-run under --python when this interpreter lacks psycopg/httpx."""
    try:
        import httpx  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        py = repo_path(args.python)
        if os.path.realpath(sys.executable) != os.path.realpath(py) and os.path.exists(py):
            os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
        raise


def main(argv: Optional[List[str]] = None) -> int:
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
        workdir = args.workdir or tempfile.mkdtemp(prefix="golden-replay-")
        os.makedirs(workdir, exist_ok=True)
        out = os.path.join(workdir, "captures")
        os.makedirs(out, exist_ok=True)
        log(f"work directory {workdir}")
        rp = Replay(args, workdir, out, goldens)
        started = time.time()
        fatal = None
        try:
            rp.run()
        except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001
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
        if fatal and not compare.list_captures(out):
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
