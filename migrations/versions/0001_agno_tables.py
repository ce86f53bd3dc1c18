"""agno's session tables, in a database that has none of them.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Creates what agno creates on its first write (app.sessions.store.bootstrap_tables, from the table
definitions of app/db/tables.py): agno 3.1.10's `agno_sessions`, `agno_runs` and
`agno_schema_versions` with version rows 3.0.0, or agno 2.x's `agno_sessions` with its `runs`
column (version row 2.5.6) where AGNO_DB_LAYOUT forces `agno2`. On SQLite, the tables of agno's
SqliteDb. A database holding any of agno's tables (of any generation) is left as it is: nothing is
created, altered or dropped there, and only the revision is recorded.

The definitions are imported rather than frozen here because they are agno's, not ours: they
describe agno 3.1.10's layout exactly, which is what this revision has to produce.
"""

from alembic import context, op

from app.migrate import ATTR_CREATED, ATTR_GENERATION, ATTR_SCHEMA, MigrationRefused
from app.sessions.store import bootstrap_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    attributes = context.config.attributes
    schema = attributes[ATTR_SCHEMA] or "ai"  # SQLite has no schema; bootstrap_tables ignores it there
    # The connection maps the tables' `ai` schema to the target schema (schema_translate_map).
    attributes[ATTR_CREATED] = bootstrap_tables(op.get_bind(), schema, attributes[ATTR_GENERATION])


def downgrade() -> None:
    raise MigrationRefused("revision 0001 cannot be downgraded: that would drop agno's session tables and every"
                           " session and run in them; agno-session-service never drops agno's data")
