"""ADK's session routes on PostgreSQL and SQLite, with real commits, checked against the rows
ADK's tables hold afterwards and, both ways, against google-adk's own DatabaseSessionService."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.config import DatabaseConfig, Settings

PREFIXES = ("", "/api")


@pytest.fixture(scope="module")
def adk_pg_url(pg_server):
    from tests.conftest import new_database

    with new_database(pg_server, f"adk_svc_{uuid.uuid4().hex[:10]}") as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def adk_sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('adk') / 'sessions.db'}"


@pytest.fixture(params=["pg", "sqlite"])
def backend(request):
    """(kind, the service's URL, the same database as google-adk names it)."""
    if request.param == "pg":
        url = request.getfixturevalue("adk_pg_url")
        return "pg", url, url
    url = request.getfixturevalue("adk_sqlite_url")
    return "sqlite", url, url.replace("sqlite:///", "sqlite+aiosqlite:///", 1)


@pytest.fixture
def service(backend):
    kind, url, _ = backend
    settings = Settings(databases={"adk": DatabaseConfig("adk", url)}, default_db_id="adk")
    application = create_app({"TESTING": True, "SETTINGS": settings})
    yield application.test_client()
    application.extensions["engines"].dispose()


@pytest.fixture
def engine(backend):
    eng = create_engine(backend[1])
    yield eng
    eng.dispose()


@pytest.fixture
def app_name():
    """Every test works in an app of its own: the databases are shared by the module."""
    return f"app-{uuid.uuid4().hex[:8]}"


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def state_of(value):
    return value if isinstance(value, dict) else json.loads(value)


def path(prefix, app_name, user="u1", session=None):
    out = f"{prefix}/apps/{app_name}/users/{user}/sessions"
    return out if session is None else f"{out}/{session}"


# ---------------------------------------------------------------------------------------------
# Create


@pytest.mark.parametrize("prefix", PREFIXES)
def test_create_without_body_makes_a_uuid_session_and_the_state_rows(service, engine, app_name, prefix):
    resp = service.post(path(prefix, app_name))
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"id", "appName", "userId", "state", "events", "lastUpdateTime"}
    assert uuid.UUID(body["id"]).version == 4
    assert (body["appName"], body["userId"], body["state"], body["events"]) == (app_name, "u1", {}, [])
    assert isinstance(body["lastUpdateTime"], float)
    stored = rows(engine, "SELECT * FROM sessions WHERE app_name = :a", a=app_name)
    assert [(r["id"], state_of(r["state"])) for r in stored] == [(body["id"], {})]
    assert stored[0]["create_time"] == stored[0]["update_time"]
    assert [state_of(r["state"]) for r in rows(engine, "SELECT * FROM app_states WHERE app_name = :a", a=app_name)] == [{}]
    assert [state_of(r["state"]) for r in rows(engine, "SELECT * FROM user_states WHERE app_name = :a", a=app_name)] == [{}]
    assert rows(engine, "SELECT * FROM adk_internal_metadata") == [{"key": "schema_version", "value": "1"}]


def test_create_splits_the_state_by_scope_and_merges_it_back(service, engine, app_name):
    state = {"k": 1, "app:theme": "dark", "user:lang": "en", "temp:scratch": 5, "nested": {"a": [1, 2]}}
    resp = service.post(path("", app_name), json={"sessionId": "s1", "state": state})
    assert resp.status_code == 200
    assert resp.get_json()["state"] == {"k": 1, "nested": {"a": [1, 2]}, "app:theme": "dark", "user:lang": "en"}
    assert state_of(rows(engine, "SELECT state FROM sessions WHERE app_name = :a", a=app_name)[0]["state"]) == \
        {"k": 1, "nested": {"a": [1, 2]}}
    assert state_of(rows(engine, "SELECT state FROM app_states WHERE app_name = :a", a=app_name)[0]["state"]) == \
        {"theme": "dark"}
    assert state_of(rows(engine, "SELECT state FROM user_states WHERE app_name = :a", a=app_name)[0]["state"]) == \
        {"lang": "en"}
    # A sibling session of the same user sees the app and user state at once.
    sibling = service.post(path("", app_name), json={"session_id": "s2"}).get_json()
    assert sibling["state"] == {"app:theme": "dark", "user:lang": "en"}
    other_user = service.post(path("", app_name, user="u2"), json={}).get_json()
    assert other_user["state"] == {"app:theme": "dark"}


