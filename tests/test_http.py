"""Cross-cutting HTTP behaviour: db_id/table, auth, CORS, probes, routing quirks (contract §1)."""

import re

import pytest

from app.config import DatabaseConfig
from tests.conftest import make_settings
from tests.factories import make_session

TWO_DBS = {"main": DatabaseConfig("main", "postgresql+psycopg://x/main"),
           "second": DatabaseConfig("second", "postgresql+psycopg://x/second", schema="ai2")}


@pytest.fixture
def two_dbs(conn):
    conn.exec_driver_sql("CREATE SCHEMA ai2")
    conn.exec_driver_sql("CREATE TABLE ai2.agno_sessions (LIKE ai.agno_sessions INCLUDING ALL)")
    conn.exec_driver_sql("CREATE TABLE ai2.agno_runs (LIKE ai.agno_runs INCLUDING ALL)")
    make_session(conn, "in-main")
    conn.exec_driver_sql("INSERT INTO ai2.agno_sessions (session_id, session_type, created_at) VALUES ('in-second', 'agent', 1)")
    return make_settings(databases=TWO_DBS)


@pytest.mark.parametrize("settings_fixture", ["two_dbs"])
def test_multi_db_routing(request, conn, settings_fixture):
    from tests.conftest import ConnectionRegistry
    from app import create_app
    settings = request.getfixturevalue(settings_fixture)
    app = create_app({"TESTING": True, "SETTINGS": settings})
    app.extensions["engines"] = ConnectionRegistry(settings, conn)
    client = app.test_client()
    resp = client.get("/sessions")
    assert resp.status_code == 400
    assert resp.get_json() == {"detail": "The db_id query parameter is required when using multiple databases"}
    assert [i["session_id"] for i in client.get("/sessions?db_id=main").get_json()["data"]] == ["in-main"]
    assert [i["session_id"] for i in client.get("/sessions?db_id=second").get_json()["data"]] == ["in-second"]
    assert client.get("/sessions/in-second?db_id=main").status_code == 404
    assert client.get("/sessions/in-second?db_id=second").status_code == 200
    assert client.delete("/sessions/in-second").status_code == 400
    assert client.get("/sessions?db_id=nope").get_json() == {"detail": "No database found with id 'nope'"}


def test_table_parameter(client):
    assert client.get("/sessions?table=agno_sessions").get_json() == {
        "detail": "The db_id query parameter is required when passing a table"}
    assert client.get("/sessions?db_id=db1&table=agno_sessions").status_code == 200
    resp = client.get("/sessions?db_id=db1&table=agno_runs")
    assert resp.status_code == 404
    assert resp.get_json() == {"detail": "No database with id 'db1' has table 'agno_runs'"}
    assert client.get("/sessions?db_id=db1&table=x';drop table ai.agno_sessions;--").status_code == 404


def test_explicit_default_db_routes_idless_requests(conn):
    from tests.conftest import ConnectionRegistry
    from app import create_app
    settings = make_settings(databases=TWO_DBS, default_db_explicit=True)
    app = create_app({"TESTING": True, "SETTINGS": settings})
    app.extensions["engines"] = ConnectionRegistry(settings, conn)
    assert app.test_client().get("/sessions").status_code == 200


@pytest.fixture
def secured(conn):
    from tests.conftest import ConnectionRegistry
    from app import create_app
    settings = make_settings(security_key="s3cret")
    app = create_app({"TESTING": True, "SETTINGS": settings})
    app.extensions["engines"] = ConnectionRegistry(settings, conn)
    return app.test_client()


def test_auth(secured):
    assert secured.get("/sessions").get_json() == {"detail": "Authorization header required"}
    assert secured.get("/sessions", headers={"Authorization": "Bearer nope"}).get_json() == {
        "detail": "Invalid authentication token"}
    assert secured.get("/sessions", headers={"Authorization": "Basic s3cret"}).status_code == 401
    for header in ("Bearer s3cret", "bearer   s3cret", "s3cret"):
        assert secured.get("/sessions", headers={"Authorization": header}).status_code == 200
    # auth comes before routing and body parsing
    assert secured.get("/nope").status_code == 401
    assert secured.post("/sessions", data="{", content_type="application/json").status_code == 401
    for path in ("/health", "/healthz", "/readyz"):
        assert secured.get(path).status_code == 200
    # the scrape endpoint and the documentation need the key like the session routes
    for path in ("/metrics", "/openapi.json", "/docs"):
        assert secured.get(path).get_json() == {"detail": "Authorization header required"}
        assert secured.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_every_route_needs_the_token(secured):
    from app.http import PUBLIC_PATHS
    assert set(PUBLIC_PATHS) == {"/health", "/healthz", "/readyz"}
    app = secured.application
    assert "static" not in app.view_functions   # no static folder: no /static/<path:filename> rule
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC_PATHS:
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert secured.open(path, method=method).status_code == 401, (method, path)


