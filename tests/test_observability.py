"""Request ids, the JSON access log, ProxyFix, unexpected errors, /metrics and gunicorn's settings."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys

import pytest

from app import create_app
from app.logging import logging_config
from app.requestlog import REQUEST_ID_HEADER
from tests.conftest import ConnectionRegistry
from tests.factories import make_session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def log_lines():
    """The service's real logging configuration (JSON formatter, request-id filter), writing to a
    buffer; returns a function that parses what was written. Logging is restored afterwards."""
    names = ["", "agno_session.access", "gunicorn.error", "gunicorn.access", "app.errors"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    buffer = io.StringIO()
    config = logging_config("INFO")
    config["handlers"]["stdout"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def _access(lines):
    return [line for line in lines if line.get("logger") == "agno_session.access"]


def _metric(client, name, **labels):
    """The value of one sample of /metrics (0.0 when absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        head, value = line.rsplit(" ", 1)
        got = ",".join(sorted(head[len(name) + 1:-1].split(",")))
        if got == want:
            return float(value)
    return 0.0


# ---------------------------------------------------------------------------------------------
# X-Request-ID


@pytest.mark.parametrize("given", ["abc-123", "req_1.2:3/4+5=6@host", "x" * 128])
def test_valid_request_id_is_echoed(client, given):
    resp = client.get("/sessions", headers={REQUEST_ID_HEADER: given})
    assert resp.headers[REQUEST_ID_HEADER] == given


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "semi;colon", "quote\"", "é", "a\tb"])
def test_invalid_request_id_is_replaced(client, given):
    resp = client.get("/sessions", headers={REQUEST_ID_HEADER: given})
    rid = resp.headers[REQUEST_ID_HEADER]
    assert rid != given and len(rid) == 32 and int(rid, 16) >= 0


def test_generated_request_ids_differ_and_errors_carry_one(client):
    ids = {client.get("/sessions").headers[REQUEST_ID_HEADER] for _ in range(3)}
    assert len(ids) == 3
    for resp in (client.get("/sessions/missing"), client.get("/nope"), client.head("/sessions"),
                 client.post("/sessions", data="{", content_type="application/json")):
        assert resp.status_code >= 400 and resp.headers.get(REQUEST_ID_HEADER)


def test_preflight_and_unauthorized_carry_a_request_id(conn, settings):
    settings.security_key = "k"
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)
    client = application.test_client()
    resp = client.get("/sessions", headers={REQUEST_ID_HEADER: "r-401"})
    assert resp.status_code == 401 and resp.headers[REQUEST_ID_HEADER] == "r-401"
    resp = client.options("/sessions", headers={"Origin": "http://localhost:3000",
                                                "Access-Control-Request-Method": "GET"})
    assert resp.status_code == 200 and resp.headers[REQUEST_ID_HEADER]


# ---------------------------------------------------------------------------------------------
# Access log


def test_one_json_access_line_per_request(client, conn, log_lines):
    make_session(conn, "s-log", user_id="alice")
    resp = client.get("/sessions/s-log?user_id=alice", headers={REQUEST_ID_HEADER: "trace-7",
                                                                "User-Agent": "probe/1"})
    assert resp.status_code == 200
    [line] = _access(log_lines())
    assert line["message"] == "request"
    assert line["service"] == "agno-session-service"
    assert line["method"] == "GET"
    assert line["route"] == "/sessions/<session_id>"
    assert line["path"] == "/sessions/s-log"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["db_id"] == "db1"  # the resolved database, though the request named none
    assert line["request_id"] == "trace-7"
    assert line["client_ip"] == "127.0.0.1"
    assert line["user_agent"] == "probe/1"
    assert line["bytes"] == len(resp.data)
    # The user is pseudonymised, never written as given.
    assert line["user"] and "alice" not in json.dumps(line)