def test_create_of_an_existing_id_is_409_and_writes_nothing(service, engine, app_name):
    assert service.post(path("", app_name), json={"sessionId": "s1", "state": {"a": 1}}).status_code == 200
    before = rows(engine, "SELECT * FROM sessions WHERE app_name = :a", a=app_name)
    resp = service.post(path("", app_name), json={"sessionId": "s1", "state": {"a": 2, "app:x": 1}})
    assert (resp.status_code, resp.get_json()) == (409, {"detail": "Session already exists: s1"})
    assert rows(engine, "SELECT * FROM sessions WHERE app_name = :a", a=app_name) == before
    assert state_of(rows(engine, "SELECT state FROM app_states WHERE app_name = :a", a=app_name)[0]["state"]) == {}
    # The same id for another user is another session.
    assert service.post(path("", app_name, user="u2"), json={"sessionId": "s1"}).status_code == 200


def test_create_with_events_appends_them_in_order(service, engine, app_name):
    events = [
        {"author": "user", "invocationId": "inv-1", "content": {"role": "user", "parts": [{"text": "hello"}]}},
        {"author": "agent", "invocation_id": "inv-1", "content": {"role": "model", "parts": [
            {"functionCall": {"id": "fc-1", "name": "get_weather", "args": {"city": "Paris"}}}]}},
        {"author": "agent", "invocationId": "inv-1", "content": {"role": "user", "parts": [
            {"function_response": {"id": "fc-1", "name": "get_weather", "response": {"temp_c": 21}}}]}},
        {"author": "agent", "invocationId": "inv-1", "id": "e-4", "timestamp": 1795257709.5,
         "content": {"role": "model", "parts": [{"text": "It is 21 °C."}]}},
    ]
    resp = service.post(path("", app_name), json={"sessionId": "s1", "events": events})
    assert resp.status_code == 200
    body = resp.get_json()
    got = body["events"]
    assert [e["author"] for e in got] == ["user", "agent", "agent", "agent"]
    assert got[1]["content"]["parts"][0]["functionCall"] == {"id": "fc-1", "name": "get_weather",
                                                            "args": {"city": "Paris"}}
    assert got[2]["content"]["parts"][0]["functionResponse"]["response"] == {"temp_c": 21}
    assert got[3]["id"] == "e-4" and got[3]["timestamp"] == 1795257709.5
    assert all("customMetadata" not in e for e in got)  # the restored marker is internal
    assert body["lastUpdateTime"] == 1795257709.5  # the session's time is its last event's
    stored = rows(engine, "SELECT id, invocation_id, event_data FROM events WHERE app_name = :a", a=app_name)
    assert len(stored) == 4
    for row in stored:
        data = state_of(row["event_data"])
        assert data["id"] == row["id"] and data["invocation_id"] == row["invocation_id"] == "inv-1"
        assert data["custom_metadata"] == {"__adk_internal_restored_event": True} or \
            list(data["custom_metadata"].values()) == [True]
    # GET returns them oldest first (the fourth carries an earlier timestamp of its own).
    again = service.get(path("", app_name, session="s1")).get_json()
    assert [e["id"] for e in again["events"]][0] == "e-4"


@pytest.mark.parametrize("events, detail", [
    ([{"author": "user", "actions": {"stateDelta": {"x": 1}}}],
     "Session initialization event 0 cannot include event actions."),
    ([{"author": "user"}, {"author": "agent", "longRunningToolIds": ["t1"]}],
     "Session initialization event 1 cannot include long-running tool IDs."),
])
def test_initialization_events_adk_would_generate_are_400(service, engine, app_name, events, detail):
    resp = service.post(path("", app_name), json={"sessionId": "s1", "events": events})
    assert (resp.status_code, resp.get_json()) == (400, {"detail": detail})
    assert rows(engine, "SELECT * FROM sessions WHERE app_name = :a", a=app_name) == []


def test_options_are_400(service, app_name):
    resp = service.post(path("", app_name), json={"options": {"user_id": "x", "state": {}}})
    assert resp.get_json() == {"detail": "Session options cannot contain keys already bound by the endpoint: state, user_id"}
    resp = service.post(path("", app_name), json={"options": {"ttl": 5}})
    assert (resp.status_code, resp.get_json()) == (400, {
        "detail": "Session options are not supported by the configured session service."})


