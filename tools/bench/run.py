#!/usr/bin/env python3
"""`make bench`: this service against agno 3.1.10 AgentOS, side by side, on one realistic database.

    .venv/bin/python tools/bench/run.py [--scales 2000,10000] [--rounds 3] [--duration 5]
        [--connections 16] [--threads 2] [--scenarios list,detail,...] [--pg URL] [--ci]
        [--tolerance 1.0] [--report build/bench-report.json] [--keep]

1. PostgreSQL: a throwaway cluster (``tools/pgcluster.py``), or the server at ``--pg`` /
   ``AGNO_BENCH_PG`` (a libpq URL of its ``postgres`` database; databases named ``bench_*`` are
   created there and dropped at the end).
2. One database per scale, written by ``tools/bench/seed.py`` (agno's exact layout, a long tail of
   big sessions, agents, teams and workflows, many users and components). The ids each scenario
   uses are chosen from the database itself: typical sessions around the median size, the biggest
   sessions, a user with many sessions, and three disjoint pools of sessions for the writes
   (this service, AgentOS, the database limit), so that writes never touch what the other side
   reads or writes.
3. Both servers on that database with the same number of worker processes (2): this service
   under gunicorn with its production configuration (``gunicorn.conf.py``, ``WEB_CONCURRENCY=2``,
   access log at its default level), AgentOS under uvicorn ``--workers 2`` (``agentos_app.py``,
   access log on as by default; its listening socket gets ``TCP_NODELAY``, without which every
   keep-alive request waits ~40 ms on Linux, uvicorn issue #3149; ``--nagle`` measures it as is).
4. For each scenario, ``--rounds`` rounds of ``--duration`` seconds per server, alternating
   (this service, AgentOS; the next round starts with the other one), after a one-second warm-up
   of each. Load comes from ``wrk`` with the same threads and connections for both; a Lua script
   gives every write request its own id or body. Then the database's own limit for the same
   information: the minimal SQL returning what the route returns, by psycopg from 2 processes
   (the servers' worker count), no HTTP. Medians over the rounds are reported.
5. One-connection latency (sequential requests, ``wrk -c1``) of the default list page and a
   typical detail on both servers; at every further scale (``--scales``) the same latencies
   again, for the growth figures (page-1 list latency at 10x the data within 1.2x).

6. Google ADK's session routes (the ``adk_*`` scenarios, run by default after the agno ones):
   a second database at the first scale, in ADK's own layout, written by ``tools/bench/adk_seed.py``
   (templates from ADK's ``DatabaseSessionService``); this service under gunicorn as above and
   ``adk api_server``'s app under uvicorn ``--workers 2`` (``adk_app.py``: the CLI itself runs one
   process) on it; the same rounds, wrk and database limit (ADK's tables, by psycopg). A PATCH
   appends an event that every later response of the session carries, so the events each run
   added to its sessions are deleted after it (and counted). No targets: their rows are ``info``
   (a second table) unless this service answers an error.

It prints one table and writes it as JSON (``--report``). Exit status 1 when a target is missed
(each is printed), 2 when the benchmark could not run. ``--tolerance`` scales every target:
``--ci`` (a small scale, short rounds, a subset of scenarios) uses 0.5, so only a figure below
half its target fails (a ratio target ``>= x`` becomes ``>= x/2``, a bound ``<= y`` becomes
``<= 2y``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import pgcluster  # noqa: E402
import psycopg  # noqa: E402
from pgcluster import Pg  # noqa: E402
from servers import Server, free_port  # noqa: E402

WORKERS = 2
PAGE = 20


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Scenarios and targets (issue 7)
# ----------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    kind: str                      # get | create | rename | patch
    ratio_target: float | None     # ours / AgentOS requests/s, at least
    limit_target: float | None = None  # ours / database limit, at least
    note: str = ""
    family: str = "agno"           # agno: against AgentOS; adk: against `adk api_server`, on an ADK database
    # Filled by `plan`: per side, the request paths the wrk script rotates over.
    paths: dict[str, list[str]] = field(default_factory=dict)
    db_args: dict[str, list] = field(default_factory=dict)


def scenarios() -> list[Scenario]:
    return [
        Scenario("list", "get", 15, 0.40, "GET /sessions (default page)"),
        Scenario("list_filtered", "get", 15, 0.40, "GET /sessions?type=agent&user_id=…"),
        Scenario("list_deep", "get", 15, 0.40, "GET /sessions?page=… (90 % deep)"),
        Scenario("detail", "get", 2, None, "GET /sessions/{id}, typical sessions"),
        Scenario("detail_big", "get", 1, None, "GET /sessions/{id}, the biggest sessions"),
        Scenario("runs", "get", 2, None, "GET /sessions/{id}/runs, typical sessions"),
        Scenario("single_run", "get", 5, 0.40, "GET /sessions/{id}/runs/{run_id}"),
        Scenario("run_previews", "get", None, None, "GET /sessions/{id}/run-previews (no target)"),
        Scenario("rename", "rename", 3, None, "POST /sessions/{id}/rename"),
        Scenario("patch", "patch", 3, None, "PATCH /sessions/{id}"),
        # Last: the sessions it creates come first in the default list.
        Scenario("create", "create", 3, None, "POST /sessions?type=agent"),
        # Google ADK's session routes against `adk api_server` (no targets: reported).
        Scenario("adk_get", "get", None, None, "GET /apps/{app}/users/{user}/sessions/{id}, typical sessions", "adk"),
        Scenario("adk_list", "get", None, None, "GET /apps/{app}/users/{user}/sessions, the user with most sessions",
                 "adk"),
        Scenario("adk_patch", "adk_patch", None, None, "PATCH /apps/{app}/users/{user}/sessions/{id} {stateDelta}",
                 "adk"),
        Scenario("adk_create", "adk_create", None, None, "POST /apps/{app}/users/{user}/sessions {sessionId, state}",
                 "adk"),
    ]


def adk_scenario_names() -> list[str]:
    return [s.name for s in scenarios() if s.family == "adk"]


CI_SCENARIOS = ("list", "list_filtered", "detail", "runs", "single_run", "rename", "create")
LATENCY_TARGET = 10.0   # AgentOS's one-connection list latency / ours, at least
GROWTH_TARGET = 1.2     # page-1 list latency at the largest scale / at the smallest, at most


# ----------------------------------------------------------------------------------------------
# PostgreSQL and seeding
# ----------------------------------------------------------------------------------------------
def runs_for(sessions: int) -> int:
    """Issue 7's proportions: 2,000 sessions hold 26,000 runs, 10,000 hold 126,000."""
    return round(12.5 * sessions + 1000)


def seed_database(pg: Pg, name: str, sessions: int, rng_seed: int) -> dict:
    """A fresh database `name` with `sessions` sessions written by tools/bench/seed.py."""
    from seed import seed  # tools/bench/seed.py

    pg.create(name)
    started = time.monotonic()
    manifest = seed(pg.url(name), sessions, runs_for(sessions), rng_seed)
    log(f"seeded {name}: {sessions} sessions, {runs_for(sessions)} runs in {time.monotonic() - started:.1f} s")
    return manifest


