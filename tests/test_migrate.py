"""`agno-session-service migrate`: alembic creates agno's tables where there are none, and only there.

Every PostgreSQL test gets an empty database of its own (`fresh_url`), so the shared schemas of
the route tests are never touched; SQLite tests use files under tmp_path. agno 3.1.10's own
PostgresDb and SqliteDb are the reference for the DDL and then read and write the migrated
databases. The command line (exit statuses, concurrent runs) is run as separate processes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from agno.db.base import SessionType
from alembic import command
from sqlalchemy import create_engine, text

from app import migrate
from app.config import DatabaseConfig, Settings
from app.migrate import (LOCK_PREFIX, VERSION_TABLE, MigrationRefused, alembic_config, migrate_database,
                         migrations_dir, select_databases)
from app.sessions import store
from tests.agno_seed import Agent, ScriptedModel, agno_db

ROOT = Path(__file__).resolve().parent.parent
AGNO_TABLES = ("agno_sessions", "agno_runs", "agno_schema_versions")


def url_string(url) -> str:
    return url.render_as_string(hide_password=False)


def database(url: str, schema: str = "ai", generation: str = "auto", db_id: str = "main") -> DatabaseConfig:
    return DatabaseConfig(db_id, url, schema, generation=generation)


def run_migration(db: DatabaseConfig, **settings) -> migrate.Outcome:
    return migrate_database(db, Settings(databases={db.db_id: db}, default_db_id=db.db_id, **settings),
                            migrations_dir())


def describe(engine, schema: str) -> dict:
    """Everything PostgreSQL says about a schema's tables (the schema name masked), every row with
    its xmin (any rewrite or no-op update changes it) and each table's file node (a table rewrite
    changes it)."""
    params = {"s": schema}
    with engine.connect() as conn:
        names = conn.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                                  " ORDER BY 1"), params).scalars().all()
        out = {
            "tables": names,
            "columns": conn.execute(text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default, ordinal_position"
                " FROM information_schema.columns WHERE table_schema = :s ORDER BY table_name, ordinal_position"),
                params).all(),
            "indexes": conn.execute(text(
                "SELECT tablename, indexname, replace(indexdef, :s || '.', 'S.') FROM pg_indexes"
                " WHERE schemaname = :s ORDER BY tablename, indexname"), params).all(),
            "constraints": conn.execute(text(
                "SELECT rel.relname, con.conname, con.contype, replace(pg_get_constraintdef(con.oid), :s || '.', 'S.')"
                " FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
                " JOIN pg_namespace n ON n.oid = rel.relnamespace WHERE n.nspname = :s ORDER BY 1, 2"),
                params).all(),
        }
        for name in names:
            out[f"rows {name}"] = conn.execute(text(
                f'SELECT xmin::text, to_jsonb(t)::text FROM "{schema}"."{name}" t ORDER BY 2')).all()
            out[f"filenode {name}"] = conn.execute(
                text("SELECT pg_relation_filenode(quote_ident(:s) || '.' || quote_ident(:t))"),
                {"s": schema, "t": name}).scalar_one()
    return out


def without(described: dict, name: str) -> dict:
    """`describe` as it would be without one table."""
    return {key: [row for row in value if row[0] != name] if key in ("columns", "indexes", "constraints") else
            [t for t in value if t != name] if key == "tables" else value
            for key, value in described.items() if not key.endswith(f" {name}")}


def only(described: dict, names) -> dict:
    """The DDL part of `describe` restricted to some tables."""
    return {key: [row for row in described[key] if row[0] in names] for key in ("columns", "indexes", "constraints")}


def versions(engine, schema: str) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT version_num FROM "{schema}".{VERSION_TABLE}')).scalars().all()


def alembic_default_tables(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM information_schema.tables"
                                 " WHERE table_name = 'alembic_version'")).scalar_one()


@pytest.fixture
def pg(fresh_url):
    """(URL string, engine) of an empty database of this test's own."""
    engine = create_engine(fresh_url)
    yield url_string(fresh_url), engine
    engine.dispose()


