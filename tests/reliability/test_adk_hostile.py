r"""Hostile input on Google ADK's session routes (`/apps/{app}/users/{user}/sessions[/{id}]`,
with and without `/api`), on ADK databases: each request gets a 4xx with a clear `detail` (never
a 5xx), and no row of ADK's five tables (`sessions`, `events`, `app_states`, `user_states`,
`adk_internal_metadata`) changes; where the right answer is a 2xx, the value is taken literally
and only the rows of the session it names change (its session and event rows, and the app's and
user's state rows where it creates them).

As in test_hostile.py, nothing that can be walked is listed by hand: the routes come from the
app's `url_map` (the `adk` and `adk_api` blueprints), their parameters and request bodies from
`/openapi.json`, and each test fails when an ADK route, path argument, query parameter or body
field is left without hostile cases. One app with real commits serves two ADK databases: on
PostgreSQL (`adk`, the default, every case) and a SQLite file (`adklite`, a subset). Around each
request every row of both is compared as text: a digest PostgreSQL computes, and the rows
themselves where one session may change. After a 2xx the databases are put back as seeded.

What PostgreSQL refuses and SQLite stores (docs/compatibility.md, ADK lines 39-41): NUL in an id
or in JSON, and ids over 128 characters on a create, are a 422 naming the field on PostgreSQL and
stored literally on SQLite (the suite reads them back). Non-finite numbers are a 422 on both.

Seeds look like the hostile values (a user literally named `%`, an app `app%`, ids with quotes,
control characters, 128 characters): a value taken as a pattern or as SQL would find them, a value
taken literally finds exactly them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import Text, cast, create_engine, delete, insert, select

from app import create_app
from app.adk import tables as adk_tables
from app.config import DatabaseConfig, Settings
from tests.conftest import new_database
from tests.reliability.conftest import Row, Scenario
from tests.reliability.test_hostile import (ANY_4XX, AUTHORIZATIONS, BAD_PATH_UTF8, BAD_QUERY_UTF8, BAD_UTF8, CONTENT_TYPES,
                                            GENERATED_ID, REQUEST_IDS, SECURITY_KEY, STRINGS, TOO_LARGE, WHOLE_BODIES,
                                            Expect, Firehose, body_schema, nest, openapi_path, operation,
                                            parameters, qs, resolve, route_methods, send, unwrap, verdict, wsgi_path)

ROW_PATHS = "hostile input: ADK path ids"
ROW_QUERY = "hostile input: ADK query and headers"
ROW_BODIES = "hostile input: ADK bodies and content types"

ADK_BLUEPRINTS = ("adk", "adk_api")
NOT_FOUND = "Session not found"
KEY_LENGTH = 128  # ADK's varchar(128) ids
PG, LITE = "adk", "adklite"

TABLES = {  # ADK's tables and their keys, as app/adk/tables.py declares them
    "sessions": ("app_name", "user_id", "id"),
    "events": ("app_name", "user_id", "session_id", "id"),
    "app_states": ("app_name",),
    "user_states": ("app_name", "user_id"),
    "adk_internal_metadata": ("key",),
}
CORE = {"sessions": adk_tables.sessions, "events": adk_tables.events, "app_states": adk_tables.app_states,
        "user_states": adk_tables.user_states, "adk_internal_metadata": adk_tables.internal_metadata}

# ---------------------------------------------------------------------------------------------
# What the databases hold


@dataclass(frozen=True)
class Seed:
    app: str
    user: str
    sid: str
    state: dict | None = None
    events: tuple = ()


EVENT = {"author": "user", "invocationId": "inv-1", "content": {"role": "user", "parts": [{"text": "hello"}]}}
SEEDS = [
    Seed("app1", "u1", "s1", {"k": "v", "app:theme": "dark", "user:lang": "en", "temp:x": 1}, (EVENT,)),
    Seed("app1", "u1", "lit%id"), Seed("app1", "u1", "lit_id"), Seed("app1", "u1", "quote'id"),
    Seed("app1", "u1", 'dq"id;--'), Seed("app1", "u1", "ctl\x01\x1f\x7fid"), Seed("app1", "u1", "uni\u2028\u202e\U0001f600"),
    Seed("app1", "u1", "sp ace"), Seed("app1", "u1", "L" * KEY_LENGTH, {"long": True}),
    Seed("app1", "%", "s1", {"user:who": "percent"}, (EVENT,)), Seed("app1", "u_1", "s1"), Seed("app1", "U1", "s1"),
    Seed("app%", "u1", "s1", {"app:who": "percent app"}), Seed("app_1", "u1", "s1"),
]
# SQLite keeps what PostgreSQL cannot: NUL in ids and ids past 128 characters.
LITE_SEEDS = [Seed("app1", "u1", "nul\x00id", {"k\x00": "v\x00"}), Seed("app1", "u1", "L" * 300), Seed("a" * 200, "u1", "s1")]
DEFAULTS = {"app_name": "app1", "user_id": "u1", "session_id": "s1"}
NEW_ID = "hostile-new"  # the id a create without a path id asks for

EXTRA_STRINGS = {"slash %2F": "a/b", "128 characters": "x" * KEY_LENGTH, "129 characters": "x" * (KEY_LENGTH + 1),
                 "empty": ""}
# The values run on SQLite too: what it stores and PostgreSQL refuses, and what SQL would misread.
LITE_VALUES = ("NUL", "quote", "LIKE %", "LIKE _", "12,000 random characters", "129 characters", "control characters",
               "dot dot")
# The `/api` prefix serves the same views: there a subset (every kind of answer) on PostgreSQL too.
API_VALUES = (*LITE_VALUES, "slash %2F", "128 characters", "empty", "CR LF")


def key_of(name: str, values: dict) -> tuple[str, str, str]:
    return values["app_name"], values["user_id"], values.get("session_id", NEW_ID)


# ---------------------------------------------------------------------------------------------
# The world: one app over two ADK databases


@dataclass
class Db:
    db_id: str
    engine: object
    dialect: str
    seeds: list
    baseline_rows: dict = None  # table -> typed rows, to put the database back


@dataclass
class World:
    app: object
    dbs: dict
    baseline: dict = None
    baseline_state: tuple = None
    _state: tuple | None = None

    @property
    def client(self):
        return self.app.test_client()

    def seeded(self, db_id: str) -> set:
        return {(s.app, s.user, s.sid) for s in self.dbs[db_id].seeds}

    def snapshot(self) -> dict:
        """Every row of the five tables of both databases as text (SQL NULL and JSON null differ),
        by table and key."""
        out = {}
        for db in self.dbs.values():
            with db.engine.connect() as conn:
                for name, keys in TABLES.items():
                    table = CORE[name]
                    rows = conn.execute(select(*[cast(c, Text) for c in table.c])).all()
                    index = [list(table.c.keys()).index(k) for k in keys]
                    out[db.db_id, name] = {tuple(r[i] for i in index): tuple(r) for r in rows}
        return out

    def state(self) -> tuple:
        """A digest of every row: PostgreSQL hashes its rows' text itself; SQLite's are read whole."""
        if self._state is None:
            out = []
            for db in self.dbs.values():
                with db.engine.connect() as conn:
                    if db.dialect == "postgresql":
                        out.append(tuple(conn.exec_driver_sql("SELECT " + ", ".join(
                            f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t)"
                            for name in TABLES)).one()))
                    else:
                        out.append(tuple(tuple(conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY 1, 2").all())
                                         for name in TABLES))
            self._state = tuple(out)
        return self._state

    def touched(self) -> None:
        self._state = None

    def session(self, db_id: str, key: tuple) -> dict | None:
        s = adk_tables.sessions.c
        with self.dbs[db_id].engine.connect() as conn:
            row = conn.execute(select(adk_tables.sessions).where(
                s.app_name == key[0], s.user_id == key[1], s.id == key[2])).mappings().first()
        return dict(row) if row else None

    def restore(self) -> None:
        """Put both databases back as seeded (rows deleted, then the seeded rows inserted)."""
        if self.state() == self.baseline_state:
            return
        for db in self.dbs.values():
            with db.engine.begin() as conn:
                for name in TABLES:
                    conn.execute(delete(CORE[name]))
                for name in TABLES:   # sessions before their events
                    rows = db.baseline_rows[name]
                    if rows and db.dialect == "sqlite":   # its text as it was (SQLite's now() has no fraction)
                        marks = ", ".join("?" * len(rows[0]))
                        conn.exec_driver_sql(f"INSERT INTO {name} VALUES ({marks})", rows)
                    elif rows:
                        conn.execute(insert(CORE[name]), rows)
        self.touched()
        assert self.state() == self.baseline_state, "the databases could not be put back"


def diff(before: dict, after: dict, allowed=frozenset()) -> list[str]:
    """What changed between two snapshots, leaving out the (db_id, table, key) in `allowed`."""
    out = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key) == new.get(key) or (*table, key) in allowed:
                continue
            what = "added" if key not in old else "deleted" if key not in new else "changed"
            out.append(f"{table[0]}.{table[1]} {what} {tuple(k[:40] for k in key)!r}")
    return out


def allowed_changes(db_id: str, key: tuple, before: dict, after: dict) -> set:
    """The rows a 2xx naming session `key` may change: its session row and its events; and the
    app's and user's state rows when it creates them (a create makes them, as ADK does)."""
    app, user, sid = key
    out = {(db_id, "sessions", key)}
    for table in ("events",):
        out |= {(db_id, table, k) for k in set(before.get((db_id, table), {})) | set(after.get((db_id, table), {}))
                if k[:3] == key}
    for table, k in (("app_states", (app,)), ("user_states", (app, user))):
        if k not in before.get((db_id, table), {}):
            out.add((db_id, table, k))
    return out


def _seed(client, db_id: str, seeds) -> None:
    for s in seeds:
        path = wsgi_path(f"/apps/{s.app}/users/{s.user}/sessions")
        body = {"sessionId": s.sid, "state": s.state, "events": list(s.events)}
        resp = send(client, "POST", path, qs([("db_id", db_id)]), body=json.dumps(body).encode())
        assert resp.status_code == 200, (s, resp.get_data()[:300])


@pytest.fixture(scope="module")
def world(pg_server, tmp_path_factory):
    with new_database(pg_server, f"adk_hostile_{secrets.token_hex(4)}") as url:
        pg_url = url.render_as_string(hide_password=False)
        lite_url = f"sqlite:///{tmp_path_factory.mktemp('adk-hostile') / 'adk.db'}"
        settings = Settings(databases={PG: DatabaseConfig(PG, pg_url), LITE: DatabaseConfig(LITE, lite_url)},
                            default_db_id=PG, default_db_explicit=True)
        app = create_app({"TESTING": True, "SETTINGS": settings})
        pg, lite = create_engine(pg_url), create_engine(lite_url)
        w = World(app, {PG: Db(PG, pg, "postgresql", SEEDS), LITE: Db(LITE, lite, "sqlite", SEEDS + LITE_SEEDS)})
        try:
            client = app.test_client()
            for db in w.dbs.values():   # the first create makes ADK's tables, as ADK does
                _seed(client, db.db_id, db.seeds)
                with db.engine.connect() as conn:
                    db.baseline_rows = {name: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {name}")]
                                        if db.dialect == "sqlite" else
                                        [dict(r) for r in conn.execute(select(CORE[name])).mappings()]
                                        for name in TABLES}
            w.baseline, w.baseline_state = w.snapshot(), w.state()
            yield w
        finally:
            app.extensions["engines"].dispose()
            pg.dispose()
            lite.dispose()


@pytest.fixture
def unchanged(world):
    """After the test, both databases hold exactly what they were seeded with."""
    yield
    leftover = diff(world.baseline, world.snapshot())
    assert not leftover, f"the databases differ from their seed after the test: {leftover[:5]}"


# ---------------------------------------------------------------------------------------------
# Requests, held to their promise and to the rows


def adk_routes(app) -> list[tuple[object, str]]:
    return [(rule, m) for rule, m in route_methods(app) if rule.endpoint.split(".")[0] in ADK_BLUEPRINTS]


def view(rule) -> str:
    """`create_session`, `get_session`, … (the same view under both prefixes)."""
    return rule.endpoint.split(".")[1]


def fill(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(m.group(1), DEFAULTS[m.group(1)]), rule.rule)


def session_check(key: tuple, state: dict | None = None):
    """A session answer naming exactly `key` (and holding `state` in its state, when given)."""
    def check(resp):
        body = resp.get_json(silent=True)
        if not isinstance(body, dict) or (body.get("appName"), body.get("userId"), body.get("id")) != key:
            return f"answered {str(body)[:160]}, expected the session {tuple(k[:30] for k in key)!r}"
        if state is not None and any(body["state"].get(k) != v for k, v in state.items()):
            return f"state {str(body['state'])[:160]} does not hold {str(state)[:80]}"
        return None
    return check


def null_check(resp):
    return None if resp.get_data().strip() == b"null" else f"body {resp.get_data()[:80]!r}, expected null"


def listed(ids: set):
    def check(resp):
        body = resp.get_json(silent=True)
        got = sorted(s.get("id") for s in body) if isinstance(body, list) else body
        if got != sorted(ids) or any(s.get("events") != [] for s in body):
            return f"listed {str(got)[:160]}, expected {sorted(i[:20] for i in ids)}"
        return None
    return check


def run_case(world, sc, label: str, expect: Expect, method: str, path_info: str, query: str = "", *,
             db_id: str = PG, key: tuple | None = None, stored=None, client=None, **kwargs) -> None:
    """One request (raw PATH_INFO and QUERY_STRING, see test_hostile.send), held to its promise
    and to the rows: none may change on a 4xx (or a read), only session `key`'s on a 2xx write,
    where `stored(row)` may check the session row afterwards. Then the databases are put back."""
    writes = expect.status < 300 and expect.status != ANY_4XX and method != "GET"
    before = world.snapshot() if writes else world.state()
    resp = send(client or world.client, method, path_info, query, **kwargs)
    world.touched()
    problem = verdict(resp, expect)
    if writes:
        after = world.snapshot()
        changed = diff(before, after, allowed_changes(db_id, key, before, after) if key else set())
        if problem is None and stored is not None:
            problem = stored(world.session(db_id, key))
    else:
        changed = [] if world.state() == before else diff(world.baseline, world.snapshot()) or ["(not seeded rows)"]
    if changed:
        problem = (problem + "; " if problem else "") + f"rows changed: {changed[:4]}"
    sc.record(problem is None, f"[{db_id}] {label}: {problem}")
    world.restore()


def db_query(db_id: str) -> str:
    return "" if db_id == PG else qs([("db_id", db_id)])


# ---------------------------------------------------------------------------------------------
# 1. Path ids: every argument of every ADK route


# A body that succeeds on each route, so that only the path argument can fail the request.
VALID_BODIES = {"create_session": {"sessionId": NEW_ID, "state": {"k": "new"}}, "create_session_with_id": {"k": "new"},
                "update_session": {"stateDelta": {"hostile": 1}}}


def path_expect(world, db_id: str, name: str, arg: str, value: str, values: dict) -> tuple[Expect, object]:
    """(the answer to a hostile value of one path argument, a check of the stored row or None)."""
    if "/" in value:   # a plain argument ends at `/`: no route
        return Expect(404, "Not Found"), None
    if value == "" and arg == "session_id":
        # `…/sessions/` is the list's path with a trailing slash: ADK's (Starlette's) 307 to it
        if name in ("update_session", "delete_session"):   # a method the list's path does not have
            return Expect(405, "Method Not Allowed"), None
        return Expect(307, check=lambda r: None if r.headers.get("Location", "").endswith("/sessions")
                      else f"Location {r.headers.get('Location')!r}"), None
    if value == "":
        return Expect(ANY_4XX), None   # an empty segment: no route
    pg = world.dbs[db_id].dialect == "postgresql"
    loc = ["path", arg]
    if pg and "\x00" in value:
        return Expect(422, item="string_no_nul", loc=loc), None
    key = key_of(name, values)
    exists = key in world.seeded(db_id)
    if name in ("create_session", "create_session_with_id"):
        if pg and len(value) > KEY_LENGTH:
            return Expect(422, item="string_too_long", loc=loc), None
        if exists:
            return Expect(409, f"Session already exists: {key[2]}"), None
        return Expect(200, check=session_check(key, {"k": "new"})), \
            lambda row: None if row is not None and row["state"] == {"k": "new"} else f"stored {row}"
    if name == "list_sessions":
        return Expect(200, check=listed({s for a, u, s in world.seeded(db_id) if (a, u) == key[:2]})), None
    if name == "get_session":
        return (Expect(200, check=session_check(key)) if exists else Expect(404, NOT_FOUND)), None
    if name == "update_session":
        if not exists:
            return Expect(404, NOT_FOUND), None
        return Expect(200, check=session_check(key, {"hostile": 1})), \
            lambda row: None if row is not None and row["state"].get("hostile") == 1 else f"stored {row}"
    if name == "delete_session":
        return Expect(200, check=null_check), (lambda row: None if row is None else "still there") if exists else None
    return Expect(ANY_4XX), None


def test_path_ids(world, scenario, unchanged):
    sc = scenario(ROW_PATHS)
    doc = world.client.get("/openapi.json").get_json()
    covered, documented = set(), set()
    values_by_label = {**STRINGS, **EXTRA_STRINGS}
    for rule, method in adk_routes(world.app):
        op = operation(doc, rule, method)
        assert op is not None, f"{method} {rule.rule} is not documented"
        documented |= {(rule.rule, method, p["name"]) for p in parameters(doc, op) if p["in"] == "path"}
        name = view(rule)
        body = VALID_BODIES.get(name)
        body = json.dumps(body).encode() if body is not None else None
        for arg in sorted(rule.arguments):
            for db_id in world.dbs:
                labels = values_by_label if db_id == PG and not rule.rule.startswith("/api/") else \
                    {k: values_by_label[k] for k in (LITE_VALUES if db_id != PG else API_VALUES)}
                for label, value in labels.items():
                    values = {**DEFAULTS, **{a: DEFAULTS[a] for a in rule.arguments}, arg: value}
                    if "session_id" not in rule.arguments:
                        values.pop("session_id")
                    expect, stored = path_expect(world, db_id, name, arg, value, values)
                    run_case(world, sc, f"{method} {rule.rule} {arg}={label}", expect, method,
                             wsgi_path(fill(rule, values)), db_query(db_id), db_id=db_id, key=key_of(name, values),
                             stored=stored, body=body)
            for label, raw in BAD_UTF8.items():
                path_info = wsgi_path(fill(rule, {arg: "@SLOT@"}).encode().replace(b"@SLOT@", raw))
                run_case(world, sc, f"{method} {rule.rule} {arg}=invalid UTF-8 {label}", Expect(400, BAD_PATH_UTF8),
                         method, path_info, body=body)
            covered.add((rule.rule, method, arg))
    sc.check()
    walked = {(r.rule, m, a) for r, m in adk_routes(world.app) for a in r.arguments}
    assert walked, "no ADK route in the URL map"
    assert walked <= covered, f"ADK path arguments never sent a hostile value: {sorted(walked - covered)}"
    assert {(openapi_path(r), m, a) for r, m in adk_routes(world.app) for a in r.arguments} == \
        {(p, m, a) for p, m, a in documented_paths(doc, documented)}, "documented and routed path arguments differ"


def documented_paths(doc, documented) -> set:
    """(OpenAPI path, method, argument) of the documented path parameters of the ADK routes."""
    return {(openapi_path_of_rule, m, a) for openapi_path_of_rule, m, a in
            ((re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), m, a) for rule, m, a in documented)}


def test_literal_ids_are_found_and_only_they_change(world, scenario, unchanged):
    """Every seeded session, ids of metacharacters, control characters, 128 characters (and on
    SQLite NUL and 300 characters) included: read, listed, PATCHed, created again (409) and
    deleted by its exact (app, user, id), and no other row moves."""
    sc = scenario(ROW_PATHS)
    for db_id, db in world.dbs.items():
        q = db_query(db_id)
        for seed in db.seeds:
            key = (seed.app, seed.user, seed.sid)
            base = wsgi_path(f"/apps/{seed.app}/users/{seed.user}/sessions")
            path, short = wsgi_path(f"/apps/{seed.app}/users/{seed.user}/sessions/{seed.sid}"), repr(key)[:60]
            run_case(world, sc, f"GET {short}", Expect(200, check=session_check(key)), "GET", path, q, db_id=db_id)
            run_case(world, sc, f"list {short}",
                     Expect(200, check=listed({s for a, u, s in world.seeded(db_id) if (a, u) == key[:2]})),
                     "GET", base, q, db_id=db_id)
            run_case(world, sc, f"PATCH {short}", Expect(200, check=session_check(key, {"lit": seed.sid})), "PATCH",
                     path, q, db_id=db_id, key=key, body=json.dumps({"stateDelta": {"lit": seed.sid}}).encode(),
                     stored=lambda row, s=seed.sid: None if row and row["state"].get("lit") == s else f"stored {row}")
            run_case(world, sc, f"create again {short}", Expect(409, f"Session already exists: {seed.sid}"), "POST",
                     base, q, db_id=db_id, body=json.dumps({"sessionId": seed.sid, "state": {"x": 1}}).encode())
            run_case(world, sc, f"create again (deprecated) {short}", Expect(409, f"Session already exists: {seed.sid}"),
                     "POST", path, q, db_id=db_id, body=b'{"x": 1}')
            run_case(world, sc, f"DELETE {short}", Expect(200, check=null_check), "DELETE", path, q, db_id=db_id,
                     key=key, stored=lambda row: None if row is None else "the literal id was not deleted")
    sc.check()


# ---------------------------------------------------------------------------------------------
# 2. Query parameters and headers


QUERY_VALUES = ("NUL", "control characters", "CR LF", "10,001 characters", "statement", "LIKE %", "backslash",
                "unicode controls", "dot dot")


def harmless(rule, method) -> tuple[str, bytes | None, Expect]:
    """A request to the route that changes nothing, and its answer: reads of s1, writes on a
    session that does not exist or with a body refused before any write."""
    name = view(rule)
    if name in ("get_session", "list_sessions"):
        check = session_check(("app1", "u1", "s1")) if name == "get_session" else \
            listed({s.sid for s in SEEDS if (s.app, s.user) == ("app1", "u1")})
        return wsgi_path(fill(rule, {})), None, Expect(200, check=check)
    if name == "delete_session":
        return wsgi_path(fill(rule, {"session_id": "no-such-session"})), None, Expect(200, check=null_check)
    if name == "update_session":
        return wsgi_path(fill(rule, {"session_id": "no-such-session"})), b'{"stateDelta": {"a": 1}}', \
            Expect(404, NOT_FOUND)
    # creates: an existing id, a 409
    body = b'{"sessionId": "s1"}' if name == "create_session" else b"{}"
    return wsgi_path(fill(rule, {})), body, Expect(409, "Session already exists: s1")


def test_query_parameters_and_headers(world, scenario, unchanged):
    sc = scenario(ROW_QUERY)
    doc = world.client.get("/openapi.json").get_json()
    declared, covered = set(), set()
    for rule, method in adk_routes(world.app):
        path, body, answer = harmless(rule, method)
        op = operation(doc, rule, method)
        for param in parameters(doc, op):
            if param["in"] != "query":
                continue
            declared.add((rule.rule, method, param["name"]))
            assert param["name"] == "db_id", f"{method} {rule.rule}: no hostile values for ?{param['name']}"
            for label in QUERY_VALUES:
                value = STRINGS[label]
                run_case(world, sc, f"{method} {rule.rule} ?db_id={label}",
                         Expect(404, f"No database found with id '{value}'"), method, path, qs([("db_id", value)]),
                         body=body)
            # the last db_id wins; a known one after a hostile one is that database
            run_case(world, sc, f"{method} {rule.rule} ?db_id twice, the last unknown",
                     Expect(404, "No database found with id 'nope'"), method, path,
                     qs([("db_id", LITE), ("db_id", "nope")]), body=body)
            run_case(world, sc, f"{method} {rule.rule} ?db_id twice, the last {PG}", answer, method, path,
                     qs([("db_id", "nope"), ("db_id", PG)]), body=body)
            covered.add((rule.rule, method, param["name"]))
        # Undocumented parameters named like the path's are ignored: the path decides.
        run_case(world, sc, f"{method} {rule.rule} ?app_name&user_id&session_id", answer, method, path,
                 qs([("app_name", "%"), ("user_id", "%"), ("session_id", "lit%id"), ("table", "sessions")]), body=body)
        for label, raw in (("0xFF", BAD_UTF8["0xFF"]), ("surrogate", BAD_UTF8["surrogate"])):
            run_case(world, sc, f"{method} {rule.rule} ?x=invalid UTF-8 {label}", Expect(400, BAD_QUERY_UTF8),
                     method, path, qs([("x", raw)]), body=body)
        run_case(world, sc, f"{method} {rule.rule} raw byte in the query", Expect(400, BAD_QUERY_UTF8), method, path,
                 "db_id=\xff\xfe", body=body)
        # X-Request-ID: a valid one echoed, any other replaced; the answer unchanged
        headers = [p["name"] for p in parameters(doc, op) if p["in"] == "header"]
        assert set(headers) <= {"X-Request-ID"}, f"{method} {rule.rule}: header parameters without hostile values"
        for label, value in REQUEST_IDS.items():
            def check(resp, value=value, inner=answer.check):
                rid = resp.headers.get("X-Request-ID", "")
                if not GENERATED_ID.match(rid) or (rid == value) != bool(GENERATED_ID.match(value)):
                    return f"X-Request-ID answered {rid[:40]!r}"
                if "X-Injected" in resp.headers:
                    return "a header was injected"
                return inner(resp) if inner else None
            run_case(world, sc, f"{method} {rule.rule} X-Request-ID {label}",
                     dataclasses.replace(answer, check=check), method, path, body=body,
                     environ={"HTTP_X_REQUEST_ID": value})
    # With OS_SECURITY_KEY set, a hostile Authorization header is a 401 and changes nothing.
    secured = create_app({"TESTING": True, "SETTINGS": dataclasses.replace(world.app.config["SETTINGS"],
                                                                            security_key=SECURITY_KEY)})
    try:
        client = secured.test_client()
        for rule, method in adk_routes(secured):
            path, body, answer = harmless(rule, method)
            for label, value in AUTHORIZATIONS.items():
                expect = Expect(401, "Authorization header required" if not value else "Invalid authentication token")
                run_case(world, sc, f"{method} {rule.rule} Authorization {label}", expect, method, path,
                         client=client, body=body, environ={"HTTP_AUTHORIZATION": value})
            run_case(world, sc, f"{method} {rule.rule} with the key", answer, method, path, client=client, body=body,
                     environ={"HTTP_AUTHORIZATION": f"Bearer {SECURITY_KEY}"})
    finally:
        secured.extensions["engines"].dispose()
    sc.check()
    assert declared and declared <= covered, f"query parameters never sent a hostile value: {sorted(declared - covered)}"


# ---------------------------------------------------------------------------------------------
# 3. Bodies and content types: every field of every documented ADK request body


def deep(depth: int, array: bool = False):
    return nest(depth, array)


HOSTILE_OBJECT = {"n": 2**64, "neg": -2**63 - 1, "big": 10**400, "s": "a'; --", "k'--": "%_\\", "ctl": "\x01\x1b",
                  "uni": "\u202e\U0001f600"}
BODY_VALUES = {
    "NUL string": "a\x00b",
    **{label: STRINGS[label] for label in ("control characters", "CR LF", "10,001 characters",
                                           "12,000 random characters", "statement", "LIKE %", "unicode controls",
                                           "quote")},
    "129 characters": "x" * (KEY_LENGTH + 1),
    "2^64": 2**64, "-2^63-1": -2**63 - 1, "true": True, "null": None, "list": [1, "x", None],
    "empty object": {},
    "object with a NUL key": {"k\x00": 1},
    "object with a NUL string": {"k": ["a\x00b"]},
    "hostile object": HOSTILE_OBJECT,
    "300 levels": deep(300),
    "300 nested arrays": {"a": deep(300, array=True)},
}
LITE_BODY_VALUES = ("NUL string", "129 characters", "2^64", "object with a NUL key", "object with a NUL string",
                    "hostile object", "300 levels")
API_BODY_VALUES = ("null", "list", "empty object")

# The rest of each body, valid; the field under test is set on top of it (for the deprecated
# create the whole body is the field).
BASE_BODIES = {"create_session": {"sessionId": NEW_ID}, "update_session": {"stateDelta": {}},
               "create_session_with_id": {}}
# Fields of the events a create appends that the document leaves free-form (`events` items are
# objects): the event's own fields as ADK's Event model has them.
EVENT_FIELDS = {"id": "string", "invocationId": "string", "author": "string", "timestamp": "number",
                "content": "object", "branch": "string"}


def has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(map(has_nul, value))


def body_fields(doc, schema) -> list[tuple[tuple, str]]:
    """(path, kind) of every field of a request body: its properties, the items of its arrays,
    and for `events` the event's own fields; `()` is a body that is itself a free-form object."""
    if not schema.get("properties"):
        return [((), "object")]
    out = []
    for name, sub in schema["properties"].items():
        sub = unwrap(doc, sub)
        kind = sub.get("type") if isinstance(sub.get("type"), str) else [t for t in sub["type"] if t != "null"][0]
        out.append(((name,), kind))
        if kind == "array":
            out.append(((name, 0), resolve(doc, sub.get("items", {})).get("type", "any")))
            if name == "events":
                out += [((name, 0, field), k) for field, k in EVENT_FIELDS.items()]
    return out


