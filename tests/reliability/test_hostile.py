r"""Hostile input on every route and parameter: each gets a 4xx with a clear `detail` (never a
5xx), and no row of `agno_sessions` or `agno_runs` changes; where the right answer is a 2xx, the
value is taken literally and only the row it names changes.

Nothing is listed by hand that can be walked: the routes come from the app's `url_map`, the
parameters and request bodies from its own `/openapi.json`, and each test fails when a route, a
parameter or a body field is left without a hostile case (so a new one cannot escape). One real
app with real commits serves three databases at once: agno 3.x's layout on PostgreSQL (`db1`, the
default, every case), agno 2.x's legacy layout on PostgreSQL (`legacy`) and agno's SqliteDb
layout (`lite`), the last two on a subset. Around each request every row of every database is
compared, as text (so SQL NULL and JSON null differ): a digest PostgreSQL computes over the rows,
and the rows themselves where one session may change.

`session_name` stays AgentOS's LIKE pattern (`%`, `_` and `\` are metacharacters, contract §5.16,
docs/compatibility.md "kept on purpose"): the suite checks that it is exactly that pattern and
nothing more, and that an escaped pattern finds the literal name.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
import secrets
import socket
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from sqlalchemy import Text, cast, create_engine, delete, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from app import create_app
from app.config import DatabaseConfig, Settings
from app.db import tables
from app.db.engines import create_sqlite_engine
from app.sessions import store
from app.validation import MAX_JSON_DEPTH as MAX_DEPTH
from tests.conftest import new_database
from tests.factories import add_run, agent_run, make_session
from tests.reliability.servers import gunicorn

ROW_PATHS = "hostile input: path ids"
ROW_QUERY = "hostile input: query parameters"
ROW_HEADERS = "hostile input: headers"
ROW_BODIES = "hostile input: bodies and content types"
ROW_LIMIT = "hostile input: body over the limit"

SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # answered before any route: 405 without a body, CORS
MEDIA_DETAIL = "Media storage is not configured on AgentOS"
BAD_PATH_UTF8 = "Invalid UTF-8 in the request path"
BAD_QUERY_UTF8 = "Invalid UTF-8 in the query string"
BODY_PARSE = "There was an error parsing the body"
TOO_LARGE = "Request body too large"
SECURITY_KEY = "k3y-for-hostile-tests"
# Google ADK's routes (both prefixes) answer 404 on a database of agno's, before reading their
# arguments' values; their hostile cases on an ADK database are in test_adk_hostile.py.
ADK_BLUEPRINTS = ("adk", "adk_api")
ADK_ON_AGNO = "Database '{}' holds agno sessions, not Google ADK sessions: use the /sessions routes"


def is_adk(endpoint: str) -> bool:
    return endpoint.split(".")[0] in ADK_BLUEPRINTS

# ---------------------------------------------------------------------------------------------
# What the databases hold: the same sessions in each layout. Some look like the hostile values
# (a user literally named "%", an id with a quote) so that a value taken as a pattern or as SQL
# would find them.


@dataclass
class Seed:
    session_id: str
    type: str = "agent"
    user_id: str | None = None
    name: str | None = None
    component: str = "ag1"
    runs: list = field(default_factory=list)


SEEDS = [
    Seed("s1", user_id="u1", name="100% sure", runs=[("r1", 1_700_000_000, "COMPLETED"), ("r2", 1_700_000_100, "ERROR")]),
    Seed("s2", user_id="u2", name="1000 sure", component="ag%"),
    Seed("s3", "team", user_id="u_1", name="100_ percent", component="tm_1"),
    Seed("s4", "workflow", user_id="%", name="back\\slash", component="wf'--"),
    Seed("s5", user_id="u1' OR '1'='1", name="semi; -- /* c */"),
    Seed("lit%id", user_id="lit"),
    Seed("lit_id", user_id="lit"),
    Seed("quote'id", user_id="lit"),
    Seed('dq"id;--', user_id="lit"),
    Seed("ctl\x01\x1f\x7fid", user_id="ctl\x07"),
    Seed("uni\u2028\u202e\U0001f600", user_id="lit"),
    Seed("sp ace", user_id="lit"),
    Seed("L" * 12_000, user_id="lit", name="long id"),
]
SEEDED_IDS = {s.session_id for s in SEEDS}

# Hostile strings, for path ids, query values and body strings.
UNCOMPRESSIBLE = secrets.token_hex(6_000)  # 12,000 characters PostgreSQL cannot compress
STRINGS = {
    "NUL": "s1\x00",
    "control characters": "s1\x01\x08\x0b\x1b[2J\x7f\x9b",
    "CR LF": "s1\r\nX-Injected: 1",
    "10,001 characters": "i" * 10_001,
    "12,000 random characters": UNCOMPRESSIBLE,
    "quote": "u1' OR '1'='1",
    "statement": "s1'; DELETE FROM ai.agno_sessions; --",
    "comment": "s1/* */--",
    "double quote": '"s1";',
    "LIKE %": "%",
    "LIKE _": "s_",
    "LIKE u%": "u%",
    "backslash": "s1\\",
    "LIKE escape": "100\\%",
    "format strings": "%s %(session_id)s {0} $1 :session_id",
    "dot dot": "..",
    "unicode controls": "\u202e\u2028\ufeff\U0001f600\ufffd",
}
# Bytes that are not UTF-8: a lone continuation byte, a truncated sequence, an encoded
# surrogate, an overlong slash, a 5-byte form.
BAD_UTF8 = {"0xFF": b"\xff", "truncated": b"s1\xc3\x28", "surrogate": b"\xed\xa0\x80",
            "overlong": b"\xc0\xaf", "5-byte": b"\xf8\x88\x80\x80\x80"}
# Numbers past 2^63 and other things that are not integers, for integer query parameters.
NUMBERS = {
    "2^63": str(2**63), "2^64": str(2**64), "-2^63-1": str(-2**63 - 1), "10^30": "1" + "0" * 30,
    "4,301 digits": "9" * 4_301, "-4,301 digits": "-" + "9" * 4_301, "1e400": "1e400", "NaN": "NaN",
    "-inf": "-inf", "hex": "0x10", "fullwidth digits": "\uff11\uff12", "2.5": "2.5", "NUL": "1\x00",
}
assert not (set(STRINGS.values()) & SEEDED_IDS)


# ---------------------------------------------------------------------------------------------
# The world: one app over three databases, and a snapshot of every row.


@dataclass
class Db:
    db_id: str
    engine: object
    schema: str | None
    sessions: object
    runs: object | None
    dialect: str

    def connect(self):
        conn = self.engine.connect()
        return conn.execution_options(schema_translate_map={"ai": self.schema})


@dataclass
class World:
    app: object
    dbs: dict
    baseline: dict = None
    _state: tuple | None = None

    @property
    def client(self):
        return self.app.test_client()

    def snapshot(self) -> dict:
        """Every row of every database as text (JSON null and SQL NULL differ), by primary key."""
        out = {}
        for db in self.dbs.values():
            with db.connect() as conn:
                for name, table, key in (("sessions", db.sessions, "session_id"), ("runs", db.runs, "run_id")):
                    if table is None:
                        continue
                    rows = conn.execute(select(*[cast(c, Text) for c in table.c])).all()
                    index = list(table.c.keys()).index(key)
                    out[db.db_id, name] = {r[index]: tuple(r) for r in rows}
        return out

    def state(self) -> tuple:
        """A digest of every row of every database, in one query per engine: PostgreSQL hashes
        its rows' text itself; SQLite's rows (JSON is text there) are read whole."""
        if self._state is None:
            out = []
            for engine, dbs in itertools.groupby(self.dbs.values(), key=lambda db: db.engine):
                dbs = list(dbs)
                with engine.connect() as conn:
                    if dbs[0].dialect == "postgresql":
                        out.append(tuple(conn.exec_driver_sql("SELECT " + ", ".join(
                            f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.{key}), ''))"
                            f' FROM "{db.schema}".{name} t)'
                            for db in dbs for name, key in (("agno_sessions", "session_id"), ("agno_runs", "run_id"))
                            if name == "agno_sessions" or db.runs is not None)).one()))
                    else:
                        out.append(tuple(tuple(conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY {key}").all())
                                         for name, key in (("agno_sessions", "session_id"), ("agno_runs", "run_id"))))
            self._state = tuple(out)
        return self._state

    def touched(self) -> None:
        """The databases were written to: the digest is computed again."""
        self._state = None

    def row(self, db_id: str, session_id: str) -> dict | None:
        db = self.dbs[db_id]
        with db.connect() as conn:
            found = conn.execute(select(db.sessions).where(db.sessions.c.session_id == session_id)).mappings().first()
        return dict(found) if found else None

    def add_session(self, db_id: str, session_id: str, session_type: str = "agent", **values) -> None:
        db = self.dbs[db_id]
        with db.connect() as conn, conn.begin():
            conn.info["test_layout"] = LAYOUTS[db_id]
            make_session(conn, session_id, session_type, **values)
        self.touched()

    def reseed(self, db_id: str, session_ids) -> None:
        """Put seeded sessions back as they were seeded (the test changed or deleted them)."""
        self.drop_sessions(db_id, session_ids)
        with self.dbs[db_id].connect() as conn, conn.begin():
            _seed(conn, LAYOUTS[db_id], [s for s in SEEDS if s.session_id in session_ids])
        self.touched()

    def drop_sessions(self, db_id: str, session_ids) -> None:
        db = self.dbs[db_id]
        with db.connect() as conn, conn.begin():
            conn.execute(delete(db.sessions).where(db.sessions.c.session_id.in_(list(session_ids))))
        self.touched()


def diff(before: dict, after: dict, ignore=()) -> list[str]:
    """What changed between two snapshots, keys in `ignore` left out."""
    out = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        for key in sorted(set(old) | set(new), key=repr):
            if key in ignore or old.get(key) == new.get(key):
                continue
            what = "added" if key not in old else "deleted" if key not in new else "changed"
            out.append(f"{table[0]}.{table[1]} {what} {key[:60]!r}")
    return out


LAYOUTS = {"db1": "pg-agno3", "legacy": "pg-agno2", "lite": "sqlite"}  # as tests/factories.py knows them


def _seed(conn, layout: str, seeds=SEEDS) -> None:
    conn.info["test_layout"] = layout
    for s in seeds:
        make_session(conn, s.session_id, s.type, user_id=s.user_id, created_at=1_790_000_000 + 10 * SEEDS.index(s),
                     session_data={"session_name": s.name} if s.name is not None else None,
                     **{f"{s.type}_id": s.component})
        for run_id, created, status in s.runs:
            add_run(conn, s.session_id, agent_run(run_id, s.session_id, created_at=created, status=status,
                                                  user_id=s.user_id))


@pytest.fixture(scope="module")
def world(pg_server, tmp_path_factory):
    with new_database(pg_server, f"agno_hostile_{secrets.token_hex(4)}") as url:
        pg_url = url.render_as_string(hide_password=False)
        sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'agno.db'}"
        settings = Settings(databases={
            "db1": DatabaseConfig("db1", pg_url),
            "legacy": DatabaseConfig("legacy", pg_url, schema="legacy"),
            "lite": DatabaseConfig("lite", sqlite_url),
        }, default_db_id="db1", default_db_explicit=True)
        pg = create_engine(pg_url)
        lite = create_sqlite_engine(settings.databases["lite"], settings)
        with pg.begin() as conn:
            store.bootstrap_tables(conn, "ai")
            _seed(conn, "pg-agno3")
        with pg.connect() as conn:
            conn = conn.execution_options(schema_translate_map={"ai": "legacy"})
            with conn.begin():
                store.bootstrap_tables(conn, "legacy", "agno2")
                _seed(conn, "pg-agno2")
        with lite.begin() as conn:
            store.bootstrap_tables(conn, "ai")
            _seed(conn, "sqlite")
        app = create_app({"TESTING": True, "SETTINGS": settings})
        w = World(app, {
            "db1": Db("db1", pg, "ai", tables.sessions, tables.runs, "postgresql"),
            "legacy": Db("legacy", pg, "legacy", tables.legacy_sessions, None, "postgresql"),
            "lite": Db("lite", lite, None, tables.sessions, tables.runs, "sqlite"),
        })
        w.baseline = w.snapshot()
        try:
            yield w
        finally:
            app.extensions["engines"].dispose()
            pg.dispose()
            lite.dispose()


@pytest.fixture
def unchanged(world):
    """After the test, every database holds exactly what it was seeded with."""
    yield
    leftover = diff(world.baseline, world.snapshot())
    assert not leftover, f"the databases differ from their seed after the test: {leftover[:5]}"


# ---------------------------------------------------------------------------------------------
# Requests with raw paths and query strings (the test client would percent-decode lossily).


def wsgi_path(value: str | bytes) -> str:
    """A PATH_INFO as a server passes it: the decoded bytes, one latin-1 character each."""
    return (value if isinstance(value, bytes) else value.encode("utf-8")).decode("latin-1")


def qs(params) -> str:
    """A percent-encoded query string; values may be bytes (sent as they are, percent-encoded)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def send(client, method: str, path_info: str, query: str = "", *, body: bytes | None = None,
         content_type: str | None = "application/json", environ: dict | None = None):
    """One request with this exact PATH_INFO and QUERY_STRING (a dict environ or a path given to
    the test client would be decoded again, with U+FFFD for bad bytes)."""
    env = EnvironBuilder(path="/", method=method).get_environ()
    env.update(PATH_INFO=path_info, QUERY_STRING=query)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        env.pop(key, None)
    if body is not None:
        env.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        if content_type is not None:
            env["CONTENT_TYPE"] = content_type
    env.update(environ or {})
    return client.open(Request(env))