def agent_run(db, session_id: str) -> None:
    """agno writes a session and its run through its own storage code (creating tables if missing)."""
    try:
        Agent(id="migrate-agent", db=db, telemetry=False, model=ScriptedModel(script=["hello"])).run("hi", session_id=session_id)
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def test_empty_database_gets_agnos_tables_which_agno_then_uses(pg):
    url, engine = pg
    outcome = run_migration(database(url))
    assert outcome.message == "database 'main': created agno's tables (agno3 layout), revision 0001"
    created = describe(engine, "ai")
    assert created["tables"] == sorted([*AGNO_TABLES, VERSION_TABLE])
    assert versions(engine, "ai") == ["0001"] and alembic_default_tables(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT table_name, version FROM ai.agno_schema_versions ORDER BY 1")).all() == [
            ("agno_runs", "3.0.0"), ("agno_sessions", "3.0.0")]

    # agno 3.1.10 creates its tables in another schema of the same database: identical DDL
    agent_run(agno_db(url, db_schema="agno_ref"), "reference")
    reference = describe(engine, "agno_ref")
    assert reference["tables"] == sorted(AGNO_TABLES)
    assert only(created, AGNO_TABLES) == only(reference, AGNO_TABLES)

    # agno writes a session and its run into the migrated tables and reads them back
    agent_run(agno_db(url, db_schema="ai"), "s1")
    reader = agno_db(url, db_schema="ai")
    try:
        session = reader.get_session(session_id="s1", session_type=SessionType.AGENT)
    finally:
        reader.close()
    assert session is not None and session.agent_id == "migrate-agent"
    assert [run.content for run in session.runs] == ["hello"]
    after_agno = describe(engine, "ai")
    assert only(after_agno, AGNO_TABLES) == only(created, AGNO_TABLES)  # agno found nothing to change

    # a second run changes nothing at all
    assert run_migration(database(url)).message == "database 'main': already at revision 0001"
    assert describe(engine, "ai") == after_agno


@pytest.mark.parametrize("existing", ["agno2", "agno3"])
def test_existing_agno_tables_are_left_exactly_as_they_are(pg, existing):
    """A database agno already uses (2.x legacy or 3.x), with a row, an index added by hand and one of
    agno's indexes dropped: nothing is created, altered or dropped; only the revision is recorded."""
    url, engine = pg
    with engine.begin() as conn:
        store.bootstrap_tables(conn.execution_options(schema_translate_map={"ai": "keep"}), "keep", existing)
        conn.execute(text("INSERT INTO keep.agno_sessions (session_id, session_type, user_id, session_data,"
                          " created_at) VALUES ('old', 'agent', 'u1', '{\"session_name\": \"kept\"}', 1700000000)"))
        conn.execute(text("CREATE INDEX by_hand ON keep.agno_sessions (user_id, created_at DESC)"))
        conn.execute(text("DROP INDEX keep.idx_agno_sessions_session_type"))
    before = describe(engine, "keep")

    outcome = run_migration(database(url, schema="keep"))
    assert outcome.message == "database 'main': agno's tables already exist, left unchanged; revision 0001 recorded"
    after = describe(engine, "keep")
    assert after["tables"] == sorted([*before["tables"], VERSION_TABLE])
    assert without(after, VERSION_TABLE) == before
    assert ("agno_runs" in after["tables"]) == (existing == "agno3")
    assert versions(engine, "keep") == ["0001"] and alembic_default_tables(engine) == 0

    assert run_migration(database(url, schema="keep")).state == "current"


def test_forced_agno2_layout_creates_the_legacy_table(pg):
    url, engine = pg
    outcome = run_migration(database(url, schema="legacy2", generation="agno2"))
    assert outcome.message == "database 'main': created agno's tables (agno2 layout), revision 0001"
    described = describe(engine, "legacy2")
    assert described["tables"] == sorted(["agno_sessions", "agno_schema_versions", VERSION_TABLE])
    columns = [r[1] for r in described["columns"] if r[0] == "agno_sessions"]
    assert columns[9:14] == ["workflow_data", "metadata", "runs", "summary", "created_at"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT table_name, version FROM legacy2.agno_schema_versions")).all() == [
            ("agno_sessions", "2.5.6")]


