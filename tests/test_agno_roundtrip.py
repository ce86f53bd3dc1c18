"""Parity with real agno 3.1.10, both ways.

1. agno writes, we serve: real agno Agent / Team / Workflow objects (offline scripted model,
   tests/agno_seed.py) write into a fresh database; every read route of ours must answer what
   AgentOS's own session routes answer over the same rows (parsed JSON, nothing normalised; the
   only change to agno's rows is giving each session a distinct created_at, for list order).
2. We write, agno reads: sessions created, patched, renamed and deleted through our API must be
   readable by agno's `PostgresDb`, and the rows must equal the rows AgentOS writes for the same
   requests (JSON null vs SQL NULL included, contract §3.3/§3.4), except timestamps and ids.

The oracle (`AgentOSRoutes`) runs agno's route functions from `agno.os.routers.session` directly;
see tests/agno_seed.py for why and how.

Every test runs on PostgreSQL (agno's `PostgresDb`) and on a SQLite file (agno's `SqliteDb`,
the oracle then being AgentOS over that SqliteDb): the `backend` parameter of the fixtures.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
import uuid
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from tests.conftest import new_database
from sqlalchemy import bindparam, create_engine, text

from app import create_app
from app.config import DatabaseConfig, Settings
from tests.agno_seed import AgentOSRoutes, Agent, ScriptedModel, SessionSummary, SessionType, agno_db, seed_sessions

DB_ID = "db1"
SESSION_TYPES = ("agent", "team", "workflow")
JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
SCALAR_COLUMNS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
                  "created_at", "updated_at")

# The sessions seed_sessions() writes, in the order it writes them.
SEEDED = {
    "rt-agent-two-turns": "agent",
    "rt-agent-tool": "agent",
    "rt-agent-summary": "agent",
    "rt-agent-structured": "agent",
    "rt-agent-anon": "agent",
    "rt-team-delegate": "team",
    "rt-team-plain": "team",
    "rt-workflow-steps": "workflow",
    "rt-workflow-dict": "workflow",
}
BASE_TIME = 1_795_000_000
BACKENDS = ("postgresql", "sqlite")


# ---------------------------------------------------------------------------------------------
# Helpers


def url_string(url) -> str:
    return url.render_as_string(hide_password=False) if hasattr(url, "render_as_string") else str(url)


def build_app(url):
    settings = Settings(databases={DB_ID: DatabaseConfig(DB_ID, url_string(url))}, default_db_id=DB_ID)
    return create_app({"TESTING": True, "SETTINGS": settings})


def close_app(app):
    """Close the app's pooled connections (the registry's own dispose() leaves them open)."""
    registry = app.extensions["engines"]
    registry.engine(DB_ID).dispose()
    registry.dispose()


def path_of(template: str, **params) -> str:
    return template.format(**{k: quote(v, safe="") for k, v in params.items()})


def ours(client, method, template, query=None, body=None, **params):
    """(status, parsed body or None) from our service."""
    kwargs = {"query_string": query or {}}
    if body is not None:
        kwargs["json"] = body
    resp = client.open(path_of(template, **params), method=method, **kwargs)
    return resp.status_code, (json.loads(resp.data) if resp.data else None)


def both(env, method, template, query=None, body=None, **params):
    """Our answer and AgentOS's answer to the same request."""
    mine = ours(env.client, method, template, query, body, **params)
    theirs = env.oracle.request(method, template, query=query, body=body, **params)
    return mine, theirs


def assert_same_answer(env, method, template, query=None, **params):
    mine, theirs = both(env, method, template, query, **params)
    assert mine[0] == theirs[0], f"status of {method} {template} {query} {params}: {mine} vs {theirs}"
    assert mine[1] == theirs[1]
    return mine[1]


@contextlib.contextmanager
def backend_database(request, directory, name):
    """A fresh, empty database on the fixture's backend: its SQLAlchemy URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{directory / name}.db"
        return
    with new_database(request.getfixturevalue("pg_server"), name) as url:
        yield url


def table_name(engine, name: str) -> str:
    """agno's tables live in schema `ai` on PostgreSQL and in no schema on SQLite."""
    return name if engine.dialect.name == "sqlite" else f"ai.{name}"


# SQLite's json_type() names for PostgreSQL's jsonb_typeof() names.
SQLITE_JSON_TYPES = {"text": "string", "integer": "number", "real": "number", "true": "boolean", "false": "boolean"}


def row_snapshot(engine, session_id):
    """A session row with, for each JSON column, whether it is SQL NULL and its JSON type."""
    sqlite = engine.dialect.name == "sqlite"
    cols = list(SCALAR_COLUMNS)
    for c in JSON_COLUMNS:
        typeof = f'json_type("{c}")' if sqlite else f'jsonb_typeof("{c}")'
        cols += [f'"{c}"', f'"{c}" IS NULL AS "{c}:sql_null"', f'{typeof} AS "{c}:json_type"']
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {', '.join(cols)} FROM {table_name(engine, 'agno_sessions')} "
                                "WHERE session_id = :s"), {"s": session_id}).mappings().first()
    if row is None:
        return None
    row = dict(row)
    if sqlite:  # JSON text, 0/1 and SQLite's type names, as the PostgreSQL snapshot has them
        for c in JSON_COLUMNS:
            row[c] = json.loads(row[c]) if row[c] is not None else None
            row[f"{c}:sql_null"] = bool(row[f"{c}:sql_null"])
            row[f"{c}:json_type"] = SQLITE_JSON_TYPES.get(row[f"{c}:json_type"], row[f"{c}:json_type"])
    return row


def run_count(engine, session_id) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table_name(engine, 'agno_runs')} WHERE session_id = :s"),
                            {"s": session_id}).scalar_one()