# ----------------------------------------------------------------------------------------------
# What each scenario requests, chosen from the database
# ----------------------------------------------------------------------------------------------
SESSION_COLS = ("session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data::text, "
                "agent_data::text, team_data::text, workflow_data::text, metadata::text, summary::text, "
                "created_at, updated_at")


@dataclass
class Plan:
    """The ids and paths of one database, and what they weigh."""
    sessions: int
    runs: int
    typical: list[str]
    typical_runs: list[tuple[str, str]]
    big: list[str]
    big_bytes: int
    typical_bytes: int
    user_id: str
    user_sessions: int
    deep_page: int
    pools: dict[str, list[str]]


def survey(url: str, manifest: dict | None = None, pool_size: int = 100) -> Plan:
    """The scenarios' ids: from the seed's manifest where it names them, else from the data."""
    plan = _survey(url, pool_size)
    manifest = manifest or {}
    if manifest.get("typical_sessions", {}).get("agent"):
        plan.typical = list(manifest["typical_sessions"]["agent"])
    if manifest.get("typical_runs", {}).get("agent"):
        plan.typical_runs = [(r["session_id"], r["run_id"]) for r in manifest["typical_runs"]["agent"]]
    if manifest.get("big_sessions"):
        plan.big = [b["session_id"] for b in manifest["big_sessions"]]
    with psycopg.connect(url) as conn:
        # The filtered list: the user with the most agent sessions among those who own none of the
        # multi-megabyte sessions (those have a scenario of their own).
        plan.user_id, plan.user_sessions = conn.execute("""
            SELECT user_id, count(*) FROM ai.agno_sessions WHERE session_type = 'agent' AND user_id IS NOT NULL
            AND user_id NOT IN (SELECT user_id FROM ai.agno_sessions WHERE session_id = ANY(%s) AND user_id IS NOT NULL)
            GROUP BY user_id ORDER BY 2 DESC, 1 LIMIT 1""", (plan.big,)).fetchone()
        plan.typical_bytes = _stored_bytes(conn, plan.typical)
        plan.big_bytes = _stored_bytes(conn, plan.big)
    return plan


def _stored_bytes(conn, session_ids: list[str]) -> int:
    """Median over the sessions of their runs' JSON size (as PostgreSQL prints it)."""
    value = conn.execute("""
        SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY b) FROM (
            SELECT sum(octet_length(run_data::text)) AS b FROM ai.agno_runs WHERE session_id = ANY(%s)
            GROUP BY session_id) x""", (session_ids,)).fetchone()[0]
    return int(value or 0)


