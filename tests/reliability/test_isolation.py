"""Isolation and auth: with `OS_SECURITY_KEY` set nothing but the probes answers without the key,
and with `user_id` given no route reads, changes or deletes another user's session.

Both walks derive what they test from the app itself, so a route added later is covered without
editing this file, and a route that cannot be covered fails it:

* auth: every rule of the URL map, every HTTP method (HEAD and OPTIONS included), path parameters
  filled with real and random values, with and without `db_id`, with a trailing slash; no token,
  a dozen wrong ones, then the right one. Only `/health`, `/healthz` and `/readyz` may answer
  without the key; a CORS preflight may, with its fixed text body and no data.
* isolation: the routes that take `user_id` come from the OpenAPI document's parameters; every
  `/sessions` rule needs a case below. Acting as another user (LIKE metacharacters, case and
  whitespace variants, the empty string) on agent, team and workflow sessions with runs: 404 with
  the contract's detail (204 for the deletes, 409 for a create, 503 for media), no other user's
  data in any body, and every row of `agno_sessions` and `agno_runs` unchanged after each write
  (and after the reads). Then the owner's own requests work (200, and writes change the rows): the
  checks are not vacuous. Run on an agno 3.x PostgreSQL database and on a SQLite file.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from app import http
from app.config import DatabaseConfig
from app.db.engines import create_sqlite_engine
from app.sessions import store
from tests.conftest import DB_ID, make_settings
from tests.factories import add_run, agent_run, make_session

KEY = "Sekr3t-key_of-the-OS"
PROBES = {"/health", "/healthz", "/readyz"}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REQUIRED = "Authorization header required"
INVALID = "Invalid authentication token"
MEDIA = "Media storage is not configured on AgentOS"

AUTH_ROW = "auth: every route without the token"
ISOLATION_ROW = "isolation: another user's session"
ADK_ISOLATION_ROW = "isolation: another user's or app's ADK session"
ADK_BLUEPRINTS = ("adk", "adk_api")

_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


# ---------------------------------------------------------------------------------------------
# Databases: seeding and snapshots


TYPES = ("agent", "team", "workflow")
# owner label -> stored user_id
OWNERS = {"a": "user-a", "b": "user-b", "anon": None, "empty": ""}


def secret(session_id: str) -> str:
    """A marker only this session's rows hold (state, name, run content)."""
    return f"SECRET-{session_id}-{uuid.uuid5(uuid.NAMESPACE_URL, session_id).hex[:12]}"


def _run(kind: str, run_id: str, session_id: str, user_id, n: int) -> dict:
    mark = secret(session_id)
    if kind == "agent":
        return agent_run(run_id, session_id, text=f"question {n} {mark}", answer=f"answer {n} {mark}",
                         user_id=user_id, created_at=1795000000 + n)
    if kind == "team":
        return {"run_id": run_id, "team_id": "ref-team", "team_name": "Ref Team", "session_id": session_id,
                "user_id": user_id, "input": {"input_content": f"team question {n} {mark}"},
                "content": f"team answer {n} {mark}", "content_type": "str", "status": "COMPLETED",
                "created_at": 1795000000 + n}
    return {"run_id": run_id, "workflow_id": "ref-workflow", "workflow_name": "Ref Workflow",
            "session_id": session_id, "user_id": user_id, "input": f"workflow input {n} {mark}",
            "content": f"workflow output {n} {mark}", "content_type": "str", "status": "COMPLETED",
            "created_at": 1795000000 + n, "step_results": [], "step_executor_runs": []}


def seed(conn) -> dict[str, dict]:
    """Sessions of every type for every owner, each with two runs: {session_id: facts}."""
    sessions = {}
    for label, user_id in OWNERS.items():
        for kind in TYPES:
            sid = f"{label}-{kind}"
            mark = secret(sid)
            make_session(conn, sid, kind, user_id=user_id,
                         session_data={"session_name": f"name of {sid} {mark}", "session_state": {"mark": mark}},
                         metadata={"mark": mark}, summary={"summary": f"summary {mark}", "topics": []})
            runs = [add_run(conn, sid, _run(kind, f"{sid}-run-{n}", sid, user_id, n))["run_id"] for n in (1, 2)]
            sessions[sid] = {"type": kind, "owner": user_id, "runs": runs, "secret": mark,
                             "name": f"name of {sid} {mark}"}
    return sessions