def test_access_line_is_the_generic_formatters_line(client, log_lines):
    """The access line's short path (app.logging.JsonFormatter) writes what python-json-logger's
    generic path writes for the same record: same keys, same order, same values; the same holds
    for characters beyond ASCII, and an exception still goes the generic way."""
    from pythonjsonlogger.json import JsonFormatter as Generic

    from app.logging import JsonFormatter
    from app.requestlog import ACCESS_FIELDS

    options = logging_config("INFO")["formatters"]["json"]
    options = {k: v for k, v in options.items() if k != "()"}
    fast, generic = JsonFormatter(**options), Generic(**options)
    fields = {"method": "GET", "route": "/sessions/<session_id>", "path": "/sessions/ü-\u2603", "status": 200,
              "duration_ms": 1.25, "bytes": 10, "db_id": None, "user": None, "client_ip": "::1",
              "user_agent": "naïve/1"}
    for created in (1_700_000_000.001, 1_700_000_000.999, 1_700_000_001.5):
        record = logging.makeLogRecord({"name": "agno_session.access", "levelno": logging.INFO, "levelname": "INFO",
                                        "msg": "request", "created": created, "msecs": (created % 1) * 1000,
                                        ACCESS_FIELDS: fields, "request_id": "r-1"})
        # As the generic path sees it: the fields as attributes (extra=), then the request id (the filter).
        flat = logging.makeLogRecord({k: v for k, v in record.__dict__.items() if k not in (ACCESS_FIELDS, "request_id")})
        flat.__dict__.update(fields, request_id="r-1")
        got, want = json.loads(fast.format(record)), json.loads(generic.format(flat))
        assert list(got.items()) == list(want.items())
    record.exc_info = (ValueError, ValueError("boom"), None)
    assert "exc_info" in json.loads(fast.format(record))


def test_access_log_level_silences_the_access_lines(client, log_lines, monkeypatch):
    monkeypatch.setenv("AGNO_ACCESS_LOG_LEVEL", "WARNING")
    level = logging_config("INFO")["loggers"]["agno_session.access"]["level"]
    assert level == "WARNING"
    logging.getLogger("agno_session.access").setLevel(level)  # what the configuration does
    before = _metric(client, "agno_session_http_requests_total", method="GET", route="/healthz", status="200")
    assert client.get("/healthz").status_code == 200
    assert not _access(log_lines())
    # the request is still counted
    assert _metric(client, "agno_session_http_requests_total", method="GET", route="/healthz", status="200") == before + 1


def test_access_line_for_unmatched_and_failed_requests(client, log_lines):
    client.get("/definitely/not/a/route")
    client.get("/sessions?limit=abc")
    lines = _access(log_lines())
    assert [(line["route"], line["status"]) for line in lines] == [("<unmatched>", 404), ("/sessions", 422)]


def test_every_log_line_of_a_request_has_its_id(conn, settings, log_lines):
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)

    @application.get("/boom")
    def boom():
        logging.getLogger("app.sessions").warning("about to fail")
        raise RuntimeError("secret internals: password=hunter2")

    resp = application.test_client().get("/boom", headers={REQUEST_ID_HEADER: "boom-1"})
    lines = log_lines()
    mine = [line for line in lines if line.get("request_id") == "boom-1"]
    assert {line["message"] for line in mine} == {"about to fail", "unhandled exception", "request"}
    # Any unexpected exception: a 500 with a detail and nothing of the internals ...
    assert resp.status_code == 500
    assert resp.get_json() == {"detail": "Internal server error"}
    assert b"hunter2" not in resp.data and b"RuntimeError" not in resp.data
    # ... and the traceback in the log.
    [error] = [line for line in mine if line["message"] == "unhandled exception"]
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"] and "RuntimeError: secret internals" in error["exc_info"]


# ---------------------------------------------------------------------------------------------
# ProxyFix


def _client_ip(conn, settings, log_lines, headers):
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)
    application.test_client().get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    return _access(log_lines())[-1]["client_ip"]


def test_forwarded_for_is_ignored_by_default(conn, settings, log_lines):
    assert settings.trusted_proxies == 0
    assert _client_ip(conn, settings, log_lines, {"X-Forwarded-For": "6.6.6.6"}) == "10.0.0.9"