def _survey(url: str, pool_size: int) -> Plan:
    with psycopg.connect(url) as conn:
        sessions = conn.execute("SELECT count(*) FROM ai.agno_sessions").fetchone()[0]
        # On a database half-way through agno's migration, sessions with a legacy `runs` blob are
        # left out of the pools: the blob decides which runs they have.
        blob = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'ai' "
                            "AND table_name = 'agno_sessions' AND column_name = 'runs'").fetchone()
        no_blob = "coalesce(jsonb_typeof(s.runs), 'null') = 'null'" if blob else "true"
        runs = conn.execute("SELECT count(*) FROM ai.agno_runs").fetchone()[0]
        # Stored (possibly compressed) size of each session's row and runs: enough to rank them.
        rows = conn.execute(f"""
            SELECT s.session_id, s.session_type, jsonb_typeof(s.session_data) = 'object' AND {no_blob},
                   coalesce(r.n, 0), pg_column_size(s.*) + coalesce(r.bytes, 0)
            FROM ai.agno_sessions s
            LEFT JOIN (SELECT session_id, count(*) AS n, sum(pg_column_size(run_data)) AS bytes
                       FROM ai.agno_runs GROUP BY session_id) r USING (session_id)
            ORDER BY 5, 1""").fetchall()
        agents = [r for r in rows if r[1] == "agent" and r[3] > 0 and r[2]]
        if not agents:
            raise RuntimeError("the database has no agent session with runs and a session_data object")
        mid = len(agents) // 2
        typical_rows = agents[max(0, mid - 10):mid + 10]
        typical = [r[0] for r in typical_rows]
        typical_bytes = int(statistics.median(r[4] for r in typical_rows))
        typical_runs = [tuple(r) for r in conn.execute("""
            SELECT DISTINCT ON (session_id) session_id, run_id FROM ai.agno_runs
            WHERE session_id = ANY(%s) ORDER BY session_id, run_index NULLS LAST, created_at""",
                                                        (typical,)).fetchall()]
        ranked = sorted(rows, key=lambda r: r[4], reverse=True)
        big_rows = [r for r in ranked if r[4] >= 1_000_000][:5] or ranked[:1]
        big = [r[0] for r in big_rows]
        big_bytes = int(statistics.median(r[4] for r in big_rows))
    deep_page = max(2, int(sessions * 0.9) // PAGE)
    # Write pools: the agent sessions around the median, dealt in turn to the three sides, so that
    # each side writes sessions of the same sizes and never another side's.
    n = min(pool_size, len(agents) // 3) or 1
    start = max(0, mid - (3 * n) // 2)
    central = agents[start:start + 3 * n]
    pools = {side: [r[0] for r in central[i::3]] for i, side in enumerate(("ours", "agentos", "db"))}
    return Plan(sessions, runs, typical, typical_runs, big, big_bytes, typical_bytes, "", 0, deep_page, pools)


def plan_paths(plan: Plan, scenario: Scenario) -> None:
    """Fill the scenario's request paths (per side) and database-limit arguments."""
    q = lambda s: quote(s, safe="")  # noqa: E731
    both = lambda paths: {"ours": paths, "agentos": paths}  # noqa: E731
    name = scenario.name
    if name == "list":
        scenario.paths, scenario.db_args = both(["/sessions"]), {"list": [("", (), 0)]}
    elif name == "list_filtered":
        scenario.paths = both([f"/sessions?type=agent&user_id={q(plan.user_id)}"])
        scenario.db_args = {"list": [("WHERE user_id = %s AND session_type = 'agent'", (plan.user_id,), 0)]}
    elif name == "list_deep":
        scenario.paths = both([f"/sessions?page={plan.deep_page}"])
        scenario.db_args = {"list": [("", (), (plan.deep_page - 1) * PAGE)]}
    elif name == "detail":
        scenario.paths = both([f"/sessions/{q(s)}" for s in plan.typical])
        scenario.db_args = {"detail": plan.typical}
    elif name == "detail_big":
        scenario.paths = both([f"/sessions/{q(s)}" for s in plan.big])
        scenario.db_args = {"detail": plan.big}
    elif name == "runs":
        scenario.paths = both([f"/sessions/{q(s)}/runs" for s in plan.typical])
        scenario.db_args = {"runs": plan.typical}
    elif name == "single_run":
        scenario.paths = both([f"/sessions/{q(s)}/runs/{q(r)}" for s, r in plan.typical_runs])
        scenario.db_args = {"single_run": plan.typical_runs}
    elif name == "run_previews":
        scenario.paths = both([f"/sessions/{q(s)}/run-previews" for s in plan.typical])
        scenario.db_args = {"run_previews": plan.typical}
    elif name == "rename":
        scenario.paths = {side: [f"/sessions/{q(s)}/rename" for s in plan.pools[side]] for side in ("ours", "agentos")}
        scenario.db_args = {"rename": plan.pools["db"]}
    elif name == "patch":
        scenario.paths = {side: [f"/sessions/{q(s)}" for s in plan.pools[side]] for side in ("ours", "agentos")}
        scenario.db_args = {"patch": plan.pools["db"]}
    elif name == "create":
        scenario.paths = both(["/sessions?type=agent"])
        scenario.db_args = {"create": [None]}
    else:
        raise ValueError(name)


# ----------------------------------------------------------------------------------------------
# Google ADK: its own database (ADK's tables in the public schema), seeded by adk_seed.py
# ----------------------------------------------------------------------------------------------
ADK_CREATE_APP = "support_bot"
ADK_CREATE_USERS = 32   # the creates rotate over this many users (each gets a user_states row)


def adk_events_for(sessions: int) -> int:
    """20 events per session: 2,000 sessions hold 40,000 events."""
    from adk_seed import EVENTS_PER_SESSION  # tools/bench/adk_seed.py

    return EVENTS_PER_SESSION * sessions


def seed_adk_database(pg: Pg, name: str, sessions: int, rng_seed: int) -> dict:
    """A fresh database `name` with ADK's tables and `sessions` sessions written by adk_seed.py."""
    from adk_seed import seed as adk_seed

    pg.create(name)
    started = time.monotonic()
    manifest = adk_seed(pg.url(name), sessions, adk_events_for(sessions), rng_seed)
    log(f"seeded {name}: {sessions} ADK sessions, {manifest['stats']['events']} events in "
        f"{time.monotonic() - started:.1f} s")
    return manifest


def _adk_path(app: str, user: str, session_id: str | None = None) -> str:
    q = lambda s: quote(s, safe="")  # noqa: E731
    return f"/apps/{q(app)}/users/{q(user)}/sessions" + (f"/{q(session_id)}" if session_id is not None else "")


def plan_adk_paths(manifest: dict, scenario: Scenario) -> None:
    """Fill an ADK scenario's request paths (this service and ADK: "ours", "adk") and limit arguments."""
    both = lambda paths: {"ours": paths, "adk": paths}  # noqa: E731
    name = scenario.name
    if name == "adk_get":
        keys = [tuple(k) for k in manifest["typical_sessions"]]
        scenario.paths, scenario.db_args = both([_adk_path(*k) for k in keys]), {"adk_get": keys}
    elif name == "adk_list":
        lu = manifest["list_user"]
        scenario.paths = both([_adk_path(lu["app"], lu["user"])])
        scenario.db_args = {"adk_list": [(lu["app"], lu["user"])]}
    elif name == "adk_patch":
        pools = manifest["pools"]
        scenario.paths = {"ours": [_adk_path(*k) for k in pools["ours"]],
                          "adk": [_adk_path(*k) for k in pools["reference"]]}
        scenario.db_args = {"adk_patch": [tuple(k) for k in pools["db"]]}
    elif name == "adk_create":
        users = [f"bench-user-{i:02d}" for i in range(ADK_CREATE_USERS)]
        scenario.paths = both([_adk_path(ADK_CREATE_APP, u) for u in users])
        scenario.db_args = {"adk_create": [(ADK_CREATE_APP, u) for u in users]}
    else:
        raise ValueError(name)


class PatchedEvents:
    """Every PATCH appends an event, and every PATCH response carries all the session's events: a
    side that patches faster would grow its sessions faster and be measured on bigger ones. After
    each run the events it added to its pool are deleted again (counted: the growth within one
    run), so every run starts from the seeded sessions."""

    def __init__(self, url: str, pools: dict[str, list]):
        self.url, self.pools, self.seeded, self.added = url, pools, {}, {side: [] for side in pools}
        with psycopg.connect(url) as conn:
            for side in pools:
                self.seeded[side] = [r[0] for r in conn.execute(
                    "SELECT e.id FROM events e JOIN unnest(%s::text[], %s::text[], %s::text[]) k(a, u, i) "
                    "ON e.app_name = k.a AND e.user_id = k.u AND e.session_id = k.i", self._keys(side))]

    def _keys(self, side: str) -> tuple:
        keys = self.pools[side]
        return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]

    def __call__(self, side: str, record: bool = True) -> None:
        with psycopg.connect(self.url) as conn:
            n = conn.execute(
                "DELETE FROM events e USING unnest(%s::text[], %s::text[], %s::text[]) k(a, u, i) "
                "WHERE e.app_name = k.a AND e.user_id = k.u AND e.session_id = k.i "
                "AND e.id NOT IN (SELECT unnest(%s::text[]))",
                (*self._keys(side), self.seeded[side])).rowcount
        if record:
            self.added[side].append(n / len(self.pools[side]))


# ----------------------------------------------------------------------------------------------
# The database's own limit: the minimal SQL returning what the route returns, no HTTP
# ----------------------------------------------------------------------------------------------
# JSON leaves the database as text (::text), so no client time goes into decoding it.
LIST_COUNT = "SELECT count(*) FROM ai.agno_sessions {where}"
LIST_PAGE = """
SELECT p.session_id, p.session_type, p.agent_id, p.team_id, p.workflow_id, p.user_id, p.name::text, p.state::text,
       p.metrics::text, p.sdk::text, p.metadata::text, p.summary::text, p.created_at, p.updated_at,
       f.first_input::text
FROM (SELECT session_id, session_type, agent_id, team_id, workflow_id, user_id,
             session_data->'session_name' AS name, session_data->'session_state' AS state,
             session_data->'session_metrics' AS metrics, agent_data->'sdk' AS sdk, metadata, summary,
             created_at, updated_at
      FROM ai.agno_sessions {where} ORDER BY created_at DESC, session_id DESC LIMIT 20 OFFSET %s) p
LEFT JOIN LATERAL (SELECT r.run_data->'input' AS first_input FROM ai.agno_runs r
                   WHERE r.session_id = p.session_id AND coalesce(p.name, 'null') = 'null'
                   ORDER BY r.run_index LIMIT 1) f ON true
ORDER BY p.created_at DESC, p.session_id DESC"""
SESSION_ROW = f"SELECT {SESSION_COLS} FROM ai.agno_sessions WHERE session_id = %s"
SESSION_TYPE = "SELECT session_type, agent_id, team_id, workflow_id FROM ai.agno_sessions WHERE session_id = %s"
RUNS = "SELECT run_data::text FROM ai.agno_runs WHERE session_id = %s ORDER BY run_index, created_at"
ONE_RUN = "SELECT run_data::text FROM ai.agno_runs WHERE run_id = %s AND session_id = %s"
PREVIEWS = """
SELECT run_id, parent_run_id, agent_id, team_id, workflow_id, user_id, status,
       left(run_data->'input'->>'input_content', 280), left(run_data->>'content', 280), run_data->'created_at'
FROM ai.agno_runs WHERE session_id = %s ORDER BY run_index, created_at"""
CREATE = f"""
INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, session_data, created_at, updated_at)
VALUES (%s, 'agent', 'bench-agent', 'bench-user', %s, %s, %s) ON CONFLICT (session_id) DO NOTHING
RETURNING {SESSION_COLS}"""
RENAME = f"""
UPDATE ai.agno_sessions SET session_data = jsonb_set(session_data, '{{session_name}}', to_jsonb(%s::text))
WHERE session_id = %s RETURNING {SESSION_COLS}"""
PATCH_LOCK = f"SELECT {SESSION_COLS} FROM ai.agno_sessions WHERE session_id = %s FOR UPDATE"
PATCH = f"""
UPDATE ai.agno_sessions SET session_data = jsonb_set(jsonb_set(session_data, '{{session_name}}', to_jsonb(%s::text)),
       '{{session_state}}', %s::jsonb), metadata = %s::jsonb, updated_at = %s
WHERE session_id = %s RETURNING {SESSION_COLS}"""


# ADK's tables (the connection's default schema). A session as the routes return it: its row with
# the app's and the user's state, and its events in order; a list: the user's sessions and the
# two states; a create: the session, the app's state row (made when missing, read) and the
# user's (made or merged with the `user:` keys); a PATCH: the session locked, its events read,
# its state merged, the event inserted, in one transaction.
ADK_SESSION = """
SELECT s.state::text, s.create_time, s.update_time,
       (SELECT a.state::text FROM app_states a WHERE a.app_name = s.app_name),
       (SELECT u.state::text FROM user_states u WHERE u.app_name = s.app_name AND u.user_id = s.user_id)
FROM sessions s WHERE s.app_name = %s AND s.user_id = %s AND s.id = %s"""
ADK_EVENTS = """
SELECT id, invocation_id, "timestamp", event_data::text FROM events
WHERE app_name = %s AND user_id = %s AND session_id = %s ORDER BY "timestamp", id"""
ADK_LIST = """
SELECT id, state::text, update_time FROM sessions WHERE app_name = %s AND user_id = %s
ORDER BY update_time, user_id, id"""
ADK_STATES = """
SELECT (SELECT state::text FROM app_states WHERE app_name = %s),
       (SELECT state::text FROM user_states WHERE app_name = %s AND user_id = %s)"""
ADK_CREATE = """
INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time)
VALUES (%s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT DO NOTHING RETURNING id"""
ADK_APP_STATE = """
WITH made AS (INSERT INTO app_states (app_name, state, update_time) VALUES (%s, '{}', now())
              ON CONFLICT DO NOTHING RETURNING state)
SELECT state::text FROM made UNION ALL SELECT state::text FROM app_states WHERE app_name = %s"""
ADK_USER_STATE = """
INSERT INTO user_states (app_name, user_id, state, update_time) VALUES (%s, %s, %s::jsonb, now())
ON CONFLICT (app_name, user_id) DO UPDATE SET state = user_states.state || excluded.state, update_time = now()
RETURNING state::text"""
ADK_LOCK = ADK_SESSION + " FOR UPDATE OF s"
ADK_UPDATE = """
UPDATE sessions SET state = state || %s::jsonb, update_time = %s WHERE app_name = %s AND user_id = %s AND id = %s"""
ADK_EVENT = """
INSERT INTO events (id, app_name, user_id, session_id, invocation_id, "timestamp", event_data)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"""


def _adk_unit(conn, kind: str, arg, tag: str) -> None:
    """One ADK route's worth of SQL."""
    if kind == "adk_get":
        conn.execute(ADK_SESSION, arg).fetchone()
        conn.execute(ADK_EVENTS, arg).fetchall()
    elif kind == "adk_list":
        app, user = arg
        conn.execute(ADK_LIST, (app, user)).fetchall()
        conn.execute(ADK_STATES, (app, app, user)).fetchone()
    elif kind == "adk_create":
        app, user = arg
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with conn.transaction():
            conn.execute(ADK_CREATE, (app, user, tag, json.dumps({"topic": f"bench {tag}", "turn": 1}), now,
                                      now)).fetchone()
            conn.execute(ADK_APP_STATE, (app, app)).fetchone()
            conn.execute(ADK_USER_STATE, (app, user, json.dumps({"locale": "en-GB"}))).fetchone()
    elif kind == "adk_patch":
        app, user, sid = arg
        stamp = time.time()
        delta = json.dumps({"turn": 1, "last_action": f"patched {tag}"})
        event = {"invocation_id": f"p-{tag}", "author": "user", "actions": {"state_delta": json.loads(delta)},
                 "id": tag, "timestamp": stamp}
        with conn.transaction():
            conn.execute(ADK_LOCK, arg).fetchone()
            conn.execute(ADK_EVENTS, arg).fetchall()
            at = dt.datetime.fromtimestamp(stamp, dt.UTC).replace(tzinfo=None)
            conn.execute(ADK_UPDATE, (delta, at, app, user, sid))
            conn.execute(ADK_EVENT, (tag, app, user, sid, f"p-{tag}", at, json.dumps(event)))
    else:
        raise ValueError(kind)


def _db_unit(conn, kind: str, arg, tag: str) -> None:
    """One route's worth of SQL."""
    if kind.startswith("adk_"):
        _adk_unit(conn, kind, arg, tag)
    elif kind == "list":
        where, params, offset = arg
        conn.execute(LIST_COUNT.format(where=where), params).fetchone()
        conn.execute(LIST_PAGE.format(where=where), (*params, offset)).fetchall()
    elif kind == "detail":
        conn.execute(SESSION_ROW, (arg,)).fetchone()
        conn.execute(RUNS, (arg,)).fetchall()
    elif kind == "runs":
        conn.execute(SESSION_TYPE, (arg,)).fetchone()
        conn.execute(RUNS, (arg,)).fetchall()
    elif kind == "single_run":
        conn.execute(ONE_RUN, (arg[1], arg[0])).fetchone()
    elif kind == "run_previews":
        conn.execute(SESSION_TYPE, (arg,)).fetchone()
        conn.execute(PREVIEWS, (arg,)).fetchall()
    elif kind == "create":
        now = int(time.time())
        conn.execute(CREATE, (tag, json.dumps({"session_name": tag}), now, now)).fetchone()
    elif kind == "rename":
        conn.execute(RENAME, (f"renamed {tag}", arg)).fetchone()
        conn.execute(RUNS, (arg,)).fetchall()
    elif kind == "patch":
        with conn.transaction():
            conn.execute(PATCH_LOCK, (arg,)).fetchone()
            conn.execute(PATCH, (f"patched {tag}", json.dumps({"n": tag}), json.dumps({"bench": tag}),
                                 int(time.time()), arg)).fetchone()
            conn.execute(RUNS, (arg,)).fetchall()
    else:
        raise ValueError(kind)


def _db_worker(job: tuple) -> tuple[int, float, int]:
    url, kind, args, duration, index, prefix = job
    errors = done = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(3):  # warm the statement cache and the buffers
            _db_unit(conn, kind, args[(index + n) % len(args)], f"{prefix}-w{index}-warm{n}")
        started = time.perf_counter()
        deadline = started + duration
        while time.perf_counter() < deadline:
            arg = args[(done * WORKERS + index) % len(args)]
            try:
                _db_unit(conn, kind, arg, f"{prefix}-w{index}-{done}")
            except psycopg.Error:
                errors += 1
            done += 1
        return done, time.perf_counter() - started, errors


def db_limit(url: str, scenario: Scenario, duration: float, prefix: str) -> dict:
    """Route-equivalents per second from WORKERS processes, one connection each."""
    (kind, args), = scenario.db_args.items()
    if kind == "create":
        args = [None]
    jobs = [(url, kind, args, duration, i, prefix) for i in range(WORKERS)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(WORKERS) as pool:
        results = pool.map(_db_worker, jobs)
    return {"qps": sum(n / t for n, t, _ in results), "errors": sum(e for _, _, e in results)}


def db_latency(url: str, kind: str, arg, duration: float) -> float:
    """Median milliseconds of one route's SQL, sequential, on one connection."""
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(3):
            _db_unit(conn, kind, arg, "")
        deadline = time.perf_counter() + duration
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            _db_unit(conn, kind, arg, "")
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


# ----------------------------------------------------------------------------------------------
# HTTP load: wrk with a generated Lua script
# ----------------------------------------------------------------------------------------------
LUA = r"""
local paths = {%(paths)s}
local kind = "%(kind)s"
local prefix = "%(prefix)s"
local counter = 0
local thread_count = 0
local json_headers = {["Content-Type"] = "application/json"}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init(args)
  tid = tid or 1
end

function request()
  counter = counter + 1
  local tag = prefix .. "-" .. tid .. "-" .. counter
  local path = paths[((counter - 1) * %(threads)d + tid - 1) %% #paths + 1]
  if kind == "get" then
    return wrk.format("GET", path)
  elseif kind == "create" then
    local body = '{"session_id":"' .. tag .. '","session_name":"bench ' .. tag ..
                 '","user_id":"bench-user","agent_id":"bench-agent","session_state":{"n":' .. counter .. '}}'
    return wrk.format("POST", path, json_headers, body)
  elseif kind == "rename" then
    return wrk.format("POST", path, json_headers, '{"session_name":"renamed ' .. tag .. '"}')
  elseif kind == "adk_create" then
    local body = '{"sessionId":"' .. tag .. '","state":{"topic":"bench ' .. tag .. '","turn":' .. counter ..
                 ',"cart":{"items":[],"currency":"EUR"},"user:locale":"en-GB"}}'
    return wrk.format("POST", path, json_headers, body)
  elseif kind == "adk_patch" then
    local body = '{"stateDelta":{"turn":' .. counter .. ',"last_action":"patched ' .. tag .. '"}}'
    return wrk.format("PATCH", path, json_headers, body)
  else
    local body = '{"session_name":"patched ' .. tag .. '","session_state":{"n":' .. counter ..
                 '},"metadata":{"bench":"' .. tag .. '"}}'
    return wrk.format("PATCH", path, json_headers, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"p50_us":%%d,"p99_us":%%d,"mean_us":%%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def lua_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_script(workdir: str, name: str, kind: str, paths: list[str], prefix: str, threads: int) -> str:
    """A wrk script: thread t of n sends paths t, t+n, t+2n, ... so no two threads share a write target."""
    path = os.path.join(workdir, f"{name}.lua")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(LUA % {"paths": ", ".join(lua_string(p) for p in paths), "kind": kind, "prefix": prefix,
                        "threads": threads})
    return path


def wrk(base: str, script: str, duration: float, threads: int, connections: int) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
           "--timeout", "30s", "-s", script, base]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 90)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    raw = json.loads(line.split(" ", 1)[1])
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {"rps": raw["requests"] / seconds if seconds else 0.0, "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"], "errors": errors,
            "error_kinds": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]},
            "bytes_per_request": raw["bytes"] / raw["requests"] if raw["requests"] else 0}


def summarize(runs: list[dict]) -> dict:
    out = {"rps": statistics.median(r["rps"] for r in runs), "p50_ms": statistics.median(r["p50_ms"] for r in runs),
           "p99_ms": statistics.median(r["p99_ms"] for r in runs), "errors": sum(r["errors"] for r in runs),
           "requests": sum(r["requests"] for r in runs),
           "bytes_per_request": statistics.median(r["bytes_per_request"] for r in runs),
           "rounds": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in runs]}
    kinds: dict[str, int] = {}
    for r in runs:
        for k, v in r["error_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    if kinds:
        out["error_kinds"] = kinds
    return out


# ----------------------------------------------------------------------------------------------
# Servers
# ----------------------------------------------------------------------------------------------
REFERENCE_LABEL = {"agentos": "AgentOS", "adk": "ADK"}


def clean_env() -> dict[str, str]:
    """The environment without settings that would change either server's production defaults."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AGNO_", "WEB_CONCURRENCY", "OS_SECURITY_KEY", "DATABASE_URL", "PROMETHEUS_", "ADK_",
                                "GOOGLE_CLOUD_AGENT_ENGINE_ID"))}
    env["AGNO_TELEMETRY"] = "false"
    return env