class Database:
    """A database of one layout with the seeded sessions; snapshots of every row."""

    def __init__(self, layout: str, url, engine):
        self.layout, self.url, self.engine = layout, url, engine
        self.prefix = "" if layout == "sqlite" else "ai."

    def _conn(self, connection):
        connection.info["test_layout"] = self.layout
        if self.layout == "sqlite":
            return connection.execution_options(schema_translate_map={"ai": None})
        return connection

    def create(self) -> dict:
        with self.engine.begin() as connection:
            conn = self._conn(connection)
            store.bootstrap_tables(conn, "ai", "agno2" if self.layout == "pg-agno2" else "agno3")
            sessions = seed(conn)
        with self.engine.connect() as connection:
            names = set(inspect(connection).get_table_names(schema=None if self.layout == "sqlite" else "ai"))
        self.tables = [t for t in ("agno_sessions", "agno_runs") if t in names]
        return sessions

    def snapshot(self) -> tuple:
        """Every row of agno's session and run tables, in key order: on PostgreSQL an md5 of each
        table's rows as JSON text (one round trip), on SQLite the rows themselves."""
        with self.engine.connect() as connection:
            if self.layout == "sqlite":
                return tuple(tuple(tuple(r) for r in connection.exec_driver_sql(
                    f"SELECT * FROM {name} ORDER BY {_key(name)}")) for name in self.tables)
            parts = [f"(SELECT md5(coalesce(string_agg(to_jsonb(t)::text, E'\\n' ORDER BY {_key(name)}), '')) "
                     f"FROM ai.{name} t)" for name in self.tables]
            return tuple(connection.exec_driver_sql("SELECT " + ", ".join(parts)).one())

    def ids(self, name: str) -> set[str]:
        """The keys of one table (session or run ids)."""
        with self.engine.connect() as connection:
            return set(connection.exec_driver_sql(f"SELECT {_key(name)} FROM {self.prefix}{name}").scalars())


def _key(table_name: str) -> str:
    return "session_id" if table_name == "agno_sessions" else "run_id"


@pytest.fixture
def database(request, tmp_path):
    """A database of the requested layout (agno's tables, seeded), and the app's settings URL."""
    layout = request.param
    if layout == "sqlite":
        url = make_url(f"sqlite:///{tmp_path / 'agno.db'}")
        engine = create_sqlite_engine(DatabaseConfig(DB_ID, str(url)), make_settings())
    else:
        url = request.getfixturevalue("fresh_url")
        engine = create_engine(url)
    db = Database(layout, url, engine)
    db.sessions = db.create()
    yield db
    engine.dispose()


class Client:
    """The app's test client, each response read whole and closed (a file response holds a file)."""

    def __init__(self, app):
        self.client = app.test_client()

    def open(self, path, method="GET", **kwargs):
        resp = self.client.open(path, method=method, **kwargs)
        resp.get_data()
        resp.close()
        return resp

    def get(self, path, **kwargs):
        return self.open(path, "GET", **kwargs)

    def options(self, path, **kwargs):
        return self.open(path, "OPTIONS", **kwargs)

    def post(self, path, **kwargs):
        return self.open(path, "POST", **kwargs)

    def patch(self, path, **kwargs):
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path, **kwargs):
        return self.open(path, "DELETE", **kwargs)


def _json(resp):
    try:
        return json.loads(resp.get_data())
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Auth: the URL-map walk


def path_fills(rule, real: dict) -> list[str]:
    """The rule's path with its parameters filled with real values, then with random ones."""
    args = [(conv or "default", name) for conv, name in _ARG.findall(rule.rule)]
    if not args:
        return [rule.rule]
    randoms = [uuid.uuid4().hex, "ünïcødé-🙂", "x" * 3000, "' OR '1'='1' --", "%", "a b;c", "0"]
    fills = []
    for source in ("real", *randoms):
        values = {}
        for conv, name in args:
            value = real.get(name, randoms[0]) if source == "real" else source
            if conv == "path" and source != "real":
                value = f"{value}/{value}"
            values[name] = quote(value, safe="/" if conv == "path" else "")
        fills.append(_ARG.sub(lambda m, filled=values: filled[m.group(2)], rule.rule))
    return fills


QUERIES = ("", "?db_id=" + DB_ID, "?db_id=nope", f"?db_id={DB_ID}&table=agno_sessions&user_id=user-a")
ATTACK_BODY = {"session_name": "pwned", "session_state": {"pwned": True}, "session_ids": ["a-agent"],
               "session_types": ["agent"], "session_id": "pwned"}


def unauthorized_problem(resp, method: str, expected_detail: str | None) -> str | None:
    """Why `resp` is not a data-free 401 (None when it is)."""
    if resp.status_code != 401:
        return f"status {resp.status_code}"
    if method == "HEAD":
        return None if resp.get_data() == b"" else "HEAD 401 with a body"
    body = _json(resp)
    if resp.mimetype != "application/json" or not isinstance(body, dict) or list(body) != ["detail"]:
        return f"401 body {resp.get_data()[:200]!r}"
    if expected_detail is not None and body["detail"] != expected_detail:
        return f"401 detail {body['detail']!r}"
    return None


