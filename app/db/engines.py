"""Engine registry keyed by `db_id`, per-request transactions, and per-database layout."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from ..config import DatabaseConfig, Settings
from . import tables


@dataclass(frozen=True)
class Layout:
    """What a database holds, found once per process (the tables are agno's, not ours)."""

    has_sessions: bool
    has_runs_table: bool
    has_legacy_runs: bool

    @property
    def session_table(self):
        return tables.legacy_sessions if self.has_legacy_runs else tables.sessions


_LAYOUT_SQL = text(
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = :schema AND (table_name = :runs OR (table_name = :sessions AND column_name = 'runs'))"
    " UNION ALL SELECT table_name, NULL FROM information_schema.tables "
    "WHERE table_schema = :schema AND table_name = :sessions"
)


class EngineRegistry:
    """One lazily created Engine per configured database, created after gunicorn forks."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.databases: dict[str, DatabaseConfig] = dict(settings.databases)
        self._engines: dict[str, Engine] = {}
        self._layouts: dict[str, Layout] = {}
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
        s = self.settings
        options = {}
        if db.schema != tables.SCHEMA:
            options["schema_translate_map"] = {tables.SCHEMA: db.schema}
        connect_args = {"connect_timeout": 5, "application_name": "agno-session-service"}
        if s.statement_timeout_ms:
            connect_args["options"] = f"-c statement_timeout={s.statement_timeout_ms}"
        return create_engine(
            db.url,
            pool_pre_ping=True,
            pool_size=s.pool_size,
            max_overflow=0,
            pool_timeout=s.pool_timeout,
            connect_args=connect_args,
            execution_options=options,
        )

    @contextlib.contextmanager
    def transaction(self, db_id: str):
        """One transaction: commit when the block succeeds, roll back when it raises."""
        with self.engine(db_id).begin() as conn:
            yield conn

    def layout(self, db_id: str, conn: Connection) -> Layout:
        layout = self._layouts.get(db_id)
        if layout is None:
            db = self.databases[db_id]
            rows = conn.execute(_LAYOUT_SQL, {"schema": db.schema, "runs": db.runs_table,
                                              "sessions": db.session_table}).all()
            layout = Layout(
                has_sessions=any(t == db.session_table and c is None for t, c in rows),
                has_runs_table=any(t == db.runs_table for t, c in rows),
                has_legacy_runs=any(t == db.session_table and c == "runs" for t, c in rows),
            )
            # A database without agno's tables yet is looked at again next time: agno creates
            # them lazily on its first write.
            if layout.has_sessions:
                self._layouts[db_id] = layout
        return layout

    def dispose(self, close: bool = True) -> None:
        """Drop every engine; `close=False` after a fork leaves the parent's connections alone."""
        for engine in self._engines.values():
            engine.dispose(close=close)
        self._engines.clear()
        self._layouts.clear()

    def ping(self, db_id: str) -> None:
        with self.engine(db_id).connect() as conn:
            conn.execute(text("SELECT 1"))


def init_engines(app: Flask, settings: Settings) -> None:
    app.extensions.setdefault("engines", EngineRegistry(settings))


def registry() -> EngineRegistry:
    return current_app.extensions["engines"]