def test_forwarded_for_from_trusted_proxies(conn, settings, log_lines):
    settings.trusted_proxies = 1
    # One trusted proxy: the address it saw (the last entry), not what the client wrote before it.
    assert _client_ip(conn, settings, log_lines, {"X-Forwarded-For": "6.6.6.6, 203.0.113.5"}) == "203.0.113.5"
    settings.trusted_proxies = 2
    assert _client_ip(conn, settings, log_lines, {"X-Forwarded-For": "6.6.6.6, 203.0.113.5"}) == "6.6.6.6"


def test_trusted_proxies_setting(monkeypatch):
    from app.config import ConfigError, load_settings
    assert load_settings({}).trusted_proxies == 0
    assert load_settings({"AGNO_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ConfigError, match="AGNO_TRUSTED_PROXIES"):
        load_settings({"AGNO_TRUSTED_PROXIES": "-1"})


# ---------------------------------------------------------------------------------------------
# /metrics


def test_metrics_count_requests_by_route_template_and_status(client, conn):
    make_session(conn, "s-m1")
    labels = {"method": "GET", "route": "/sessions/<session_id>", "status": "200"}
    before = _metric(client, "agno_session_http_requests_total", **labels)
    before_404 = _metric(client, "agno_session_http_requests_total", **{**labels, "status": "404"})
    before_hist = _metric(client, "agno_session_http_request_duration_seconds_count", **labels)
    client.get("/sessions/s-m1")
    client.get("/sessions/s-m1")
    client.get("/sessions/absent")
    assert _metric(client, "agno_session_http_requests_total", **labels) == before + 2
    assert _metric(client, "agno_session_http_requests_total", **{**labels, "status": "404"}) == before_404 + 1
    assert _metric(client, "agno_session_http_request_duration_seconds_count", **labels) == before_hist + 2
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    assert "# TYPE agno_session_http_request_duration_seconds histogram" in resp.get_data(as_text=True)


def test_metrics_count_errors(conn, settings):
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)

    @application.get("/boom")
    def boom():
        raise RuntimeError("x")

    client = application.test_client()
    before = _metric(client, "agno_session_errors_total", kind="unhandled")
    assert client.get("/boom").status_code == 500
    assert _metric(client, "agno_session_errors_total", kind="unhandled") == before + 1


def test_metrics_report_pool_usage(make_app, fresh_url):
    """A real engine: a request holds a pooled connection while it runs, and gives it back."""
    application = make_app(fresh_url)
    client = application.test_client()
    seen = {}

    @application.get("/hold")
    def hold():
        from app.db.engines import registry
        with registry().transaction("db1"):
            seen["during"] = _metric(client, "agno_session_db_pool_checked_out", db_id="db1")
        return {}

    assert client.post("/sessions", json={"session_id": "p1"}).status_code == 201
    client.get("/hold")
    assert seen["during"] == 1.0
    assert _metric(client, "agno_session_db_pool_checked_out", db_id="db1") == 0.0
    assert _metric(client, "agno_session_db_pool_size", db_id="db1") >= 5.0
    assert _metric(client, "agno_session_db_pool_connections", db_id="db1") >= 1.0


def test_metrics_need_the_key(conn, settings):
    settings.security_key = "k"
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)
    client = application.test_client()
    assert client.get("/metrics").get_json() == {"detail": "Authorization header required"}
    assert client.get("/metrics", headers={"Authorization": "Bearer k"}).status_code == 200
    assert client.get("/sessions").status_code == 401


# ---------------------------------------------------------------------------------------------
# gunicorn.conf.py


