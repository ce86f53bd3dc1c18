"""SQLite: agno 3.1.10's SqliteDb layout, the embedded default, and concurrent workers.

The route suite (tests/sessions, layout `sqlite`) and the round trip with agno's SqliteDb
(tests/test_agno_roundtrip.py, backend `sqlite`) cover the API; this file covers what is SQLite's
own: the DDL we create against the DDL SqliteDb creates, configuration, the embedded database
`make run` uses when nothing is configured, and writers in several processes' worth of engines.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid

import pytest

from app import create_app
from app.config import ConfigError, DatabaseConfig, Settings, load_settings
from app.embedded import prepare_embedded
from tests.agno_seed import AgentOSRoutes, Agent, ScriptedModel, agno_db

DB_ID = "db1"


def sqlite_app(path, **overrides):
    settings = Settings(databases={DB_ID: DatabaseConfig(DB_ID, f"sqlite:///{path}")}, default_db_id=DB_ID,
                        **overrides)
    return create_app({"TESTING": True, "SETTINGS": settings})


@pytest.fixture
def apps():
    """Apps with real engines (each one like a gunicorn worker); disposed afterwards."""
    made = []

    def factory(path, **overrides):
        app = sqlite_app(path, **overrides)
        made.append(app)
        return app

    yield factory
    for app in made:
        registry = app.extensions["engines"]
        for db_id in registry.databases:
            registry.engine(db_id).dispose()
        registry.dispose()


def catalogue(path):
    """Everything SQLite knows about the schema: DDL text, foreign keys, journal mode, versions."""
    with sqlite3.connect(path) as conn:
        ddl = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        fks = conn.execute("SELECT * FROM pragma_foreign_key_list('agno_runs')").fetchall()
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        versions = conn.execute("SELECT table_name, version, created_at = updated_at, created_at "
                                "FROM agno_schema_versions ORDER BY table_name").fetchall()
    return ddl, fks, journal, versions


def test_tables_we_create_are_the_tables_sqlitedb_creates(tmp_path, apps):
    """Our first write creates, byte for byte, the DDL agno's SqliteDb creates on its first run."""
    ours_path, agno_path = tmp_path / "ours.db", tmp_path / "agno.db"
    client = apps(ours_path).test_client()
    assert client.post("/sessions?type=agent", json={"session_id": "first"}).status_code == 201
    reference = agno_db(f"sqlite:///{agno_path}")
    try:
        Agent(id="rt-agent", db=reference, telemetry=False, model=ScriptedModel()).run("hi", session_id="first")
    finally:
        reference.close()
    ours, agno = catalogue(ours_path), catalogue(agno_path)
    names = {name for kind, name, *_ in agno[0] if kind == "table"}
    assert {"agno_sessions", "agno_runs", "agno_schema_versions"} <= names
    assert ours[0] == [row for row in agno[0] if row[2] in ("agno_sessions", "agno_runs", "agno_schema_versions")]
    assert ours[1] == agno[1] and ours[1][0][2:7] == ("agno_sessions", "session_id", "session_id", "NO ACTION",
                                                       "CASCADE")
    assert ours[2] == agno[2] == "wal"
    assert [r[:3] for r in ours[3]] == [r[:3] for r in agno[3]] == [("agno_runs", "3.0.0", 1),
                                                                    ("agno_sessions", "3.0.0", 1)]
    for row in ours[3]:  # local naive ISO stamps, as agno writes them
        assert "T" in row[3] and not row[3].endswith("Z") and "+" not in row[3]