def walk_without_token(app, real: dict, record, fills: int | None = None, queries=QUERIES) -> None:
    """Every rule x every method x real and random path values x db_id variants x trailing slash,
    no Authorization header: a data-free 401, unless the path is a probe."""
    client = Client(app)
    for rule in app.url_map.iter_rules():
        if rule.rule in PROBES:
            continue
        for path in path_fills(rule, real)[:fills]:
            for suffix in ("", "/"):
                for query in queries:
                    url = path + suffix + query
                    for method in METHODS:
                        kwargs = {"json": ATTACK_BODY} if method in BODY_METHODS else {}
                        resp = client.open(url, method=method, **kwargs)
                        problem = unauthorized_problem(resp, method, REQUIRED)
                        record(problem is None, f"{method} {url[:120]} without a token: {problem}")


def real_values(db) -> dict:
    return {"session_id": "a-agent", "run_id": db.sessions["a-agent"]["runs"][0], "storage_key": "img/a.png",
            "filename": "swagger-ui.css"}


WRONG_TOKENS = [
    ("no token after the scheme", "Bearer", INVALID),
    ("scheme and a space", "Bearer ", INVALID),
    ("empty header", "", REQUIRED),
    ("prefix of the key", f"Bearer {KEY[:-1]}", INVALID),
    ("first character of the key", f"Bearer {KEY[:1]}", INVALID),
    ("key + suffix", f"Bearer {KEY}x", INVALID),
    ("key + non-ASCII suffix", f"Bearer {KEY}é", INVALID),
    ("key in upper case", f"Bearer {KEY.upper()}", INVALID),
    ("key in swapped case", f"Bearer {KEY.swapcase()}", INVALID),
    ("two tokens", f"Bearer {KEY} {KEY}", INVALID),
    ("two schemes", f"Bearer {KEY}, Bearer {KEY}", INVALID),
    ("other scheme", f"Basic {KEY}", INVALID),
    ("token scheme", f"Token {KEY}", INVALID),
    ("key inside quotes", f'Bearer "{KEY}"', INVALID),
    # What a server hands the app for UTF-8 bytes on the wire (WSGI headers are latin-1).
    ("non-ASCII token", "Bearer " + "клю́ч".encode().decode("latin-1"), INVALID),
    ("NUL after the key", f"Bearer {KEY}\x00", INVALID),
    ("huge header", "Bearer " + KEY * 5000, INVALID),
    ("huge header starting with the key", f"Bearer {KEY}" + "A" * 200_000, INVALID),
]


@pytest.mark.parametrize("database", ["pg-agno3"], indirect=True)
def test_every_route_needs_the_token(scenario, make_app, database):
    sc = scenario(AUTH_ROW)
    app = make_app(database.url, security_key=KEY)
    client = Client(app)
    real = real_values(database)
    before = database.snapshot()

    # 1. no token: every rule, method, path value, db_id and trailing slash
    walk_without_token(app, real, sc.record)
    # paths the URL map does not have: also 401 (auth comes before routing)
    for path in ("/", "/nope", "/static/app.js", "/admin", "/config", "/metrics/extra", "/sessions/a/b/c/d",
                 "/docs/../metrics", "/health/../sessions", "/healthzz", "/readyz.json"):
        for method in METHODS:
            resp = client.open(path, method=method)
            problem = unauthorized_problem(resp, method, REQUIRED)
            sc.record(problem is None, f"{method} {path} (no rule) without a token: {problem}")

    # 2. wrong tokens: every rule and method, real path values
    for rule in app.url_map.iter_rules():
        if rule.rule in PROBES:
            continue
        path = path_fills(rule, real)[0]
        for method in METHODS:
            for what, header, detail in WRONG_TOKENS:
                resp = client.open(path, method=method, headers={"Authorization": header})
                problem = unauthorized_problem(resp, method, detail)
                sc.record(problem is None, f"{method} {path[:80]} with {what}: {problem}")
        # two Authorization headers, a wrong and the right one, in both orders
        for headers in ([("Authorization", "Bearer nope"), ("Authorization", f"Bearer {KEY}")],
                        [("Authorization", f"Bearer {KEY}"), ("Authorization", "Bearer nope")]):
            resp = client.get(path, headers=headers)
            problem = unauthorized_problem(resp, "GET", INVALID)
            sc.record(problem is None, f"GET {path[:80]} with two Authorization headers: {problem}")

    # 3. CORS preflight: may answer without the key (as AgentOS), with its fixed text and no data
    for rule in app.url_map.iter_rules():
        for path in path_fills(rule, real)[:2]:
            for origin, status, text in (("https://os.agno.com", 200, b"OK"),
                                         ("https://evil.example", 400, b"Disallowed CORS origin")):
                resp = client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "authorization"})
                ok = (resp.status_code, resp.get_data(), resp.mimetype) == (status, text, "text/plain")
                sc.record(ok, f"preflight {path[:80]} from {origin}: {resp.status_code} {resp.get_data()[:80]!r}")

    # 4. the probes answer without the key
    for path in sorted(PROBES):
        resp = client.get(path)
        sc.record(resp.status_code == 200, f"GET {path} without a token: {resp.status_code}")

    # nothing the requests above sent changed a row
    after = database.snapshot()
    sc.record(after == before, "rows changed by requests without the right token")

    # 5. the right token (scheme word in any case, or left out) passes on every rule and method
    for header in (f"Bearer {KEY}", f"bearer {KEY}", f"BEARER   {KEY}", KEY):
        resp = client.get("/sessions", headers={"Authorization": header})
        sc.record(resp.status_code == 200, f"GET /sessions with {header[:10]}…: {resp.status_code}")
    auth = {"Authorization": f"Bearer {KEY}"}
    writes_last = sorted(((rule, method) for rule in app.url_map.iter_rules() for method in METHODS),
                         key=lambda rm: rm[1] in BODY_METHODS)
    for rule, method in writes_last:
        for path in path_fills(rule, real)[:2]:
            kwargs = {"json": {"session_name": "renamed"}} if method in BODY_METHODS else {}
            resp = client.open(path, method=method, headers=auth, **kwargs)
            if method in ("HEAD", "OPTIONS"):   # 405 as AgentOS and ADK (no preflight headers), not 401
                ok = resp.status_code == 405
            else:   # the route's answer (a 405 for a method no rule of the path has), never 401 or 500
                ok = resp.status_code not in (401, 500)
            sc.record(ok, f"{method} {path[:80]} with the key: {resp.status_code} {resp.get_data()[:120]!r}")
    # the key really opens the routes: real values give real answers
    for path in ("/metrics", "/openapi.json", "/docs", "/docs/swagger-ui.css", "/sessions/b-team",
                 f"/sessions/b-agent/runs/{database.sessions['b-agent']['runs'][0]}"):
        resp = client.get(path, headers=auth)
        sc.record(resp.status_code == 200 and resp.get_data() != b"", f"GET {path} with the key: {resp.status_code}")
    sc.check()