def place(name: str, path: tuple, value):
    body = json.loads(json.dumps(BASE_BODIES[name]))
    if path == ():
        return value
    if len(path) == 1:
        body[path[0]] = value
    elif len(path) == 2:
        body[path[0]] = [value]
    else:
        body[path[0]] = [{"author": "user", path[2]: value}]
    return body


def field_expect(db, name: str, path: tuple, kind: str, value) -> tuple[Expect | None, tuple | None, object]:
    """(the answer, the session a 2xx names, a check of its stored row) for one hostile value of
    one field; (None, …) where the answer is an out-of-range event timestamp (see
    test_out_of_range_event_timestamps)."""
    pg = db.dialect == "postgresql"
    loc = ["body", *path]
    key = ("app1", "u1", NEW_ID) if name == "create_session" else ("app1", "u1", "tgt")
    ok = Expect(200, check=session_check(key))
    if path == ("sessionId",):
        if value is None:
            return Expect(200), None, None   # a new uuid4 id (checked below)
        if not isinstance(value, str):
            return Expect(422, item="string_type", loc=loc), None, None
        if pg and "\x00" in value:
            return Expect(422, item="string_no_nul", loc=loc), None, None
        if pg and len(value) > KEY_LENGTH:
            return Expect(422, item="string_too_long", loc=loc), None, None
        key = ("app1", "u1", value)
        return Expect(200, check=session_check(key)), key, lambda row: None if row else "not stored"
    if path in ((), ("state",), ("stateDelta",), ("options",)):
        if value is None and path != ("stateDelta",):
            return ok, key, lambda row: None if row else "not stored"
        if not isinstance(value, dict):
            return Expect(422, item="dict_type", loc=loc), None, None
        if path == ("options",):
            return (Expect(400, "Session options are not supported by the configured session service.")
                    if value else ok), (None if value else key), None
        if pg and has_nul(value):
            return Expect(422, item="json_no_nul", loc=loc), None, None

        def stored(row, value=value):
            return None if row and all(row["state"].get(k) == v for k, v in value.items()) else \
                f"stored state {str(row and row['state'])[:120]}"
        return Expect(200, check=session_check(key, value)), key, stored
    if path == ("events",):
        if value is None:
            return ok, key, None
        if not isinstance(value, list):
            return Expect(422, item="list_type", loc=loc), None, None
        return None, None, None   # decided by the items (sent below)
    if path == ("events", 0):
        if not isinstance(value, dict):
            return Expect(422, item="model_attributes_type", loc=loc), None, None
        # free-form keys an event does not have are left out, as ADK's Event model does
        return ok, key, None
    field = path[2]
    if field == "timestamp":   # a float, as pydantic reads one (true is 1.0); never null
        if isinstance(value, bool):
            return ok, key, None
        if not isinstance(value, int | float):
            return Expect(422, item="float_type" if not isinstance(value, str) else "float_parsing", loc=loc), None, None
        return None, None, None   # an out-of-range epoch: test_out_of_range_event_timestamps
    if field == "content":
        if value is None:
            return ok, key, None
        if not isinstance(value, dict):
            return Expect(422, item="model_attributes_type", loc=loc), None, None
        if value:
            return Expect(422, item="extra_forbidden"), None, None   # a Content has role and parts only
        return ok, key, None
    # string fields of the event: the ids and author have defaults but are never null
    if value is None and field == "branch":
        return ok, key, None
    if not isinstance(value, str):
        return Expect(422, item="string_type", loc=loc), None, None
    if pg and "\x00" in value:
        return Expect(422, item="json_no_nul"), None, None
    limit = {"id": KEY_LENGTH, "invocationId": 256}.get(field)
    if pg and limit and len(value) > limit:
        return Expect(422, item="string_too_long"), None, None

    def event_stored(resp, field=field, value=value):
        events = (resp.get_json(silent=True) or {}).get("events") or []
        return None if events and events[0].get(field) == value else f"answered events {str(events)[:160]}"
    return Expect(200, check=event_stored), key, lambda row: None if row else "not stored"


