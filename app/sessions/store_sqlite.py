"""The store's statements that SQLite spells differently: agno 3.1.10's `SqliteDb` layout.

What agno's `SqliteDb` writes (found by running it, tests/test_sqlite.py keeps it checked):
the tables, columns, indexes and foreign key of the PostgreSQL layout without a schema, typed
VARCHAR / BIGINT / JSON; JSON columns hold JSON *text* (`json.dumps`, ASCII-escaped), Python None
as the text `null` and an absent column as SQL NULL, exactly where PostgresDb puts JSON null and
SQL NULL; times are integer epoch seconds; `agno_schema_versions` rows `3.0.0` with local naive
ISO stamps; `PRAGMA foreign_keys = ON` (runs cascade with their session) and WAL journaling.

Where AgentOS over a SqliteDb answers differently from AgentOS over PostgreSQL, we follow it:
NULLs sort first ascending and last descending (SQLite's order), text compares by bytes
(BINARY collation), `session_name` is a LIKE pattern that ignores ASCII case only, and a rename
rewrites the row as agno's `upsert_session` does (so it bumps `updated_at`). Two differences are
kept (docs/compatibility.md lines 30, 31): a rename with another `type` is a 404 (SqliteDb rewrites
the row as that type), and the `session_name` filter looks at the stored name (SqliteDb matches
the pattern anywhere in the `session_data` text).

SQLite has no LATERAL, jsonb functions or ILIKE: paths are read with `->` / `->>` (SQLite 3.38+)
and the first naming run is found by a correlated `LIMIT 1` subquery. As on PostgreSQL, list
pages never read run payloads into Python.
"""

from __future__ import annotations

import json
import math

from sqlalchemy import JSON, Float, String, and_, case, false, func, literal, not_, or_, select
from sqlalchemy.dialects.sqlite import insert  # noqa: F401  (re-exported for store.create_session)
from sqlalchemy.engine import Connection

from ..db import tables
from ..db.engines import Layout
from . import store

FALSY_JSON = ("null", '""', "[]", "{}", "false")


def jget(expr, key: str):
    """The JSON value at `key` (decoded in Python), or None when the key is missing."""
    return expr.op("->", return_type=JSON)(literal(f"$.{key}", String))


def jtext(expr, key: str):
    """The SQL value at `key` (text for strings), like PostgreSQL's `->>`."""
    return expr.op("->>", return_type=String)(literal(f"$.{key}", String))


def jtype(expr, key: str | None = None):
    """SQLite's JSON type name of the document or of the value at `key` (NULL when missing)."""
    if key is None:
        return func.json_type(expr)
    return func.json_type(expr.op("->", return_type=String)(literal(f"$.{key}", String)))


def _json_set(expr, key: str):
    """True when `key` holds a value that is not JSON null."""
    return func.coalesce(jtype(expr, key), "null") != "null"


def _stored_name_like(st, pattern):
    """SQLite's LIKE: `%` and `_` are wildcards, ASCII letters match either case (as SqliteDb)."""
    name = func.coalesce(case((jtype(st.c.session_data) == "object", jtext(st.c.session_data, "session_name"))), "")
    return name.like(pattern)


def _first_user_content(run_data, runs):
    """The content of the first user message whose content is truthy, as JSON text (`run_data`
    is the run's `messages` array, `runs` the runs alias the subquery reads from)."""
    m = func.json_each(run_data).table_valued("key", "value", "type").alias("m")
    is_object = m.c.type == "object"
    content = case((is_object, m.c.value.op("->", return_type=String)(literal("$.content", String))))
    content_type = func.json_type(content)
    falsy = or_(content.in_(FALSY_JSON),
                and_(content_type.in_(["integer", "real"]), content.op("->>")(literal("$", String)) == 0))
    return (
        select(content)
        .where(case((is_object, m.c.value.op("->>")(literal("$.role", String)))) == "user")
        .where(content.is_not(None))
        .where(not_(falsy))
        .order_by(m.c.key)
        .limit(1)
        .correlate(runs)
        .scalar_subquery()
    )


def _messages(runs):
    """The run's `messages` when they are an array (as JSON text), else NULL."""
    messages = runs.c.run_data.op("->", return_type=String)(literal("$.messages", String))
    return case((func.json_type(messages) == "array", messages))


