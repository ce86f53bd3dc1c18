"""Which agno generation a database belongs to: detected per database, overridable, reported."""

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.config import ConfigError, DatabaseConfig, load_settings
from app.db import tables
from app.db.engines import EngineRegistry, detect_layout, log_layouts
from app.sessions import store
from tests.conftest import DB_ID, make_settings


def _detect(conn, schema, generation="auto"):
    conn.execution_options(schema_translate_map={"ai": schema} if schema != "ai" else None)
    return detect_layout(conn, DatabaseConfig(DB_ID, "postgresql+psycopg://unused/db", schema=schema,
                                              generation=generation))


@pytest.mark.parametrize("schema, name, runs_table, legacy_column, version", [
    ("ai", "agno3", True, False, "3.0.0"),
    ("legacy", "agno2", False, True, "2.5.6"),
    ("mixed", "agno3-mixed", True, True, "3.0.0"),
])
def test_detects_each_layout(conn, schema, name, runs_table, legacy_column, version):
    layout = _detect(conn, schema)
    assert (layout.name, layout.has_runs_table, layout.has_legacy_runs, layout.sessions_version) == (
        name, runs_table, legacy_column, version)
    assert layout.dialect == "postgresql" and not layout.configured


def test_agno_runs_or_a_3x_version_row_means_agno3(conn):
    # agno 3.1.10 started on an unmigrated 2.x database: agno_runs exists, sessions still 2.5.6.
    store.bootstrap_tables(conn.execution_options(schema_translate_map={"ai": "t_unmigrated"}), "t_unmigrated", "agno2")
    tables.runs.create(conn.execution_options(schema_translate_map={"ai": "t_unmigrated"}))
    assert _detect(conn, "t_unmigrated").generation == "agno3"
    # A 3.x version row without agno_runs (the table was dropped, or is named differently).
    store.bootstrap_tables(conn.execution_options(schema_translate_map={"ai": "t_versioned"}), "t_versioned", "agno2")
    conn.execute(text("UPDATE t_versioned.agno_schema_versions SET version = '3.0.0'"))
    assert _detect(conn, "t_versioned").generation == "agno3"
    # No version table at all: the runs column decides.
    conn.execute(text("DROP TABLE t_versioned.agno_schema_versions"))
    conn.execute(text("UPDATE t_unmigrated.agno_schema_versions SET version = '3.0.0'"))
    assert _detect(conn, "t_versioned").generation == "agno2"


def test_empty_schema_is_not_cached_and_bootstraps_the_configured_generation(conn):
    conn.execute(text("CREATE SCHEMA t_empty"))
    layout = _detect(conn, "t_empty")
    assert layout.name == "empty" and layout.generation == "agno3"
    assert _detect(conn, "t_empty", "agno2").generation == "agno2"
    store.bootstrap_tables(conn.execution_options(schema_translate_map={"ai": "t_empty"}), "t_empty", "agno2")
    columns = conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_schema = 't_empty'"
                                " AND table_name = 'agno_sessions' ORDER BY ordinal_position")).scalars().all()
    assert columns[10:13] == ["metadata", "runs", "summary"]  # agno 2.9.0's column order
    versions = conn.execute(text("SELECT table_name, version FROM t_empty.agno_schema_versions")).all()
    assert versions == [("agno_sessions", "2.5.6")]
    assert _detect(conn, "t_empty").name == "agno2"


def test_configuration_overrides_detection(conn):
    forced = _detect(conn, "mixed", "agno2")
    assert forced.legacy and forced.configured and not forced.reads_runs_table
    assert forced.describe()["source"] == "configured"
    assert _detect(conn, "legacy", "agno3").name == "agno3-mixed"


def test_layout_is_cached_then_looked_at_again(conn):
    registry = EngineRegistry(make_settings(layout_recheck_seconds=3600))
    conn.execution_options(schema_translate_map=None)
    first = registry.layout(DB_ID, conn)
    conn.execute(text("ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb"))
    assert registry.layout(DB_ID, conn) is first  # cached
    registry.settings.layout_recheck_seconds = 0
    assert registry.layout(DB_ID, conn).name == "agno3-mixed"  # looked at again


@pytest.mark.parametrize("raw, expected", [
    ("agno2", {"a": "agno2", "b": "agno2"}),
    ("b=agno3, a=AUTO", {"a": "auto", "b": "agno3"}),
    ("", {"a": "auto", "b": "auto"}),
])
def test_layout_setting(raw, expected):
    s = load_settings({"AGNO_SESSION_DSN_MAP": '{"a": "postgresql://h/a", "b": "postgresql://h/b"}',
                       "AGNO_DB_LAYOUT": raw})
    assert {k: v.generation for k, v in s.databases.items()} == expected


@pytest.mark.parametrize("raw", ["agno4", "a=agno9", "zz=agno2", "a"])
def test_bad_layout_setting_names_the_variable(raw):
    with pytest.raises(ConfigError, match="AGNO_DB_LAYOUT"):
        load_settings({"AGNO_SESSION_DSN_MAP": '{"a": "postgresql://h/a"}', "AGNO_DB_LAYOUT": raw})


def test_start_up_log_names_each_database_and_its_layout(database, caplog):
    url = database.url.render_as_string(hide_password=False)
    settings = make_settings(databases={
        "main": DatabaseConfig("main", url),
        "old": DatabaseConfig("old", url, schema="legacy"),
        "forced": DatabaseConfig("forced", url, schema="mixed", generation="agno2"),
        "down": DatabaseConfig("down", str(make_url("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))),
    })
    logger = logging.getLogger("test.startup")
    with caplog.at_level(logging.INFO, logger="test.startup"):
        log_layouts(settings, logger)
    lines = [r.getMessage() for r in caplog.records if r.name == "test.startup"]
    assert lines == [
        "database 'main': layout agno3 (postgresql)",
        "database 'old': layout agno2 (postgresql)",
        "database 'forced': layout agno2 (postgresql, forced by AGNO_DB_LAYOUT=agno2)",
        "database 'down': not reachable at start-up (OperationalError); its layout is detected at first use",
    ]


def test_a_create_that_fails_after_creating_the_tables_leaves_no_layout_behind(fresh_url, make_app):
    """The first create in an empty database creates agno's tables in its own transaction; the
    layout it then sees must not be remembered before the commit. A create rolled back after
    the tables were made (an id too long for the index) leaves the database empty, and the next
    requests must find it empty (not a remembered agno3 layout over missing tables: 500s)."""
    import base64
    import os

    app = make_app(fresh_url)
    client = app.test_client()
    too_long = base64.b64encode(os.urandom(12_000)).decode()  # incompressible, past a btree entry
    resp = client.post("/sessions", query_string={"type": "agent"}, json={"session_id": too_long})
    assert resp.status_code != 201
    resp = client.get("/sessions")
    assert resp.status_code == 200 and resp.get_json()["data"] == [], resp.get_data(as_text=True)
    assert client.get("/sessions/s1").status_code == 404
    assert client.post("/sessions", query_string={"type": "agent"}, json={"session_id": "s1"}).status_code == 201
    assert client.get("/sessions/s1").status_code == 200