@pytest.mark.parametrize("database", ["pg-agno3"], indirect=True)
def test_the_walk_catches_a_new_public_route(make_app, database, monkeypatch):
    """The walk derives its routes from the URL map: a rule added later is walked, protected by
    default, and a path added to the public list fails the walk."""
    app = make_app(database.url, security_key=KEY)
    app.add_url_rule("/added-later", "added_later", lambda: {"everything": "leaked"})
    app.add_url_rule("/added-later-too/<item>", "added_later_too", lambda item: {"item": item})
    problems = []

    def record(ok, problem):
        if not ok:
            problems.append(problem)

    walk_without_token(app, {}, record, fills=2, queries=QUERIES[:2])
    assert problems == []
    monkeypatch.setattr(http, "PUBLIC_PATHS", (*http.PUBLIC_PATHS, "/added-later"))
    walk_without_token(app, {}, record, fills=2, queries=QUERIES[:2])
    assert problems and all(p.split()[1].startswith("/added-later") and "/added-later-too" not in p
                            for p in problems), problems[:5]
    assert any("status 200" in p for p in problems), problems[:5]


# ---------------------------------------------------------------------------------------------
# Isolation: another user's session


# user_id values that must not reach a session of `user-a`: another user, LIKE metacharacters,
# case and whitespace variants, the empty string.
NOT_USER_A = ["user-b", "%", "_", "user_a", "user-%", "%user-a%", "USER-A", "user-a ", " user-a", "", "user-a\\",
              "user-a' OR '1'='1"]
# ... and the sessions without an owner (NULL) or with an empty one.
NOT_ANON = ["user-b", "%", "", "null", "None"]
NOT_EMPTY = ["user-b", "%", "_", " ", "null"]


def user_id_routes(app) -> dict[str, set]:
    """endpoint -> the query parameters of its OpenAPI operation, for every operation taking `user_id`."""
    doc = Client(app).get("/openapi.json").get_json()
    out = {}
    for ops in doc["paths"].values():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
            if "user_id" in names:
                out[op["operationId"]] = names
    return out


def session_endpoints(app) -> set[str]:
    return {rule.endpoint.split(".")[-1] for rule in app.url_map.iter_rules() if rule.rule.startswith("/sessions")}


