"""Real PostgreSQL for every test: one throwaway cluster, schema created once, rollback per test.
The route tests also run on a SQLite file in agno's SqliteDb layout (layout `sqlite`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import pgcluster  # noqa: E402

from app import create_app  # noqa: E402
from app.config import DatabaseConfig, Settings, sqlalchemy_url  # noqa: E402
from app.db import tables  # noqa: E402
from app.db.engines import EngineRegistry, create_sqlite_engine  # noqa: E402
from app.sessions import store  # noqa: E402

DB_ID = "db1"

# The PostgreSQL layouts every route test runs on: one schema each in the shared test database.
#   pg-agno3: agno 3.x (runs in agno_runs); pg-agno2: agno 2.x (runs in agno_sessions.runs, no
#   agno_runs); pg-mixed: a 2.x database migrated by agno 3.x (both).
LAYOUT_SCHEMAS = {"pg-agno3": "ai", "pg-agno2": "legacy", "pg-mixed": "mixed",
                  # agno 3.x's SqliteDb layout in a SQLite file (no schemas)
                  "sqlite": "ai"}


@pytest.fixture(scope="session")
def pg_server():
    """A server URL: AGNO_TEST_PG if given, else a throwaway cluster started for this run."""
    given = os.environ.get("AGNO_TEST_PG")
    if given:
        yield make_url(sqlalchemy_url(given))
        return
    directory = tempfile.mkdtemp(prefix="agno-svc-pg-", dir=os.environ.get("AGNO_TEST_PG_DIR", "/tmp"))
    try:
        url = pgcluster.start(directory)
        yield make_url(sqlalchemy_url(url))
    finally:
        try:
            pgcluster.stop(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def new_database(server, name: str):
    janitor = DatabaseJanitor(user=server.username or "postgres", host=server.host, port=server.port,
                              dbname=name, password=server.password)
    janitor.init()
    try:
        yield server.set(database=name)
    finally:
        janitor.drop()


@pytest.fixture(scope="session")
def database(pg_server):
    """The shared test database with agno's tables, created once."""
    with new_database(pg_server, f"agno_svc_test_{os.getpid()}") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            store.bootstrap_tables(conn, "ai")
            store.bootstrap_tables(_in_schema(conn, "legacy"), "legacy", "agno2")
            # What agno 3.x's migration leaves: the 2.x sessions table, runs column kept, plus agno_runs.
            mixed = _in_schema(conn, "mixed")
            store.bootstrap_tables(mixed, "mixed", "agno2")
            tables.runs.create(mixed)
            mixed.execute(tables.schema_versions.update().values(version="3.0.0"))
            mixed.execute(tables.schema_versions.insert().values(table_name="agno_runs", version="3.0.0",
                                                                 created_at="2026-01-01T00:00:00"))
            _in_schema(conn, "ai")
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory):
    """A SQLite file with agno's SqliteDb tables, created once (engine set up as the service's)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'agno.db'}"
    engine = create_sqlite_engine(DatabaseConfig(DB_ID, url), make_settings())
    with engine.begin() as conn:
        store.bootstrap_tables(conn, "ai")
    yield engine
    engine.dispose()


def _in_schema(connection, schema):
    if connection.dialect.name == "sqlite":  # agno's SqliteDb tables have no schema
        return connection.execution_options(schema_translate_map={"ai": None})
    return connection.execution_options(schema_translate_map={"ai": schema} if schema != "ai" else None)


@pytest.fixture
def layout():
    """The database layout a test runs on; tests/sessions runs every layout."""
    return "pg-agno3"


@pytest.fixture
def conn(request, layout):
    """A connection inside a transaction that is rolled back after the test, in the layout's schema."""
    database = request.getfixturevalue("sqlite_database" if layout == "sqlite" else "database")
    with database.connect() as connection:
        _in_schema(connection, LAYOUT_SCHEMAS[layout])
        connection.info["test_layout"] = layout
        outer = connection.begin()
        yield connection
        outer.rollback()
        connection.info.pop("test_layout", None)


class ConnectionRegistry(EngineRegistry):
    """Hands every request a savepoint on the test's connection, so the test sees its writes."""

    def __init__(self, settings, connection):
        super().__init__(settings)
        self.connection = connection

    @contextlib.contextmanager
    def transaction(self, db_id):
        _in_schema(self.connection, self.databases[db_id].schema)
        with self.connection.begin_nested():
            yield self.connection

    def check(self, db_id):
        self.connection.exec_driver_sql("SELECT 1")
        return self.layout(db_id, self.connection)


def make_settings(url="postgresql+psycopg://unused/db", **overrides) -> Settings:
    dbs = overrides.pop("databases", None) or {DB_ID: DatabaseConfig(DB_ID, str(url))}
    return Settings(databases=dbs, default_db_id=next(iter(dbs)), **overrides)


@pytest.fixture
def settings(layout):
    url = "sqlite:///unused.db" if layout == "sqlite" else "postgresql+psycopg://unused/db"
    return make_settings(databases={DB_ID: DatabaseConfig(DB_ID, url, schema=LAYOUT_SCHEMAS[layout])})


@pytest.fixture
def app(conn, settings):
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fresh_url(pg_server):
    """An empty database of its own (for tests that need real commits); dropped afterwards."""
    with new_database(pg_server, f"agno_svc_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture
def make_app():
    """A real app (real engines, real commits) over the given database URL(s)."""
    apps = []

    def factory(url=None, **overrides):
        s = make_settings(url.render_as_string(hide_password=False) if url is not None else None, **overrides)
        application = create_app({"TESTING": True, "SETTINGS": s})
        apps.append(application)
        return application

    yield factory
    for application in apps:
        application.extensions["engines"].dispose()