def body_case(world, sc, label, db_id, rule, method, body: bytes, expect: Expect, *, key=None, stored=None,
              content_type="application/json") -> None:
    """One write; a PATCH or deprecated create aims at a target of its own (`tgt`), made first
    for a PATCH (the databases are put back afterwards)."""
    name = view(rule)
    if name == "update_session":
        resp = send(world.client, "POST", wsgi_path("/apps/app1/users/u1/sessions/tgt"), db_query(db_id), body=b"{}")
        assert resp.status_code == 200, resp.get_data()[:200]
        world.touched()
    path = wsgi_path(fill(rule, {"session_id": "tgt"}))
    if name == "update_session" and expect.status >= 300:
        # a refused PATCH leaves the target as it was made: compare with the target in place
        before = world.state()
        resp = send(world.client, method, path, db_query(db_id), body=body, content_type=content_type)
        world.touched()
        problem = verdict(resp, expect)
        if world.state() != before:
            problem = (problem + "; " if problem else "") + "rows changed"
        sc.record(problem is None, f"[{db_id}] {label}: {problem}")
        world.restore()
        return
    if expect.status == 200 and key is None:
        key = ("app1", "u1", NEW_ID if name == "create_session" else "tgt")
    run_case(world, sc, label, expect, method, path, db_query(db_id), db_id=db_id, key=key, stored=stored,
             body=body, content_type=content_type)