def test_deprecated_create_with_id_takes_the_whole_body_as_state(service, app_name):
    resp = service.post(path("", app_name, session="s9"), json={"x": 1, "user:y": 2})
    assert resp.status_code == 200
    assert resp.get_json()["id"] == "s9" and resp.get_json()["state"] == {"x": 1, "user:y": 2}
    resp = service.post(path("", app_name, session="s9"))
    assert resp.status_code == 409


@pytest.mark.parametrize("body", ['{"state": "notadict"}', '{"sessionId": 5}', "{", '{"events": [{"author": 5}]}'])
def test_bad_bodies_are_422_with_fastapi_items(service, app_name, body):
    resp = service.post(path("", app_name), data=body, content_type="application/json")
    assert resp.status_code == 422
    assert isinstance(resp.get_json()["detail"], list) and resp.get_json()["detail"]


# ---------------------------------------------------------------------------------------------
# Get, list


def test_get_is_scoped_to_app_and_user(service, app_name):
    service.post(path("", app_name), json={"sessionId": "s1", "state": {"a": 1}})
    assert service.get(path("", app_name, session="s1")).status_code == 200
    for other in (path("", app_name, user="u2", session="s1"), path("", app_name + "x", session="s1"),
                  path("", app_name, session="nope")):
        resp = service.get(other)
        assert (resp.status_code, resp.get_json()) == (404, {"detail": "Session not found"})


def test_list_is_the_users_sessions_least_recently_updated_first_without_events(service, app_name):
    for sid in ("s-b", "s-a", "adk-eval-session-1", "___eval___session___2"):
        service.post(path("", app_name), json={"sessionId": sid, "state": {"app:v": sid}})
    service.post(path("", app_name, user="u2"), json={"sessionId": "other"})
    service.patch(path("", app_name, session="s-b"), json={"stateDelta": {"n": 1}})
    listed = service.get(path("/api", app_name)).get_json()
    assert [s["id"] for s in listed] == ["s-a", "s-b"]
    assert all(s["events"] == [] for s in listed)
    assert listed[1]["state"] == {"n": 1, "app:v": "___eval___session___2"}
    assert service.get(path("", app_name, user="nobody")).get_json() == []


# ---------------------------------------------------------------------------------------------
# PATCH, delete


def test_patch_records_a_state_event_across_scopes(service, engine, app_name):
    service.post(path("", app_name), json={"sessionId": "s1", "state": {"a": 1}})
    service.post(path("", app_name), json={"sessionId": "s2"})
    delta = {"a": 2, "b": {"deep": True}, "app:flag": "on", "user:count": 3, "temp:scratch": "x"}
    resp = service.patch(path("", app_name, session="s1"), json={"stateDelta": delta})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == {"a": 2, "b": {"deep": True}, "app:flag": "on", "user:count": 3, "temp:scratch": "x"}
    event = body["events"][-1]
    assert event["author"] == "user" and event["invocationId"].startswith("p-")
    assert event["actions"]["stateDelta"] == {"a": 2, "b": {"deep": True}, "app:flag": "on", "user:count": 3}
    assert body["lastUpdateTime"] == pytest.approx(event["timestamp"], abs=1e-6)
    # temp: is gone on the next read; app: and user: reach the sibling session.
    assert service.get(path("", app_name, session="s1")).get_json()["state"] == \
        {"a": 2, "b": {"deep": True}, "app:flag": "on", "user:count": 3}
    assert service.get(path("", app_name, session="s2")).get_json()["state"] == {"app:flag": "on", "user:count": 3}
    stored = rows(engine, "SELECT event_data FROM events WHERE app_name = :a", a=app_name)
    assert [state_of(r["event_data"])["actions"]["state_delta"] for r in stored] == [
        {"a": 2, "b": {"deep": True}, "app:flag": "on", "user:count": 3}]


@pytest.mark.parametrize("body, status", [({}, 422), ({"stateDelta": "x"}, 422), ({"state_delta": {"a": 1}}, 404)])
def test_patch_errors(service, app_name, body, status):
    resp = service.patch(path("", app_name, session="missing"), json=body)
    assert resp.status_code == status
    if status == 404:
        assert resp.get_json() == {"detail": "Session not found"}