def our_server(pg: Pg, db: str, workdir: str, service_dir: str = REPO) -> Server:
    """This service on database `db`, in its production configuration: gunicorn.conf.py, two
    workers, the access log at its default level. AGNO_DRAIN_SECONDS=0 only makes the stop at
    the end immediate; PYTHONPATH puts the checkout's own `app` package before the editable
    install's."""
    port = free_port()
    env = dict(clean_env(), PYTHONPATH=service_dir, AGNO_PG_DSN=pg.url(db), WEB_CONCURRENCY=str(WORKERS),
               AGNO_SERVICE_HOST="127.0.0.1", AGNO_SERVICE_PORT=str(port), AGNO_DRAIN_SECONDS="0")
    return Server("service", [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "gunicorn.conf.py",
                              "wsgi:app"], env, service_dir, port, os.path.join(workdir, f"service-{db}.log"))


def _start_pair(pg: Pg, db: str, workdir: str, nagle: bool, service_dir: str, name: str, script: str,
                env: dict[str, str], timeout: float) -> dict[str, Server]:
    """This service and a reference server (`script` in this folder: uvicorn with WORKERS worker
    processes and TCP_NODELAY on its listening socket unless `nagle`), both on database `db`."""
    ours = our_server(pg, db, workdir, service_dir)
    port = free_port()
    theirs = Server(name, [sys.executable, os.path.join(HERE, script), "--workers", str(WORKERS),
                           "--host", "127.0.0.1", "--port", str(port)] + (["--nagle"] if nagle else []),
                    dict(clean_env(), **env), REPO, port, os.path.join(workdir, f"{name}-{db}.log"))
    servers = {"ours": ours, name: theirs}
    try:
        for server in servers.values():
            server.start(timeout=timeout)
    except Exception:
        stop_servers(servers)
        raise
    return servers