def test_bodies(world, scenario, unchanged):
    sc = scenario(ROW_BODIES)
    doc = world.client.get("/openapi.json").get_json()
    declared, covered = set(), set()
    for rule, method in adk_routes(world.app):
        op = operation(doc, rule, method)
        schema = body_schema(doc, op)
        if schema is None:
            continue
        name = view(rule)
        assert name in BASE_BODIES, f"{method} {rule.rule}: a request body this suite has no base body for"
        for db_id, db in world.dbs.items():
            full = db_id == PG and not rule.rule.startswith("/api/")   # `/api`: the same views, a subset
            values = BODY_VALUES if full else {k: BODY_VALUES[k] for k in LITE_BODY_VALUES + API_BODY_VALUES * (db_id == PG)}
            for path, kind in body_fields(doc, unwrap(doc, schema)):
                declared.add((rule.rule, method, path))
                for label, value in values.items():
                    expect, key, stored = field_expect(db, name, path, kind, value)
                    if expect is None:
                        continue
                    body = json.dumps(place(name, path, value)).encode()
                    if path == ("sessionId",) and value is None:   # a new uuid4 id: its rows may change
                        expect = Expect(200, check=lambda r: None if re.fullmatch(r"[0-9a-f-]{36}", r.get_json()["id"])
                                        else f"id {r.get_json()['id']!r}")
                        key = None
                        body_new_id(world, sc, f"{method} {rule.rule} sessionId=null", db_id, rule, method, body,
                                    expect)
                        covered.add((rule.rule, method, path))
                        continue
                    body_case(world, sc, f"{method} {rule.rule} {'.'.join(map(str, path)) or 'body'}={label}",
                              db_id, rule, method, body, expect, key=key, stored=stored)
                    covered.add((rule.rule, method, path))
            if db_id != PG:
                continue
            shape = Expect(422, item="dict_type", loc=["body"]) if name == "create_session_with_id" else \
                Expect(422, item="model_attributes_type", loc=["body"])
            for label, (raw, status, what) in WHOLE_BODIES.items():
                if raw == b"null" and name == "create_session":   # no body: a session with a new id
                    body_new_id(world, sc, f"{method} {rule.rule} body null", db_id, rule, method, raw, Expect(200))
                    continue
                if what is None:   # JSON that is not an object
                    expect = whole_body_expect(name, raw, shape)
                else:
                    expect = Expect(status, detail=what) if status == 400 else Expect(status, item=what)
                body_case(world, sc, f"{method} {rule.rule} body {label}", db_id, rule, method, raw, expect)
            valid = json.dumps({"create_session": {"sessionId": NEW_ID}, "update_session": {"stateDelta": {"a": 1}},
                                "create_session_with_id": {"a": 1}}[name]).encode()
            for label, content_type in CONTENT_TYPES.items():
                body_case(world, sc, f"{method} {rule.rule} Content-Type {label}", db_id, rule, method, valid, shape,
                          content_type=content_type)
    sc.check()
    assert declared and declared <= covered, f"ADK body fields never sent a hostile value: {sorted(declared - covered)}"


