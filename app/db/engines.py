"""Engine registry keyed by `db_id`, per-request transactions, and per-database layout."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from select import POLLIN, poll

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import create_engine, event, exc, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from .. import metrics
from ..config import DatabaseConfig, Settings, sqlite_path
from . import decode, tables

log = logging.getLogger(__name__)


GENERATIONS = ("agno2", "agno3")


@dataclass(frozen=True)
class Layout:
    """What a database holds and which agno generation's rules apply to it.

    `generation` is `agno2` for the legacy layout (runs only in `agno_sessions.runs`, written as
    agno 2.9.0 writes them, responses shaped as 2.9.0 shapes them) and `agno3` otherwise (runs in
    `agno_runs`, merged with the legacy column when it is still there; agno2-contract §6.6).
    """

    has_sessions: bool
    has_runs_table: bool
    has_legacy_runs: bool
    generation: str = "agno3"
    dialect: str = "postgresql"
    sessions_version: str | None = None
    configured: bool = False
    # Google ADK's DatabaseSessionService tables in the connection's default schema: the schema
    # version its `adk_internal_metadata` records ("1"), "0" for its legacy layout (tables
    # without the metadata table), None when there are none.
    adk_version: str | None = None

    @property
    def family(self) -> str:
        """`agno`, `adk`, `both` (each in its own schema) or `empty`: whose routes answer."""
        if self.has_sessions:
            return "both" if self.adk_version else "agno"
        return "adk" if self.adk_version else "empty"

    @property
    def has_adk(self) -> bool:
        return self.adk_version is not None

    @property
    def legacy(self) -> bool:
        return self.generation == "agno2"

    @property
    def reads_runs_table(self) -> bool:
        """agno 2.x never looks at `agno_runs`, even where a 3.x start-up created it."""
        return self.has_runs_table and not self.legacy

    @property
    def session_table(self):
        return tables.legacy_sessions if self.has_legacy_runs else tables.sessions

    @property
    def name(self) -> str:
        """`empty`, `agno2` (legacy), `agno3`, or `agno3-mixed` (3.x with the legacy column kept)."""
        if not self.has_sessions:
            return "adk" if self.has_adk else "empty"
        if self.legacy:
            return "agno2"
        return "agno3-mixed" if self.has_legacy_runs else "agno3"

    def describe(self) -> dict:
        return {"layout": self.name, "generation": self.generation, "dialect": self.dialect,
                "runs_table": self.has_runs_table, "legacy_runs_column": self.has_legacy_runs,
                "sessions_version": self.sessions_version,
                "source": "configured" if self.configured else "detected"} | (
                    {"adk_schema_version": self.adk_version} if self.has_adk else {})


def _version_tuple(version: str | None) -> tuple[int, ...]:
    parts = []
    for part in (version or "").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def detect_layout(conn: Connection, db: DatabaseConfig) -> Layout:
    """Look at the tables (agno2-contract §6.6): `agno_runs` or a sessions schema version of
    3.0.0 or more means agno 3.x; a sessions table with the `runs` column and neither means 2.x."""
    dialect = conn.dialect.name
    schema = db.schema if dialect == "postgresql" else None
    inspector = inspect(conn)
    names = set(inspector.get_table_names(schema=schema))
    has_sessions = db.session_table in names
    has_runs_table = db.runs_table in names
    has_legacy = has_sessions and any(
        c["name"] == "runs" for c in inspector.get_columns(db.session_table, schema=schema))
    version = None
    if "agno_schema_versions" in names:
        version = conn.execute(
            select(tables.schema_versions.c.version).where(tables.schema_versions.c.table_name == db.session_table)
        ).scalar_one_or_none()
    from ..adk.store import detect_adk_version

    adk_version = detect_adk_version(conn, inspector)
    if db.generation in GENERATIONS:
        generation, configured = db.generation, True
    else:
        configured = False
        if has_runs_table or _version_tuple(version) >= (3,):
            generation = "agno3"
        elif has_legacy:
            generation = "agno2"
        else:
            generation = "agno3"
    return Layout(has_sessions=has_sessions, has_runs_table=has_runs_table, has_legacy_runs=has_legacy,
                  generation=generation, dialect=dialect, sessions_version=version, configured=configured,
                  adk_version=adk_version)


class EngineRegistry:
    """One lazily created Engine per configured database, created after gunicorn forks."""

    def __init__(self, settings: Settings, instrument: bool = True):
        self.settings = settings
        # Pool metrics are reported by the workers' registries, not by the master's start-up check.
        self.instrument = instrument
        self.databases: dict[str, DatabaseConfig] = dict(settings.databases)
        self._engines: dict[str, Engine] = {}
        self._layouts: dict[str, tuple[Layout, float]] = {}
        self._lock = threading.Lock()

    def engine(self, db_id: str) -> Engine:
        engine = self._engines.get(db_id)
        if engine is None:
            with self._lock:
                engine = self._engines.get(db_id)
                if engine is None:
                    engine = self._engines[db_id] = self._create_engine(self.databases[db_id])
        return engine

    def _create_engine(self, db: DatabaseConfig) -> Engine:
        if db.dialect == "sqlite":
            return create_sqlite_engine(db, self.settings, instrument=self.instrument)
        s = self.settings
        options = {}
        if db.schema != tables.SCHEMA:
            options["schema_translate_map"] = {tables.SCHEMA: db.schema}
        connect_args = {"connect_timeout": 5, "application_name": "agno-session-service"}
        if s.statement_timeout_ms:
            # Every statement ends within the timeout, below gunicorn's worker timeout (checked at
            # start-up), so a slow query becomes a clean 504 instead of a killed worker. A
            # transaction left idle by a stalled worker is closed by the server after the same time.
            connect_args["options"] = (f"-c statement_timeout={s.statement_timeout_ms}"
                                       f" -c idle_in_transaction_session_timeout={s.statement_timeout_ms}")
        # No pre-ping (a round trip on every checkout): a connection the server has closed is
        # found by looking at its socket instead (see _drop_closed_connections).
        engine = create_engine(
            db.url,
            pool_size=s.pool_size,
            max_overflow=0,
            pool_timeout=s.pool_timeout,
            connect_args=connect_args,
            execution_options=options,
            json_deserializer=decode.loads,
        )
        event.listen(engine, "checkout", _drop_closed_connections, insert=True)
        if self.instrument:
            metrics.instrument_pool(engine, db.db_id, s.pool_size)
        return engine

    @contextlib.contextmanager
    def transaction(self, db_id: str, write: bool | None = None):
        """One transaction: commit when the block succeeds, roll back when it raises.

        `write` (by default: the request is not a GET/HEAD) matters on SQLite only: a write
        transaction takes the database's write lock when it begins (`BEGIN IMMEDIATE`), so
        concurrent writers queue on the busy timeout instead of failing half-way through."""
        if write is None:
            write = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        with self.engine(db_id).connect() as conn:
            if conn.dialect.name == "sqlite":
                if write:
                    conn.execution_options(sqlite_begin="IMMEDIATE")
            elif not write:
                # Reads run without BEGIN and COMMIT, two round trips fewer: under PostgreSQL's
                # READ COMMITTED every statement takes its own snapshot anyway, in a transaction
                # or not, so a read sees exactly what it saw before.
                conn.execution_options(isolation_level="AUTOCOMMIT")
            with conn.begin():
                yield conn

    def layout(self, db_id: str, conn: Connection) -> Layout:
        """The database's layout, detected at first use and looked at again after
        `AGNO_LAYOUT_RECHECK_SECONDS` (so a migration by agno 3.x is picked up without a restart)."""
        cached = self._layouts.get(db_id)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self.settings.layout_recheck_seconds:
            return cached[0]
        layout = detect_layout(conn, self.databases[db_id])
        # A database without agno's (or ADK's) tables yet is looked at again next time: both
        # create them lazily on their first write.
        if layout.family != "empty":
            if cached is not None and cached[0] != layout:
                log.info("database layout changed", extra={"db_id": db_id, **layout.describe()})
            self._layouts[db_id] = (layout, now)
        return layout

    def dispose(self, close: bool = True) -> None:
        """Drop every engine; `close=False` after a fork leaves the parent's connections alone."""
        for engine in self._engines.values():
            engine.dispose(close=close)
        self._engines.clear()
        self._layouts.clear()

    def check(self, db_id: str) -> Layout:
        """Reach the database and tell its layout (for /readyz and the start-up log)."""
        with self.engine(db_id).connect() as conn:
            conn.execute(text("SELECT 1"))
            return self.layout(db_id, conn)


