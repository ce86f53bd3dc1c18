"""The embedded SQLite database used when no database is configured (`make run` on a bare machine)."""

from __future__ import annotations

import logging

from .config import Settings, sqlite_path
from .db.engines import EngineRegistry
from .sessions import store


def prepare_embedded(settings: Settings, logger: logging.Logger) -> None:
    """Create the embedded database's directory, file and agno-compatible tables (as agno 3.1.10's
    SqliteDb would create them), then say so in one line. Configured databases are left alone."""
    embedded = [db for db in settings.databases.values() if db.embedded]
    if not embedded:
        return
    registry = EngineRegistry(settings, instrument=False)
    try:
        for db in embedded:
            with registry.transaction(db.db_id, write=True) as conn:
                created = store.bootstrap_tables(conn, db.schema)
            tables = "created agno's tables" if created else "agno's tables already there"
            logger.info(f"no database configured: using the embedded SQLite database {sqlite_path(db.url)}"
                        f" (db_id {db.db_id}; {tables}; set AGNO_SQLITE_PATH to move it, AGNO_PG_DSN for PostgreSQL)",
                        extra={"db_id": db.db_id})
    finally:
        registry.dispose()
