"""``agno-session-service migrate``: create agno's session tables where a database has none.

    agno-session-service migrate [--db-id ID ...]

For every configured database (or the ones named with ``--db-id``) the alembic scripts of the
top-level ``migrations/`` directory are run against that database and schema. Revision 0001
creates the tables agno 3.1.10 creates (``agno_sessions``, ``agno_runs``, ``agno_schema_versions``
and its version rows; the agno 2.x layout where ``AGNO_DB_LAYOUT`` forces ``agno2``) only in a
database that has none of them; a database that already has agno's tables is left exactly as it
is and only records the revision. Alembic's bookkeeping lives in ``agno_session_service_version``
beside agno's tables, so it never meets another tool's ``alembic_version``.

Concurrent runs serialize: on PostgreSQL on a session-level advisory lock derived from the
schema, on SQLite in one ``BEGIN IMMEDIATE`` transaction; the later run then finds the database
current. One line per database; exit status 0 when every database is current, 1 when one could not
be migrated, 2 on bad usage or configuration. The service never runs this at start-up.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from .config import ConfigError, DatabaseConfig, Settings, load_settings
from .db import tables
from .db.engines import create_sqlite_engine
from .logging import configure_logging

log = logging.getLogger(__name__)

# Not `alembic_version`: agno's schema may be shared with other alembic-managed applications.
VERSION_TABLE = "agno_session_service_version"
# The advisory lock key is hashtext() of this prefix and the schema: one lock per agno schema.
LOCK_PREFIX = "agno-session-service:migrate:"
# Attributes handed to migrations/env.py and the revision scripts through alembic's Config.
ATTR_CONNECTION, ATTR_SCHEMA, ATTR_GENERATION, ATTR_CREATED = "connection", "agno_schema", "agno_generation", "agno_created"


class MigrationRefused(RuntimeError):
    """A migration step that would destroy agno's data (any downgrade)."""


@dataclass(frozen=True)
class Outcome:
    """What one database's migration did."""

    db_id: str
    # created: agno's tables were created; existing: they were there and were left unchanged;
    # current: the revision was already recorded; upgraded: later revisions ran.
    state: str
    revision: str
    generation: str
    previous: str | None = None

    @property
    def message(self) -> str:
        where = f"database {self.db_id!r}"
        if self.state == "created":
            return f"{where}: created agno's tables ({self.generation} layout), revision {self.revision}"
        if self.state == "existing":
            return f"{where}: agno's tables already exist, left unchanged; revision {self.revision} recorded"
        if self.state == "current":
            return f"{where}: already at revision {self.revision}"
        return f"{where}: upgraded from revision {self.previous} to {self.revision}"


def migrations_dir(env: Mapping[str, str] | None = None) -> Path:
    """`AGNO_MIGRATIONS_DIR`, else `migrations/` beside the app package (a source checkout, or
    /app in the image), else `./migrations`. Raises ConfigError when the directory is missing."""
    env = os.environ if env is None else env
    given = env.get("AGNO_MIGRATIONS_DIR")
    if given:
        path = Path(given)
        if not (path / "env.py").is_file():
            raise ConfigError(f"AGNO_MIGRATIONS_DIR: {given!r} is not an alembic migrations directory (no env.py)")
        return path
    for path in (Path(__file__).resolve().parent.parent / "migrations", Path.cwd() / "migrations"):
        if (path / "env.py").is_file():
            return path
    raise ConfigError("migrations directory not found beside the app package nor in the working directory;"
                      " set AGNO_MIGRATIONS_DIR")


def generation_for(db: DatabaseConfig) -> str:
    """The layout created in an empty database: agno 2.x's only where AGNO_DB_LAYOUT forces it."""
    return "agno2" if db.generation == "agno2" else "agno3"


def version_table_schema(db: DatabaseConfig) -> str | None:
    return None if db.dialect == "sqlite" else db.schema


def alembic_config(directory: Path, conn: Connection, db: DatabaseConfig) -> Config:
    """An in-memory alembic Config (no alembic.ini) that runs migrations/env.py on `conn`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(directory))
    cfg.attributes.update({ATTR_CONNECTION: conn, ATTR_SCHEMA: version_table_schema(db),
                           ATTR_GENERATION: generation_for(db)})
    return cfg


def describe_target(db: DatabaseConfig) -> str:
    """The database's URL without its password, and the schema."""
    url = make_url(db.url).render_as_string(hide_password=True)
    return url if db.dialect == "sqlite" else f"{url}, schema {db.schema}"


