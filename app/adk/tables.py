"""Google ADK's DatabaseSessionService tables (schema version 1), as ADK 2.13.0 creates them.

They live in the connection's default schema (`public` on PostgreSQL, as ADK puts them), with
ADK's names, types, keys, foreign key and index, so a database created by this service is
opened by `DatabaseSessionService` unchanged, and the other way round. JSON columns are jsonb on
PostgreSQL and TEXT holding `json.dumps` output on SQLite, which is what ADK writes there.
"""

from __future__ import annotations

import json

from sqlalchemy import (Column, DateTime, ForeignKeyConstraint, Index, MetaData, String, Table, Text,
                        TypeDecorator)
from sqlalchemy.dialects.postgresql import JSONB

from ..db import decode

KEY_LENGTH = 128  # ADK's limit for app names, user ids, session and event ids
VALUE_LENGTH = 256  # and for invocation ids and metadata values
SCHEMA_VERSION_KEY = "schema_version"
SCHEMA_VERSION = "1"


class JsonDocument(TypeDecorator):
    """jsonb on PostgreSQL; elsewhere TEXT written as ADK writes it (`json.dumps` defaults:
    ASCII escapes, `", "` and `": "` separators), so the stored text is the same byte for byte."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value)

    def process_result_value(self, value, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return decode.loads(value)


metadata = MetaData()

sessions = Table(
    "sessions", metadata,
    Column("app_name", String(KEY_LENGTH), primary_key=True),
    Column("user_id", String(KEY_LENGTH), primary_key=True),
    Column("id", String(KEY_LENGTH), primary_key=True),
    Column("state", JsonDocument(), nullable=False),
    Column("create_time", DateTime(), nullable=False),
    Column("update_time", DateTime(), nullable=False),
)

events = Table(
    "events", metadata,
    Column("id", String(KEY_LENGTH), primary_key=True),
    Column("app_name", String(KEY_LENGTH), primary_key=True),
    Column("user_id", String(KEY_LENGTH), primary_key=True),
    Column("session_id", String(KEY_LENGTH), primary_key=True),
    Column("invocation_id", String(VALUE_LENGTH), nullable=False),
    Column("timestamp", DateTime(), nullable=False),
    Column("event_data", JsonDocument(), nullable=True),
    ForeignKeyConstraint(["app_name", "user_id", "session_id"],
                         ["sessions.app_name", "sessions.user_id", "sessions.id"], ondelete="CASCADE"),
)
Index("idx_events_app_user_session_ts_id", events.c.app_name, events.c.user_id, events.c.session_id,
      events.c.timestamp.desc(), events.c.id.desc())

app_states = Table(
    "app_states", metadata,
    Column("app_name", String(KEY_LENGTH), primary_key=True),
    Column("state", JsonDocument(), nullable=False),
    Column("update_time", DateTime(), nullable=False),
)

user_states = Table(
    "user_states", metadata,
    Column("app_name", String(KEY_LENGTH), primary_key=True),
    Column("user_id", String(KEY_LENGTH), primary_key=True),
    Column("state", JsonDocument(), nullable=False),
    Column("update_time", DateTime(), nullable=False),
)

internal_metadata = Table(
    "adk_internal_metadata", metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", String(VALUE_LENGTH), nullable=False),
)