def _gunicorn_settings(env: dict) -> dict:
    code = ("import json, runpy; c = runpy.run_path('gunicorn.conf.py'); print(json.dumps({k: c[k] for k in"
            " ('bind', 'workers', 'timeout', 'graceful_timeout', 'max_requests', 'max_requests_jitter',"
            " 'accesslog', 'preload_app', 'control_socket_disable')}))")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "WEB_", "PROMETHEUS_"))}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**keep, **env}, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def test_gunicorn_settings_come_from_the_environment(tmp_path):
    metrics_dir = str(tmp_path / "m")
    s = _gunicorn_settings({"PROMETHEUS_MULTIPROC_DIR": metrics_dir})
    assert s["bind"] == "0.0.0.0:8080" and s["workers"] == 2 and s["timeout"] == 60
    assert s["graceful_timeout"] == 30 and s["accesslog"] is None and s["preload_app"] is False
    assert s["max_requests"] == 10000 and s["max_requests_jitter"] == 1000
    s = _gunicorn_settings({"PROMETHEUS_MULTIPROC_DIR": metrics_dir, "AGNO_SERVICE_PORT": "9123",
                            "WEB_CONCURRENCY": "5", "AGNO_WORKER_TIMEOUT": "40", "AGNO_GRACEFUL_TIMEOUT": "12",
                            "AGNO_MAX_REQUESTS": "500"})
    assert s["bind"] == "0.0.0.0:9123" and s["workers"] == 5 and s["timeout"] == 40
    assert s["graceful_timeout"] == 12 and s["max_requests"] == 500 and s["max_requests_jitter"] == 50


def _gunicorn_start(env: dict, tmp_path) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "WEB_", "PROMETHEUS_"))}
    env = {**keep, "AGNO_SQLITE_PATH": str(tmp_path / "agno.db"), "AGNO_SERVICE_PORT": "18999", **env}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return subprocess.run([gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_statement_timeout_must_be_below_worker_timeout(tmp_path):
    done = _gunicorn_start({"AGNO_STATEMENT_TIMEOUT_MS": "60000", "AGNO_WORKER_TIMEOUT": "60"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "configuration error: AGNO_STATEMENT_TIMEOUT_MS (60000) must be below the worker timeout"
        " AGNO_WORKER_TIMEOUT (60 s = 60000 ms)")


def test_stale_metrics_files_are_wiped_at_start(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"stale")
    # A configuration error stops gunicorn right after on_starting has run its checks: the wipe
    # comes after them, so use a valid configuration and stop at once through a bad bind instead.
    done = _gunicorn_start({"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "AGNO_SERVICE_HOST": "256.0.0.1"},
                           tmp_path)
    assert done.returncode != 0
    assert not (metrics_dir / "counter_123.db").exists()


# ---------------------------------------------------------------------------------------------
# The request guard: a bounded wait for the database, then a clean 5xx with a detail


def test_statement_over_the_timeout_is_a_504(make_app, fresh_url):
    """A PATCH stuck behind another transaction's row lock is cancelled by PostgreSQL's
    statement_timeout: a 504 with a detail, counted in /metrics, and the app keeps serving."""
    from sqlalchemy import create_engine, text

    application = make_app(fresh_url, statement_timeout_ms=300)
    client = application.test_client()
    assert client.post("/sessions", json={"session_id": "slow"}).status_code == 201
    before = _metric(client, "agno_session_errors_total", kind="db_statement_timeout")
    other = create_engine(fresh_url)
    try:
        with other.connect() as locker:
            locker.execute(text("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'slow' FOR UPDATE"))
            resp = client.patch("/sessions/slow", json={"session_name": "never"})
            locker.rollback()
    finally:
        other.dispose()
    assert resp.status_code == 504
    assert resp.get_json() == {"detail": "Database statement timed out"}
    assert _metric(client, "agno_session_errors_total", kind="db_statement_timeout") == before + 1
    assert client.get("/sessions/slow").get_json()["session_name"] == ""  # nothing half-written
    assert client.patch("/sessions/slow", json={"session_name": "now"}).status_code == 200


def test_exhausted_pool_is_a_503_after_the_pool_timeout(make_app, fresh_url):
    from app.db.engines import registry

    application = make_app(fresh_url, pool_size=1, pool_timeout=1.0)
    client = application.test_client()
    assert client.post("/sessions", json={"session_id": "busy"}).status_code == 201
    before = _metric(client, "agno_session_errors_total", kind="db_pool_timeout")
    with application.app_context():
        held = registry().engine("db1").connect()  # the pool's only connection
    try:
        resp = client.get("/sessions/busy")
    finally:
        held.close()
    assert resp.status_code == 503
    assert resp.get_json() == {"detail": "Database is busy, try again later"}
    assert _metric(client, "agno_session_errors_total", kind="db_pool_timeout") == before + 1
    assert client.get("/sessions/busy").status_code == 200