def test_delete_is_200_null_whether_or_not_the_session_exists(service, engine, app_name):
    service.post(path("", app_name), json={"sessionId": "s1", "state": {"app:x": 1},
                                           "events": [{"author": "user"}]})
    for _ in range(2):
        resp = service.delete(path("", app_name, session="s1"))
        assert (resp.status_code, resp.mimetype, resp.get_data()) == (200, "application/json", b"null")
    assert rows(engine, "SELECT * FROM sessions WHERE app_name = :a", a=app_name) == []
    assert rows(engine, "SELECT * FROM events WHERE app_name = :a", a=app_name) == []
    assert len(rows(engine, "SELECT * FROM app_states WHERE app_name = :a", a=app_name)) == 1
    assert service.get(path("", app_name, session="s1")).status_code == 404


# ---------------------------------------------------------------------------------------------
# What PostgreSQL cannot store is the client's error there; SQLite stores it, as ADK does


def test_values_postgresql_cannot_store(service, backend, app_name):
    long_id = "x" * 129
    resp = service.post(path("", app_name), json={"sessionId": long_id})
    nul = service.post(path("", app_name), json={"sessionId": "s1", "state": {"k": "a\u0000b"}})
    if backend[0] == "pg":
        assert resp.status_code == 422 and resp.get_json()["detail"][0]["type"] == "string_too_long"
        assert nul.status_code == 422 and nul.get_json()["detail"][0]["loc"] == ["body", "state", "k"]
        assert service.get(path("", app_name, session=long_id)).status_code == 404
    else:
        assert resp.status_code == 200 and resp.get_json()["id"] == long_id
        assert nul.status_code == 200 and nul.get_json()["state"] == {"k": "a\u0000b"}


# ---------------------------------------------------------------------------------------------
# Families: each API answers on its own framework's databases only


def test_agno_and_adk_routes_refuse_each_others_databases(service, database, make_app, app_name):
    service.post(path("", app_name), json={"sessionId": "s1"})
    resp = service.get("/sessions")
    assert resp.status_code == 404 and "Google ADK sessions, not agno sessions" in resp.get_json()["detail"]
    agno = make_app(database.url)
    resp = agno.test_client().get(path("", app_name, session="s1"))
    assert resp.status_code == 404 and "agno sessions, not Google ADK sessions" in resp.get_json()["detail"]


def test_a_create_on_an_empty_database_makes_adks_tables(fresh_url, make_app):
    client = make_app(fresh_url).test_client()
    assert client.get(path("", "a")).get_json() == []
    assert client.get(path("", "a", session="s")).status_code == 404
    assert client.post(path("", "a"), json={"sessionId": "s"}).status_code == 200
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as conn:
            names = {r[0] for r in conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))}
    finally:
        engine.dispose()
    assert names == {"sessions", "events", "app_states", "user_states", "adk_internal_metadata"}
    assert client.get("/sessions").status_code == 404


# ---------------------------------------------------------------------------------------------
# Round trips with google-adk's own DatabaseSessionService


def _adk(url):
    from google.adk.sessions import DatabaseSessionService

    return DatabaseSessionService(url)


def _api_json(session) -> dict:
    """What ADK's api_server answers for a session (its response model: aliases, no nulls, and
    ADK's internal event metadata removed)."""
    from google.adk.events._internal_metadata import public_event

    data = session.model_copy(update={"events": [public_event(e) for e in session.events]})
    return data.model_dump(exclude_none=True, by_alias=True, mode="json")


def test_sessions_written_here_are_read_by_adk(service, backend, app_name):
    events = [{"author": "user", "invocationId": "i1", "content": {"role": "user", "parts": [{"text": "héllo"}]}},
              {"author": "tool-agent", "invocationId": "i1", "content": {"role": "model", "parts": [
                  {"functionCall": {"id": "c1", "name": "lookup", "args": {"q": ["x", {"y": None}]}}}]}}]
    service.post(path("", app_name), json={"sessionId": "s1", "state": {"k": [1, 2], "app:a": 1, "user:u": "v"},
                                           "events": events})
    ours = service.patch(path("", app_name, session="s1"), json={"stateDelta": {"k": 3, "user:u": "w"}}).get_json()

    async def read():
        adk = _adk(backend[2])
        try:
            got = await adk.get_session(app_name=app_name, user_id="u1", session_id="s1")
            listed = await adk.list_sessions(app_name=app_name, user_id="u1")
            # ADK can go on appending to it.
            from google.adk.events import Event, EventActions

            await adk.append_event(got, Event(author="agent", invocation_id="i2",
                                              actions=EventActions(state_delta={"k": 4})))
            return got, listed
        finally:
            await adk.close()

    got, listed = asyncio.run(read())
    theirs = _api_json(got)
    assert theirs["state"] == {"k": 4, "app:a": 1, "user:u": "w"}
    ours["state"]["k"] = 4
    assert [e for e in theirs["events"][:3]] == ours["events"]
    assert {k: v for k, v in theirs.items() if k not in ("events", "lastUpdateTime")} == \
        {k: v for k, v in ours.items() if k not in ("events", "lastUpdateTime")}
    assert [s.id for s in listed.sessions] == ["s1"]
    assert service.get(path("", app_name, session="s1")).get_json() == theirs