def _drop_closed_connections(dbapi_connection, record, proxy) -> None:
    """Replace a pooled PostgreSQL connection the server has closed, before a request uses it.

    This is what `pool_pre_ping` is for, without its round trip on every checkout: an idle
    connection has nothing to read, so anything readable on its socket (the server's goodbye at
    a shutdown or restart, end-of-file after a crash, an idle-session timeout) means it is gone.
    Raising DisconnectionError makes the pool discard it and connect afresh (or fail with a 503
    while the server is down), so the first request after a restart succeeds."""
    try:
        fd = None if dbapi_connection.closed or dbapi_connection.broken else dbapi_connection.fileno()
    except Exception:  # psycopg raises when the connection is no longer usable
        fd = None
    if fd is None:
        raise exc.DisconnectionError("the connection is closed")
    poller = poll()
    poller.register(fd, POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed the connection")


def create_sqlite_engine(db: DatabaseConfig, settings: Settings, instrument: bool = False) -> Engine:
    """An engine over a SQLite file in agno's `SqliteDb` layout (no schemas: `ai` maps to none).

    Connections are set up as agno 3.1.10's `SqliteDb` sets up its own (`PRAGMA foreign_keys = ON`,
    so `agno_runs` rows cascade with their session; `journal_mode=WAL`, which persists in the
    file, so readers never wait for a writer), plus a busy timeout of `AGNO_DB_POOL_TIMEOUT`
    seconds. pysqlite's own transaction handling is switched off: transactions begin with an
    explicit `BEGIN`, `BEGIN IMMEDIATE` for writes (see `EngineRegistry.transaction`). Another
    worker holding the write lock past the timeout raises "database is locked", a 503.
    """
    if db.embedded:
        os.makedirs(os.path.dirname(os.path.abspath(sqlite_path(db.url))), exist_ok=True)
    busy_ms = int(settings.pool_timeout * 1000)
    engine = create_engine(
        db.url,
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        connect_args={"timeout": settings.pool_timeout, "check_same_thread": False},
        execution_options={"schema_translate_map": {tables.SCHEMA: None}},
    )
    if instrument:
        metrics.instrument_pool(engine, db.db_id, settings.pool_size)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")

    return engine


def log_layouts(settings: Settings, logger: logging.Logger) -> None:
    """One start-up line per configured database: its layout, or why it could not be reached yet
    (then it is detected at its first use)."""
    reg = EngineRegistry(settings, instrument=False)
    try:
        for db_id, db in reg.databases.items():
            try:
                layout = reg.check(db_id)
            except Exception as exc:  # the service still starts; /readyz reports the database
                logger.warning(f"database {db_id!r}: not reachable at start-up ({type(exc).__name__});"
                               " its layout is detected at first use", extra={"db_id": db_id})
                continue
            forced = f", forced by AGNO_DB_LAYOUT={db.generation}" if layout.configured else ""
            logger.info(f"database {db_id!r}: layout {layout.name} ({layout.dialect}{forced})",
                        extra={"db_id": db_id, **layout.describe()})
    finally:
        reg.dispose()


def init_engines(app: Flask, settings: Settings) -> None:
    app.extensions.setdefault("engines", EngineRegistry(settings))


def registry() -> EngineRegistry:
    return current_app.extensions["engines"]