def test_concurrent_runs_serialize_on_the_lock(pg):
    """Two `migrate` processes started while the lock is held both wait for it; once it is
    released, one creates the tables and the other finds the revision recorded."""
    url, engine = pg
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGNO_") and k != "DATABASE_URL"}
    env.update(AGNO_PG_DSN=url, AGNO_DEFAULT_DB_ID="main")
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": LOCK_PREFIX + "ai"})
        holder.commit()
        procs = [subprocess.Popen([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        try:
            deadline = time.monotonic() + 20
            while True:
                waiting = holder.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                              " AND NOT granted AND database = (SELECT oid FROM pg_database"
                                              " WHERE datname = current_database())")).scalar_one()
                holder.commit()
                if waiting == 2 or time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    break
                time.sleep(0.05)
            assert waiting == 2
            assert alembic_default_tables(engine) == 0 and "agno_sessions" not in describe(engine, "ai")["tables"]
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": LOCK_PREFIX + "ai"})
            holder.commit()
            results = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    outputs = [out for out, _ in results]
    assert all("waiting for another migrate run to finish" in out for out in outputs)
    assert sorted('"outcome": "created"' in out for out in outputs) == [False, True]
    assert sum('"outcome": "current"' in out for out in outputs) == 1
    assert versions(engine, "ai") == ["0001"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ai.agno_schema_versions")).scalar_one() == 2


def test_unreachable_database_exits_1_with_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGNO_") and k != "DATABASE_URL"}
    env.update(AGNO_PG_DSN="postgresql://postgres:secret@127.0.0.1:1/nowhere", AGNO_DEFAULT_DB_ID="main")
    proc = subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and proc.stderr == ""
    assert "database 'main' (postgresql+psycopg://postgres:***@127.0.0.1:1/nowhere, schema ai): migration failed:" in lines[0]
    assert "Connection refused" in lines[0] and "secret" not in lines[0]


# ---------------------------------------------------------------------------------------------
# SQLite


def sqlite_tables(path) -> list:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def test_empty_sqlite_file_gets_sqlitedbs_tables(tmp_path):
    path = tmp_path / "agno.db"
    db = database(f"sqlite:///{path}")
    assert run_migration(db).message == "database 'main': created agno's tables (agno3 layout), revision 0001"
    ours = sqlite_tables(path)
    assert {name for kind, name, *_ in ours if kind == "table"} == {*AGNO_TABLES, VERSION_TABLE}

    agent_run(agno_db(f"sqlite:///{tmp_path / 'reference.db'}"), "reference")
    assert [r for r in ours if r[2] != VERSION_TABLE] == sqlite_tables(tmp_path / "reference.db")

    agent_run(agno_db(f"sqlite:///{path}"), "s1")
    reader = agno_db(f"sqlite:///{path}")
    try:
        session = reader.get_session(session_id="s1", session_type=SessionType.AGENT)
    finally:
        reader.close()
    assert session is not None and [run.content for run in session.runs] == ["hello"]
    after_agno = sqlite_tables(path)
    assert after_agno == ours

    assert run_migration(db).state == "current"
    assert sqlite_tables(path) == ours
    with sqlite3.connect(path) as conn:
        assert conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [("0001",)]


def test_sqlite_run_waits_for_the_write_lock(tmp_path):
    """Another writer holds the file's write lock: the migration queues behind it (BEGIN IMMEDIATE
    and the busy timeout) instead of failing or interleaving."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE other_tool (x INTEGER)")
    outcomes = []
    worker = threading.Thread(target=lambda: outcomes.append(run_migration(database(f"sqlite:///{path}"),
                                                                           pool_timeout=10.0)))
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive() and not outcomes
    holder.execute("COMMIT")
    holder.close()
    worker.join(15)
    assert [o.state for o in outcomes] == ["created"]
    assert {name for kind, name, *_ in sqlite_tables(path) if kind == "table"} == {*AGNO_TABLES, VERSION_TABLE,
                                                                                   "other_tool"}


def test_downgrade_is_refused(tmp_path):
    path = tmp_path / "agno.db"
    db = database(f"sqlite:///{path}")
    run_migration(db)
    engine = create_engine(f"sqlite:///{path}", execution_options={"schema_translate_map": {"ai": None}})
    try:
        with engine.begin() as conn, pytest.raises(MigrationRefused, match="never drops agno's data"):
            command.downgrade(alembic_config(migrations_dir(), conn, db), "base")
    finally:
        engine.dispose()
    assert {name for kind, name, *_ in sqlite_tables(path) if kind == "table"} == {*AGNO_TABLES, VERSION_TABLE}
    assert run_migration(db).state == "current"


# ---------------------------------------------------------------------------------------------
# Selection and configuration


def test_db_id_selects_databases_and_unknown_ids_exit_2(tmp_path, capsys, caplog):
    dbs = {name: database(f"sqlite:///{tmp_path / name}.db", db_id=name) for name in ("one", "two")}
    settings = Settings(databases=dbs, default_db_id="one")
    assert [d.db_id for d in select_databases(settings, None)] == ["one", "two"]
    with caplog.at_level("INFO", logger="app.migrate"):
        assert migrate.run(settings, select_databases(settings, ["two"]), migrations_dir()) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "database 'two': created agno's tables (agno3 layout), revision 0001"]
    assert not (tmp_path / "one.db").exists()

    env = {"AGNO_SESSION_DSN_MAP": f'{{"one": "sqlite:///{tmp_path / "one.db"}"}}'}
    args = migrate_command_args(["--db-id", "one", "nope"])
    assert migrate.migrate_command(args, env) == 2
    assert capsys.readouterr().err == "migrate: --db-id: 'nope' is not a configured db_id (configured: 'one')\n"
    assert not (tmp_path / "one.db").exists()


def migrate_command_args(argv):
    from app.cli import build_parser
    return build_parser().parse_args(["migrate", *argv])


def test_migrations_directory(tmp_path):
    assert migrations_dir({}) == ROOT / "migrations"
    assert migrations_dir({"AGNO_MIGRATIONS_DIR": str(ROOT / "migrations")}) == ROOT / "migrations"
    with pytest.raises(migrate.ConfigError, match="AGNO_MIGRATIONS_DIR"):
        migrations_dir({"AGNO_MIGRATIONS_DIR": str(tmp_path)})
    assert migrate_command_args(["--db-id", "a", "--db-id", "b", "c"]).db_ids == ["a", "b", "c"]
