"""tools/bench/seed.py: the benchmark database is agno's own layout, at the scale asked for.

One small scale (30 sessions, 420 runs, two small "big" sessions) is seeded into a fresh
database, with templates built by real agno in a scratch schema (no cache): agno's PostgresDb
must list and load every session, the service must answer, the rows must be consistent with each
other, and the distribution knobs must show in the figures.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import psycopg
import pytest
from agno.db.base import SessionType

from tests.agno_seed import AgentOSRoutes, agno_db
from tests.conftest import new_database


def _load_bench_seed():
    """tools/bench/seed.py under a name of its own (tools/contract/seed.py is also a `seed`)."""
    path = os.path.join(os.path.dirname(__file__), "..", "tools", "bench", "seed.py")
    spec = importlib.util.spec_from_file_location("bench_seed", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_seed"] = module
    spec.loader.exec_module(module)
    return module


bench_seed = _load_bench_seed()

SESSIONS, RUNS = 30, 420
BIG = (("agent", 1, 12), ("team", 0.6, 9))


def _url(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def template_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("bench-templates"))


@pytest.fixture(scope="module")
def seeded(pg_server, template_cache):
    with new_database(pg_server, f"bench_seed_test_{os.getpid()}") as url:
        manifest = bench_seed.seed(_url(url), SESSIONS, RUNS, seed=3, big=BIG, cache_dir=template_cache)
        yield _url(url), manifest


def _rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(bench_seed.libpq_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


def test_every_row_is_consistent_with_its_session(seeded):
    url, manifest = seeded
    assert _rows(url, "SELECT count(*) FROM ai.agno_sessions")[0][0] == SESSIONS
    assert _rows(url, "SELECT count(*) FROM ai.agno_runs")[0][0] == RUNS
    by_type = dict(_rows(url, "SELECT session_type, count(*) FROM ai.agno_sessions GROUP BY 1"))
    assert by_type == manifest["stats"]["sessions_by_type"]
    # run_data repeats the row's columns; ids are unique (primary keys), run_index is 0..n-1.
    bad = _rows(url, """
        SELECT r.run_id FROM ai.agno_runs r JOIN ai.agno_sessions s USING (session_id)
        WHERE r.run_data->>'run_id' IS DISTINCT FROM r.run_id
           OR r.run_data->>'session_id' IS DISTINCT FROM r.session_id
           OR r.run_data->>'status' IS DISTINCT FROM r.status
           OR (r.run_data->>'created_at')::bigint <> r.created_at OR r.updated_at < r.created_at
           OR r.user_id IS DISTINCT FROM s.user_id OR r.run_data->>'user_id' IS DISTINCT FROM s.user_id
           OR r.created_at < s.created_at OR r.updated_at > s.updated_at
           OR (r.parent_run_id IS NULL AND coalesce(r.agent_id, r.team_id, r.workflow_id)
               IS DISTINCT FROM coalesce(s.agent_id, s.team_id, s.workflow_id))
           OR (r.parent_run_id IS NULL AND r.run_type <> s.session_type)""")
    assert bad == []
    assert _rows(url, """SELECT session_id FROM ai.agno_runs GROUP BY 1
                         HAVING min(run_index) <> 0 OR max(run_index) <> count(*) - 1
                            OR count(DISTINCT run_index) <> count(*)""") == []
    # Member runs belong to a team run of the same session, stored before it.
    assert _rows(url, """SELECT m.run_id FROM ai.agno_runs m LEFT JOIN ai.agno_runs p ON p.run_id = m.parent_run_id
                         WHERE m.parent_run_id IS NOT NULL AND (p.session_id IS DISTINCT FROM m.session_id
                               OR p.run_type <> 'team' OR p.run_index < m.run_index)""") == []
    # Message and tool-call ids are fresh for every run.
    dupes = _rows(url, """SELECT m->>'id' FROM ai.agno_runs, jsonb_array_elements(run_data->'messages') m
                          WHERE parent_run_id IS NULL GROUP BY 1 HAVING count(*) > 1""")
    assert dupes == []
    # The foreign key is back, as agno declares it.
    fk = _rows(url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid = 'ai.agno_runs'::regclass")
    assert fk == [("agno_runs_session_id_fkey",
                   "FOREIGN KEY (session_id) REFERENCES ai.agno_sessions(session_id) ON DELETE CASCADE")]


def test_agno_reads_every_session_and_run(seeded):
    url, manifest = seeded
    db = agno_db(url)
    try:
        runs_of = {}
        for session_id, run_id in _rows(url, "SELECT session_id, run_id FROM ai.agno_runs"):
            runs_of.setdefault(session_id, set()).add(run_id)
        seen = 0
        for t, expected in manifest["stats"]["sessions_by_type"].items():
            sessions = db.get_sessions(session_type=SessionType(t))
            assert len(sessions) == expected
            for listed in sessions:
                session = db.get_session(session_id=listed.session_id, session_type=SessionType(t))
                assert {run.run_id for run in session.runs} == runs_of[session.session_id]
                assert session.session_data["session_metrics"]["total_tokens"] > 0
                seen += 1
        assert seen == SESSIONS
    finally:
        db.db_engine.dispose()


def test_the_service_answers(seeded):
    url, manifest = seeded
    assert bench_seed.verify(url, manifest).startswith("verified")


def test_agentos_answers(seeded):
    """AgentOS's own routes (the benchmark's reference) serve the generated sessions without an error."""
    url, manifest = seeded
    db = agno_db(url)
    try:
        agentos = AgentOSRoutes(db)
        for t in ("agent", "team", "workflow"):
            status, page = agentos.request("GET", "/sessions", {"type": t})
            assert status == 200 and page["meta"]["total_count"] == manifest["stats"]["sessions_by_type"][t]
            for session_id in [*manifest["typical_sessions"][t][:2],
                               *(b["session_id"] for b in manifest["big_sessions"] if b["type"] == t)]:
                status, _ = agentos.request("GET", "/sessions/{session_id}", {"type": t}, session_id=session_id)
                assert status == 200
                status, runs = agentos.request("GET", "/sessions/{session_id}/runs", {"type": t}, session_id=session_id)
                assert status == 200 and runs
            for run in manifest["typical_runs"][t][:2]:
                status, _ = agentos.request("GET", "/sessions/{session_id}/runs/{run_id}", {"type": t},
                                            session_id=run["session_id"], run_id=run["run_id"])
                assert status == 200
    finally:
        db.db_engine.dispose()


def test_the_distribution_knobs_show(seeded):
    _, manifest = seeded
    st = manifest["stats"]
    assert st["runs"] == RUNS and st["sessions"] == SESSIONS
    # 70/20/10 of the regular sessions, plus the big ones.
    assert st["sessions_by_type"] == {"agent": 19 + 1, "team": 6 + 1, "workflow": 3}
    rps = st["runs_per_session"]
    assert rps["max"] >= 3 * rps["p50"]                          # a long tail of big sessions
    pb = st["run_payload_bytes"]
    assert 6_000 <= pb["p50"] <= 30_000 and pb["max"] >= bench_seed.PAYLOAD_MAX * 0.95
    assert pb["max"] <= bench_seed.PAYLOAD_MAX * 1.05
    for b, (kind, mb, runs) in zip(manifest["big_sessions"], BIG, strict=True):
        assert (b["type"], b["runs"]) == (kind, runs) and b["bytes"] >= 0.5 * mb * 1e6
    assert st["users"] >= 3 and all(n >= 2 for n in st["components"].values())
    assert set(manifest["typical_sessions"]) == {"agent", "team", "workflow"}
    assert all(manifest["typical_runs"][t] for t in ("agent", "team", "workflow"))
    for f in manifest["filters"]:
        assert f["sessions"] >= 1


def test_the_same_seed_gives_the_same_database(seeded, pg_server, template_cache):
    _, manifest = seeded
    with new_database(pg_server, f"bench_seed_again_{os.getpid()}") as url:
        again = bench_seed.seed(_url(url), SESSIONS, RUNS, seed=3, big=BIG, cache_dir=template_cache)
        other = bench_seed.seed(_url(url), SESSIONS, RUNS, seed=4, big=BIG, cache_dir=template_cache, replace=True)

    def stable(m):
        return {k: v for k, v in m.items() if k != "stats"}, {k: v for k, v in m["stats"].items()
                                                                if k not in ("seconds", "database_bytes")}
    assert stable(again) == stable(manifest)
    assert set(other["typical_sessions"]["agent"]).isdisjoint(manifest["typical_sessions"]["agent"])


def test_a_filled_database_is_not_overwritten_without_replace(seeded, template_cache):
    url, _ = seeded
    with pytest.raises(bench_seed.SeedError, match="not empty"):
        bench_seed.seed(url, SESSIONS, RUNS, seed=3, big=BIG, cache_dir=template_cache)
    with pytest.raises(bench_seed.SeedError, match="too few"):
        bench_seed.seed(url, 10, 5, seed=3, big=(), cache_dir=template_cache, replace=True)