class Isolation:
    """Requests as `user_id` on a session it does not own; each checked for status, detail, leaked
    data and unchanged rows."""

    def __init__(self, client, db, sc):
        self.client, self.db, self.sc = client, db, sc
        self.covered: dict[str, int] = {}
        self.rows = db.snapshot()

    def foreign_secrets(self, user_id) -> list[str]:
        return [s["secret"] for s in self.db.sessions.values() if s["owner"] != user_id]

    def send(self, endpoint, method, path, user_id, *, json_body=None, status, detail=None, query=None):
        params = {"user_id": user_id, **(query or {})}
        url = f"{path}?{urlencode(params)}"
        resp = self.client.open(url, method=method, json=json_body)
        body = resp.get_data(as_text=True)
        problems = []
        if resp.status_code != status:
            problems.append(f"status {resp.status_code}")
        if status == 204 and body:
            problems.append("a body")
        if detail is not None and _json(resp) != {"detail": detail}:
            problems.append(f"body {body[:160]!r}")
        leaked = [s for s in self.foreign_secrets(user_id) if s in body]
        if leaked:
            problems.append(f"another user's data in the body ({leaked[0]})")
        if method != "GET":
            # After every write; a read that changed rows shows at the next write (each session's
            # requests end with one) or at the check after the listings.
            rows = self.db.snapshot()
            if rows != self.rows:
                problems.append("rows changed (by this request or a read since the last write)")
                self.rows = rows
        self.covered[endpoint] = self.covered.get(endpoint, 0) + 1
        self.sc.record(not problems, f"{method} {url[:140]} as {user_id!r}: {', '.join(problems)}")
        return resp

    def on_session(self, sid: str, user_id: str) -> None:
        """Every route, acting as `user_id` on session `sid` (owned by someone else)."""
        facts = self.db.sessions[sid]
        kind, run_id = facts["type"], facts["runs"][0]
        gone = f"Session with id '{sid}' not found"
        runs_gone = f"Session with ID {sid} not found"
        self.send("get_session", "GET", f"/sessions/{sid}", user_id, status=404, detail=gone)
        self.send("get_session", "GET", f"/sessions/{sid}", user_id, query={"type": kind}, status=404,
                  detail=f"{kind.capitalize()} Session with id '{sid}' not found")
        self.send("get_session_runs", "GET", f"/sessions/{sid}/runs", user_id, status=404, detail=runs_gone)
        self.send("get_session_runs", "GET", f"/sessions/{sid}/runs", user_id, status=404, detail=runs_gone,
                  query={"status": "COMPLETED", "created_after": 0})
        self.send("get_session_run_previews", "GET", f"/sessions/{sid}/run-previews", user_id, status=404,
                  detail=runs_gone)
        self.send("get_session_run", "GET", f"/sessions/{sid}/runs/{run_id}", user_id, status=404,
                  detail=runs_gone)
        self.send("get_session_media", "GET", f"/sessions/{sid}/media/{run_id}/image.png", user_id, status=503,
                  detail=MEDIA)
        self.send("update_session", "PATCH", f"/sessions/{sid}", user_id, status=404, detail=gone, json_body={
            "session_name": "pwned", "session_state": {"pwned": True}, "metadata": {"pwned": True},
            "summary": {"summary": "pwned"}})
        self.send("update_session", "PATCH", f"/sessions/{sid}", user_id, status=404, detail=gone,
                  json_body={}, query={"type": "workflow" if kind != "workflow" else "agent"})
        self.send("rename_session", "POST", f"/sessions/{sid}/rename", user_id, status=404, detail=gone,
                  json_body={"session_name": "pwned"})
        self.send("rename_session", "POST", f"/sessions/{sid}/rename", user_id, status=404, detail=gone,
                  json_body={"session_name": "pwned"}, query={"type": kind})
        self.send("delete_session", "DELETE", f"/sessions/{sid}", user_id, status=204)
        self.send("delete_sessions", "DELETE", "/sessions", user_id, status=204,
                  json_body={"session_ids": [sid], "session_types": [kind]})
        # POST takes the owner from the body (the query's user_id is ignored): an existing id is a
        # 409 whoever owns it, and never an overwrite.
        self.send("create_session", "POST", "/sessions", user_id, status=409, query={"type": kind},
                  detail=f"Session with id '{sid}' already exists. Use PATCH /sessions/{sid} to update it.",
                  json_body={"session_id": sid, "user_id": user_id, "session_name": "pwned",
                             "session_state": {"pwned": True}})

    def listing(self, user_id) -> None:
        """The list as `user_id`: exactly that user's sessions, with every filter and page size."""
        owned = {sid for sid, s in self.db.sessions.items() if s["owner"] == user_id}
        variants = [{}, {"limit": 1, "page": 1}, {"limit": 2, "page": 2}, {"sort_by": "session_id"},
                    {"session_name": "%"}, {"session_name": "name of a-"}]
        variants += [{"type": kind} for kind in TYPES]
        variants += [{"component_id": f"ref-{kind}"} for kind in TYPES]
        for query in variants:
            resp = self.send("list_sessions", "GET", "/sessions", user_id, status=200, query=query)
            body = _json(resp) or {}
            ids = {item.get("session_id") for item in body.get("data", [])}
            expected = {sid for sid in owned if query.get("type") in (None, self.db.sessions[sid]["type"])
                        and query.get("component_id") in (None, f"ref-{self.db.sessions[sid]['type']}")
                        and (query.get("session_name") != "name of a-" or sid.startswith("a-"))}
            foreign = ids - owned
            total = (body.get("meta") or {}).get("total_count")
            ok = not foreign and ids <= expected and total == len(expected)
            if "limit" not in query:
                ok = ok and ids == expected
            self.sc.record(ok, f"GET /sessions {query} as {user_id!r}: {sorted(ids)} (foreign {sorted(foreign)}), "
                               f"total {total}, expected {sorted(expected)}")