def detail_of(resp):
    body = resp.get_json(silent=True)
    return body.get("detail") if isinstance(body, dict) else None


def clear_detail(resp) -> bool:
    """A non-empty `detail` string, or FastAPI's list of items with type, loc and msg."""
    detail = detail_of(resp)
    if isinstance(detail, str):
        return bool(detail.strip())
    return bool(detail) and isinstance(detail, list) and all(
        isinstance(i, dict) and i.get("type") and isinstance(i.get("loc"), list) and i.get("msg") for i in detail)


def item_types(resp, loc_prefix: list | None = None) -> set:
    detail = detail_of(resp)
    if not isinstance(detail, list):
        return set()
    return {i["type"] for i in detail if loc_prefix is None or i.get("loc", [])[:len(loc_prefix)] == loc_prefix}


ANY_4XX = 0


@dataclass
class Expect:
    """The promised answer: a status, and either a detail string, a 422 item type (at a location
    prefix) or a check of the body; `change` names the one session a 2xx may change."""
    status: int
    detail: str | None = None
    item: str | None = None
    loc: list | None = None
    check: object = None
    change: str | None = None


def verdict(resp, expect: Expect) -> str | None:
    """None when the answer keeps the promise, else what is wrong."""
    if resp.status_code >= 500 and expect.status < 500:
        return f"{resp.status_code} {resp.get_data()[:160]!r}"
    if expect.status == ANY_4XX and not 400 <= resp.status_code < 500:
        return f"status {resp.status_code}, expected a 4xx: {resp.get_data()[:160]!r}"
    if expect.status not in (ANY_4XX, resp.status_code):
        return f"status {resp.status_code}, expected {expect.status}: {resp.get_data()[:160]!r}"
    if resp.status_code >= 400 and not clear_detail(resp):
        return f"{resp.status_code} without a clear detail: {resp.get_data()[:160]!r}"
    if expect.detail is not None and detail_of(resp) != expect.detail:
        return f"detail {str(detail_of(resp))[:160]!r}, expected {expect.detail[:160]!r}"
    if expect.item is not None and expect.item not in item_types(resp, expect.loc):
        return f"no {expect.item} item at {expect.loc}: {resp.get_data()[:200]!r}"
    if expect.check is not None:
        return expect.check(resp)
    return None