def test_sessions_written_by_adk_are_read_here(service, backend, app_name):
    from google.adk.events import Event, EventActions
    from google.genai import types

    async def write():
        adk = _adk(backend[2])
        try:
            s = await adk.create_session(app_name=app_name, user_id="u1", session_id="s1",
                                         state={"a": 1, "app:t": "dark", "temp:x": 1})
            await adk.append_event(s, Event(invocation_id="i1", author="user", content=types.Content(
                role="user", parts=[types.Part(text="hi"), types.Part(text="there")])))
            await adk.append_event(s, Event(invocation_id="i1", author="agent", content=types.Content(
                role="model", parts=[types.Part(function_call=types.FunctionCall(name="f", args={"n": 1}))]),
                actions=EventActions(state_delta={"user:seen": True, "b": None})))
            await adk.append_event(s, Event(invocation_id="i1", author="agent", error_code="E1",
                                            error_message="boom", turn_complete=True))
            await adk.create_session(app_name=app_name, user_id="u1", session_id="s2")
            return (await adk.get_session(app_name=app_name, user_id="u1", session_id="s1"),
                    await adk.list_sessions(app_name=app_name, user_id="u1"))
        finally:
            await adk.close()

    session, listed = asyncio.run(write())
    assert service.get(path("", app_name, session="s1")).get_json() == _api_json(session)
    assert service.get(path("", app_name)).get_json() == [_api_json(s) for s in listed.sessions]
    # And a PATCH here is seen by ADK with the rest.
    service.patch(path("", app_name, session="s2"), json={"stateDelta": {"app:t": "light"}})

    async def reread():
        adk = _adk(backend[2])
        try:
            return await adk.get_session(app_name=app_name, user_id="u1", session_id="s1")
        finally:
            await adk.close()

    assert _api_json(asyncio.run(reread()))["state"]["app:t"] == "light"


def test_credential_secrets_are_redacted_from_answers_not_from_rows(service, engine, app_name):
    """ADK's api_server strips credential secrets from every session it answers with, state
    included; the stored state keeps them, as ADK stores them."""
    cred = {"authType": "apiKey", "apiKey": "s3cret"}
    created = service.post(path("", app_name), json={"sessionId": "s1", "state": {"cred": cred}}).get_json()
    assert created["state"] == {"cred": {"authType": "apiKey"}}
    assert service.get(path("", app_name, session="s1")).get_json()["state"] == {"cred": {"authType": "apiKey"}}
    assert service.get(path("", app_name)).get_json()[0]["state"] == {"cred": {"authType": "apiKey"}}
    assert state_of(rows(engine, "SELECT state FROM sessions WHERE app_name = :a", a=app_name)[0]["state"]) == \
        {"cred": cred}


def test_patch_of_a_session_without_its_state_rows(service, engine, app_name):
    """ADK's PATCH fails (500, "App state missing …") on a session whose app or user state row
    is gone (written by another tool, or deleted); here the rows are made when the delta needs
    them, and a delta without those scopes needs none."""
    service.post(path("", app_name), json={"sessionId": "s1", "state": {"a": 1}})
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM app_states WHERE app_name = :a"), {"a": app_name})
        conn.execute(text("DELETE FROM user_states WHERE app_name = :a"), {"a": app_name})
    resp = service.patch(path("", app_name, session="s1"), json={"stateDelta": {"a": 2}})
    assert resp.status_code == 200 and resp.get_json()["state"] == {"a": 2}
    resp = service.patch(path("", app_name, session="s1"), json={"stateDelta": {"app:x": 1, "user:y": 2}})
    assert resp.status_code == 200 and resp.get_json()["state"] == {"a": 2, "app:x": 1, "user:y": 2}
    assert state_of(rows(engine, "SELECT state FROM app_states WHERE app_name = :a", a=app_name)[0]["state"]) == {"x": 1}
    assert state_of(rows(engine, "SELECT state FROM user_states WHERE app_name = :a", a=app_name)[0]["state"]) == {"y": 2}