def test_json_columns_hold_the_text_sqlitedb_writes(tmp_path, apps):
    """JSON as json.dumps text (ASCII-escaped), None as the text `null`, untouched columns SQL NULL."""
    path = tmp_path / "s.db"
    client = apps(path).test_client()
    assert client.post("/sessions?type=agent", json={"session_id": "a", "session_name": "Grüße",
                                                      "metadata": {"z": 1, "a": None}}).status_code == 201
    reference = agno_db(f"sqlite:///{path}")
    try:
        AgentOSRoutes(reference, DB_ID).request("POST", "/sessions", query={"type": "agent"},
                                                body={"session_id": "b", "session_name": "Grüße",
                                                      "metadata": {"z": 1, "a": None}})
    finally:
        reference.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT session_id, session_data, typeof(agent_data), agent_data, typeof(team_data), "
                            "metadata, summary FROM agno_sessions ORDER BY session_id").fetchall()
    assert rows[0][1:] == rows[1][1:] == ('{"session_name": "Gr\\u00fc\\u00dfe"}', "text", "null", "null",
                                          '{"z": 1, "a": null}', "null")


def test_session_name_filter_looks_at_the_name_only(tmp_path, apps):
    """Documented difference (docs/compatibility.md): SqliteDb matches the pattern anywhere in
    the session_data text (state and metrics included); we match the stored name, as on PostgreSQL."""
    path = tmp_path / "s.db"
    client = apps(path).test_client()
    client.post("/sessions?type=agent", json={"session_id": "named", "session_name": "Garden plans"})
    client.post("/sessions?type=agent", json={"session_id": "stateful", "session_name": "Other",
                                              "session_state": {"topic": "garden"}})
    reference = agno_db(f"sqlite:///{path}")
    try:
        theirs = AgentOSRoutes(reference, DB_ID).request("GET", "/sessions", query={"session_name": "GARDEN"})
    finally:
        reference.close()
    mine = client.get("/sessions?session_name=GARDEN").get_json()
    assert sorted(s["session_id"] for s in theirs[1]["data"]) == ["named", "stateful"]
    assert [s["session_id"] for s in mine["data"]] == ["named"]  # ASCII case ignored, as SQLite's LIKE