def _named_run(page):
    """The agno_runs row that names an unnamed page row (contract §4.3), as a join target."""
    rt = tables.runs
    candidate = tables.runs.alias("candidate")
    first_msg = _first_user_content(_messages(candidate), candidate)
    run_input_set = _json_set(candidate.c.run_data, "input")
    first_run_id = (
        select(candidate.c.run_id)
        .where(candidate.c.session_id == page.c.session_id)
        .where(not_(page.c.name_set))
        .where(or_(page.c.session_type != "team", func.coalesce(jtext(candidate.c.run_data, "agent_id"), "") == ""))
        .where(or_(page.c.session_type == "workflow", first_msg.is_not(None), run_input_set))
        .order_by(candidate.c.run_index.asc().nulls_last(), candidate.c.created_at.asc())
        .limit(1)
        .correlate(page)
        .scalar_subquery()
    )
    named = rt.alias("named")
    message = _first_user_content(_messages(named), named)
    return named, named.c.run_id == first_run_id, message


def list_sessions(conn: Connection, layout: Layout, *, session_type=None, component_id=None, user_id=None,
                  session_name=None, limit=20, page=1, sort_by="created_at", sort_order="desc"):
    """store.list_sessions on SQLite: the same rows in, the same items out."""
    st = layout.session_table
    conds = store.list_filters(st, session_type=session_type, component_id=component_id, user_id=user_id,
                               session_name=session_name, name_match=_stored_name_like)
    total, offset = store.page_offset(conn, st, conds, limit, page)
    if offset is None:
        return [], total
    columns = store.list_columns(st, jget, _json_set, jtext)
    if layout.has_legacy_runs:
        # Sessions whose runs start in a legacy array are named in Python (store._legacy_names).
        columns.append(and_(jtype(st.c.runs).in_(["array", "text"]), func.json(st.c.runs) != "[]").label("has_legacy"))
    key = store._sort_key(st, sort_by)
    if key is not None:
        columns.append(key.label("sort_key"))
    stmt = select(*columns).where(*conds).order_by(*store._order_by(key, st.c.session_id, sort_order))
    page_q = stmt.limit(min(limit, store.INT64_MAX)).offset(offset).subquery("page")
    shown = [c for c in page_q.c if c.name != "sort_key"]
    if layout.reads_runs_table:
        named, on, message = _named_run(page_q)
        final = select(*shown, message.label("run_message_json"), jget(named.c.run_data, "input").label("run_input"),
                       named.c.run_id.is_not(None).label("run_found"))
        final = final.select_from(page_q.outerjoin(named, on))
    else:
        final = select(*shown, literal(None, String).label("run_message_json"), literal(None, JSON).label("run_input"),
                       false().label("run_found"))
    if key is not None:
        final = final.order_by(*store._order_by(page_q.c.sort_key, page_q.c.session_id, sort_order))
    rows = [dict(r._mapping) for r in conn.execute(final)]
    for row in rows:
        row["name_set"] = bool(row["name_set"])
        row["run_found"] = bool(row["run_found"])
        message = row.pop("run_message_json")
        row["run_message"] = json.loads(message) if message is not None else None
    return store.list_items(conn, layout, rows), total


def _sqlite_number(value: int) -> int | float:
    """SQLite integers stop at 64 bits (binding a larger int raises OverflowError): a bound past
    them becomes a REAL, up to ±Inf, which SQLite compares with any stored number."""
    if -store.INT64_MAX - 1 <= value <= store.INT64_MAX:
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def run_filters(rt, created_after, created_before, statuses):
    """store._run_filters on SQLite: numeric `created_at` bounds and status in SQL."""
    conds = []
    is_number = jtype(rt.c.run_data, "created_at").in_(["integer", "real"])
    created = rt.c.run_data.op("->>", return_type=Float)(literal("$.created_at", String))
    if created_after is not None:
        conds.append(case((is_number, created >= _sqlite_number(created_after)), else_=True))
    if created_before is not None:
        conds.append(case((is_number, created <= _sqlite_number(created_before)), else_=True))
    if statuses is not None:
        conds.append(func.upper(jtext(rt.c.run_data, "status")).in_(sorted(statuses)))
    return conds


def rename_session(conn: Connection, layout: Layout, *, session_id: str, name: str, session_type=None,
                   user_id=None):
    """SqliteDb renames by reading the session and upserting it whole, so the row is rewritten as
    a PATCH of the name rewrites it (updated_at included)."""
    st = layout.session_table
    stmt = select(st).where(st.c.session_id == session_id)
    if session_type is not None:
        stmt = stmt.where(st.c.session_type == session_type)
    if user_id is not None:
        stmt = stmt.where(st.c.user_id == user_id)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    return store.update_session(conn, layout, dict(row), changes={"session_name": name})