def start_servers(pg: Pg, db: str, workdir: str, nagle: bool = False, service_dir: str = REPO) -> dict[str, Server]:
    """This service and agno 3.1.10 AgentOS (agentos_app.py) on the agno database `db`."""
    return _start_pair(pg, db, workdir, nagle, service_dir, "agentos", "agentos_app.py",
                       {"AGNO_BENCH_DB_URL": pg.url(db, driver=True)}, 90)


def start_adk_servers(pg: Pg, db: str, workdir: str, nagle: bool = False,
                      service_dir: str = REPO) -> dict[str, Server]:
    """This service and `adk api_server`'s app (adk_app.py) on the ADK database `db`."""
    return _start_pair(pg, db, workdir, nagle, service_dir, "adk", "adk_app.py",
                       {"ADK_BENCH_DB_URL": pg.url(db, driver=True), "ADK_DISABLE_LOCAL_STORAGE": "1"}, 120)


def stop_servers(servers: dict[str, Server]) -> None:
    for server in servers.values():
        with contextlib.suppress(Exception):
            server.stop()


def probe(base: str, path: str) -> tuple[int, int]:
    try:
        with urllib.request.urlopen(base + path, timeout=120) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as e:
        return e.code, len(e.read())


# ----------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------
def measure_scenario(sc: Scenario, servers: dict[str, Server], db_url: str, args, workdir: str, run_tag: str,
                     after_run=None) -> dict:
    """`servers`: "ours" and the reference ("agentos" or "adk"), whose figures go under its name.
    `after_run(side, record=True)`, when given, runs after every load of a side (the warm-ups with
    record=False; "db" after the database limit's)."""
    ref = next(side for side in servers if side != "ours")
    label = REFERENCE_LABEL[ref]
    row: dict[str, Any] = {"scenario": sc.name, "what": sc.note, "kind": sc.kind}
    if ref != "agentos":
        row["family"], row["reference"] = sc.family, ref
    if sc.kind == "get":
        for side, server in servers.items():
            status, size = probe(server.base, sc.paths[side][0])
            row.setdefault("probe", {})[side] = {"status": status, "bytes": size}
            if status != 200:
                raise RuntimeError(f"{sc.name}: {side} answered {status} to GET {sc.paths[side][0]}")
    samples: dict[str, list[dict]] = {"ours": [], ref: []}
    db_samples: list[dict] = []
    for side, server in servers.items():  # warm-up, not recorded
        script = write_script(workdir, f"{sc.name}-{side}-warm", sc.kind, sc.paths[side], f"{run_tag}-{side}-warm",
                              args.threads)
        wrk(server.base, script, 1, args.threads, args.connections)
        if after_run:
            after_run(side, record=False)
    for rnd in range(args.rounds):
        order = ["ours", ref] if rnd % 2 == 0 else [ref, "ours"]
        for side in order:
            script = write_script(workdir, f"{sc.name}-{side}-{rnd}", sc.kind, sc.paths[side], f"{run_tag}-{side}-r{rnd}",
                                  args.threads)
            samples[side].append(wrk(servers[side].base, script, args.duration, args.threads, args.connections))
            if after_run:
                after_run(side)
        db_samples.append(db_limit(db_url, sc, args.duration, f"{run_tag}-db-r{rnd}"))
        if after_run:
            after_run("db")
        log(f"  {sc.name} round {rnd + 1}: ours {samples['ours'][-1]['rps']:.0f}/s, "
            f"{label} {samples[ref][-1]['rps']:.0f}/s, database {db_samples[-1]['qps']:.0f}/s")
    row["ours"], row[ref] = summarize(samples["ours"]), summarize(samples[ref])
    idle = [side for side in ("ours", ref) if any(r["requests"] == 0 for r in samples[side])]
    if idle:
        # wrk counts only requests that complete inside the round: none means the round was
        # shorter than one request under this load, and the figure would be meaningless.
        row["error"] = (f"{' and '.join(idle)} completed no request in a {args.duration:g} s round: "
                        "use a longer --duration")
    row["db_limit_qps"] = statistics.median(d["qps"] for d in db_samples)
    row["db_errors"] = sum(d["errors"] for d in db_samples)
    row["ratio"] = row["ours"]["rps"] / row[ref]["rps"] if row[ref]["rps"] else None
    row["limit_fraction"] = row["ours"]["rps"] / row["db_limit_qps"] if row["db_limit_qps"] else None
    return row