def test_concurrent_creates_of_one_id_give_one_201_and_409s(tmp_path, apps):
    """Writers in separate engines (as in separate gunicorn workers) queue on the write lock: the
    first create wins, every other one is a 409, none fails with "database is locked"."""
    path = tmp_path / "race.db"
    workers = [apps(path), apps(path)]
    workers[0].test_client().get("/sessions")  # the file exists, without tables: the first create makes them
    barrier = threading.Barrier(8)
    statuses = []

    def create(app):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/sessions?type=agent", json={"session_id": "same"}).status_code)

    threads = [threading.Thread(target=create, args=(workers[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert workers[1].test_client().get("/sessions").get_json()["meta"]["total_count"] == 1


def test_a_write_lock_held_past_the_timeout_is_a_503(tmp_path, apps):
    path = tmp_path / "locked.db"
    client = apps(path, pool_timeout=1.0).test_client()
    assert client.post("/sessions?type=agent", json={"session_id": "x"}).status_code == 201
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        resp = client.post("/sessions?type=agent", json={"session_id": "y"})
        assert resp.status_code == 503
        assert resp.get_json() == {"detail": "Database is busy, try again later"}
        assert client.patch("/sessions/x", json={"session_name": "n"}).status_code == 503
        # readers are not blocked by a writer (WAL)
        assert client.get("/sessions").get_json()["meta"]["total_count"] == 1
        assert client.get("/sessions/x").status_code == 200
    finally:
        other.rollback()
        other.close()
    assert client.post("/sessions?type=agent", json={"session_id": "y"}).status_code == 201


def test_deleting_a_session_cascades_its_runs(tmp_path, apps):
    path = tmp_path / "s.db"
    client = apps(path).test_client()
    reference = agno_db(f"sqlite:///{path}")
    try:
        Agent(id="a", db=reference, telemetry=False, model=ScriptedModel(script=["hi"])).run("x", session_id="gone")
    finally:
        reference.close()
    assert len(client.get("/sessions/gone/runs").get_json()) == 1
    assert client.delete("/sessions/gone").status_code == 204
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM agno_runs").fetchone() == (0,)


# ---------------------------------------------------------------------------------------------
# Configuration


@pytest.mark.parametrize("url", ["sqlite:///relative/agno.db", "sqlite:////abs/path/agno.db",
                                 "sqlite+pysqlite:///x.db"])
def test_sqlite_urls_get_the_db_id_agentos_gives_a_sqlitedb(url):
    from agno.db.sqlite import SqliteDb
    settings = load_settings({"AGNO_PG_DSN": url})
    (db,) = settings.databases.values()
    assert db.url == url and db.dialect == "sqlite" and not db.embedded
    # SqliteDb(db_url=url) without id= (its engine is lazy: nothing is opened)
    assert db.db_id == SqliteDb(db_url=url).id


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///"])
def test_sqlite_urls_without_a_file_are_refused(url):
    with pytest.raises(ConfigError, match="AGNO_PG_DSN: expected a SQLite file URL"):
        load_settings({"AGNO_PG_DSN": url})


def test_sqlite_in_the_dsn_map():
    settings = load_settings({"AGNO_SESSION_DSN_MAP": '{"pg": "postgresql://h/db", "lite": "sqlite:///a.db"}'})
    assert [d.dialect for d in settings.databases.values()] == ["postgresql", "sqlite"]


def test_nothing_configured_means_the_embedded_database():
    settings = load_settings({})
    (db,) = settings.databases.values()
    assert db.embedded and db.url == "sqlite:///./data/agno.db"
    assert db.db_id == str(uuid.uuid5(uuid.NAMESPACE_DNS, "sqlite:///./data/agno.db"))
    moved = load_settings({"AGNO_SQLITE_PATH": "/srv/sessions.db", "AGNO_DEFAULT_DB_ID": "local"})
    assert list(moved.databases) == ["local"] and moved.databases["local"].url == "sqlite:////srv/sessions.db"
    assert not load_settings({"DATABASE_URL": "postgresql://h/db"}).databases.popitem()[1].embedded


def test_embedded_database_is_prepared_once_and_announced(tmp_path, caplog, apps):
    path = tmp_path / "nested" / "dir" / "agno.db"
    settings = load_settings({"AGNO_SQLITE_PATH": str(path)})
    logger = logging.getLogger("test.embedded")
    with caplog.at_level(logging.INFO, logger="test.embedded"):
        prepare_embedded(settings, logger)
        prepare_embedded(settings, logger)
    lines = [r.getMessage() for r in caplog.records]
    (db_id,) = settings.databases
    assert lines == [
        f"no database configured: using the embedded SQLite database {path} (db_id {db_id}; created agno's tables;"
        " set AGNO_SQLITE_PATH to move it, AGNO_PG_DSN for PostgreSQL)",
        f"no database configured: using the embedded SQLite database {path} (db_id {db_id}; agno's tables already"
        " there; set AGNO_SQLITE_PATH to move it, AGNO_PG_DSN for PostgreSQL)",
    ]
    assert catalogue(path)[3][0][:2] == ("agno_runs", "3.0.0")
    # and agno's SqliteDb reads what the service then writes there
    app = create_app({"TESTING": True, "SETTINGS": settings})
    try:
        assert app.test_client().post("/sessions?type=team", json={"session_id": "t"}).status_code == 201
        ready = app.test_client().get("/readyz").get_json()
        assert ready["databases"][db_id]["dialect"] == "sqlite" and ready["databases"][db_id]["layout"] == "agno3"
    finally:
        app.extensions["engines"].engine(db_id).dispose()
        app.extensions["engines"].dispose()
    reference = agno_db(f"sqlite:///{path}")
    try:
        from agno.db.base import SessionType
        assert reference.get_session(session_id="t", session_type=SessionType.TEAM).session_id == "t"
    finally:
        reference.close()


def test_configured_databases_are_not_prepared(tmp_path, caplog):
    settings = load_settings({"AGNO_PG_DSN": f"sqlite:///{tmp_path / 'not-created.db'}"})
    with caplog.at_level(logging.INFO):
        prepare_embedded(settings, logging.getLogger("test.embedded"))
    assert not caplog.records and not (tmp_path / "not-created.db").exists()