def _owner_controls(iso: Isolation, sc) -> None:
    """The same requests as the owner do reach the sessions: the 404s above are about `user_id`."""
    client, db = iso.client, iso.db
    for sid, facts in db.sessions.items():
        if facts["owner"] is None:
            query = ""
        else:
            query = "?" + urlencode({"user_id": facts["owner"]})
        run_id = facts["runs"][0]
        for path in (f"/sessions/{sid}", f"/sessions/{sid}/runs", f"/sessions/{sid}/run-previews",
                     f"/sessions/{sid}/runs/{run_id}"):
            resp = client.get(path + query)
            sc.record(resp.status_code == 200 and facts["secret"] in resp.get_data(as_text=True),
                      f"owner's GET {path}{query}: {resp.status_code}")


def _owner_writes(iso: Isolation, sc) -> None:
    """Writes as the owner change the rows (the snapshot sees them); a bulk delete as user-b of
    user-a's and user-b's ids deletes only user-b's session (and its runs)."""
    client, db = iso.client, iso.db
    before = db.snapshot()
    resp = client.post("/sessions/a-team/rename?user_id=user-a", json={"session_name": "renamed by a"})
    after = db.snapshot()
    sc.record(resp.status_code == 200 and after != before, f"owner's rename: {resp.status_code}")
    resp = client.patch("/sessions/a-agent?user_id=user-a", json={"session_state": {"by": "a"}})
    sc.record(resp.status_code == 200 and db.snapshot() != after, f"owner's PATCH: {resp.status_code}")
    resp = client.delete("/sessions?user_id=user-b", json={"session_ids": ["a-workflow", "b-workflow"],
                                                          "session_types": ["workflow", "workflow"]})
    ids = db.ids("agno_sessions")
    sc.record(resp.status_code == 204 and "a-workflow" in ids and "b-workflow" not in ids,
              f"bulk delete as user-b of a-workflow and b-workflow: {resp.status_code}, left {sorted(ids)}")
    if "agno_runs" in db.tables:
        runs = db.ids("agno_runs")
        sc.record(set(db.sessions["a-workflow"]["runs"]) <= runs and not set(db.sessions["b-workflow"]["runs"]) & runs,
                  f"runs after the bulk delete: {sorted(runs)}")
    resp = client.delete("/sessions/a-agent?user_id=user-a")
    sc.record(resp.status_code == 204 and "a-agent" not in db.ids("agno_sessions"),
              f"owner's DELETE: {resp.status_code}")


# agno 3.x on PostgreSQL, and SQLite, whose store has its own rename and list queries. (The
# legacy agno 2.x layout shares every user_id condition with agno 3.x: the session lookup comes
# before any run is read.)
@pytest.mark.parametrize("database", ["pg-agno3", "sqlite"], indirect=True)
def test_no_route_reaches_another_users_session(scenario, make_app, database):
    sc = scenario(ISOLATION_ROW)
    app = make_app(database.url)
    iso = Isolation(Client(app), database, sc)

    # The routes that take user_id, from the OpenAPI document; every /sessions route needs a case.
    with_user_id = user_id_routes(app)
    endpoints = session_endpoints(app)
    assert set(with_user_id) <= endpoints, set(with_user_id) - endpoints
    for sid, facts in database.sessions.items():
        if facts["owner"] == "user-a":
            for user_id in NOT_USER_A:
                iso.on_session(sid, user_id)
        elif facts["owner"] is None:
            for user_id in NOT_ANON:
                iso.on_session(sid, user_id)
        elif facts["owner"] == "":
            for user_id in NOT_EMPTY:
                iso.on_session(sid, user_id)
    # user-b's own session, user-a's run id: not found in that session
    a_run = database.sessions["a-agent"]["runs"][0]
    iso.send("get_session_run", "GET", f"/sessions/b-agent/runs/{a_run}", "user-b", status=404,
             detail=f"Run with ID {a_run} not found in session b-agent")
    for user_id in sorted({*NOT_USER_A, *NOT_ANON, *NOT_EMPTY, "user-a", "user-b"}):
        iso.listing(user_id)
    assert database.snapshot() == iso.rows, "rows changed by the listings"

    uncovered = endpoints - set(iso.covered)
    assert not uncovered, f"/sessions routes without an isolation case: {sorted(uncovered)}"
    for endpoint, params in with_user_id.items():
        assert iso.covered.get(endpoint), f"{endpoint} takes user_id ({sorted(params)}) but was not exercised"

    _owner_controls(iso, sc)
    _owner_writes(iso, sc)
    sc.check()


# ---------------------------------------------------------------------------------------------
# Google ADK's routes: the key, and another user's or another app's session