def run_rows(engine, where="1 = 1", **params) -> list[dict]:
    """agno_runs rows (run_data decoded) in session and run order."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT session_id, run_type, agent_id, parent_run_id, run_data FROM "
                                 f"{table_name(engine, 'agno_runs')} WHERE {where} ORDER BY session_id, run_index"),
                            params).mappings().all()
    return [dict(r, run_data=json.loads(r["run_data"]) if isinstance(r["run_data"], str) else r["run_data"])
            for r in rows]


def replace_strings(value, mapping):
    """`value` with every occurrence of each mapping key (inside any string) replaced."""
    if isinstance(value, str):
        for old, new in mapping.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {replace_strings(k, mapping): replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_strings(v, mapping) for v in value]
    return value


def without_write_times(body: dict, keys=("created_at", "updated_at")) -> dict:
    """A create/PATCH answer with its write-time timestamps masked (they are 'now')."""
    out = dict(body)
    for key in keys:
        if key in out:
            assert isinstance(out[key], str) and out[key].endswith("Z"), out[key]
            out[key] = "<now>"
    return out


def comparable_row(row: dict, session_id: str, skip=()) -> dict:
    """A row without its id and timestamps (checked separately)."""
    skipped = {"created_at", "updated_at", *skip}
    return replace_strings({k: v for k, v in row.items() if k.split(":")[0] not in skipped},
                           {session_id: "<sid>"})


def pin_times(engine, *session_ids, created=BASE_TIME, updated=BASE_TIME + 50):
    """Give twin rows the same past timestamps, so answers that echo them are comparable and a
    write that bumps updated_at is visible."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table_name(engine, 'agno_sessions')} SET created_at = :c, updated_at = :u "
                          "WHERE session_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                     {"c": created, "u": updated, "ids": list(session_ids)})


# ---------------------------------------------------------------------------------------------
# 1. agno writes, we serve


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    with backend_database(request, tmp_path_factory.mktemp("seeded"), f"agno_rt_{uuid.uuid4().hex[:12]}") as url:
        db = agno_db(url_string(url))
        engine = create_engine(url)
        app = build_app(url)
        try:
            created = seed_sessions(db)["sessions"]
            assert created == SEEDED
            # agno stamps sessions with int(time.time()), so the seed's sessions share one or two
            # seconds, and AgentOS breaks ties in no particular order. Give each session its own
            # created_at/updated_at (the only change made to agno's rows) so list order is
            # comparable; tie-breaking itself is covered by test_list_ties_are_broken_by_session_id.
            with engine.begin() as conn:
                for i, sid in enumerate(SEEDED):
                    conn.execute(text(f"UPDATE {table_name(engine, 'agno_sessions')} SET created_at = :c, "
                                      "updated_at = :u WHERE session_id = :s"),
                                 {"c": BASE_TIME + 100 * i, "u": BASE_TIME + 100 * i + 7 * (i % 3), "s": sid})
            with engine.connect() as conn:
                runs = {}
                for sid, rid in conn.execute(text(f"SELECT session_id, run_id FROM {table_name(engine, 'agno_runs')} "
                                                  "ORDER BY session_id, run_index")):
                    runs.setdefault(sid, []).append(rid)
            yield SimpleNamespace(db=db, engine=engine, oracle=AgentOSRoutes(db, DB_ID), client=app.test_client(),
                                  runs=runs)
        finally:
            close_app(app)
            db.close()
            engine.dispose()


def test_seed_wrote_what_the_scenarios_need(seeded):
    """Guards the premises of the parity tests below (so that they compare something)."""
    runs = seeded.runs
    assert {sid: len(r) for sid, r in runs.items()} == {
        "rt-agent-two-turns": 2, "rt-agent-tool": 1, "rt-agent-summary": 1, "rt-agent-structured": 1,
        "rt-agent-anon": 1, "rt-team-delegate": 2, "rt-team-plain": 2, "rt-workflow-steps": 1,
        "rt-workflow-dict": 1}
    rows = run_rows(seeded.engine)
    member = [(r["run_type"], r["agent_id"], r["parent_run_id"]) for r in rows if r["session_id"] == "rt-team-delegate"]
    tool_run = next(r["run_data"] for r in rows if r["session_id"] == "rt-agent-tool")
    with_events = [r["session_id"] for r in rows if r["parent_run_id"] is None and r["run_data"].get("events")]
    step_runs = next(r["run_data"]["step_executor_runs"] for r in rows if r["session_id"] == "rt-workflow-steps")
    with seeded.engine.connect() as conn:
        users = conn.execute(text(f"SELECT DISTINCT user_id FROM {table_name(seeded.engine, 'agno_sessions')}")
                             ).scalars().all()
    assert member[0][:2] == ("agent", "rt-member") and member[0][2] == runs["rt-team-delegate"][1]
    assert [t["tool_name"] for t in tool_run["tools"]] == ["lookup_capital"]
    assert any(m["role"] == "tool" for m in tool_run["messages"])
    assert sorted(with_events) == ["rt-agent-tool", "rt-team-delegate", "rt-workflow-steps"]
    assert [r["agent_id"] for r in step_runs] == ["rt-step-agent"]
    assert sorted(users, key=str) == sorted(["u1", "u2", "u3", None], key=str)


LIST_QUERIES = [
    {},
    {"type": "agent"},
    {"type": "team"},
    {"type": "workflow"},
    {"user_id": "u1"},
    {"user_id": "u2", "type": "agent"},
    {"user_id": ""},
    {"component_id": "rt-agent"},
    {"component_id": "rt-team", "type": "agent"},
    {"component_id": "rt-workflow", "type": "workflow"},
    {"session_name": "COLOUR"},
    {"session_name": "Hi there"},  # a derived name: never matched (contract §2.2)
    {"session_name": "%"},
    {"sort_by": "updated_at", "sort_order": "asc"},
    {"sort_by": "session_id", "sort_order": "asc"},
    {"sort_by": "created_at", "sort_order": "desc", "limit": "4", "page": "2"},
    {"limit": "4", "page": "3"},
    {"limit": "4", "page": "9"},
    {"limit": "1"},
]