def _engine(db: DatabaseConfig, settings: Settings) -> Engine:
    if db.dialect == "sqlite":
        # Set up as the service's own engine (foreign keys, WAL, busy timeout, explicit BEGIN).
        return create_sqlite_engine(db, settings)
    # One connection that lives as long as the run: closing it ends the session, and with it the
    # advisory lock, even if the unlock below never gets through. No statement_timeout: waiting
    # for a concurrent run's lock is expected.
    options = {"schema_translate_map": {tables.SCHEMA: db.schema}} if db.schema != tables.SCHEMA else {}
    return create_engine(db.url, poolclass=NullPool, execution_options=options,
                         connect_args={"connect_timeout": 5, "application_name": "agno-session-service migrate"})


def _upgrade(conn: Connection, db: DatabaseConfig, directory: Path) -> Outcome:
    """Bring one database to the head revision; `conn` is inside the locked transaction."""
    cfg = alembic_config(directory, conn, db)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE,
                                                     "version_table_schema": version_table_schema(db)})
    current = context.get_current_revision()
    generation = generation_for(db)
    if current == head:
        return Outcome(db.db_id, "current", head, generation)
    command.upgrade(cfg, "head")
    created = cfg.attributes.get(ATTR_CREATED)
    if current is None and created is not None:  # revision 0001 ran and said what it found
        return Outcome(db.db_id, "created" if created else "existing", head, generation)
    return Outcome(db.db_id, "upgraded", head, generation, previous=current)


def _pg_lock(conn: Connection, db: DatabaseConfig) -> None:
    """Take the schema's migration lock for the session; say so when another run holds it."""
    key = {"k": LOCK_PREFIX + db.schema}
    if not conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), key).scalar_one():
        log.info(f"database {db.db_id!r}: waiting for another migrate run to finish", extra={"db_id": db.db_id})
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), key)
    conn.commit()  # end the autobegun transaction; the session-level lock stays


def _pg_unlock(conn: Connection, db: DatabaseConfig) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": LOCK_PREFIX + db.schema})
        conn.commit()
    except SQLAlchemyError:
        pass  # the connection is gone, and the lock with its session


def migrate_database(db: DatabaseConfig, settings: Settings, directory: Path) -> Outcome:
    """Migrate one database under its lock, in one transaction (rolled back on any error)."""
    engine = _engine(db, settings)
    try:
        with engine.connect() as conn:
            if db.dialect == "sqlite":
                # The write lock from the first statement on: a concurrent run waits (busy timeout)
                # and then finds the revision recorded.
                conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    return _upgrade(conn, db, directory)
            _pg_lock(conn, db)
            try:
                with conn.begin():
                    return _upgrade(conn, db, directory)
            finally:
                _pg_unlock(conn, db)
    finally:
        engine.dispose()


def failure_reason(exc: BaseException) -> str:
    """One line: the driver's message (psycopg's spans several lines), or the exception's."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return f"{type(cause).__name__}: {'; '.join(lines) or 'no message'}"


def select_databases(settings: Settings, db_ids: Iterable[str] | None) -> list[DatabaseConfig]:
    """The databases to migrate, in configuration order; ConfigError names an unknown id."""
    if not db_ids:
        return list(settings.databases.values())
    unknown = [db_id for db_id in db_ids if db_id not in settings.databases]
    if unknown:
        raise ConfigError(f"--db-id: {', '.join(map(repr, unknown))} is not a configured db_id"
                          f" (configured: {', '.join(map(repr, settings.databases))})")
    wanted = set(db_ids)
    return [db for db_id, db in settings.databases.items() if db_id in wanted]


def run(settings: Settings, databases: Iterable[DatabaseConfig], directory: Path) -> int:
    """Migrate each database in turn (a failure does not stop the others); 0 or 1."""
    status = 0
    for db in databases:
        try:
            outcome = migrate_database(db, settings, directory)
        except Exception as exc:  # one clear line per database instead of a traceback
            status = 1
            log.error(f"database {db.db_id!r} ({describe_target(db)}): migration failed: {failure_reason(exc)}",
                      extra={"db_id": db.db_id, "outcome": "failed"})
            continue
        log.info(outcome.message, extra={"db_id": db.db_id, "outcome": outcome.state, "revision": outcome.revision,
                                         **({"generation": outcome.generation} if outcome.state == "created" else {})})
    return status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db-id", dest="db_ids", action="extend", nargs="+", default=[], metavar="ID",
                        help="only these configured databases (repeatable; default: every configured database)")


def migrate_command(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    try:
        settings = load_settings(env)
        databases = select_databases(settings, args.db_ids)
        directory = migrations_dir(env)
    except ConfigError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 2
    configure_logging()
    # alembic reports each context and step at INFO; the one line per database says it all.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return run(settings, databases, directory)