def latency(servers: dict[str, Server], paths: dict[str, str], args, workdir: str, tag: str) -> dict[str, dict]:
    """Sequential requests on one connection: median over the rounds of wrk -c1's median."""
    out: dict[str, list[dict]] = {"ours": [], "agentos": []}
    for side, server in servers.items():
        wrk(server.base, write_script(workdir, f"{tag}-{side}-warm", "get", [paths[side]], tag, 1), 1, 1, 1)
    for rnd in range(args.rounds):
        for side in (["ours", "agentos"] if rnd % 2 == 0 else ["agentos", "ours"]):
            script = write_script(workdir, f"{tag}-{side}-{rnd}", "get", [paths[side]], tag, 1)
            out[side].append(wrk(servers[side].base, script, args.latency_duration, 1, 1))
    return {side: summarize(runs) for side, runs in out.items()}


# ----------------------------------------------------------------------------------------------
# Verdicts and the table
# ----------------------------------------------------------------------------------------------
def judge(report: dict, tolerance: float) -> list[str]:
    """Mark every row pass/fail; return the misses as sentences."""
    misses = []
    for row in report["rows"]:
        checks = []
        if row.get("error"):
            checks.append((False, f"{row['scenario']}: {row['error']}"))
        if row.get("ratio_target") is not None and row.get("ratio") is not None:
            need = row["ratio_target"] * tolerance
            checks.append((row["ratio"] >= need, f"{row['scenario']}: {row['ratio']:.2f}x "
                           f"({row.get('ratio_means', 'ours / AgentOS requests/s')}), target >= {need:g}x"))
        if row.get("limit_target") is not None and row.get("limit_fraction") is not None:
            need = row["limit_target"] * tolerance
            checks.append((row["limit_fraction"] >= need,
                           f"{row['scenario']}: {row['limit_fraction']:.0%} of the database limit, target >= {need:.0%}"))
        if row.get("max_target") is not None and row.get("ratio") is not None:
            bound = row["max_target"] / tolerance
            checks.append((row["ratio"] <= bound, f"{row['scenario']}: {row['ratio']:.2f}x "
                           f"({row.get('ratio_means')}), target <= {bound:g}x"))
        if row.get("ours", {}).get("errors"):
            checks.append((False, f"{row['scenario']}: {row['ours']['errors']} errors on this service"))
        if checks:
            row["pass"] = all(ok for ok, _ in checks)
            misses += [msg for ok, msg in checks if not ok]
        else:
            row["pass"] = None
    return misses


def fmt(v, spec: str, empty: str = "-") -> str:
    return empty if v is None else format(v, spec)


def table(report: dict, tolerance: float) -> str:
    """One table per reference: AgentOS's rows, then (when measured) `adk api_server`'s."""
    parts = []
    for ref in REFERENCE_LABEL:
        rows = [row for row in report["rows"] if row.get("reference", "agentos") == ref]
        if rows:
            parts.append(_table(rows, ref, tolerance))
    return "\n\n".join(parts)