@pytest.mark.parametrize("query", LIST_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "default")
def test_list_matches_agentos(seeded, query):
    body = assert_same_answer(seeded, "GET", "/sessions", query)
    assert body["meta"]["total_count"] >= len(body["data"])


def test_list_default_page_holds_every_seeded_session(seeded):
    body = assert_same_answer(seeded, "GET", "/sessions", {"limit": "50"})
    # newest first; every session's name, state and metrics are derived, not just copied
    assert [s["session_id"] for s in body["data"]] == list(reversed(SEEDED))
    names = {s["session_id"]: s["session_name"] for s in body["data"]}
    assert names["rt-team-delegate"] == "What is the answer?"
    # JSONB orders object keys (shortest first); SQLite keeps the JSON text agno wrote
    dogs = '{"topic": "dogs", "depth": 2}' if seeded.engine.dialect.name == "sqlite" else '{"depth": 2, "topic": "dogs"}'
    assert names["rt-workflow-dict"] == dogs
    assert names["rt-agent-summary"] == "Colour talk"


def test_list_ties_are_broken_by_session_id(seeded):
    """Documented difference (docs/compatibility.md #14, contract §5.11): AgentOS has no
    tie-breaker, so equal sort keys come back in any order; we order them by session_id."""
    query = {"sort_by": "user_id", "sort_order": "asc", "limit": "50"}
    mine, theirs = both(seeded, "GET", "/sessions", query)
    assert mine[0] == theirs[0] == 200
    assert mine[1]["meta"] == theirs[1]["meta"]
    by_id = lambda items: sorted(items, key=lambda s: s["session_id"])  # noqa: E731
    assert by_id(mine[1]["data"]) == by_id(theirs[1]["data"])
    # NULLs sort last ascending on PostgreSQL, first on SQLite (each as its AgentOS does)
    nulls_first = seeded.engine.dialect.name == "sqlite"
    keys = [((s.get("user_id") is None) != nulls_first, s.get("user_id") or "", s["session_id"])
            for s in mine[1]["data"]]
    assert keys == sorted(keys)


@pytest.mark.parametrize("session_id", SEEDED)
def test_detail_matches_agentos(seeded, session_id):
    body = assert_same_answer(seeded, "GET", "/sessions/{session_id}", session_id=session_id)
    assert body["session_id"] == session_id
    own_type = SEEDED[session_id]
    typed = assert_same_answer(seeded, "GET", "/sessions/{session_id}", {"type": own_type}, session_id=session_id)
    assert typed == body
    if own_type != "workflow":
        assert body["chat_history"], "agno-written chat history must not be empty"


@pytest.mark.parametrize("session_id", SEEDED)
@pytest.mark.parametrize("as_type", SESSION_TYPES)
def test_detail_rendered_as_another_type_matches_agentos(seeded, session_id, as_type):
    # A `type` that does not match the row re-renders it (contract §2.4, §5.8): visible
    # behaviour that clients can rely on, so it is matched.
    assert_same_answer(seeded, "GET", "/sessions/{session_id}", {"type": as_type}, session_id=session_id)


@pytest.mark.parametrize("session_id", SEEDED)
@pytest.mark.parametrize("route", ["/sessions/{session_id}/runs", "/sessions/{session_id}/run-previews"])
def test_runs_and_previews_match_agentos(seeded, session_id, route):
    body = assert_same_answer(seeded, "GET", route, session_id=session_id)
    assert [r["run_id"] for r in body] == seeded.runs[session_id]
    for query in ({"type": t} for t in SESSION_TYPES):
        assert_same_answer(seeded, "GET", route, query, session_id=session_id)
    assert_same_answer(seeded, "GET", route, {"status": "completed"}, session_id=session_id)
    assert_same_answer(seeded, "GET", route, {"status": "error"}, session_id=session_id)


@pytest.mark.parametrize("session_id", SEEDED)
def test_runs_time_window_matches_agentos(seeded, session_id):
    runs = seeded.db.get_session(session_id=session_id, deserialize=False)["runs"]
    first = min(r["created_at"] for r in runs)
    for query in ({"created_after": str(first)}, {"created_after": str(first + 3600)},
                  {"created_before": str(first - 1)}, {"created_before": str(first)}):
        assert_same_answer(seeded, "GET", "/sessions/{session_id}/runs", query, session_id=session_id)


@pytest.mark.parametrize("session_id", SEEDED)
def test_single_run_matches_agentos(seeded, session_id):
    for run_id in seeded.runs[session_id]:
        body = assert_same_answer(seeded, "GET", "/sessions/{session_id}/runs/{run_id}", session_id=session_id,
                                  run_id=run_id)
        assert body["run_id"] == run_id
        assert None in body.values(), "the single-run route emits null fields"
    assert_same_answer(seeded, "GET", "/sessions/{session_id}/runs/{run_id}", session_id=session_id,
                       run_id="no-such-run")


@pytest.mark.parametrize("query", [{}, {"user_id": "u1"}, {"user_id": "u2"}, {"type": "team"}])
def test_user_filter_and_not_found_match_agentos(seeded, query):
    for template in ("/sessions/{session_id}", "/sessions/{session_id}/runs",
                     "/sessions/{session_id}/run-previews"):
        for sid in ("rt-agent-two-turns", "rt-agent-anon", "rt-workflow-steps", "missing-session"):
            assert_same_answer(seeded, "GET", template, query, session_id=sid)


