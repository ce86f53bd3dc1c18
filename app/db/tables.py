"""agno's session tables, column for column as agno 3.1.10 creates them (schema `ai`).

The same objects create and read agno's `SqliteDb` layout: identical tables, columns, indexes
(names included) and foreign key, with VARCHAR/BIGINT/JSON column types and no schema.

Other schemas are reached through each engine's `schema_translate_map`, so these objects are
declared once. The legacy `runs` column exists only in databases that started on agno 2.x; it
is declared on a second `Table` object used for those databases only.
"""

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "ai"

# JSONB on PostgreSQL (agno's PostgresDb); JSON on SQLite, which agno's SqliteDb stores as TEXT in
# a column declared `JSON`. On both, Python None is the JSON text `null` and `null()` SQL NULL.
JSON_DOCUMENT = JSON(none_as_null=False).with_variant(JSONB(none_as_null=False), "postgresql")

metadata = MetaData(
    schema=SCHEMA,
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "fk": "%(table_name)s_%(column_0_name)s_fkey",
        "ix": "idx_%(table_name)s_%(column_0_N_name)s",
    },
)


def _session_columns(legacy: bool = False):
    columns = [
        Column("session_id", String, primary_key=True),
        Column("session_type", String, nullable=False, index=True),
        Column("agent_id", String),
        Column("team_id", String),
        Column("workflow_id", String),
        Column("user_id", String),
        Column("session_data", JSON_DOCUMENT),
        Column("agent_data", JSON_DOCUMENT),
        Column("team_data", JSON_DOCUMENT),
        Column("workflow_data", JSON_DOCUMENT),
        Column("metadata", JSON_DOCUMENT),
        Column("summary", JSON_DOCUMENT),
        Column("created_at", BigInteger, nullable=False, index=True),
        Column("updated_at", BigInteger),
    ]
    if legacy:
        # agno 2.x keeps every run of a session in this array, declared between metadata and summary.
        columns.insert(11, Column("runs", JSON_DOCUMENT))
    return columns


sessions = Table("agno_sessions", metadata, *_session_columns())

def _runs_table(md: MetaData, sessions_table: Table) -> Table:
    return Table(
        "agno_runs",
        md,
        Column("run_id", String, primary_key=True),
        Column("session_id", String, ForeignKey(sessions_table.c.session_id, ondelete="CASCADE"),
               nullable=False, index=True),
        Column("run_type", String, nullable=False, index=True),
        Column("agent_id", String, index=True),
        Column("team_id", String, index=True),
        Column("workflow_id", String, index=True),
        Column("user_id", String, index=True),
        Column("parent_run_id", String),
        Column("status", String, index=True),
        Column("run_index", BigInteger),
        Column("run_data", JSON_DOCUMENT, nullable=False),
        Column("created_at", BigInteger, nullable=False, index=True),
        Column("updated_at", BigInteger),
        Index("idx_agno_runs_session_id_run_index", "session_id", "run_index"),
    )


def _schema_versions_table(md: MetaData) -> Table:
    return Table(
        "agno_schema_versions",
        md,
        Column("table_name", String, primary_key=True),
        Column("version", String, nullable=False),
        Column("created_at", String, nullable=False, index=True),
        Column("updated_at", String),
    )


runs = _runs_table(metadata, sessions)
schema_versions = _schema_versions_table(metadata)

# agno 2.x layout: the same session table plus the JSONB array of runs (agno2-contract §3.1).
legacy_metadata = MetaData(schema=SCHEMA, naming_convention=metadata.naming_convention)
legacy_sessions = Table("agno_sessions", legacy_metadata, *_session_columns(legacy=True))
legacy_schema_versions = schema_versions.to_metadata(legacy_metadata)

# What agno's SqliteDb creates: the same tables without a schema, and primary and foreign keys
# left unnamed (its DDL says `PRIMARY KEY (session_id)`, not `CONSTRAINT agno_sessions_pkey ...`).
# Only used to create tables; reads and writes go through the objects above.
sqlite_metadata = MetaData(naming_convention={"ix": metadata.naming_convention["ix"]})
sqlite_sessions = Table("agno_sessions", sqlite_metadata, *_session_columns())
sqlite_runs = _runs_table(sqlite_metadata, sqlite_sessions)
sqlite_schema_versions = _schema_versions_table(sqlite_metadata)

SESSION_COLUMNS = tuple(c.name for c in sessions.columns)
