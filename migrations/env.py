"""alembic environment of agno-session-service: run by `agno-session-service migrate` only.

The command (app/migrate.py) opens the connection, takes the migration lock, begins the
transaction and hands the connection over in `config.attributes`; this file only points alembic
at it, with the service's own version table (`agno_session_service_version`, beside agno's
tables). There is no alembic.ini and no offline (`--sql`) mode: whether revision 0001 creates
anything depends on what the database already holds.
"""

from alembic import context
from sqlalchemy import text

from app.migrate import ATTR_CONNECTION, ATTR_SCHEMA, VERSION_TABLE

config = context.config
connection = config.attributes.get(ATTR_CONNECTION)
if context.is_offline_mode() or connection is None:
    raise RuntimeError("these migrations run through `agno-session-service migrate` (or `python -m app migrate`),"
                       " which connects to each configured database")

schema = config.attributes[ATTR_SCHEMA]  # None on SQLite
if schema is not None:
    # The version table lives in agno's schema, which may not exist yet in an empty database.
    # Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
    found = connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    if found is None:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

context.configure(connection=connection, version_table=VERSION_TABLE, version_table_schema=schema)
# The caller's transaction is already open: alembic runs inside it and the caller commits.
with context.begin_transaction():
    context.run_migrations()