# ---------------------------------------------------------------------------------------------
# 2. We write, agno reads


@pytest.fixture(params=BACKENDS)
def twin(request, tmp_path):
    """Our app and AgentOS's routes over the same fresh database, plus agno's PostgresDb or SqliteDb."""
    with backend_database(request, tmp_path, f"agno_svc_{uuid.uuid4().hex[:12]}") as url:
        app = build_app(url)
        db = agno_db(url_string(url))
        engine = create_engine(url)
        try:
            yield SimpleNamespace(client=app.test_client(), oracle=AgentOSRoutes(db, DB_ID), db=db, engine=engine,
                                  sqlite=request.param == "sqlite")
        finally:
            close_app(app)
            db.close()
            engine.dispose()


def create_twins(env, session_type, body, name):
    """POST the same create request to us (id `ours-<name>`) and to AgentOS (`agno-<name>`);
    returns (our id, agno id, our answer, AgentOS's answer)."""
    query = {"type": session_type}
    mine = ours(env.client, "POST", "/sessions", query, dict(body, session_id=f"ours-{name}"))
    theirs = env.oracle.request("POST", "/sessions", query=query, body=dict(body, session_id=f"agno-{name}"))
    assert mine[0] == theirs[0] == 201, (mine, theirs)
    return mine[1]["session_id"], theirs[1]["session_id"], mine[1], theirs[1]


def assert_rows_equal(env, our_id, agno_id, skip=(), context=None):
    mine, theirs = row_snapshot(env.engine, our_id), row_snapshot(env.engine, agno_id)
    assert mine is not None and theirs is not None
    assert comparable_row(mine, our_id, skip) == comparable_row(theirs, agno_id, skip), context
    return mine, theirs


def list_items(env, our_id, agno_id):
    """Our list item for our twin and AgentOS's list item for its twin, ids and times masked."""
    query = {"sort_by": "session_id", "limit": "100"}
    mine = ours(env.client, "GET", "/sessions", query)[1]["data"]
    theirs = env.oracle.request("GET", "/sessions", query=query)[1]["data"]
    mine_item = next(s for s in mine if s["session_id"] == our_id)
    agno_item = next(s for s in theirs if s["session_id"] == agno_id)
    return (replace_strings(without_write_times(mine_item), {our_id: "<sid>"}),
            replace_strings(without_write_times(agno_item), {agno_id: "<sid>"}))


def assert_agno_reads_same(env, our_id, agno_id, session_type):
    """agno's own reader sees our row exactly as it sees the row AgentOS wrote."""
    stype = SessionType(session_type)
    mine = env.db.get_session(session_id=our_id, session_type=stype)
    theirs = env.db.get_session(session_id=agno_id, session_type=stype)
    assert type(mine) is type(theirs)
    a = replace_strings(mine.to_dict(), {our_id: "<sid>"})
    b = replace_strings(theirs.to_dict(), {agno_id: "<sid>"})
    for d in (a, b):
        d.pop("created_at", None)
        d.pop("updated_at", None)
    assert a == b
    return mine