def _table(rows: list[dict], ref: str, tolerance: float) -> str:
    label = REFERENCE_LABEL[ref]
    head = ["scenario", "ours req/s", f"{label} req/s", "ratio", "target", "ours p50/p99 ms", f"{label} p50/p99 ms",
            "errors", "DB limit q/s", "of limit", "result"]
    lines = []
    for row in rows:
        ours, theirs = row.get("ours") or {}, row.get(ref) or {}
        target = []
        if row.get("ratio_target") is not None:
            target.append(f">={row['ratio_target'] * tolerance:g}x")
        if row.get("max_target") is not None:
            target.append(f"<={row['max_target'] / tolerance:g}x")
        if row.get("limit_target") is not None:
            target.append(f">={row['limit_target'] * tolerance:.0%} lim")
        errors = f"{ours.get('errors', 0)}/{theirs.get('errors', 0)}" if ours else "-"
        lines.append([
            row["scenario"], fmt(ours.get("rps"), ".0f"), fmt(theirs.get("rps"), ".0f"), fmt(row.get("ratio"), ".2f"),
            " ".join(target) or "-",
            f"{fmt(ours.get('p50_ms'), '.1f')}/{fmt(ours.get('p99_ms'), '.1f')}" if ours else "-",
            f"{fmt(theirs.get('p50_ms'), '.1f')}/{fmt(theirs.get('p99_ms'), '.1f')}" if theirs else "-",
            errors,
            f"p50 {row['db_p50_ms']:.1f} ms" if row.get("db_p50_ms") is not None else fmt(row.get("db_limit_qps"), ".0f"),
            fmt(row.get("limit_fraction"), ".0%"),
            {True: "pass", False: "FAIL", None: "info"}[row.get("pass")],
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=False)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default=None, help="session counts, comma-separated; the first gets every scenario, "
                    "the others the latency growth (default 2000,10000; --ci 300,3000)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds per scenario (default 3; --ci 2)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per round and server (default 5; --ci 2)")
    ap.add_argument("--latency-duration", type=float, default=None, help="seconds per one-connection round "
                    "(default 3; --ci 2)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scenarios", default=None, help="comma-separated subset (default: all; --ci a quick subset)")
    ap.add_argument("--pg", default=os.environ.get("AGNO_BENCH_PG"), help="libpq URL of a server's postgres database "
                    "(default AGNO_BENCH_PG, else a throwaway cluster)")
    ap.add_argument("--database", default=None, help="benchmark this existing database (a libpq URL; agno 3.x "
                    "layout) instead of seeding: one scale, nothing dropped")
    ap.add_argument("--rng-seed", type=int, default=7)
    ap.add_argument("--ci", action="store_true", help="small scales, short rounds, a subset; fail only below half of "
                    "each target")
    ap.add_argument("--tolerance", type=float, default=None, help="fraction of each target that passes "
                    "(default 1; --ci 0.5)")
    ap.add_argument("--nagle", action="store_true", help="start AgentOS's uvicorn without the TCP_NODELAY fix "
                    "(uvicorn issue #3149: +~40 ms per keep-alive request)")
    ap.add_argument("--service-dir", default=REPO, help="the checkout whose service is measured (gunicorn runs "
                    "there: its gunicorn.conf.py, wsgi.py and app/), e.g. a git worktree of another commit; "
                    "default this one")
    ap.add_argument("--report", default=os.path.join(REPO, "build", "bench-report.json"))
    ap.add_argument("--keep", action="store_true", help="keep the bench_* databases (on --pg) and the work directory (server "
                    "logs, wrk scripts)")
    args = ap.parse_args(argv)
    ci = args.ci
    args.scales = [int(s) for s in (args.scales or ("300,3000" if ci else "2000,10000")).split(",") if s.strip()]
    args.rounds = args.rounds or (2 if ci else 3)
    args.duration = args.duration or (2 if ci else 5)
    args.latency_duration = args.latency_duration or (2 if ci else 3)
    args.tolerance = args.tolerance if args.tolerance is not None else (0.5 if ci else 1.0)
    known = [s.name for s in scenarios()]
    chosen = args.scenarios.split(",") if args.scenarios else (list(CI_SCENARIOS) if ci else known)
    unknown = [s for s in chosen if s not in known]
    if unknown:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if args.database:
        # An existing database is agno's: the ADK scenarios need a seeded ADK database of their own.
        if args.scenarios and set(chosen) & set(adk_scenario_names()):
            ap.error("--database benchmarks an agno database: the adk_* scenarios cannot run on it")
        chosen = [s for s in chosen if s not in adk_scenario_names()]
    args.scenarios = [s for s in known if s in chosen]
    if not shutil.which("wrk"):
        ap.error("wrk is missing: apt-get install wrk (make bench installs it when run as root)")
    return args