ADK_PREFIXES = ("", "/api")
ADK_OWNER = ("app-a", "user-a")
ADK_SIDS = ("shared", "s%", "s_1")
# (app, user) pairs that are not the owner: another user, another app, LIKE metacharacters,
# case and whitespace variants, the empty user's neighbours.
ADK_FOREIGN = [("app-a", u) for u in ("user-b", "%", "_", "user_a", "user-%", "USER-A", "user-a ", " user-a", "user-a\\",
                                      "user-a' OR '1'='1")] + \
              [(a, "user-a") for a in ("app-b", "%", "app_a", "APP-A", "app-a ", "app-%")]


def adk_path(prefix: str, app: str, user: str, sid: str | None = None) -> str:
    base = f"{prefix}/apps/{quote(app, safe='')}/users/{quote(user, safe='')}/sessions"
    return base if sid is None else f"{base}/{quote(sid, safe='')}"


def adk_owner_rows(engine) -> tuple:
    """The owner's rows of ADK's tables (its sessions, events and user state) as text."""
    app, user = ADK_OWNER
    with engine.connect() as conn:
        return tuple(tuple(tuple(map(str, r)) for r in conn.exec_driver_sql(
            f"SELECT * FROM {name} WHERE app_name = ? AND user_id = ? ORDER BY 1, 2, 3".replace(
                "?", "%s" if engine.dialect.name == "postgresql" else "?"), (app, user)))
            for name in ("sessions", "events", "user_states"))


@pytest.mark.parametrize("backend", ["pg", "sqlite"])
def test_no_adk_route_reaches_another_users_or_apps_session(scenario, make_app, backend, request, tmp_path):
    """The owner's ADK sessions (state and user state carrying a secret, an event) seen from
    another user of the app and from another app with the same user and the same session ids:
    GET and PATCH 404, the list empty, DELETE 200 `null` with nothing deleted, a create of the
    same id a new session of the caller's (without the owner's state); the owner's rows unchanged
    after every request. Then the owner's own requests reach them (the checks are not vacuous)."""
    sc = scenario(ADK_ISOLATION_ROW)
    if backend == "sqlite":
        url = make_url(f"sqlite:///{tmp_path / 'adk.db'}")
    else:
        url = request.getfixturevalue("fresh_url")
    app = make_app(url)
    client = Client(app)
    engine = create_engine(url)
    try:
        app_name, user = ADK_OWNER
        secret_of = {sid: secret(f"adk-{sid}") for sid in ADK_SIDS}
        for sid in ADK_SIDS:
            body = {"sessionId": sid, "state": {"mark": secret_of[sid], "user:mark": f"user {secret_of[sid]}"},
                    "events": [{"author": "user", "content": {"role": "user", "parts": [{"text": secret_of[sid]}]}}]}
            resp = client.post(adk_path("", app_name, user), json=body)
            assert resp.status_code == 200, resp.get_data()[:200]
        rows = adk_owner_rows(engine)
        covered: set[str] = set()

        def check(label, resp, status, body=None, new_session=None):
            text = resp.get_data(as_text=True)
            problems = []
            if resp.status_code != status:
                problems.append(f"status {resp.status_code}")
            if body is not None and _json(resp) != body:
                problems.append(f"body {text[:160]!r}")
            answer = _json(resp)
            state = (answer.get("state") if isinstance(answer, dict) else None) or {}
            if new_session and ("mark" in state or state.get("user:mark") not in (None, "theirs")):
                problems.append(f"a new session with the owner's state {text[:160]!r}")
            leaked = [s for s in secret_of.values() if s in text]
            if leaked:
                problems.append(f"the owner's data in the body ({leaked[0]})")
            now = adk_owner_rows(engine)
            if now != rows:
                problems.append("the owner's rows changed")
            sc.record(not problems, f"{label}: {', '.join(problems)}")

        for prefix in ADK_PREFIXES:
            for other_app, other_user in ADK_FOREIGN:
                who = f"{prefix} as ({other_app!r}, {other_user!r})"
                for sid in ADK_SIDS:
                    path = adk_path(prefix, other_app, other_user, sid)
                    check(f"GET {sid} {who}", client.get(path), 404, {"detail": "Session not found"})
                    covered.add("get_session")
                    check(f"PATCH {sid} {who}", client.patch(path, json={"stateDelta": {"pwned": True}}), 404,
                          {"detail": "Session not found"})
                    covered.add("update_session")
                    check(f"DELETE {sid} {who}", client.delete(path), 200, None)
                    covered.add("delete_session")
                check(f"list {who}", client.get(adk_path(prefix, other_app, other_user)), 200, [])
                covered.add("list_sessions")
        # The same ids created by someone else are their sessions: the owner's stay as they were,
        # and the new ones carry none of the owner's state (its user state least of all).
        for other_app, other_user in ADK_FOREIGN[:4] + ADK_FOREIGN[-3:]:
            who = f"as ({other_app!r}, {other_user!r})"
            for n, sid in enumerate(ADK_SIDS):
                if n % 2:
                    resp = client.post(adk_path("", other_app, other_user, sid), json={"mine": 1})
                    covered.add("create_session_with_id")
                else:
                    resp = client.post(adk_path("/api", other_app, other_user),
                                       json={"sessionId": sid, "state": {"mine": 1}})
                    covered.add("create_session")
                check(f"create {sid} {who}", resp, 200, new_session=True)
                # their own user-state write stays theirs
                resp = client.patch(adk_path("", other_app, other_user, sid),
                                    json={"stateDelta": {"user:mark": "theirs", "mine": 2}})
                check(f"PATCH of their own {sid} {who}", resp, 200)
            listing = client.get(adk_path("", other_app, other_user))
            check(f"list {who} after their creates", listing, 200)
            ids = sorted(s.get("id") for s in _json(listing) or [])
            sc.record(ids == sorted(ADK_SIDS), f"list {who}: {ids}")
        views = {rule.endpoint.split(".")[1] for rule in app.url_map.iter_rules()
                 if rule.endpoint.split(".")[0] in ADK_BLUEPRINTS}
        assert views == covered, f"ADK routes without an isolation case: {sorted(views - covered)}"

        # The owner reaches its sessions, and its writes change its rows.
        for sid in ADK_SIDS:
            resp = client.get(adk_path("/api", app_name, user, sid))
            sc.record(resp.status_code == 200 and secret_of[sid] in resp.get_data(as_text=True)
                      # the user state is the user's, in every session: the last create's
                      and (_json(resp) or {}).get("state", {}).get("user:mark") == f"user {secret_of[ADK_SIDS[-1]]}",
                      f"owner's GET {sid}: {resp.status_code} {resp.get_data()[:160]!r}")
        resp = client.patch(adk_path("", app_name, user, "shared"), json={"stateDelta": {"by": "owner"}})
        changed = adk_owner_rows(engine)
        sc.record(resp.status_code == 200 and changed != rows, f"owner's PATCH: {resp.status_code}")
        resp = client.delete(adk_path("", app_name, user, "shared"))
        left = client.get(adk_path("", app_name, user))
        sc.record(resp.status_code == 200 and sorted(s["id"] for s in left.get_json()) == sorted(set(ADK_SIDS) - {"shared"}),
                  f"owner's DELETE: {resp.status_code}, left {left.get_data()[:160]!r}")
    finally:
        engine.dispose()
    sc.check()