def whole_body_expect(name: str, raw: bytes, shape: Expect) -> Expect:
    """JSON that is not an object: `null` is no body for the creates (both optional: an empty
    session), a missing body for a PATCH; anything else the body's type error."""
    if raw == b"null" and name == "create_session_with_id":
        return Expect(200, check=session_check(("app1", "u1", "tgt")))
    return shape


def body_new_id(world, sc, label, db_id, rule, method, body, expect) -> None:
    """A create without an id: one new session (a uuid4), nothing else."""
    before = world.snapshot()
    resp = send(world.client, method, wsgi_path(fill(rule, {})), db_query(db_id), body=body)
    world.touched()
    problem = verdict(resp, expect)
    created = resp.get_json(silent=True) or {}
    key = ("app1", "u1", created.get("id", ""))
    after = world.snapshot()
    changed = diff(before, after, allowed_changes(db_id, key, before, after))
    if changed or world.session(db_id, key) is None:
        problem = (problem + "; " if problem else "") + f"rows changed: {changed[:4]} or {key} not stored"
    sc.record(problem is None, f"[{db_id}] {label}: {problem}")
    world.restore()


def test_out_of_range_event_timestamps(world, unchanged):
    """An event's epoch that no timestamp column holds: a 4xx naming the field, nothing written
    (ADK: 500 from Python's datetime)."""
    sc = Scenario(Row("ADK event timestamps out of range"))
    rule = next(r for r, m in adk_routes(world.app) if r.endpoint == "adk.create_session" and m == "POST")
    for db_id in world.dbs:
        for label, value in (("2^64", 2**64), ("-2^63-1", -2**63 - 1), ("1e300", 1e300), ("-1e20", -1e20),
                             ("year 10000", 253_402_300_800)):
            body = json.dumps({"sessionId": NEW_ID, "events": [{"author": "user", "timestamp": value}]}).encode()
            run_case(world, sc, f"POST {rule.rule} events.0.timestamp={label}", Expect(ANY_4XX), "POST",
                     wsgi_path(fill(rule, {})), db_query(db_id), db_id=db_id, body=body)
    sc.check()