def test_cors(client):
    pre = client.options("/sessions", headers={"Origin": "https://os.agno.com", "Access-Control-Request-Method": "GET",
                                               "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status_code == 200 and pre.data == b"OK"
    assert pre.headers["Access-Control-Allow-Origin"] == "https://os.agno.com"
    assert pre.headers["Access-Control-Allow-Credentials"] == "true"
    assert pre.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert pre.headers["Access-Control-Max-Age"] == "600"
    bad = client.options("/sessions", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert bad.status_code == 400 and bad.data == b"Disallowed CORS origin"
    simple = client.get("/sessions", headers={"Origin": "http://localhost:3000"})
    assert simple.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert simple.headers["Access-Control-Expose-Headers"] == "*"
    evil = client.get("/sessions", headers={"Origin": "https://evil.example"}).headers
    # Starlette's simple-request headers go out with any Origin; the origin only when allowed
    assert "Access-Control-Allow-Origin" not in evil
    assert evil["Access-Control-Allow-Credentials"] == "true" and evil["Access-Control-Expose-Headers"] == "*"
    assert "Access-Control-Allow-Credentials" not in client.get("/sessions").headers
    # a refused preflight still carries the static preflight headers, not the origin
    assert bad.headers["Access-Control-Allow-Methods"].startswith("DELETE, GET")
    assert "Access-Control-Allow-Origin" not in bad.headers
    assert bad.headers["Access-Control-Max-Age"] == "600"


def test_cors_on_auth_failures(secured):
    client = secured
    allowed = client.get("/sessions", headers={"Origin": "https://os.agno.com"})
    assert allowed.status_code == 401
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://os.agno.com"
    assert allowed.headers["Access-Control-Allow-Methods"] == "*" and allowed.headers["Access-Control-Allow-Headers"] == "*"
    evil = client.get("/sessions", headers={"Origin": "https://evil.example", "Authorization": "Bearer x"})
    assert evil.status_code == 401 and "Access-Control-Allow-Methods" not in evil.headers
    ok = client.get("/sessions", headers={"Origin": "https://os.agno.com", "Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and "Access-Control-Allow-Methods" not in ok.headers


def test_extra_cors_origin(conn):
    from tests.conftest import ConnectionRegistry
    from app import create_app
    from app.config import load_settings
    settings = load_settings({"AGNO_PG_DSN": "postgresql://x/y", "AGNO_CORS_ORIGINS": "https://ui.example.com"})
    app = create_app({"TESTING": True, "SETTINGS": settings})
    app.extensions["engines"] = ConnectionRegistry(settings, conn)
    pre = app.test_client().options("/sessions", headers={"Origin": "https://ui.example.com",
                                                          "Access-Control-Request-Method": "DELETE"})
    assert pre.status_code == 200


def test_probes(client):
    health = client.get("/health").get_json()
    assert health["status"] == "ok" and health["instantiated_at"].endswith("Z")
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "databases": {"db1": {
        "status": "ok", "layout": "agno3", "generation": "agno3", "dialect": "postgresql", "runs_table": True,
        "legacy_runs_column": False, "sessions_version": "3.0.0", "source": "detected"}}}


def test_readyz_reports_unreachable_database(make_app):
    from sqlalchemy.engine import make_url
    app = make_app(make_url("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"detail": "Database 'db1' unreachable", "databases": {"db1": {"status": "unreachable"}}}


def test_database_down_gives_503_not_500(make_app):
    from sqlalchemy.engine import make_url
    app = make_app(make_url("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
    resp = app.test_client().get("/sessions")
    assert resp.status_code == 503
    assert resp.get_json() == {"detail": "Database unavailable"}


def test_routing_quirks(client, conn):
    make_session(conn, "x")
    assert client.get("/sessions/").status_code == 200
    assert client.get("/sessions/x///").status_code == 200
    assert client.get("/nope").get_json() == {"detail": "Not Found"}
    put = client.put("/sessions/x", json={})
    assert put.status_code == 405 and put.get_json() == {"detail": "Method Not Allowed"}
    head = client.head("/sessions")
    assert head.status_code == 405 and head.data == b""
    assert client.get("/sessions/x/media/a/b.png").get_json() == {"detail": "Media storage is not configured on AgentOS"}


def test_unicode_and_long_ids(client, conn):
    make_session(conn, "ünïcødé-🙂")
    assert client.get("/sessions/%C3%BCn%C3%AFc%C3%B8d%C3%A9-%F0%9F%99%82").status_code == 200
    assert client.get("/sessions/" + "x" * 6000).get_json() == {"detail": f"Session with id '{'x' * 6000}' not found"}
    assert client.get("/sessions/a%00b").status_code == 422