def revision(directory: str) -> str | None:
    """The measured checkout's commit, with `+dirty` when its service files have local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=directory, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app", "gunicorn.conf.py", "wsgi.py"],
                               cwd=directory, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def run(args, pg: Pg, workdir: str) -> dict:
    run_tag = f"bench{int(time.time())}"
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "config": {"scales": args.scales, "rounds": args.rounds, "duration_s": args.duration,
                   "latency_duration_s": args.latency_duration, "connections": args.connections,
                   "threads": args.threads, "workers": WORKERS, "tolerance": args.tolerance,
                   "rng_seed": args.rng_seed, "scenarios": args.scenarios,
                   "ours": "gunicorn -c gunicorn.conf.py wsgi:app (WEB_CONCURRENCY=2)",
                   "ours_revision": revision(args.service_dir),
                   "agentos": "agno 3.1.10 AgentOS, uvicorn --workers 2"
                              + (" (Nagle left on, uvicorn #3149)" if args.nagle else " (TCP_NODELAY, uvicorn #3149)"),
                   "adk": "google-adk 2.13.0 get_fast_api_app (as adk api_server), uvicorn --workers 2"},
        "scales": [], "rows": [],
    }
    latencies: dict[int, dict] = {}
    scales = [None] if args.database else args.scales
    adk = [name for name in args.scenarios if name in adk_scenario_names()]
    if adk and len(adk) == len(args.scenarios):
        scales = []  # only ADK scenarios: no agno database, no AgentOS
    for index, sessions in enumerate(scales):
        if args.database:
            db, seed_manifest = args.database.split("?", 1)[0].rsplit("/", 1)[1], {}
        else:
            db = f"bench_{sessions}_{os.getpid()}"
            seed_manifest = seed_database(pg, db, sessions, args.rng_seed)
        plan = survey(pg.url(db), seed_manifest)
        sessions = sessions or plan.sessions
        scale = {"sessions": plan.sessions, "runs": plan.runs, "database": db,
                 "typical_session_bytes": plan.typical_bytes, "big_session_bytes": plan.big_bytes,
                 "deep_page": plan.deep_page, "filter_user_sessions": plan.user_sessions,
                 "seed_stats": seed_manifest.get("stats")}
        report["scales"].append(scale)
        log(f"scale {sessions}: {plan.sessions} sessions, {plan.runs} runs; typical session {plan.typical_bytes / 1e3:.0f} kB"
            f" of runs, big ones {plan.big_bytes / 1e6:.1f} MB")
        servers = start_servers(pg, db, workdir, args.nagle, args.service_dir)
        try:
            lat = latency(servers, {"ours": "/sessions", "agentos": "/sessions"}, args, workdir, f"lat-list-{sessions}")
            detail_path = f"/sessions/{quote(plan.typical[0], safe='')}"
            lat_detail = latency(servers, {"ours": detail_path, "agentos": detail_path}, args, workdir,
                                 f"lat-detail-{sessions}")
            scale["latency_ms"] = {"list": {side: v["p50_ms"] for side, v in lat.items()},
                                   "detail": {side: v["p50_ms"] for side, v in lat_detail.items()}}
            latencies[sessions] = {"list": lat, "detail": lat_detail}
            log(f"  one-connection latency: list ours {lat['ours']['p50_ms']:.1f} ms, AgentOS "
                f"{lat['agentos']['p50_ms']:.1f} ms; detail ours {lat_detail['ours']['p50_ms']:.1f} ms, AgentOS "
                f"{lat_detail['agentos']['p50_ms']:.1f} ms")
            if index == 0:
                report["rows"].append({
                    "scenario": "list_latency_1conn", "what": "GET /sessions, one connection, sequential",
                    "kind": "latency", "ours": lat["ours"], "agentos": lat["agentos"],
                    "ratio": lat["agentos"]["p50_ms"] / lat["ours"]["p50_ms"] if lat["ours"]["p50_ms"] else None,
                    "ratio_target": LATENCY_TARGET, "ratio_means": "AgentOS p50 / ours p50",
                    "db_p50_ms": db_latency(pg.url(db), "list", ("", (), 0), args.latency_duration)})
                for sc in scenarios():
                    if sc.name not in args.scenarios or sc.family != "agno":
                        continue
                    plan_paths(plan, sc)
                    log(f"scenario {sc.name}: {sc.note}")
                    try:
                        row = measure_scenario(sc, servers, pg.url(db), args, workdir, f"{run_tag}-{sc.name}")
                    except (RuntimeError, subprocess.SubprocessError, psycopg.Error) as exc:
                        log(f"  {sc.name} failed: {exc}")
                        row = {"scenario": sc.name, "what": sc.note, "kind": sc.kind, "error": str(exc)}
                    row["ratio_target"], row["limit_target"] = sc.ratio_target, sc.limit_target
                    report["rows"].append(row)
            else:
                small = args.scales[0]
                for what, target in (("list", GROWTH_TARGET), ("detail", None)):
                    first, now = latencies[small][what], latencies[sessions][what]
                    base = first["ours"]["p50_ms"]
                    report["rows"].append({
                        "scenario": f"{what}_growth_{small}_to_{sessions}", "kind": "growth",
                        "what": f"ours, one-connection {what} latency at {sessions} / at {small} sessions"
                                + ("" if target else " (no target)"),
                        "ours": now["ours"], "agentos": now["agentos"],
                        "ratio": now["ours"]["p50_ms"] / base if base else None, "max_target": target,
                        "agentos_growth": now["agentos"]["p50_ms"] / first["agentos"]["p50_ms"]
                        if first["agentos"]["p50_ms"] else None,
                        "ratio_means": "ours p50 at this scale / at the first"})
        finally:
            stop_servers(servers)
            if not args.keep and not args.database:
                pg.drop(db)
    if adk:
        run_adk(args, pg, workdir, run_tag, report)
    report["machine"]["loadavg_end"] = os.getloadavg()
    return report


def run_adk(args, pg: Pg, workdir: str, run_tag: str, report: dict) -> None:
    """The adk_* scenarios: this service and `adk api_server` on one seeded ADK database at the
    first scale."""
    sessions = args.scales[0]
    db = f"bench_adk_{sessions}_{os.getpid()}"
    manifest = seed_adk_database(pg, db, sessions, args.rng_seed)
    url = pg.url(db)
    report["adk"] = {"sessions": manifest["stats"]["sessions"], "events": manifest["stats"]["events"],
                     "database": db, "typical_events": manifest["typical_events"], "list_user": manifest["list_user"],
                     "pool_sessions": len(manifest["pools"]["ours"]), "seed_stats": manifest["stats"]}
    log(f"ADK: {manifest['stats']['sessions']} sessions, {manifest['stats']['events']} events; typical session "
        f"{manifest['typical_events']} events; the listed user has {manifest['list_user']['sessions']} sessions")
    servers = start_adk_servers(pg, db, workdir, args.nagle, args.service_dir)
    try:
        for sc in scenarios():
            if sc.family != "adk" or sc.name not in args.scenarios:
                continue
            plan_adk_paths(manifest, sc)
            log(f"scenario {sc.name}: {sc.note}")
            patched = None
            if sc.kind == "adk_patch":
                pools = manifest["pools"]
                patched = PatchedEvents(url, {"ours": pools["ours"], "adk": pools["reference"], "db": pools["db"]})
            try:
                row = measure_scenario(sc, servers, url, args, workdir, f"{run_tag}-{sc.name}", after_run=patched)
            except (RuntimeError, subprocess.SubprocessError, psycopg.Error) as exc:
                log(f"  {sc.name} failed: {exc}")
                row = {"scenario": sc.name, "what": sc.note, "kind": sc.kind, "family": "adk", "reference": "adk",
                       "error": str(exc)}
            if patched:
                # Events one run added per pooled session (deleted again after the run).
                row["events_added_per_session"] = {side: round(statistics.median(v), 1)
                                                   for side, v in patched.added.items() if v}
            row["ratio_target"], row["limit_target"] = sc.ratio_target, sc.limit_target
            report["rows"].append(row)
    finally:
        stop_servers(servers)
        if not args.keep:
            pg.drop(db)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="agno-bench-")
    cluster = None
    try:
        try:
            if args.database or args.pg:
                pg = Pg(args.database or args.pg)
            else:
                cluster = tempfile.mkdtemp(prefix="agno-bench-pg-")  # pgcluster makes it reachable for postgres
                pg = Pg(pgcluster.start(cluster))
                log(f"throwaway PostgreSQL cluster at {pg.base}")
            report = run(args, pg, workdir)
        except (RuntimeError, psycopg.Error, OSError, ImportError, pgcluster.ClusterError) as exc:
            log(f"the benchmark could not run: {exc}")
            return 2
        misses = judge(report, args.tolerance)
        report["misses"] = misses
        text = table(report, args.tolerance)
        report["table"] = text.splitlines()
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
        print()
        if report["scales"]:
            scale = report["scales"][0]
            print(f"this service vs agno 3.1.10 AgentOS: {scale.get('sessions')} sessions, {scale.get('runs')} runs")
        if report.get("adk"):
            adk = report["adk"]
            print(f"this service vs google-adk 2.13.0 api_server (second table, no targets): {adk['sessions']} ADK "
                  f"sessions, {adk['events']} events")
        print(f"{WORKERS} worker processes each; wrk -t{args.threads} -c{args.connections}, {args.rounds} x "
              f"{args.duration:g} s rounds (medians); targets x {args.tolerance:g}")
        print(text)
        print(f"\nreport: {os.path.relpath(args.report)}")
        if misses:
            print("\nmissed targets:")
            for m in misses:
                print(f"  - {m}")
            return 1
        print("every target met")
        return 0
    finally:
        if cluster:
            with contextlib.suppress(Exception):
                pgcluster.stop(cluster, mode="fast")
            shutil.rmtree(cluster, ignore_errors=True)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