# ---------------------------------------------------------------------------------------------
# 4. Bodies over the limit, on an ADK database: 413, the body never read whole; the limit passes


LIMIT = 64 * 1024


def test_body_over_the_limit(world, scenario, unchanged):
    sc = scenario(ROW_BODIES)
    limited = create_app({"TESTING": True, "SETTINGS": dataclasses.replace(world.app.config["SETTINGS"],
                                                                            max_body_bytes=LIMIT)})
    try:
        client = limited.test_client()
        doc = client.get("/openapi.json").get_json()
        for rule, method in adk_routes(limited):
            op = operation(doc, rule, method)
            if not op.get("requestBody"):
                continue
            path, _, _ = harmless(rule, method)
            for label, environ in (("Content-Length 64 MiB", {"CONTENT_LENGTH": str(64 << 20)}),
                                   ("chunked 64 MiB", {"wsgi.input_terminated": True,
                                                       "HTTP_TRANSFER_ENCODING": "chunked"}),
                                   ("Content-Length 2^64", {"CONTENT_LENGTH": str(2**64)})):
                stream = Firehose(64 << 20)
                run_case(world, sc, f"{method} {rule.rule} {label}", Expect(413, TOO_LARGE), method, path,
                         client=client, environ={"wsgi.input": stream, "CONTENT_TYPE": "application/json", **environ})
                sc.record(stream.consumed <= 2 * LIMIT, f"{method} {rule.rule} {label}: read {stream.consumed} bytes")
            # The boundary on a PATCH of s1: the limit itself passes (200), one byte more is a 413.
            if view(rule) == "update_session":
                target = wsgi_path(fill(rule, {}))
                body = json.dumps({"stateDelta": {"edge": 1}}).encode()
                for size, expect in ((LIMIT, Expect(200, check=session_check(("app1", "u1", "s1"), {"edge": 1}))),
                                     (LIMIT + 1, Expect(413, TOO_LARGE))):
                    padded = body + b" " * (size - len(body))
                    run_case(world, sc, f"{method} {rule.rule} body of {size} bytes", expect, method, target,
                             client=client, key=("app1", "u1", "s1"), body=padded)
                    run_case(world, sc, f"{method} {rule.rule} chunked body of {size} bytes", expect, method, target,
                             client=client, key=("app1", "u1", "s1"),
                             environ={"wsgi.input": io.BytesIO(padded), "wsgi.input_terminated": True,
                                      "CONTENT_TYPE": "application/json"})
    finally:
        limited.extensions["engines"].dispose()
    sc.check()


# The suite's own helpers, checked on their own: a walk that reaches no ADK route fails.
def test_the_walk_finds_every_adk_route(world):
    views = {(view(r), m) for r, m in adk_routes(world.app)}
    assert views == {("create_session", "POST"), ("create_session_with_id", "POST"), ("get_session", "GET"),
                     ("list_sessions", "GET"), ("update_session", "PATCH"), ("delete_session", "DELETE")}, views
    prefixes = {r.rule.split("/apps/")[0] for r, _ in adk_routes(world.app)}
    assert prefixes == {"", "/api"}, prefixes
    assert {openapi_path(r) for r, _ in adk_routes(world.app)} <= set(
        world.client.get("/openapi.json").get_json()["paths"])