def test_every_adk_route_needs_the_token(scenario, make_app, tmp_path):
    """On an ADK database (the walk above runs on agno's, where ADK's routes would answer 404
    anyway): no token or a wrong one is a data-free 401 on every ADK rule and method, nothing is
    written; the key opens them."""
    sc = scenario(AUTH_ROW)
    url = make_url(f"sqlite:///{tmp_path / 'adk.db'}")
    open_app = make_app(url)
    assert Client(open_app).post("/apps/app-a/users/user-a/sessions", json={"sessionId": "s1"}).status_code == 200
    app = make_app(url, security_key=KEY)
    client = Client(app)
    engine = create_engine(url)
    try:
        rows = adk_owner_rows(engine)
        real = {"app_name": "app-a", "user_id": "user-a", "session_id": "s1"}
        rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ADK_BLUEPRINTS]
        assert len(rules) == 12, [r.rule for r in rules]   # 6 views, each under two prefixes
        for rule in rules:
            for path in path_fills(rule, real)[:3]:
                for method in METHODS:
                    kwargs = {"json": {"sessionId": "pwned", "stateDelta": {"pwned": 1}}} if method in BODY_METHODS else {}
                    for what, header, detail in [("no token", None, REQUIRED), *WRONG_TOKENS[::3]]:
                        headers = {"Authorization": header} if header is not None else {}
                        resp = client.open(path, method=method, headers=headers, **kwargs)
                        problem = unauthorized_problem(resp, method, detail)
                        sc.record(problem is None, f"{method} {path[:80]} with {what}: {problem}")
        sc.record(adk_owner_rows(engine) == rows, "ADK rows changed by requests without the right token")
        with engine.connect() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM sessions").scalar_one()
        sc.record(count == 1, f"{count} sessions after the requests without the key")
        auth = {"Authorization": f"Bearer {KEY}"}
        resp = client.get("/apps/app-a/users/user-a/sessions/s1", headers=auth)
        sc.record(resp.status_code == 200 and _json(resp)["id"] == "s1", f"GET with the key: {resp.status_code}")
        resp = client.patch("/api/apps/app-a/users/user-a/sessions/s1", headers=auth, json={"stateDelta": {"k": 1}})
        sc.record(resp.status_code == 200 and adk_owner_rows(engine) != rows, f"PATCH with the key: {resp.status_code}")
    finally:
        engine.dispose()
    sc.check()
