"""tools/bench/adk_seed.py: the ADK benchmark database is ADK's own layout, at the scale asked for.

A small scale (30 sessions, 400 events) is seeded into a fresh database (ADK's DatabaseSessionService
writes its templates there first): every session must read back the same through ADK's own
DatabaseSessionService and through this service's routes (in process), ADK must be able to go on
appending to a seeded session, the rows must be consistent with each other, and the distribution
knobs must show in the figures.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from urllib.parse import quote

import psycopg
import pytest

from tests.conftest import new_database

pytestmark = pytest.mark.filterwarnings(r"ignore:\[EXPERIMENTAL\]:UserWarning")

SESSIONS, EVENTS = 30, 400


def _load(name: str, filename: str):
    path = os.path.join(os.path.dirname(__file__), "..", "tools", "bench", filename)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


adk_seed = _load("bench_adk_seed", "adk_seed.py")


@pytest.fixture(scope="module")
def seeded(pg_server):
    with new_database(pg_server, f"bench_adk_seed_test_{os.getpid()}") as url:
        url = url.render_as_string(hide_password=False)
        yield url, adk_seed.seed(url, SESSIONS, EVENTS, seed=3)


def _rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(adk_seed.libpq_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


def _path(app: str, user: str, sid: str | None = None) -> str:
    tail = "" if sid is None else "/" + quote(sid, safe="")
    return f"/apps/{quote(app, safe='')}/users/{quote(user, safe='')}/sessions{tail}"


def test_adk_and_the_service_read_every_session_alike(seeded):
    url, manifest = seeded
    keys = [tuple(r) for r in _rows(url, "SELECT app_name, user_id, id FROM sessions ORDER BY 1, 2, 3")]
    pairs = sorted({(app, user) for app, user, _ in keys})
    assert len(keys) == SESSIONS
    theirs, listed = adk_seed.adk_sessions(url, keys, pairs)
    client, dispose = adk_seed.service_client(url)
    try:
        events = 0
        for key in keys:
            response = client.get(_path(*key))
            assert response.status_code == 200
            ours = response.get_json()
            assert adk_seed.comparable(ours) == adk_seed.comparable(theirs[key]), key
            events += len(ours["events"])
        assert events == _rows(url, "SELECT count(*) FROM events")[0][0]
        for app, user in pairs:
            response = client.get(_path(app, user))
            assert response.status_code == 200
            assert {s["id"]: adk_seed.comparable(s) for s in response.get_json()} == \
                {sid: adk_seed.comparable(s) for sid, s in listed[(app, user)].items()}
    finally:
        dispose()
    # The manifest's own check, as `adk_seed.py --verify` runs it.
    assert adk_seed.verify(url, manifest).startswith("verified")


def test_adk_goes_on_appending_to_a_seeded_session(seeded):
    """The state rows, update times and event documents are what ADK's stale-session and state
    checks expect: ADK appends to a seeded session and the service shows it."""
    from google.adk.events import Event, EventActions
    from google.adk.sessions import DatabaseSessionService

    url, manifest = seeded
    app, user, sid = manifest["pools"]["db"][0]

    async def append():
        service = DatabaseSessionService(db_url=adk_seed.adk_url(url))
        try:
            session = await service.get_session(app_name=app, user_id=user, session_id=sid)
            await service.append_event(session, Event(invocation_id="e-test", author="user", actions=EventActions(
                state_delta={"k": 1, "user:u": 2, "app:a": 3})))
            return len(session.events)
        finally:
            await service.close()

    count = asyncio.run(append())
    client, dispose = adk_seed.service_client(url)
    try:
        got = client.get(_path(app, user, sid)).get_json()
    finally:
        dispose()
    assert len(got["events"]) == count
    assert {k: got["state"][k] for k in ("k", "user:u", "app:a")} == {"k": 1, "user:u": 2, "app:a": 3}


def test_rows_are_consistent(seeded):
    url, manifest = seeded
    assert _rows(url, "SELECT key, value FROM adk_internal_metadata") == [("schema_version", "1")]
    assert _rows(url, "SELECT count(*) FROM events")[0][0] >= EVENTS  # (+1 if the append test ran first)
    # Each document repeats its row's id, invocation id and time (as ADK converts it).
    assert _rows(url, """
        SELECT id FROM events WHERE event_data->>'id' IS DISTINCT FROM id
            OR event_data->>'invocation_id' IS DISTINCT FROM invocation_id
            OR abs(extract(epoch FROM "timestamp") - (event_data->>'timestamp')::float8) > 1e-5""") == []
    # A session's update time is its last event's (its creation's when it has none).
    assert _rows(url, """
        SELECT s.id FROM sessions s LEFT JOIN (SELECT app_name, user_id, session_id, max("timestamp") AS last
                                               FROM events GROUP BY 1, 2, 3) e
            ON (e.app_name, e.user_id, e.session_id) = (s.app_name, s.user_id, s.id)
        WHERE s.update_time IS DISTINCT FROM coalesce(e.last, s.create_time) AND s.id <> %s""",
                 manifest["pools"]["db"][0][2]) == []
    # Every app and every (app, user) has its state row, as create_session makes them.
    assert _rows(url, """SELECT DISTINCT app_name, user_id FROM sessions s WHERE NOT EXISTS (
        SELECT 1 FROM user_states u WHERE (u.app_name, u.user_id) = (s.app_name, s.user_id))""") == []
    assert _rows(url, """SELECT DISTINCT app_name FROM sessions s WHERE NOT EXISTS (
        SELECT 1 FROM app_states a WHERE a.app_name = s.app_name)""") == []
    # No template left behind; function calls are answered by a response with the same id.
    assert _rows(url, "SELECT count(*) FROM sessions WHERE app_name = %s", adk_seed.TEMPLATE_APP)[0][0] == 0
    assert _rows(url, """
        SELECT c.id FROM events c, jsonb_array_elements(c.event_data->'content'->'parts') p
        WHERE p ? 'function_call' AND NOT EXISTS (
            SELECT 1 FROM events r, jsonb_array_elements(r.event_data->'content'->'parts') q
            WHERE r.session_id = c.session_id AND q->'function_response'->>'id' = p->'function_call'->>'id')
          AND c."timestamp" < (SELECT max("timestamp") FROM events l WHERE l.session_id = c.session_id)""") == []


def test_the_distribution_knobs_show(seeded):
    url, manifest = seeded
    st = manifest["stats"]
    assert (st["sessions"], st["events"]) == (SESSIONS, EVENTS)
    eps = st["events_per_session"]
    assert eps["max"] >= 3 * eps["p50"]  # a long tail
    assert len(st["sessions_by_app"]) >= 3 and st["users"] >= 3
    assert manifest["list_user"]["sessions"] >= 2
    kinds = dict(_rows(url, """
        SELECT CASE WHEN event_data->'content'->'parts'->0 ? 'function_call' THEN 'call'
                    WHEN event_data->'content'->'parts'->0 ? 'function_response' THEN 'response'
                    WHEN event_data->>'author' = 'user' AND event_data ? 'content' THEN 'user'
                    WHEN event_data ? 'content' THEN 'answer' ELSE 'state' END, count(*)
        FROM events GROUP BY 1"""))
    assert {"user", "answer", "call", "response"} <= set(kinds)
    assert 300 <= st["event_bytes"]["p50"] <= 3_000
    pools = manifest["pools"]
    ids = [tuple(k) for pool in pools.values() for k in pool]
    assert len(ids) == len(set(ids)) and all(len(p) == len(pools["ours"]) >= 2 for p in pools.values())
    assert not set(ids) & {tuple(k) for k in manifest["typical_sessions"]}


def test_the_same_seed_gives_the_same_database(seeded, pg_server):
    _, manifest = seeded
    with new_database(pg_server, f"bench_adk_seed_again_{os.getpid()}") as url:
        url = url.render_as_string(hide_password=False)
        again = adk_seed.seed(url, SESSIONS, EVENTS, seed=3)
        with pytest.raises(adk_seed.SeedError, match="not empty"):
            adk_seed.seed(url, SESSIONS, EVENTS, seed=3)

    def stable(m):
        return {k: v for k, v in m.items() if k != "stats"}, {k: v for k, v in m["stats"].items()
                                                                if k not in ("seconds", "database_bytes")}
    assert stable(again) == stable(manifest)