def run_case(world, sc, label: str, expect: Expect, method: str, path_info: str, query: str = "", *,
             client=None, **kwargs) -> None:
    """Send one request (see `send`), then hold it to its promise and to the databases' rows:
    none may change, or only the session `expect.change` names."""
    before = world.snapshot() if expect.change else world.state()
    resp = send(client or world.client, method, path_info, query, **kwargs)
    world.touched()
    problem = verdict(resp, expect)
    if expect.change:
        changed = diff(before, world.snapshot(), ignore={expect.change})
    else:
        changed = [] if world.state() == before else diff(world.baseline, world.snapshot()) or ["(not seeded rows)"]
    if changed:
        problem = (problem + "; " if problem else "") + f"rows changed: {changed[:4]}"
    sc.record(problem is None, f"{label}: {problem}")


# ---------------------------------------------------------------------------------------------
# The route table and the OpenAPI document.


def route_methods(app) -> list[tuple[object, str]]:
    return sorted(((rule, m) for rule in app.url_map.iter_rules() for m in rule.methods - SKIPPED_METHODS),
                  key=lambda x: (x[0].rule, x[1]))


def openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def openapi(world) -> dict:
    return world.client.get("/openapi.json").get_json()


def resolve(doc: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(doc: dict, rule, method: str) -> dict | None:
    return doc["paths"].get(openapi_path(rule), {}).get(method.lower())


def parameters(doc: dict, op: dict) -> list[dict]:
    return [resolve(doc, p) for p in op.get("parameters", [])]


# Valid values for the path arguments that are not under test.
PATH_DEFAULTS = {"session_id": "s1", "run_id": "r1", "storage_key": "k", "filename": "no-such-asset.css"}


def fill(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(m.group(1), PATH_DEFAULTS.get(m.group(1), "x")),
                  rule.rule)


# A body that would succeed on each write route, so that only the hostile part can fail it.
def valid_body(endpoint: str) -> dict | None:
    return {
        "sessions.create_session": {"session_id": "hostile-must-not-exist"},
        "sessions.update_session": {"session_name": "HOSTILE WRITE"},
        "sessions.rename_session": {"session_name": "HOSTILE WRITE"},
        "sessions.delete_sessions": {"session_ids": ["s1"], "session_types": ["agent"]},
        "adk.create_session": {"sessionId": "hostile-must-not-exist"},
        "adk.update_session": {"stateDelta": {"hostile": 1}},
    }.get(endpoint if not is_adk(endpoint) else "adk." + endpoint.split(".")[1])


# ---------------------------------------------------------------------------------------------
# 1. Path ids: every argument of every route.


def path_expect(endpoint: str, arg: str, value: str) -> Expect:
    """The answer to a hostile path argument (the other arguments valid)."""
    # Routing first: a `/` ends a plain argument, and werkzeug's `path` converter does not
    # match a line break; either way no route matches.
    if ("/" in value and arg not in ("storage_key", "filename")) or ("\n" in value and arg == "storage_key"):
        return Expect(404, "Not Found")
    if is_adk(endpoint):  # the database is agno's: no value is looked at
        return Expect(404, ADK_ON_AGNO.format("db1"))
    if endpoint == "sessions.get_session_media":
        return Expect(503, MEDIA_DETAIL)
    nul = "\x00" in value
    if endpoint == "sessions.delete_session":
        return Expect(204, check=lambda r: None if r.get_data() == b"" else "a body on 204")
    if endpoint in ("sessions.get_session", "sessions.update_session", "sessions.rename_session"):
        return Expect(422, item="string_no_nul", loc=["path", arg]) if nul else \
            Expect(404, f"Session with id '{value}' not found")
    if endpoint in ("sessions.get_session_runs", "sessions.get_session_run_previews") or \
            (endpoint == "sessions.get_session_run" and arg == "session_id"):
        return Expect(422, item="string_no_nul", loc=["path", arg]) if nul else \
            Expect(404, f"Session with ID {value} not found")
    if endpoint == "sessions.get_session_run":
        return Expect(422, item="string_no_nul", loc=["path", arg]) if nul else \
            Expect(404, f"Run with ID {value} not found in session s1")
    if endpoint in ("openapi.docs_asset", "static"):
        return Expect(404, "Not Found")
    # A route this suite does not know yet: the general promise (a 4xx with a detail).
    return Expect(ANY_4XX)




def test_path_ids(world, scenario, unchanged):
    sc = scenario(ROW_PATHS)
    doc = openapi(world)
    covered, unrouted = set(), []
    for rule, method in route_methods(world.app):
        op = operation(doc, rule, method)
        unrouted += [(method, rule.rule, p["name"]) for p in (parameters(doc, op) if op else ())
                     if p["in"] == "path" and p["name"] not in rule.arguments]
        body = valid_body(rule.endpoint)
        body = json.dumps(body).encode() if body else None
        for arg in sorted(rule.arguments):
            for label, value in STRINGS.items():
                run_case(world, sc, f"{method} {rule.rule} {arg}={label}", path_expect(rule.endpoint, arg, value),
                         method, wsgi_path(fill(rule, {arg: value})), body=body)
            for label, raw in BAD_UTF8.items():
                path_info = wsgi_path(fill(rule, {arg: "@SLOT@"}).encode().replace(b"@SLOT@", raw))
                run_case(world, sc, f"{method} {rule.rule} {arg}=invalid UTF-8 {label}", Expect(400, BAD_PATH_UTF8),
                         method, path_info, body=body)
            covered.add((rule.rule, method, arg))
        # The session routes again on the legacy and SQLite databases, with the values most
        # likely to differ there (NUL is storable in SQLite; LIKE and quotes; the index limit).
        if rule.endpoint.startswith("sessions."):
            for db_id, arg in itertools.product(("legacy", "lite"), sorted(rule.arguments)):
                for label in ("NUL", "quote", "LIKE %", "LIKE _", "12,000 random characters", "control characters"):
                    value = STRINGS[label]
                    run_case(world, sc, f"[{db_id}] {method} {rule.rule} {arg}={label}",
                             path_expect(rule.endpoint, arg, value), method, wsgi_path(fill(rule, {arg: value})),
                             qs([("db_id", db_id)]), body=body)
    sc.check()
    assert not unrouted, f"documented path parameters that are not routed: {unrouted}"
    walked = {(r.rule, m, a) for r, m in route_methods(world.app) for a in r.arguments}
    assert walked <= covered, f"path arguments never sent a hostile value: {sorted(walked - covered)}"


def test_literal_ids_are_found_and_only_they_change(world, scenario, unchanged):
    """Ids made of metacharacters, control characters or 12,000 characters are plain ids: each is
    found, renamed and deleted by its exact value, and no other row moves."""
    sc = scenario(ROW_PATHS)
    for db_id in world.dbs:
        q = qs([("db_id", db_id)])
        for sid in sorted(SEEDED_IDS - {"s1", "s2", "s3", "s4", "s5"}):
            path, short = wsgi_path("/sessions/" + sid), f"[{db_id}] {sid[:20]!r}"
            run_case(world, sc, f"GET {short}",
                     Expect(200, check=lambda r, s=sid: None if r.get_json()["session_id"] == s else "another session"),
                     "GET", path, q)
            run_case(world, sc, f"runs of {short}",
                     Expect(200, check=lambda r: None if r.get_json() == [] else "runs of another session"),
                     "GET", path + "/runs", q)
            run_case(world, sc, f"rename {short}",
                     Expect(200, change=sid, check=lambda r, s=sid, d=db_id: None if (
                         (world.row(d, s)["session_data"] or {}).get("session_name") == "renamed literally")
                         else "the name did not land on the literal id"),
                     "POST", path + "/rename", q, body=json.dumps({"session_name": "renamed literally"}).encode())
            run_case(world, sc, f"DELETE {short}",
                     Expect(204, change=sid, check=lambda r, s=sid, d=db_id: None if world.row(d, s) is None
                            else "the literal id was not deleted"),
                     "DELETE", path, q)
            world.reseed(db_id, {sid})
    sc.check()


# ---------------------------------------------------------------------------------------------
# 2. Query parameters: every parameter of every documented operation.


def like(name: str, raw: str, dialect: str) -> bool:
    """AgentOS's name filter, `coalesce(name, '') ILIKE '%' || raw || '%'`, computed in Python:
    `%` and `_` are wildcards; PostgreSQL escapes with a backslash, SQLite's LIKE has no escape."""
    pattern, regex, i = "%" + raw + "%", "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and dialect == "postgresql" and i + 1 < len(pattern):
            regex, i = regex + re.escape(pattern[i + 1]), i + 2
            continue
        regex, i = regex + (".*" if ch == "%" else "." if ch == "_" else re.escape(ch)), i + 1
    return re.fullmatch(regex, name, re.S | re.I) is not None


def listed(expected_ids, total: int | None = None):
    def check(resp):
        body = resp.get_json()
        got = sorted(i["session_id"] for i in body["data"])
        want_total = len(expected_ids) if total is None else total
        if got != sorted(expected_ids) or body["meta"]["total_count"] != want_total:
            return (f"listed {[g[:12] for g in got]} of {body['meta']['total_count']},"
                    f" expected {sorted(e[:12] for e in expected_ids)} of {want_total}")
        return None
    return check


def runs_listed(expected_ids):
    def check(resp):
        got = [r["run_id"] for r in resp.get_json()]
        return None if got == expected_ids else f"runs {got}, expected {expected_ids}"
    return check


OWNER_404 = {  # user_id that is not s1's owner, on the routes that look s1 up
    "sessions.get_session": "Session with id 's1' not found",
    "sessions.update_session": "Session with id 's1' not found",
    "sessions.rename_session": "Session with id 's1' not found",
    "sessions.get_session_runs": "Session with ID s1 not found",
    "sessions.get_session_run_previews": "Session with ID s1 not found",
    "sessions.get_session_run": "Session with ID s1 not found",
}


def integer_expect(endpoint: str, name: str, value: str) -> Expect | None:
    loc = ["query", name]
    if not re.fullmatch(r"-?[0-9]+", value):
        return Expect(422, item="int_parsing", loc=loc)
    if len(value.lstrip("-")) > 4300:
        return Expect(422, item="int_parsing_size", loc=loc)
    number, s1 = int(value), SEEDS[0]
    if endpoint == "sessions.list_sessions" and name == "limit":
        return Expect(422, item="greater_than_equal", loc=loc) if number < 1 else Expect(200, check=listed(SEEDED_IDS))
    if endpoint == "sessions.list_sessions" and name == "page":
        # past the end: an empty page with the real total (AgentOS: 500 past 2^63, §5.3)
        return Expect(422, item="greater_than_equal", loc=loc) if number < 1 else \
            Expect(200, check=listed([], total=len(SEEDS)))
    if name == "created_after":
        return Expect(200, check=runs_listed([r for r, t, _ in s1.runs if t >= number]))
    if name == "created_before":
        return Expect(200, check=runs_listed([r for r, t, _ in s1.runs if t <= number]))
    return None


def query_expect(endpoint: str, param: dict, value: str, dialect: str) -> Expect | None:
    """The answer to one hostile value of one query parameter; None if this suite has none."""
    name, schema = param["name"], param.get("schema", {})
    loc = ["query", name]
    if "\x00" in value and schema.get("pattern") == "^[^\\u0000]*$":
        return Expect(422, item="string_no_nul", loc=loc)
    if schema.get("enum"):
        return Expect(422, item="enum", loc=loc)
    if schema.get("type") == "boolean":
        return Expect(422, item="bool_parsing", loc=loc)
    if schema.get("type") == "array" and name == "status":
        return Expect(400, check=lambda r: None if str(detail_of(r)).startswith("Invalid status value(s)")
                      else f"detail {detail_of(r)!r}")
    if schema.get("type") == "integer":
        return integer_expect(endpoint, name, value)
    if name == "db_id":
        return Expect(404, f"No database found with id '{value}'")
    if name == "table":
        return Expect(400, "The db_id query parameter is required when passing a table")
    if endpoint == "sessions.list_sessions" and name in ("user_id", "component_id", "session_name", "sort_by"):
        match = {
            "user_id": lambda s: s.user_id == value,
            "component_id": lambda s: s.component == value,
            "session_name": lambda s: like(s.name or "", value, dialect),
            "sort_by": lambda s: True,  # not a column: no ORDER BY, every session
        }[name]
        return Expect(200, check=listed([s.session_id for s in SEEDS if match(s)]))
    if name == "user_id" and endpoint in OWNER_404:
        return Expect(404, OWNER_404[endpoint])
    if name == "user_id" and endpoint in ("sessions.delete_session", "sessions.delete_sessions"):
        return Expect(204)  # someone else's session: nothing deleted (the snapshot says so)
    return None


SQL_PARAMS = ("user_id", "component_id", "session_name", "sort_by", "limit", "page", "created_after", "created_before")
LAYOUT_VALUES = ("NUL", "quote", "LIKE %", "LIKE _", "LIKE escape", "backslash", "statement", "12,000 random characters",
                 "number 2^63", "number 2^64", "number -2^63-1", "number 4,301 digits")


# Parameters checked before any database is reached get one value of each kind.
CHECKED_VALUES = ("NUL", "control characters", "CR LF", "10,001 characters", "statement", "LIKE %", "backslash",
                  "unicode controls")


def query_values(param: dict) -> dict:
    values = dict(STRINGS)
    if param["name"] not in SQL_PARAMS:
        values = {k: v for k, v in values.items() if k in CHECKED_VALUES}
    if param.get("schema", {}).get("type") == "integer":
        values.update({f"number {k}": v for k, v in NUMBERS.items()})
    return values


def test_query_parameters(world, scenario, unchanged):
    sc = scenario(ROW_QUERY)
    doc = openapi(world)
    covered, declared, unknown = set(), set(), []
    for db_id in world.dbs:
        dialect = world.dbs[db_id].dialect
        for rule, method in route_methods(world.app):
            op = operation(doc, rule, method)
            path = wsgi_path(fill(rule, {}))
            body = valid_body(rule.endpoint)
            body = json.dumps(body).encode() if body else None
            base = [] if db_id == "db1" else [("db_id", db_id)]
            if db_id == "db1":
                # Every route, documented or not: a query that is not UTF-8 is refused.
                for label, raw in ((k, BAD_UTF8[k]) for k in ("0xFF", "surrogate")):
                    run_case(world, sc, f"{method} {rule.rule} ?x=invalid UTF-8 {label}", Expect(400, BAD_QUERY_UTF8),
                             method, path, qs([("x", raw)]), body=body)
                run_case(world, sc, f"{method} {rule.rule} raw byte in the query", Expect(400, BAD_QUERY_UTF8),
                         method, path, "user_id=\xff\xfe", body=body)
                covered.add((rule.rule, method, "(any)"))
            if op is None:
                continue
            for param in parameters(doc, op):
                if param["in"] != "query":
                    continue
                declared.add((rule.rule, method, param["name"]))
                values = query_values(param)
                if db_id != "db1":
                    # The legacy and SQLite databases: the parameters that reach SQL, with the values
                    # most likely to differ there (the others are refused before any database).
                    if param["name"] not in SQL_PARAMS:
                        continue
                    values = {k: v for k, v in values.items() if k in LAYOUT_VALUES}
                for label, value in values.items():
                    expect = query_expect(rule.endpoint, param, value, dialect)
                    if expect is None:
                        unknown.append(f"{method} {rule.rule} ?{param['name']}={label}")
                        continue
                    query = qs((base if param["name"] != "db_id" else []) + [(param["name"], value)])
                    run_case(world, sc, f"[{db_id}] {method} {rule.rule} ?{param['name']}={label}", expect,
                             method, path, query, body=body)
                    if param["name"] == "table":  # and with the db_id it needs
                        run_case(world, sc, f"[{db_id}] {method} {rule.rule} ?db_id&table={label}",
                                 Expect(404, f"No database with id '{db_id}' has table '{value}'"),
                                 method, path, qs([("db_id", db_id), ("table", value)]), body=body)
                    covered.add((rule.rule, method, param["name"]))
    sc.check()
    assert not unknown, f"no expected answer in this suite for: {unknown[:10]} (add one)"
    routes = {(r.rule, m, "(any)") for r, m in route_methods(world.app)}
    missing = (routes | declared) - covered
    assert not missing, f"routes or query parameters never sent a hostile value: {sorted(missing)}"


def test_like_metacharacters_in_session_name(world, scenario, unchanged):
    """`session_name` is AgentOS's LIKE pattern (contract §5.16, kept on purpose): `%` and `_`
    match any text, a backslash makes them literal, and nothing else can leak out of it."""
    sc = scenario(ROW_QUERY)
    cases = [
        ("100\\%", "postgresql", ["s1"]),            # the literal '%': only "100% sure"
        ("100\\_", "postgresql", ["s3"]),            # the literal '_': only "100_ percent"
        ("100%", "postgresql", ["s1", "s2", "s3"]),  # a wildcard: "100% sure", "1000 sure", "100_ percent"
        ("100_", "postgresql", ["s1", "s2", "s3"]),
        ("k\\s", "postgresql", []),                  # a backslash before a letter is that letter
        ("back\\\\slash", "postgresql", ["s4"]),     # and two of them one backslash
        ("100\\%", "sqlite", []),                    # SQLite's LIKE has no escape character
        ("back\\slash", "sqlite", ["s4"]),
        ("%' OR 1=1 --", "postgresql", []),
        ("semi; -- /* c */", "postgresql", ["s5"]),
    ]
    for raw, dialect, expected in cases:
        assert sorted(s.session_id for s in SEEDS if like(s.name or "", raw, dialect)) == expected, raw
        for db_id in (d for d, db in world.dbs.items() if db.dialect == dialect):
            run_case(world, sc, f"[{db_id}] session_name={raw!r}", Expect(200, check=listed(expected)),
                     "GET", "/sessions", qs([("db_id", db_id), ("session_name", raw)]))
    sc.check()


# ---------------------------------------------------------------------------------------------
# 3. Headers: X-Request-ID (a documented parameter of every operation) and Authorization.

REQUEST_IDS = {"NUL": "a\x00b", "CR LF": "a\r\nX-Injected: 1", "10,001 characters": "r" * 10_001,
               "latin-1 bytes": "\xff\xfe", "quote": "' OR 1=1 --", "traversal": "../../etc/passwd", "empty": ""}
AUTHORIZATIONS = {"NUL": "Bearer \x00", "key and NUL": f"Bearer {SECURITY_KEY}\x00",
                  "key and CR LF": f"Bearer {SECURITY_KEY}\r\nX-Injected: 1", "10,001 characters": "Bearer " + "k" * 10_001,
                  "latin-1 bytes": "Bearer \xff\xfe", "quote": f"Bearer {SECURITY_KEY}' OR '1'='1",
                  "three words": f"Bearer {SECURITY_KEY} {SECURITY_KEY}", "basic": f"Basic {SECURITY_KEY}",
                  "empty": ""}
GENERATED_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")


def harmless(rule, method):
    """A request to the route that changes nothing when it works (writes aim at missing ids)."""
    path = wsgi_path(fill(rule, {"session_id": "no-such-session"} if method != "GET" else {}))
    body = {"sessions.create_session": {"session_state": 1},  # refused: 422
            "sessions.update_session": {"session_name": "x"}, "sessions.rename_session": {"session_name": "x"},
            "sessions.delete_sessions": {"session_ids": ["no-such-session"], "session_types": ["agent"]},
            }.get(rule.endpoint)
    return path, json.dumps(body).encode() if body is not None else None


def test_hostile_headers(world, scenario, unchanged):
    sc = scenario(ROW_HEADERS)
    doc = openapi(world)
    for rule, method in route_methods(world.app):
        op = operation(doc, rule, method)
        headers = [p for p in parameters(doc, op) if p["in"] not in ("query", "path")] if op else []
        unknown = [p["name"] for p in headers if p["name"] != "X-Request-ID"]
        assert not unknown, f"{method} {rule.rule}: header parameters without hostile values: {unknown}"
        path, body = harmless(rule, method)
        baseline = send(world.client, method, path, body=body).status_code
        for label, value in REQUEST_IDS.items():
            def check(resp, value=value):
                # a valid id (1-128 of [A-Za-z0-9._:/+=@-]) is echoed, any other replaced
                rid = resp.headers.get("X-Request-ID", "")
                if not GENERATED_ID.match(rid) or (rid == value) != bool(GENERATED_ID.match(value)):
                    return f"X-Request-ID answered {rid[:40]!r}"
                if "X-Injected" in resp.headers:
                    return "a header was injected"
                return None
            run_case(world, sc, f"{method} {rule.rule} X-Request-ID {label}", Expect(baseline, check=check),
                     method, path, body=body, environ={"HTTP_X_REQUEST_ID": value})
    # With OS_SECURITY_KEY set, a hostile Authorization header is a 401 wherever the key is needed
    # and changes nothing on the probes (which routes need it is the isolation suite's business).
    secured = create_app({"TESTING": True, "SETTINGS": dataclasses.replace(world.app.config["SETTINGS"],
                                                                            security_key=SECURITY_KEY)})
    try:
        client = secured.test_client()
        for rule, method in route_methods(secured):
            path, body = harmless(rule, method)
            baseline = send(client, method, path, body=body).status_code
            for label, value in AUTHORIZATIONS.items():
                expect = Expect(baseline) if baseline != 401 else Expect(
                    401, "Authorization header required" if not value else "Invalid authentication token")
                run_case(world, sc, f"{method} {rule.rule} Authorization {label}", expect, method, path,
                         client=client, body=body, environ={"HTTP_AUTHORIZATION": value})
    finally:
        secured.extensions["engines"].dispose()
    sc.check()


# ---------------------------------------------------------------------------------------------
# 4. Bodies and content types: every field of every documented request body.


def nest(depth: int, array: bool = False):
    value = 1
    for _ in range(depth):
        value = [value] if array else {"a": value}
    return value


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def nul_key(value) -> bool:
    if isinstance(value, dict):
        return any("\x00" in k or nul_key(v) for k, v in value.items())
    return isinstance(value, list) and any(map(nul_key, value))


def without_nul(value):
    """A value as agno stores it: NUL removed from every string inside JSON."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {k: without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def holds(node, value) -> bool:
    """`value` is somewhere in the stored row (a dict may sit among other keys)."""
    if node == value or (isinstance(value, dict) and isinstance(node, dict)
                         and all(k in node and node[k] == v for k, v in value.items())):
        return True
    if isinstance(node, dict):
        return any(holds(v, value) for v in node.values())
    return isinstance(node, list) and any(holds(v, value) for v in node)


BODY_VALUES = {
    "NUL string": "a\x00b",
    **{label: STRINGS[label] for label in ("control characters", "CR LF", "10,001 characters",
                                           "12,000 random characters", "statement", "LIKE %", "unicode controls")},
    "2^64": 2**64, "-2^63-1": -2**63 - 1,
    "object with a NUL key": {"k\x00": 1},
    "hostile object": {"n": 2**64, "neg": -2**63 - 1, "s": "a\x00b'; --", "k'--": "%_\\", "ctl": "\x01\x1b"},
    f"{MAX_DEPTH + 1} levels": nest(MAX_DEPTH + 1),
    f"{MAX_DEPTH + 1} nested arrays": nest(MAX_DEPTH + 1, array=True),
}
LAYOUT_BODY_VALUES = ("NUL string", "quote", "12,000 random characters", "2^64", "hostile object", f"{MAX_DEPTH + 1} levels")
BODY_VALUES["quote"] = STRINGS["quote"]

# Whole bodies that cannot be decoded, or are not an object.
WHOLE_BODIES = {
    **{f"invalid UTF-8 {k}": (b'{"session_name": "' + v + b'"}', 400, BODY_PARSE) for k, v in BAD_UTF8.items()},
    "100,000 nested arrays": (b"[" * 100_000 + b"]" * 100_000, 400, BODY_PARSE),
    "5,000 nested objects": (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, 400, BODY_PARSE),
    "4,301-digit integer": (b'{"x": ' + b"9" * 4_301 + b"}", 400, BODY_PARSE),
    "1e400": (b'{"x": 1e400}', 422, "json_invalid"),
    "-1e400": (b'{"x": -1e400}', 422, "json_invalid"),
    "NaN": (b'{"x": NaN}', 422, "json_invalid"),
    "-Infinity": (b'{"x": -Infinity}', 422, "json_invalid"),
    "truncated": (b'{"session_name":', 422, "json_invalid"),
    "raw control character": (b'{"session_name": "a\x01b"}', 422, "json_invalid"),
    "raw NUL": (b'{"session_name": "a\x00b"}', 422, "json_invalid"),
    "null": (b"null", 422, None),
    "array": (b"[1, 2]", 422, None),
    "string": (b'"s"', 422, None),
    "2^64": (str(2**64).encode(), 422, None),
}
CONTENT_TYPES = {"none": None, "text/plain": "text/plain", "form": "application/x-www-form-urlencoded",
                 "multipart": "multipart/form-data; boundary=x", "multipart without boundary": "multipart/form-data",
                 "xml": "application/xml", "text/json": "text/json", "application/jsonx": "application/jsonx",
                 "json-seq": "application/json-seq", "NUL": "application/json\x00", "any": "*/*",
                 "10,001 characters": "application/" + "j" * 10_001}

BASE_BODIES = {  # the rest of a body, valid; the field under test is set on top of it
    "sessions.create_session": {},
    "sessions.update_session": {},
    "sessions.rename_session": {},
    "sessions.delete_sessions": {"session_ids": ["no-such-session"], "session_types": ["agent"]},
}
SUCCESS = {"sessions.create_session": 201, "sessions.update_session": 200, "sessions.rename_session": 200,
           "sessions.delete_sessions": 204}


def body_schema(doc, op):
    content = (op.get("requestBody") or {}).get("content", {})
    return resolve(doc, content["application/json"]["schema"]) if "application/json" in content else None


def unwrap(doc, schema):
    schema = resolve(doc, schema)
    for alt in schema.get("anyOf", []):
        if resolve(doc, alt).get("type") != "null":
            return resolve(doc, alt)
    return schema


def kind_of(schema) -> str | None:
    types = schema.get("type") or []
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    if schema.get("enum"):
        return "enum"
    if not types:
        return "any"
    if types == ["string"]:
        return "date-time" if schema.get("format") == "date-time" else "string"
    return types[0] if types in (["object"], ["array"]) else None  # None: no oracle here for this type


def body_fields(doc, schema, path=()):
    """(path, schema, kind) of every field: nested objects and list items too."""
    for name, sub in schema.get("properties", {}).items():
        sub = unwrap(doc, sub)
        kind = kind_of(sub)
        yield path + (name,), sub, kind
        if kind == "object" and sub.get("properties"):
            yield from body_fields(doc, sub, path + (name,))
        if kind == "array":
            items = unwrap(doc, sub.get("items", {}))
            yield path + (name, 0), items, kind_of(items)


def place(base: dict, path: tuple, value, doc, schema) -> dict:
    """`base` with `value` at `path`; a nested object gets its required siblings ("s")."""
    body = json.loads(json.dumps(base))
    if len(path) == 2 and isinstance(path[1], int):
        body[path[0]] = [value]
    elif len(path) == 2:
        parent = unwrap(doc, schema["properties"][path[0]])
        body[path[0]] = {**{k: "s" for k in parent.get("required", [])}, path[1]: value}
    else:
        body[path[0]] = value
    return body


def field_expect(kind, schema, value, loc, success, inside=None):
    """(Expect, value stored on success or None). `inside`: the location of the JSON object the
    field sits in, which is checked as a whole first (its keys, its depth; NUL removed from its
    strings), as agno's summary is."""
    if inside is not None:
        if nul_key(value):
            return Expect(422, item="json_no_nul", loc=inside), None
        if depth_of(value) + len(loc) - len(inside) > MAX_DEPTH:
            return Expect(422, item="json_too_deep", loc=inside), None
        value = without_nul(value)
    if kind == "enum":
        return Expect(422, item="enum", loc=loc), None
    if kind in ("string", "date-time"):
        if not isinstance(value, str):
            return Expect(422, item="string_type", loc=loc), None
        if "\x00" in value and schema.get("pattern") == "^[^\\u0000]*$":
            return Expect(422, item="string_no_nul", loc=loc), None
        if kind == "date-time":
            return Expect(422, item="datetime_from_date_parsing", loc=loc), None
        return Expect(success), without_nul(value)
    if kind == "array":
        if not isinstance(value, list):
            return Expect(422, item="list_type", loc=loc), None
        return None, None  # decided by the items (the walk sends them)
    if kind == "object" and not isinstance(value, dict):
        return Expect(422, item="dict_type", loc=loc), None
    if nul_key(value):
        return Expect(422, item="json_no_nul", loc=loc), None
    if depth_of(value) > MAX_DEPTH:
        return Expect(422, item="json_too_deep", loc=loc), None
    if kind == "object" and schema.get("additionalProperties") is False and set(value) - set(schema["properties"]):
        return Expect(422, item="extra_forbidden", loc=loc), None
    return Expect(success), without_nul(value)


_targets = itertools.count()


def body_case(world, sc, label, db_id, rule, method, body: bytes, expect: Expect, *, content_type="application/json",
              stored=None, type_=None) -> None:
    """One write with a disposable target session (PATCH, rename): on a 4xx nothing changes, on
    a 2xx only the target (or the created session) does, and it holds the value literally."""
    target = None
    if "session_id" in rule.arguments:
        target = f"tgt-{next(_targets)}"
        world.add_session(db_id, target, user_id="ut", session_data={"session_name": "target"})
    query = qs([("db_id", db_id)] + ([("type", type_)] if type_ else []))
    success = expect.status < 300
    before = world.snapshot() if success else world.state()
    resp = send(world.client, method, wsgi_path(fill(rule, {"session_id": target or "x"})), query, body=body,
                content_type=content_type)
    world.touched()
    problem = verdict(resp, expect)
    created = resp.get_json(silent=True).get("session_id") if resp.status_code == 201 else None
    if success:
        changed = diff(before, world.snapshot(), ignore={target, created})
        row = world.row(db_id, target or created) if (target or created) else None
        if problem is None and stored is not None and not (row and holds(row, stored)):
            problem = f"{json.dumps(stored)[:80]} is not what was stored"
    else:
        changed = [] if world.state() == before else diff(world.baseline, world.snapshot()) or ["(not seeded)"]
    if changed:
        problem = (problem + "; " if problem else "") + f"rows changed: {changed[:4]}"
    sc.record(problem is None, f"[{db_id}] {label}: {problem}")
    leftovers = {target, created} - {None}
    if leftovers:
        world.drop_sessions(db_id, leftovers)


def test_bodies(world, scenario, unchanged):
    sc = scenario(ROW_BODIES)
    doc = openapi(world)
    covered, declared = set(), set()
    for rule, method in route_methods(world.app):
        op = operation(doc, rule, method)
        schema = body_schema(doc, op) if op else None
        if schema is None:
            continue
        endpoint = rule.endpoint
        if is_adk(endpoint):
            # On agno's databases a valid ADK write is a 404 that writes nothing; the fields get
            # their hostile values on an ADK database (test_adk_hostile.py walks them).
            valid = valid_body(endpoint)
            for db_id in world.dbs:
                body_case(world, sc, f"{method} {rule.rule} on agno's tables", db_id, rule, method,
                          json.dumps(valid).encode() if valid is not None else b"{}",
                          Expect(404, ADK_ON_AGNO.format(db_id)))
            continue
        assert endpoint in BASE_BODIES, f"{method} {rule.rule}: a request body this suite has no base body for"
        shape = Expect(422, item="missing", loc=["body", "session_name"]) if endpoint == "sessions.rename_session" \
            else Expect(422, item="model_attributes_type", loc=["body"])
        for db_id in world.dbs:
            values = BODY_VALUES if db_id == "db1" else {k: BODY_VALUES[k] for k in LAYOUT_BODY_VALUES}
            for path, field_schema, kind in body_fields(doc, schema):
                declared.add((rule.rule, method, path))
                assert kind is not None, f"{method} {rule.rule} {path}: no expected answers for type {field_schema}"
                loc = ["body", *path]
                inside = ["body", path[0]] if len(path) > 1 and not isinstance(path[1], int) else None
                for label, value in values.items():
                    expect, stored = field_expect(kind, field_schema, value, loc, SUCCESS[endpoint], inside)
                    if expect is None:
                        continue
                    if path == ("session_id",) and value == UNCOMPRESSIBLE and world.dbs[db_id].dialect == "postgresql":
                        expect, stored = Expect(422, item="id_too_long", loc=loc), None  # past the btree entry limit
                    if endpoint == "sessions.delete_sessions":
                        stored = None  # deletes ids that do not exist: nothing to look for
                    type_ = path[0][:-3] if path[0] in ("team_id", "workflow_id") else None  # stored only for its type
                    body = place(BASE_BODIES[endpoint], path, value, doc, schema)
                    body_case(world, sc, f"{method} {rule.rule} {'.'.join(map(str, path))}={label}", db_id, rule,
                              method, json.dumps(body).encode(), expect, stored=stored, type_=type_)
                    covered.add((rule.rule, method, path))
            if db_id != "db1":
                continue
            for label, (raw, status, what) in WHOLE_BODIES.items():
                expect = shape if what is None else Expect(status, detail=what) if status == 400 else \
                    Expect(status, item=what, loc=None)
                body_case(world, sc, f"{method} {rule.rule} body {label}", db_id, rule, method, raw, expect)
            # Wrong and missing content types on a body that would otherwise succeed (the bulk
            # delete names s1: read as JSON, it would delete it).
            valid = json.dumps(valid_body(endpoint)).encode()
            for label, content_type in CONTENT_TYPES.items():
                body_case(world, sc, f"{method} {rule.rule} Content-Type {label}", db_id, rule, method, valid, shape,
                          content_type=content_type)
    sc.check()
    assert declared <= covered, f"body fields never sent a hostile value: {sorted(declared - covered)}"


# ---------------------------------------------------------------------------------------------
# 5. Bodies over the limit: 413 with a detail, and the body is never read whole.

LIMIT = 64 * 1024
OVERREAD = 64 * 1024  # what a read past the limit may take before it stops (werkzeug reads in chunks)


class Firehose(io.RawIOBase):
    """A request body of `size` bytes, made up as it is read, that counts what was read."""

    def __init__(self, size: int):
        super().__init__()
        self.size, self.consumed = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.consumed)
        buffer[:n] = b" " * n  # JSON whitespace: a body read whole would even parse
        self.consumed += n
        return n