CREATE_CASES = {
    "agent-bare": ("agent", {}),
    "agent-full": ("agent", {"session_name": "Trip planning", "session_state": {"step": 1, "tags": ["x"]},
                             "metadata": {"z": 1, "a": {"nested": None}, "agno_dispatch_depth": 3},
                             "user_id": "u1", "agent_id": "rt-agent", "team_id": "ignored-for-agents"}),
    "agent-reserved-metadata-only": ("agent", {"metadata": {"agno_component_version": "1.2",
                                                            "agno_dispatch_chain": ["a"]}, "user_id": "u2"}),
    "agent-state-only": ("agent", {"session_state": {}, "agent_id": "rt-agent"}),
    "team-bare": ("team", {}),
    "team-full": ("team", {"session_name": "Team chat", "session_state": {"k": "v"}, "metadata": {"m": True},
                           "user_id": "u3", "team_id": "rt-team", "agent_id": "ignored"}),
    "workflow-bare": ("workflow", {}),
    "workflow-full": ("workflow", {"session_name": "Pipeline", "session_state": {"n": 0}, "metadata": {"run": "x"},
                                   "user_id": "u1", "workflow_id": "rt-workflow"}),
    "workflow-name-only": ("workflow", {"session_name": "", "workflow_id": "rt-workflow"}),
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_create_writes_the_row_agentos_writes(twin, case):
    session_type, body = CREATE_CASES[case]
    before = int(time.time())
    our_id, agno_id, mine, theirs = create_twins(twin, session_type, body, case)
    after = int(time.time())
    assert replace_strings(without_write_times(mine), {our_id: "<sid>"}) == \
        replace_strings(without_write_times(theirs), {agno_id: "<sid>"})
    our_row, agno_row = assert_rows_equal(twin, our_id, agno_id)
    for row in (our_row, agno_row):
        assert before <= row["created_at"] == row["updated_at"] <= after
    # the JSON null / SQL NULL split of contract §3.3, spelled out for the type's own columns
    own = {"agent": "agent_data", "team": "team_data", "workflow": "workflow_data"}[session_type]
    for column in JSON_COLUMNS:
        if column in ("session_data", "metadata", "summary", own):
            assert our_row[f"{column}:sql_null"] is False, column
        else:
            assert our_row[f"{column}:sql_null"] is True, column
    session = assert_agno_reads_same(twin, our_id, agno_id, session_type)
    assert session.user_id == body.get("user_id")
    assert session.session_id == our_id
    data = session.session_data or {}
    assert data.get("session_name") == body.get("session_name")
    assert data.get("session_state") == body.get("session_state")


def test_create_without_body_writes_the_row_agentos_writes(twin):
    mine = ours(twin.client, "POST", "/sessions")
    theirs = twin.oracle.request("POST", "/sessions", body={})
    assert mine[0] == theirs[0] == 201
    our_id, agno_id = mine[1]["session_id"], theirs[1]["session_id"]
    assert uuid.UUID(our_id) and our_id != agno_id
    assert replace_strings(without_write_times(mine[1]), {our_id: "<sid>"}) == \
        replace_strings(without_write_times(theirs[1]), {agno_id: "<sid>"})
    assert_rows_equal(twin, our_id, agno_id)
    assert_agno_reads_same(twin, our_id, agno_id, "agent")


def test_create_conflict_matches_agentos(twin):
    create_twins(twin, "agent", {"user_id": "u1"}, "dup")
    for session_type in SESSION_TYPES:
        # agno's 409 probes the id whatever its type or owner
        for prefix in ("ours", "agno"):
            sid = f"{prefix}-dup"
            mine = ours(twin.client, "POST", "/sessions", {"type": session_type}, {"session_id": sid, "user_id": "u9"})
            theirs = twin.oracle.request("POST", "/sessions", query={"type": session_type},
                                         body={"session_id": sid, "user_id": "u9"})
            assert mine == theirs
            assert mine[0] == 409


def test_agno_lists_sessions_we_created(twin):
    for name, (session_type, body) in CREATE_CASES.items():
        create_twins(twin, session_type, body, name)
    for session_type in SESSION_TYPES:
        for user_id in (None, "u1", "u3"):
            listed = twin.db.get_sessions(session_type=SessionType(session_type), user_id=user_id)
            ids = {s.session_id for s in listed}
            ours_ids = {i[len("ours-"):] for i in ids if i.startswith("ours-")}
            agno_ids = {i[len("agno-"):] for i in ids if i.startswith("agno-")}
            assert ours_ids == agno_ids
            assert ours_ids or user_id is not None
    # and both list routes agree over the mixed rows
    env = SimpleNamespace(client=twin.client, oracle=twin.oracle)
    for query in ({"sort_by": "session_id", "sort_order": "asc", "limit": "50"},
                  {"sort_by": "session_id", "type": "workflow"}, {"user_id": "u1", "sort_by": "session_id"},
                  {"session_name": "trip", "sort_by": "session_id"}):
        assert_same_answer(env, "GET", "/sessions", query)


PATCHES = [
    {"session_name": "Patched name"},
    {"session_state": {"a": 1, "b": [1, 2]}},
    {"metadata": {"z": 1, "a": {"nested": None}, "agno_component_version": "9", "agno_dispatch_chain": ["x"]}},
    {"summary": {"summary": "They talked.", "topics": ["t1"], "updated_at": "2026-01-02T03:04:05Z"}},
    {"summary": {"summary": "Shorter.", "topics": [], "updated_at": "2026-01-02 03:04"}},
    {},
    {"metadata": {"agno_dispatch_depth": 1}},  # only reserved keys: metadata becomes JSON null (workflows too)
    {"session_name": "All at once", "session_state": {"done": True}, "metadata": {"k": "v"},
     "summary": {"summary": "Done."}},
    {"session_name": None, "session_state": None, "metadata": None, "summary": None},  # null means "not given"
]


@pytest.mark.parametrize("start", ["agent-bare", "agent-full", "team-bare", "team-full", "workflow-bare",
                                   "workflow-full"])
def test_patch_sequence_matches_agentos(twin, start):
    session_type, body = CREATE_CASES[start]
    our_id, agno_id, _, _ = create_twins(twin, session_type, body, start)
    workflow_summary = None
    for original in PATCHES:
        # agno turns summary.updated_at into a datetime inside the dict it is given: every use
        # gets a fresh copy, so no case sees another's leftovers.
        patch = copy.deepcopy(original)
        pin_times(twin.engine, our_id, agno_id)
        before = int(time.time())
        mine = ours(twin.client, "PATCH", "/sessions/{session_id}", body=patch, session_id=our_id)
        theirs = twin.oracle.request("PATCH", "/sessions/{session_id}", body=copy.deepcopy(original),
                                     session_id=agno_id)
        assert mine[0] == theirs[0] == 200, (patch, mine, theirs)
        assert replace_strings(without_write_times(mine[1], ["updated_at"]), {our_id: "<sid>"}) == \
            replace_strings(without_write_times(theirs[1], ["updated_at"]), {agno_id: "<sid>"}), patch
        skip = ()
        if session_type == "workflow":
            # Documented difference (docs/compatibility.md #15, contract §5.17): AgentOS answers
            # 200 to a workflow `summary` and silently drops it; we store it, normalised as agno's
            # SessionSummary normalises agent summaries. Workflow answers have no summary field,
            # so only the row (and the list's raw session_summary) differ.
            skip = ("summary",)
            if patch.get("summary"):
                workflow_summary = SessionSummary.from_dict(copy.deepcopy(original["summary"])).to_dict()
        our_row, agno_row = assert_rows_equal(twin, our_id, agno_id, skip, context=patch)
        if session_type == "workflow":
            assert agno_row["summary:json_type"] == "null"
            assert our_row["summary"] == workflow_summary
            assert our_row["summary:json_type"] == ("object" if workflow_summary else "null")
        assert our_row["created_at"] == BASE_TIME
        assert our_row["updated_at"] >= before, "PATCH bumps updated_at"
        assert_agno_reads_same(twin, our_id, agno_id, session_type)
        # the list shows stored columns as they are, so row differences become visible there
        mine_item, agno_item = list_items(twin, our_id, agno_id)
        if session_type == "workflow":
            mine_item.pop("session_summary", None)  # docs/compatibility.md #15, see above
        assert mine_item == agno_item, patch

    session = twin.db.get_session(session_id=our_id, session_type=SessionType(session_type))
    assert session.session_data["session_name"] == "All at once"
    assert session.session_data["session_state"] == {"done": True}
    assert session.metadata == {"k": "v"}
    if session_type != "workflow":
        assert session.summary.summary == "Done."


@pytest.mark.parametrize("session_type", ["agent", "team"])
def test_a_null_summary_text_leaves_the_row_readable_by_agno(twin, session_type):
    """agno's SessionSummary drops null values when it writes, a null `summary` too, and then
    cannot load the row (the key is required: AgentOS's detail answers 500, contract §5). A later
    PATCH of another field rewrites the summary as agno would, but keeps that key (found by
    tests/reliability/test_fuzz.py)."""
    our_id, _, _, _ = create_twins(twin, session_type, {"user_id": "u1"}, f"null-summary-{session_type}")
    for patch in ({"summary": {"summary": None, "topics": ["t1"]}}, {"session_name": "Later"}):
        assert ours(twin.client, "PATCH", "/sessions/{session_id}", body=patch, session_id=our_id)[0] == 200
        session = twin.db.get_session(session_id=our_id, session_type=SessionType(session_type))
        assert session.summary.summary is None and session.summary.topics == ["t1"]
    assert row_snapshot(twin.engine, our_id)["summary"] == {"summary": None, "topics": ["t1"]}
    body = ours(twin.client, "GET", "/sessions/{session_id}", session_id=our_id)[1]
    assert body["session_summary"] == {"topics": ["t1"]} and body["session_name"] == "Later"


@pytest.mark.parametrize("session_type", SESSION_TYPES)
def test_patch_with_another_type_keeps_the_row_type(twin, session_type):
    """Documented difference (docs/compatibility.md #9, contract §5.8): AgentOS writes the
    requested type's columns into the row; we write the row's own columns only."""
    our_id, agno_id, _, _ = create_twins(twin, session_type, {"user_id": "u1", "session_name": "n"}, "typed")
    before_ours = row_snapshot(twin.engine, our_id)
    other = "workflow" if session_type != "workflow" else "agent"
    mine = ours(twin.client, "PATCH", "/sessions/{session_id}", {"type": other}, {"session_state": {"s": 1}},
                session_id=our_id)
    theirs = twin.oracle.request("PATCH", "/sessions/{session_id}", query={"type": other},
                                 body={"session_state": {"s": 1}}, session_id=agno_id)
    assert mine[0] == theirs[0] == 200
    # The answer uses the row's real type on both sides (contract §2.9 step 4). It echoes the
    # written row, so it differs exactly where the rows differ: AgentOS decoded an agent or team
    # row as a workflow and wrote `metadata: {}` (null before); we left it null.
    if session_type != "workflow":
        assert (mine[1]["metadata"], theirs[1]["metadata"]) == (None, {})
        mine[1].pop("metadata"), theirs[1].pop("metadata")
    assert replace_strings(without_write_times(mine[1]), {our_id: "<sid>"}) == \
        replace_strings(without_write_times(theirs[1]), {agno_id: "<sid>"})
    after_ours, after_agno = row_snapshot(twin.engine, our_id), row_snapshot(twin.engine, agno_id)
    own = f"{session_type}_data"
    foreign = f"{other}_data"
    assert after_agno[f"{foreign}:sql_null"] is False  # AgentOS wrote the other type's column
    assert after_ours[f"{foreign}:sql_null"] is True  # we did not
    assert after_ours[own] == before_ours[own] and after_ours[f"{own}:json_type"] == before_ours[f"{own}:json_type"]
    assert after_ours["session_data"] == {"session_name": "n", "session_state": {"s": 1}}
    assert_agno_reads_same(twin, our_id, our_id, session_type)
    session = twin.db.get_session(session_id=our_id, session_type=SessionType(session_type))
    assert session.session_data["session_state"] == {"s": 1}


@pytest.mark.parametrize("start", ["agent-full", "team-full", "workflow-full", "workflow-bare", "agent-state-only"])
def test_rename_matches_agentos(twin, start):
    session_type, body = CREATE_CASES[start]
    our_id, agno_id, _, _ = create_twins(twin, session_type, body, start)
    pin_times(twin.engine, our_id, agno_id)
    for name in ("Renamed", "", "Grüße 🙂"):
        before = int(time.time())
        mine = ours(twin.client, "POST", "/sessions/{session_id}/rename", body={"session_name": name},
                    session_id=our_id)
        theirs = twin.oracle.request("POST", "/sessions/{session_id}/rename", body={"session_name": name},
                                     session_id=agno_id)
        assert mine[0] == theirs[0] == 200, (mine, theirs)
        if twin.sqlite:
            # SqliteDb renames by upserting the whole session, which stamps updated_at (PostgresDb
            # sets the name in place); we follow each.
            mine, theirs = [(m[0], without_write_times(m[1], ["updated_at"])) for m in (mine, theirs)]
        assert replace_strings(mine[1], {our_id: "<sid>"}) == replace_strings(theirs[1], {agno_id: "<sid>"})
        our_row, _ = assert_rows_equal(twin, our_id, agno_id)
        if twin.sqlite:
            assert our_row["created_at"] == BASE_TIME and our_row["updated_at"] >= before
            pin_times(twin.engine, our_id, agno_id)
        else:
            assert (our_row["created_at"], our_row["updated_at"]) == (BASE_TIME, BASE_TIME + 50), \
                "rename does not touch updated_at"
        session = assert_agno_reads_same(twin, our_id, agno_id, session_type)
        assert session.session_data["session_name"] == name
    # a type that does not match the row is a SQL filter on rename: 404 on both sides
    other = "team" if session_type != "team" else "agent"
    mine = ours(twin.client, "POST", "/sessions/{session_id}/rename", {"type": other}, {"session_name": "x"},
                session_id=our_id)
    theirs = twin.oracle.request("POST", "/sessions/{session_id}/rename", query={"type": other},
                                 body={"session_name": "x"}, session_id=agno_id)
    if twin.sqlite:
        # Documented difference (docs/compatibility.md): SqliteDb reads the row whatever its type,
        # then upserts it as the requested type, writing that type's columns into the row.
        assert (mine[0], theirs[0]) == (404, 200)
        assert row_snapshot(twin.engine, agno_id)[f"{other}_data:sql_null"] is False
        assert row_snapshot(twin.engine, our_id)[f"{other}_data:sql_null"] is True
        return
    assert mine[0] == theirs[0] == 404
    assert replace_strings(mine[1], {our_id: "<sid>"}) == replace_strings(theirs[1], {agno_id: "<sid>"})


@pytest.mark.parametrize("session_type", ["agent", "team"])
def test_rename_of_session_without_session_data(twin, session_type):
    """agno on PostgreSQL 500s here (JSON-null session_data, contract §5.5); we store the name
    (documented fix). agno on SQLite renames through a whole-session upsert, which works."""
    our_id, agno_id, _, _ = create_twins(twin, session_type, {"user_id": "u5"}, f"{session_type}-nodata")
    rename = {"session_name": "Named later"}
    theirs = twin.oracle.request("POST", "/sessions/{session_id}/rename", body=rename, session_id=agno_id)
    if not twin.sqlite:
        assert theirs == (500, {"detail": "Internal server error (DataError)"})  # the agno bug, still there
    renamed = ours(twin.client, "POST", "/sessions/{session_id}/rename", body=rename, session_id=our_id)
    assert renamed[0] == 200
    assert renamed[1]["session_name"] == "Named later"
    # Our answer and row are what AgentOS produces when it can name such a session (by PATCH,
    # which also answers with nulls emitted; its updated_at bump is the only expected change).
    patched = theirs if twin.sqlite else twin.oracle.request("PATCH", "/sessions/{session_id}", body=rename,
                                                             session_id=agno_id)
    assert patched[0] == 200
    assert replace_strings(without_write_times(renamed[1]), {our_id: "<sid>"}) == \
        replace_strings(without_write_times(patched[1]), {agno_id: "<sid>"})
    pin_times(twin.engine, agno_id, created=BASE_TIME, updated=BASE_TIME)
    pin_times(twin.engine, our_id, created=BASE_TIME, updated=BASE_TIME)
    mine = ours(twin.client, "GET", "/sessions/{session_id}", session_id=our_id)
    assert mine[0] == 200
    expected = twin.oracle.request("GET", "/sessions/{session_id}", session_id=agno_id)[1]
    assert replace_strings(mine[1], {our_id: "<sid>"}) == replace_strings(expected, {agno_id: "<sid>"})
    session = twin.db.get_session(session_id=our_id, session_type=SessionType(session_type))
    assert session.session_data == {"session_name": "Named later"}
    assert session.user_id == "u5"
    assert_rows_equal(twin, our_id, agno_id)


def test_agno_continues_a_session_we_created_and_we_serve_it(twin):
    """An agent run on a session created through our API: agno reads our row (state, name,
    metadata), appends its run, and ends with the row it ends with for a session AgentOS created.
    Our read routes then match AgentOS over the result."""
    body = {"session_name": "Started by the service", "user_id": "u7", "agent_id": "rt-agent",
            "session_state": {"counter": 5}, "metadata": {"origin": "api"}}
    our_id, agno_id, _, _ = create_twins(twin, "agent", body, "continued")
    outputs = {}
    for sid in (our_id, agno_id):
        agent = Agent(id="rt-agent", name="Roundtrip Agent", db=twin.db, telemetry=False,
                      model=ScriptedModel(script=["Counter noted."]))
        outputs[sid] = agent.run("What is my counter?", session_id=sid, user_id="u7")
        assert outputs[sid].content == "Counter noted."
        assert agent.get_session_state(session_id=sid)["counter"] == 5
    session = twin.db.get_session(session_id=our_id, session_type=SessionType.AGENT)
    assert session.session_data["session_name"] == "Started by the service"
    assert session.session_data["session_state"]["counter"] == 5
    assert session.metadata == {"origin": "api"}
    assert [r.run_id for r in session.runs] == [outputs[our_id].run_id]
    pin_times(twin.engine, our_id, agno_id)
    assert_rows_equal(twin, our_id, agno_id)

    env = SimpleNamespace(client=twin.client, oracle=twin.oracle)
    detail = assert_same_answer(env, "GET", "/sessions/{session_id}", session_id=our_id)
    assert [m["content"] for m in detail["chat_history"]] == ["What is my counter?", "Counter noted."]
    assert_same_answer(env, "GET", "/sessions/{session_id}/runs", session_id=our_id)
    assert_same_answer(env, "GET", "/sessions/{session_id}/run-previews", session_id=our_id)
    assert_same_answer(env, "GET", "/sessions/{session_id}/runs/{run_id}", session_id=our_id,
                       run_id=outputs[our_id].run_id)
    assert_same_answer(env, "GET", "/sessions", {"user_id": "u7", "sort_by": "session_id"})

    # a PATCH through our API keeps everything agno wrote, as AgentOS's PATCH does
    patch = {"session_state": {"counter": 6}}
    mine = ours(twin.client, "PATCH", "/sessions/{session_id}", body=patch, session_id=our_id)
    theirs = twin.oracle.request("PATCH", "/sessions/{session_id}", body=patch, session_id=agno_id)
    assert mine[0] == theirs[0] == 200
    # (the answers' chat_history differs only by the message ids of the two agent runs)
    assert len(mine[1]["chat_history"]) == len(theirs[1]["chat_history"]) == 2
    for answer in (mine[1], theirs[1]):
        answer.pop("chat_history")
    assert replace_strings(without_write_times(mine[1], ["updated_at"]), {our_id: "<sid>"}) == \
        replace_strings(without_write_times(theirs[1], ["updated_at"]), {agno_id: "<sid>"})
    pin_times(twin.engine, our_id, agno_id)
    assert_rows_equal(twin, our_id, agno_id)
    again = twin.db.get_session(session_id=our_id, session_type=SessionType.AGENT)
    assert again.session_data["session_state"] == {"counter": 6}
    assert again.session_data["session_metrics"] == session.session_data["session_metrics"]
    assert [r.run_id for r in again.runs] == [outputs[our_id].run_id]


def test_delete_matches_agentos(twin):
    our_id, agno_id, _, _ = create_twins(twin, "agent", {"user_id": "u1", "agent_id": "rt-agent"}, "doomed")
    keep_id, _, _, _ = create_twins(twin, "team", {"user_id": "u1"}, "kept")
    for sid in (our_id, agno_id):
        Agent(id="rt-agent", name="Roundtrip Agent", db=twin.db, telemetry=False,
              model=ScriptedModel(script=["bye"])).run("delete me", session_id=sid, user_id="u1")
        assert run_count(twin.engine, sid) == 1
    # wrong owner: a silent no-op 204 on both sides (contract §2.10)
    assert ours(twin.client, "DELETE", "/sessions/{session_id}", {"user_id": "u2"}, session_id=our_id)[0] == 204
    assert twin.oracle.request("DELETE", "/sessions/{session_id}", query={"user_id": "u2"},
                               session_id=agno_id)[0] == 204
    assert row_snapshot(twin.engine, our_id) is not None and row_snapshot(twin.engine, agno_id) is not None

    assert ours(twin.client, "DELETE", "/sessions/{session_id}", session_id=our_id) == (204, None)
    assert twin.oracle.request("DELETE", "/sessions/{session_id}", session_id=agno_id) == (204, None)
    for sid in (our_id, agno_id):
        assert row_snapshot(twin.engine, sid) is None
        assert run_count(twin.engine, sid) == 0
        assert twin.db.get_session(session_id=sid, session_type=SessionType.AGENT) is None
    assert twin.db.get_session(session_id=keep_id, session_type=SessionType.TEAM) is not None
    # deleting again, or an id that never existed: 204 on both sides
    assert ours(twin.client, "DELETE", "/sessions/{session_id}", session_id=our_id) == (204, None)
    assert twin.oracle.request("DELETE", "/sessions/{session_id}", session_id="never-was") == (204, None)


def test_tables_we_create_are_the_tables_agno_creates(twin):
    """Our first write into an empty database creates agno's tables; agno's DDL, in another schema
    of the same database, must match column for column, index for index."""
    if twin.sqlite:
        pytest.skip("PostgreSQL schemas; tests/test_sqlite.py compares the SQLite DDL")
    assert ours(twin.client, "POST", "/sessions", {"type": "agent"}, {"session_id": "first"})[0] == 201
    reference = agno_db(url_string(twin.engine.url), db_schema="agno_ref")
    try:  # agno creates its tables lazily, on its first session and run writes
        Agent(id="rt-agent", db=reference, telemetry=False, model=ScriptedModel()).run("hi", session_id="first")
    finally:
        reference.close()

    def describe(schema):
        with twin.engine.connect() as conn:
            columns = conn.execute(text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default, ordinal_position "
                "FROM information_schema.columns WHERE table_schema = :s ORDER BY table_name, ordinal_position"),
                {"s": schema}).all()
            indexes = conn.execute(text(
                "SELECT tablename, indexname, replace(indexdef, :s || '.', 'S.') FROM pg_indexes "
                "WHERE schemaname = :s ORDER BY tablename, indexname"), {"s": schema}).all()
            constraints = conn.execute(text(
                "SELECT rel.relname, con.conname, con.contype, replace(pg_get_constraintdef(con.oid), :s || '.', 'S.') "
                "FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid "
                "JOIN pg_namespace n ON n.oid = rel.relnamespace WHERE n.nspname = :s ORDER BY 1, 2"),
                {"s": schema}).all()
            versions = conn.execute(text(
                "SELECT table_name, version, updated_at IS DISTINCT FROM created_at, created_at "
                f'FROM "{schema}".agno_schema_versions ORDER BY table_name'), {}).all()
        return columns, indexes, constraints, versions

    ours_ddl, agno_ddl = describe("ai"), describe("agno_ref")
    tables_of = {t for t, *_ in agno_ddl[0]}
    assert {"agno_sessions", "agno_runs", "agno_schema_versions"} <= tables_of
    for mine, theirs in zip(ours_ddl[:3], agno_ddl[:3], strict=True):
        assert [tuple(r) for r in mine] == [tuple(r) for r in theirs]
    # agno records one version row per table it created (not one for agno_schema_versions
    # itself), with updated_at equal to created_at (contract §3.2, sql/00_startup.sql)
    assert [tuple(r[:3]) for r in ours_ddl[3]] == [tuple(r[:3]) for r in agno_ddl[3]] == [
        ("agno_runs", "3.0.0", False), ("agno_sessions", "3.0.0", False)]
    for row in ours_ddl[3]:  # ISO-8601 local naive timestamps, as agno writes them (contract §3.1)
        assert "T" in row[3] and not row[3].endswith("Z") and "+" not in row[3]
