"""`db_id` and `table` query semantics (contract §1.8), checked against the configuration."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from flask import g
from sqlalchemy import inspect, text

from ..config import DatabaseConfig
from ..errors import BadRequest, NotFound, ServiceUnavailable
from .engines import EngineRegistry, Layout, registry

# The tables AgentOS accepts in `table` for a PostgresDb with default names: its session,
# memory, learnings, metrics, eval and knowledge tables. `table` is only validated.
AGNO_TABLE_NAMES = ("agno_sessions", "agno_memories", "agno_learnings", "agno_metrics", "agno_eval_runs",
                    "agno_knowledge")


@dataclass
class Database:
    registry: EngineRegistry
    config: DatabaseConfig

    @contextlib.contextmanager
    def transaction(self):
        with self.registry.transaction(self.config.db_id) as conn:
            yield conn

    def layout(self, conn, family: str = "agno") -> Layout:
        """The database's layout, for the routes of one family (`agno` or `adk`): a database
        that holds only the other family's tables answers 404, so neither API ever reads or
        creates tables in a database that belongs to the other framework."""
        layout = self.registry.layout(self.config.db_id, conn)
        if family == "agno" and layout.family == "adk":
            raise NotFound(f"Database '{self.config.db_id}' holds Google ADK sessions, not agno sessions: "
                           "use the /apps/{app_name}/users/{user_id}/sessions routes")
        if family == "adk" and layout.family == "agno":
            raise NotFound(f"Database '{self.config.db_id}' holds agno sessions, not Google ADK sessions: "
                           "use the /sessions routes")
        return layout


def resolve_database(db_id: str | None, table: str | None) -> Database:
    db = _resolve(db_id, table)
    g.db_id = db.config.db_id  # for the access log line
    return db


def _resolve(db_id: str | None, table: str | None) -> Database:
    reg = registry()
    db_id = db_id or None
    table = table or None
    if table and not db_id:
        raise BadRequest("The db_id query parameter is required when passing a table")
    if db_id:
        config = reg.databases.get(db_id)
        if config is None:
            raise NotFound(f"No database found with id '{db_id}'")
        db = Database(reg, config)
        if table and not _has_table(db, table):
            raise NotFound(f"No database with id '{db_id}' has table '{table}'")
        return db
    settings = reg.settings
    if not reg.databases:
        raise ServiceUnavailable("No database is configured")
    if len(reg.databases) > 1 and not settings.default_db_explicit:
        raise BadRequest("The db_id query parameter is required when using multiple databases")
    return Database(reg, reg.databases[settings.default_db_id])


def _has_table(db: Database, table: str) -> bool:
    names = {db.config.session_table, *AGNO_TABLE_NAMES}
    if table not in names:
        return False
    with db.transaction() as conn:
        if conn.dialect.name == "sqlite":
            return inspect(conn).has_table(table)
        found = conn.execute(text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = :t"),
                             {"s": db.config.schema, "t": table}).first()
    return found is not None