def firehose_case(sc, world, client, label, rule, method, size, *, declared=None, chunked=False, expect_413: bool,
                  limit: int) -> None:
    stream = Firehose(size)
    environ = {"wsgi.input": stream, "CONTENT_TYPE": "application/json"}
    if chunked:  # as gunicorn passes a chunked request: no length, the stream ends the body
        environ.update({"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    else:
        environ["CONTENT_LENGTH"] = str(declared if declared is not None else size)
    path, _ = harmless(rule, method)
    before = world.state()
    resp = send(client, method, path, environ=environ)
    world.touched()
    if expect_413:
        problem = verdict(resp, Expect(413, TOO_LARGE))
        bound = limit + OVERREAD if chunked else 0
    else:  # a route without a body leaves it unread
        problem = None if resp.status_code < 500 or (
            rule.endpoint == "sessions.get_session_media" and resp.status_code == 503) else f"{resp.status_code}"
        bound = 0
    if stream.consumed > bound:
        problem = (problem + "; " if problem else "") + f"read {stream.consumed} bytes of {size} (at most {bound})"
    if world.state() != before:
        problem = (problem + "; " if problem else "") + "rows changed"
    sc.record(problem is None, f"{label}: {problem}")


def padded(size: int) -> bytes:
    """A bulk delete of a session that does not exist, `size` bytes long (trailing whitespace)."""
    body = json.dumps({"session_ids": ["no-such-session"], "session_types": ["agent"]}).encode()
    return body + b" " * (size - len(body))


def test_body_over_the_limit(world, scenario, unchanged):
    sc = scenario(ROW_LIMIT)
    doc = openapi(world)
    pg_url = world.dbs["db1"].engine.url.render_as_string(hide_password=False)
    # The limit as an operator sets it: AGNO_MAX_BODY_BYTES.
    limited = create_app({"TESTING": True, "ENV_VARS": {"AGNO_PG_DSN": pg_url, "AGNO_MAX_BODY_BYTES": str(LIMIT)}})
    try:
        client = limited.test_client()
        assert limited.config["SETTINGS"].max_body_bytes == LIMIT
        for rule, method in route_methods(limited):
            op = operation(doc, rule, method)
            takes_body = bool(op and op.get("requestBody"))
            for label, kwargs in (("Content-Length 64 MiB", {"size": 64 << 20}),
                                  ("chunked 64 MiB", {"size": 64 << 20, "chunked": True}),
                                  ("Content-Length 2^64", {"size": 1024, "declared": 2**64})):
                firehose_case(sc, world, client, f"{method} {rule.rule} {label}", rule, method, expect_413=takes_body,
                              limit=LIMIT, **kwargs)
        # The boundary, on the bulk delete (204, and nothing deleted): the limit itself passes.
        bulk = "/sessions"
        for size, status in ((LIMIT, 204), (LIMIT + 1, 413)):
            run_case(world, sc, f"DELETE /sessions body of {size} bytes", Expect(status, TOO_LARGE if status == 413 else None),
                     "DELETE", bulk, client=client, body=padded(size))
        for size, status in ((LIMIT, 204), (LIMIT + 1, 413)):
            stream = io.BytesIO(padded(size))
            run_case(world, sc, f"DELETE /sessions chunked body of {size} bytes",
                     Expect(status, TOO_LARGE if status == 413 else None), "DELETE", bulk, client=client,
                     environ={"wsgi.input": stream, "wsgi.input_terminated": True, "CONTENT_TYPE": "application/json"})
    finally:
        limited.extensions["engines"].dispose()
    # The default limit (16 MiB), on the app built without AGNO_MAX_BODY_BYTES.
    default = world.app.config["SETTINGS"].max_body_bytes
    assert default == 16 * 1024 * 1024, f"default limit {default}"
    for rule, method in route_methods(world.app):
        if rule.endpoint == "sessions.delete_sessions":
            firehose_case(sc, world, world.client, f"{method} {rule.rule} Content-Length 16 MiB + 1", rule, method,
                          default + 1, expect_413=True, limit=default)
            firehose_case(sc, world, world.client, f"{method} {rule.rule} chunked 17 MiB", rule, method,
                          17 << 20, chunked=True, expect_413=True, limit=default)
            run_case(world, sc, "DELETE /sessions body of 16 MiB", Expect(204), "DELETE", "/sessions",
                     body=padded(default))
    sc.check()


# ---------------------------------------------------------------------------------------------
# 6. The same over gunicorn, as production runs it: real sockets, a real chunked body.


def raw_http(port: int, request: bytes, timeout: float = 15) -> tuple[int | None, bytes, bytes]:
    """Send bytes as they are (no client library would send a raw 0xFF in a request line) and
    read the answer to the end: (status, head, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:  # reset after a 413: the server does not read what is left of the body
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return (int(match.group(1)) if match else None), head, body


def http_request(method: str, target: bytes, headers: dict | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", b"Host: localhost", b"Connection: close"]
    lines += [f"{k}: ".encode() + (v if isinstance(v, bytes) else str(v).encode()) for k, v in (headers or {}).items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(body: bytes, size: int = 8192) -> bytes:
    parts = [f"{len(body[i:i + size]):x}\r\n".encode() + body[i:i + size] + b"\r\n" for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_over_gunicorn(world, scenario, unchanged, tmp_path):
    """What the app promises holds behind gunicorn too; what gunicorn refuses itself (a request
    line past 8190 bytes, raw non-ASCII bytes in it, a header past 8190 bytes) is refused at once
    with a 4xx in the app's JSON shape (`detail`, written by gunicorn.conf.py's error writer) and
    the worker serves on."""
    sc = scenario(ROW_LIMIT)
    json_type = {"Content-Type": "application/json"}
    bulk = {**json_type, "Transfer-Encoding": "chunked"}
    cases = [
        ("chunked body of 1 MiB", 413, TOO_LARGE, http_request("POST", b"/sessions", bulk, chunked(b" " * (1 << 20)))),
        ("Content-Length 1 MiB", 413, TOO_LARGE,
         http_request("POST", b"/sessions", {**json_type, "Content-Length": 1 << 20}, b" " * (1 << 20))),
        ("Content-Length 2^64", 413, TOO_LARGE,
         http_request("POST", b"/sessions", {**json_type, "Content-Length": 2**64}, b"{}")),
        ("chunked bulk delete of exactly the limit", 204, None,
         http_request("DELETE", b"/sessions", bulk, chunked(padded(LIMIT)))),
        ("chunked bulk delete of the limit + 1", 413, TOO_LARGE,
         http_request("DELETE", b"/sessions", bulk, chunked(padded(LIMIT + 1)))),
        ("path %FF", 400, BAD_PATH_UTF8, http_request("GET", b"/sessions/%FF")),
        ("query %ED%A0%80", 400, BAD_QUERY_UTF8, http_request("GET", b"/sessions?user_id=%ED%A0%80")),
        ("path NUL", 422, None, http_request("GET", b"/sessions/a%00b")),
        ("path of 8,000 characters", 404, f"Session with id '{'i' * 8000}' not found",
         http_request("GET", b"/sessions/" + b"i" * 8000)),
        ("query of 8,000 characters", 200, None, http_request("GET", b"/sessions?user_id=" + b"i" * 8000)),
        ("limit 2^64", 200, None, http_request("GET", f"/sessions?limit={2**64}".encode())),
        ("limit of 4,301 digits", 422, None, http_request("GET", b"/sessions?limit=" + b"9" * 4301)),
    ]
    gunicorn_refusals = [
        ("path of 10,001 characters", http_request("GET", b"/sessions/" + b"i" * 10_001)),
        ("raw 0xFF in the path", http_request("GET", b"/sessions/\xff\xfe")),
        ("raw 0xFF in the query", http_request("GET", b"/sessions?user_id=\xff")),
        ("X-Request-ID of 10,001 characters", http_request("GET", b"/sessions", {"X-Request-ID": "r" * 10_001})),
        ("NUL in a header", http_request("GET", b"/sessions", {"X-Request-ID": b"a\x00b"})),
    ]
    url = world.dbs["db1"].engine.url.render_as_string(hide_password=False)
    with gunicorn(url, str(tmp_path), AGNO_MAX_BODY_BYTES=str(LIMIT)) as server:
        workers = server.worker_pids()
        for label, status, detail, request in cases:
            before = world.state()
            got, head, body = raw_http(server.port, request)
            world.touched()
            problem = None
            if got != status:
                problem = f"status {got}, expected {status}: {head[:80]!r} {body[:120]!r}"
            elif status >= 400:
                doc = json.loads(body) if body.startswith(b"{") else None
                found = doc.get("detail") if isinstance(doc, dict) else None
                if not found or (detail is not None and found != detail):
                    problem = f"detail {body[:160]!r}"
            if world.state() != before:
                problem = (problem + "; " if problem else "") + "rows changed"
            sc.record(problem is None, f"gunicorn {label}: {problem}")
        for label, request in gunicorn_refusals:
            got, head, body = raw_http(server.port, request)
            doc = json.loads(body) if body.startswith(b"{") else None
            sc.record(got is not None and 400 <= got < 500 and b"application/json" in head
                      and isinstance(doc, dict) and bool(doc.get("detail")),
                      f"gunicorn {label}: {got} {head[:80]!r} {body[:120]!r}")
        ready = server.client.request("GET", "/readyz")
        sc.record(ready.status == 200 and server.worker_pids() == workers,
                  f"after the hostile requests: /readyz {ready.status}, workers {workers} -> {server.worker_pids()}")
    sc.check()
