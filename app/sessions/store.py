"""SQL over agno's session tables. Connection first, keywords after, never a commit."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

import orjson
from sqlalchemy import (BigInteger, Numeric, String, and_, bindparam, case, cast, column, false, func, inspect, literal,
                        literal_column, not_, null, or_, select, table, text, true, union_all)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by, insert
from sqlalchemy.engine import Connection

from ..db import compiled, tables
from ..db.engines import Layout
from . import render, store_sqlite

INT64_MAX = 2**63 - 1
JSON_NULL_TEXT = "null"

# ---------------------------------------------------------------------------------------------
# List (§2.2): one count, one page; the page reads scalar columns and small JSON paths only.


def jget(expr, key: str):
    """`expr -> 'key'` (the operator, not PostgreSQL 14's subscript, so older servers work)."""
    return expr.op("->", return_type=JSONB)(literal(key, String))


def _jsonb_null(expr):
    """True when a JSONB expression is SQL NULL or the JSON literal null."""
    return or_(expr.is_(None), func.jsonb_typeof(expr) == "null")


def jtext(expr, key: str):
    """`expr ->> 'key'`: the value at `key` as text."""
    return expr.op("->>", return_type=String)(literal(key, String))


def _json_set(expr, key: str):
    """True when `key` holds a value that is not JSON null."""
    return not_(_jsonb_null(jget(expr, key)))


def _stored_name_ilike(st, pattern):
    """AgentOS's filter: the raw value is a LIKE pattern on the stored name (contract §2.2)."""
    return func.coalesce(jtext(st.c.session_data, "session_name"), "").ilike(pattern)


def list_filters(st, *, session_type, component_id, user_id, session_name, name_match=_stored_name_ilike):
    """The list's WHERE conditions; `name_match(st, pattern)` is the dialect's name filter.

    Values are named parameters (`user_id`, `component_id`, `name_pattern`, `session_type`), so
    one statement serves every value of the same filters (see `list_params`)."""
    conds = []
    if user_id is not None:
        conds.append(st.c.user_id == bindparam("user_id", user_id, String))
    if component_id is not None:
        component = bindparam("component_id", component_id, String)
        by_type = {"agent": st.c.agent_id, "team": st.c.team_id, "workflow": st.c.workflow_id}
        if session_type:
            conds.append(by_type[session_type] == component)
        else:
            conds.append(or_(st.c.agent_id == component, st.c.team_id == component, st.c.workflow_id == component))
    if session_name is not None:
        conds.append(name_match(st, literal("%", String) + bindparam("name_pattern", session_name, String)
                                + literal("%", String)))
    if session_type:
        conds.append(st.c.session_type == bindparam("session_type", session_type, String))
    return conds


def list_params(*, session_type, component_id, user_id, session_name) -> dict:
    """The values of `list_filters`'s parameters."""
    return {"user_id": user_id, "component_id": component_id, "name_pattern": session_name,
            "session_type": session_type}


def page_offset(conn: Connection, st, conds, limit: int, page: int):
    """(total count of the filter, OFFSET of the page or None when the page holds nothing)."""
    total = conn.execute(select(func.count()).select_from(st).where(*conds)).scalar_one()
    offset = (page - 1) * limit
    if total == 0 or offset >= total or offset > INT64_MAX:
        return total, None
    return total, offset


def list_columns(st, get=jget, is_set=_json_set, get_text=jtext) -> list:
    """What a list item needs of a session row: scalar columns and small JSON paths only."""
    sd = st.c.session_data
    return [
        st.c.session_id, st.c.session_type, st.c.agent_id, st.c.team_id, st.c.workflow_id, st.c.user_id,
        get(sd, "session_name").label("stored_name"),
        is_set(sd, "session_name").label("name_set"),
        get(sd, "session_state").label("session_state"),
        get(sd, "session_metrics").label("metrics"),
        get(st.c.agent_data, "sdk").label("sdk"),
        get(st.c.agent_data, "framework").label("framework"),
        get_text(st.c.workflow_data, "name").label("workflow_name"),
        st.c.metadata, st.c.summary, st.c.created_at, st.c.updated_at,
    ]


def list_items(conn: Connection, layout: Layout, rows: list[dict]) -> list[dict]:
    """List items from the page's rows; rows flagged `has_legacy` (and unnamed) are named in Python."""
    if _names_cached(layout):
        _fill_names(conn, layout, rows)
    legacy_ids = [r["session_id"] for r in rows if r.get("has_legacy") and not r["name_set"]]
    legacy = _legacy_names(conn, layout, legacy_ids) if legacy_ids else {}
    items = []
    for row in rows:
        if row["session_id"] in legacy:
            row["session_name"] = legacy[row["session_id"]]
        else:
            row["session_name"] = render.name_from_candidates(row)
        items.append(render.list_item(row, legacy=layout.legacy))
    return items


# ---------------------------------------------------------------------------------------------
# Names of unnamed sessions, remembered
#
# An unnamed session's list name comes from its first qualifying run, and finding it means
# decompressing run documents of tens of kilobytes: most of what a list page costs the database.
# The name depends only on the session's type and its runs, and a run row's `xmin` (the
# transaction that wrote that version of the row) changes with every insert, update or delete.
# So each worker remembers the name's candidates by (database, session, type, number of runs,
# sum of their row versions); the page's statement returns only that signature (row headers, no run
# document), and the candidates of the sessions whose signature is new are found by a second
# statement. Where runs live only in agno_runs (agno 3.x on PostgreSQL).

# Bounds on what a worker keeps: entries, and the size of one entry's candidates (a first
# message can be a pasted document; a session named by one is looked up each time instead).
NAME_CACHE_SIZE = 20_000
NAME_CANDIDATES_MAX_BYTES = 2048
_names: dict[tuple, tuple] = {}


def _small(candidates: tuple) -> bool:
    size = 0
    for value in candidates[:2]:
        if isinstance(value, str):
            size += len(value)
        elif value is not None:
            try:
                size += len(orjson.dumps(value))
            except TypeError:  # an integer beyond 64 bits
                return False
    return size <= NAME_CANDIDATES_MAX_BYTES


def _names_cached(layout: Layout) -> bool:
    return layout.dialect == "postgresql" and layout.reads_runs_table and not layout.has_legacy_runs \
        and not layout.legacy


def _signature_lateral(page):
    """(number of runs, sum of their xmin and cmin) of an unnamed page row's session. `cmin` (the
    command within the writing transaction) tells apart two versions written by one transaction,
    which only that transaction sees (the tests' own, or a write and a list in one)."""
    runs = tables.runs.alias("sig_runs")
    version = (cast(cast(literal_column("sig_runs.xmin"), String), BigInteger) * 2**32
               + cast(cast(literal_column("sig_runs.cmin"), String), BigInteger))
    return (select(func.count().label("run_count"), func.sum(version).label("run_sig"))
            .where(runs.c.session_id == page.c.session_id, not_(page.c.name_set))
            .correlate(page).lateral("sig"))


def _candidates_statement(layout: Layout):
    """Name candidates and signature of the sessions in :ids (every one taken as unnamed)."""
    st = layout.session_table
    ids = bindparam("ids", type_=ARRAY(String))
    page = (select(st.c.session_id, st.c.session_type, false().label("name_set"))
            .where(st.c.session_id == func.any(ids)).subquery("page"))
    named = _name_lateral(page, _table_runs(page))
    sig = _signature_lateral(page)
    return (select(page.c.session_id, page.c.session_type, named.c.run_message, named.c.run_input,
                   func.coalesce(named.c.run_found, false()).label("run_found"), sig.c.run_count, sig.c.run_sig)
            .select_from(page.outerjoin(named, true()).join(sig, true())))


def _fill_names(conn: Connection, layout: Layout, rows: list[dict]) -> None:
    schema_map = conn.get_execution_options().get("schema_translate_map") or {}
    scope = (conn.engine.url.render_as_string(hide_password=True), tuple(sorted(schema_map.items(), key=str)),
             layout.session_table.name)
    missing = {}
    for row in rows:
        if row["name_set"]:
            row["run_message"] = row["run_input"] = None
            row["run_found"] = False
            continue
        key = (scope, row["session_id"], row["session_type"], row.pop("run_count"), row.pop("run_sig"))
        found = _names.get(key)
        if found is None:
            missing[row["session_id"]] = row
        else:
            row["run_message"], row["run_input"], row["run_found"] = found
    if not missing:
        return
    _, found = compiled.fetch(conn, ("list-names", layout.session_table), lambda: _candidates_statement(layout),
                              {"ids": list(missing)})
    if len(_names) + len(found) > NAME_CACHE_SIZE:
        _names.clear()
    for session_id, session_type, message, run_input, run_found, count, sig in found:
        candidates = (message, run_input, run_found)
        if _small(candidates):
            _names[(scope, session_id, session_type, count, sig)] = candidates
        row = missing.pop(session_id)
        if row["session_type"] == session_type:
            row["run_message"], row["run_input"], row["run_found"] = candidates
        else:  # retyped since the page was read: named as the page row's type says, next time
            missing[session_id] = row
    for row in missing.values():  # deleted (or retyped) since the page was read
        row["run_message"] = row["run_input"] = None
        row["run_found"] = False


def _sort_key(st, sort_by: str):
    """The ORDER BY expression for `sort_by`, or None for a name that is not a column."""
    if sort_by not in st.c:
        # An unknown column gives no ORDER BY at AgentOS; physical order is kept (contract §2.2).
        return None
    if sort_by == "updated_at":
        return func.coalesce(st.c.updated_at, st.c.created_at)
    return st.c[sort_by]


def _order_by(key, tie_breaker, sort_order: str):
    if key is None:
        return []
    direction = (lambda c: c.asc()) if sort_order == "asc" else (lambda c: c.desc())
    # A tie-breaker makes pages over equal keys stable (AgentOS has none, contract §5.11).
    return [direction(key), direction(tie_breaker)]


# The content of the first message of a run's `messages` array that is a user message with a
# truthy content (not null, "", false, 0, [] or {}), found without unpacking the array. Strict
# mode: a `messages` that is not an array, or missing, finds nothing (the error is silenced), and
# an element that is not an object fails its filter. Every comparison is guarded by the type, as
# jsonpath compares values of different types as unknown.
FIRST_USER_CONTENT = (
    'strict $.messages[*] ? (@.role == "user" && @.content.type() != "null"'
    ' && !(@.content.type() == "string" && @.content == "")'
    ' && !(@.content.type() == "boolean" && @.content == false)'
    ' && !(@.content.type() == "number" && @.content == 0)'
    ' && !(@.content.type() == "array" && @.content.size() == 0)'
    ' && !(@.content.type() == "object" && !exists(@.content.*))).content'
)


def _name_lateral(st, source):
    """The first run that names an unnamed session (contract §4.3), found by a LIMIT 1 lookup.

    Only three small values leave the database: the first truthy user-message content, the run
    input, and whether a run was found. Workflow sessions take the first run as it is.
    `source` gives the page row's runs: (run JSON, the columns that order them, ascending with
    nulls last, FROM object, conditions).
    """
    run_data, keys, from_obj, where = source
    # The runs in order first, as stored references: the lookup then opens them one by one and
    # stops at the first that names the session (usually the first run), instead of opening
    # every run the sort has to read.
    runs = (select(run_data.label("run_data"), *[key.label(f"key_{i}") for i, key in enumerate(keys)])
            .select_from(from_obj).where(*where).where(not_(st.c.name_set))
            .order_by(*[key.asc().nulls_last() for key in keys])
            .offset(literal_column("0")).correlate(st).subquery("runs"))
    # Each operator applied to a stored run document decompresses it again (TOAST), so the
    # document is read once into a copy (`|| '{}'` leaves an object as it is and makes any other
    # value an array, where `->` finds nothing, as before), and the values the lookup needs are
    # taken from the copy. OFFSET 0 keeps PostgreSQL from inlining the copy.
    copy = (select(runs.c.run_data.op("||", return_type=JSONB)(literal_column("'{}'::jsonb")).label("doc"))
            .correlate(runs).offset(literal_column("0")).subquery("run_doc"))
    doc = copy.c.doc
    first_msg = func.jsonb_path_query_first(doc, literal_column(f"'{FIRST_USER_CONTENT}'::jsonpath"),
                                            literal_column("'{}'::jsonb"), true(), type_=JSONB)
    parts = (select(first_msg.label("message"), jget(doc, "input").label("input"), doc.op("->>")("agent_id").label("agent_id"))
             .select_from(copy).correlate(runs).offset(literal_column("0")).lateral("run_parts"))
    candidate = (
        select(parts.c.message.label("run_message"), parts.c.input.label("run_input"), true().label("run_found"))
        .select_from(runs)
        .join(parts, true())
        .where(or_(st.c.session_type != "team", func.coalesce(parts.c.agent_id, "") == ""))
        .where(or_(st.c.session_type == "workflow", parts.c.message.is_not(None), not_(_jsonb_null(parts.c.input))))
        .order_by(*[runs.c[f"key_{i}"].asc().nulls_last() for i in range(len(keys))])
        .limit(1)
        .lateral("named")
    )
    return candidate


def _table_runs(st):
    """A page row's runs in `agno_runs`, in agno's order."""
    rt = tables.runs
    return rt.c.run_data, [rt.c.run_index, rt.c.created_at], rt, [rt.c.session_id == st.c.session_id]


def _array_runs(st):
    """A page row's runs in its agno 2.x `runs` array, in array order (agno2-contract §5.2)."""
    runs = st.c.legacy_runs
    elements = func.jsonb_array_elements(
        case((func.jsonb_typeof(runs) == "array", runs), else_=literal_column("'[]'::jsonb"))
    ).table_valued(column("value", JSONB), with_ordinality="ord").render_derived(name="r")
    return elements.c.value, [elements.c.ord], elements, [func.jsonb_typeof(elements.c.value) == "object"]


def _merged_runs(st):
    """A page row's runs on a migrated database, merged as agno 3.x merges them (contract §3.6,
    agno2-contract §6.4): the legacy array in order, each element replaced by its `agno_runs` row
    when there is one, then the session's other `agno_runs` rows in table order."""
    runs = st.c.legacy_runs
    elements = func.jsonb_array_elements(
        case((func.jsonb_typeof(runs) == "array", runs), else_=literal_column("'[]'::jsonb"))
    ).table_valued(column("value", JSONB), with_ordinality="ord").render_derived(name="e")
    element_id = elements.c.value.op("->>", return_type=String)(literal("run_id", String))
    replaced = tables.runs.alias("replaced")
    from_array = (
        select(func.coalesce(replaced.c.run_data, elements.c.value).label("run_data"), literal(0).label("part"),
               elements.c.ord.label("pos"), literal(None, BigInteger).label("run_index"),
               literal(None, BigInteger).label("created_at"))
        .select_from(elements.outerjoin(replaced, and_(replaced.c.session_id == st.c.session_id,
                                                       replaced.c.run_id == element_id)))
        .where(func.jsonb_typeof(elements.c.value) == "object", func.coalesce(element_id, "") != "")
        .correlate(st)
    )
    others = tables.runs.alias("others")
    in_array = func.jsonb_array_elements(
        case((func.jsonb_typeof(runs) == "array", runs), else_=literal_column("'[]'::jsonb"))
    ).table_valued(column("value", JSONB)).render_derived(name="a")
    from_table = (
        select(others.c.run_data, literal(1), literal(None, BigInteger), others.c.run_index, others.c.created_at)
        .where(others.c.session_id == st.c.session_id)
        .where(~select(literal(1)).select_from(in_array)
               .where(in_array.c.value.op("->>", return_type=String)(literal("run_id", String)) == others.c.run_id)
               .exists())
        .correlate(st)
    )
    merged = union_all(from_array, from_table).subquery("merged")
    return merged.c.run_data, [merged.c.part, merged.c.pos, merged.c.run_index, merged.c.created_at], merged, []


def list_sessions(conn: Connection, layout: Layout, *, session_type=None, component_id=None, user_id=None,
                  session_name=None, limit=20, page=1, sort_by="created_at", sort_order="desc"):
    """One page of list items and the total count of the filter."""
    if layout.dialect == "sqlite":
        return store_sqlite.list_sessions(
            conn, layout, session_type=session_type, component_id=component_id, user_id=user_id,
            session_name=session_name, limit=limit, page=page, sort_by=sort_by, sort_order=sort_order)
    st = layout.session_table
    filters = {"session_type": session_type, "component_id": component_id, "user_id": user_id,
               "session_name": session_name}
    # The statement's shape: which filters are given (and the type, which picks the component
    # column), the sort, and what the layout keeps where; values are parameters.
    given = (session_type, component_id is not None, user_id is not None, session_name is not None)
    params = list_params(**filters)
    offset = (page - 1) * limit
    count_shape = ("list-count", st, given)

    def count():
        return compiled.fetch(conn, count_shape, lambda: select(func.count()).select_from(st).where(
            *list_filters(st, **filters)), params)[1][0][0]

    if offset > INT64_MAX:
        return [], count()
    sort_key = sort_by if sort_by in st.c else None
    deferred = offset > 0
    shape = ("list-page", st, layout.legacy, layout.has_legacy_runs, layout.reads_runs_table, given, sort_key,
             sort_order, deferred)
    params.update(page_limit=min(limit, INT64_MAX), page_offset=offset)
    rows = compiled.mappings(conn, shape, lambda: _list_statement(layout, filters, sort_key, sort_order, deferred),
                             params)
    if not rows:
        # An empty page (no match, or past the last page) carries no count: counted alone.
        return [], count()
    return list_items(conn, layout, rows), rows[0]["total_count"]


def _list_statement(layout: Layout, filters: dict, sort_by: str | None, sort_order: str, deferred: bool):
    """One page of list rows, each with the filter's total count (one round trip for both)."""
    st = layout.session_table
    conds = list_filters(st, **filters)
    columns = list_columns(st)
    # Names of unnamed sessions come from their first runs, found in SQL: in agno_runs (3.x), in
    # the legacy array (2.x), or in both merged (a migrated database). Only a legacy array stored
    # as a JSON string is named in Python.
    if layout.has_legacy_runs:
        columns.append(st.c.runs.label("legacy_runs"))
        columns.append((func.jsonb_typeof(st.c.runs) == "string").label("has_legacy"))
    key = _sort_key(st, sort_by) if sort_by is not None else None
    if key is not None:
        columns.append(key.label("sort_key"))
    limit, offset = bindparam("page_limit", type_=BigInteger), bindparam("page_offset", type_=BigInteger)
    if deferred and key is not None:
        # Past the first page, the rows skipped by OFFSET are found by their keys alone, and only
        # the page's own rows are read (a deferred join): projecting every skipped row's JSON
        # paths would make a deep page cost as much as the whole table.
        keys = (select(st.c.session_id).where(*conds).order_by(*_order_by(key, st.c.session_id, sort_order))
                .limit(limit).offset(offset).subquery("page_keys"))
        page_q = select(*columns).select_from(keys.join(st, st.c.session_id == keys.c.session_id)).subquery("page")
    else:
        page_q = (select(*columns).where(*conds).order_by(*_order_by(key, st.c.session_id, sort_order))
                  .limit(limit).offset(offset).subquery("page"))
    # The sort key and the legacy array stay inside the database.
    shown = [c for c in page_q.c if c.name not in ("sort_key", "legacy_runs")]
    total = select(func.count()).select_from(st).where(*list_filters(st, **filters)).scalar_subquery()
    shown.append(total.label("total_count"))
    if _names_cached(layout):
        sig = _signature_lateral(page_q)
        final = select(*shown, sig.c.run_count, sig.c.run_sig).select_from(page_q.join(sig, true()))
        if key is not None:
            final = final.order_by(*_order_by(page_q.c.sort_key, page_q.c.session_id, sort_order))
        return final
    if layout.legacy or (layout.has_legacy_runs and not layout.reads_runs_table):
        source = _array_runs(page_q)
    elif layout.reads_runs_table:
        source = _merged_runs(page_q) if layout.has_legacy_runs else _table_runs(page_q)
    else:
        source = None
    if source is not None:
        named = _name_lateral(page_q, source)
        final = select(*shown, named.c.run_message, named.c.run_input,
                       func.coalesce(named.c.run_found, false()).label("run_found"))
        final = final.select_from(page_q.outerjoin(named, true()))
    else:
        final = select(*shown, null().label("run_message"), null().label("run_input"),
                       false().label("run_found"))
    if key is not None:
        final = final.order_by(*_order_by(page_q.c.sort_key, page_q.c.session_id, sort_order))
    return final


def _legacy_names(conn: Connection, layout: Layout, session_ids: list[str]) -> dict[str, str]:
    """Names of unnamed sessions whose runs start in a legacy blob: derived in Python."""
    st = layout.session_table
    rows = conn.execute(select(st.c.session_id, st.c.session_type, st.c.session_data, st.c.workflow_data, st.c.runs)
                        .where(st.c.session_id.in_(session_ids))).mappings().all()
    table_runs = _runs_by_session(conn, session_ids) if layout.reads_runs_table else {}
    out = {}
    for row in rows:
        runs = merge_legacy(table_runs.get(row["session_id"], []), row["runs"])
        out[row["session_id"]] = render.derive_name(row["session_data"], runs, row["session_type"],
                                                    row["workflow_data"])
    return out


# ---------------------------------------------------------------------------------------------
# One session and its runs


def _rows(conn: Connection, layout: Layout, shape, build, params: dict) -> list[dict]:
    """A hot read statement's rows: compiled once per shape on PostgreSQL (app/db/compiled.py);
    on SQLite through Core, whose JSON columns decode the stored text."""
    if layout.dialect == "postgresql":
        return compiled.mappings(conn, shape, build, params)
    return [dict(row) for row in conn.execute(build(), params).mappings()]


def get_session(conn: Connection, layout: Layout, *, session_id: str, user_id=None, for_update=False):
    st = layout.session_table

    def build():
        stmt = select(st).where(st.c.session_id == bindparam("session_id", type_=String))
        if user_id is not None:
            stmt = stmt.where(st.c.user_id == bindparam("user_id", type_=String))
        return stmt.with_for_update() if for_update else stmt

    rows = _rows(conn, layout, ("session", st, user_id is not None, for_update), build,
                 {"session_id": session_id, "user_id": user_id})
    return rows[0] if rows else None


def _runs_in_one_statement(layout: Layout) -> bool:
    """Where a session's runs live only in `agno_runs` (agno 3.x on PostgreSQL), the session row
    and its runs can be read by one statement."""
    return layout.dialect == "postgresql" and layout.reads_runs_table and not layout.has_legacy_runs


def get_session_and_runs(conn: Connection, layout: Layout, *, session_id: str, user_id=None, for_update=False):
    """(session row, its runs in stored order), or (None, None) when the session is not there (or
    not the user's). One round trip where the layout allows: the runs come as one JSON array
    aggregated in agno's order."""
    if not _runs_in_one_statement(layout):
        row = get_session(conn, layout, session_id=session_id, user_id=user_id, for_update=for_update)
        return (row, session_runs(conn, layout, row)) if row is not None else (None, None)
    st, rt = layout.session_table, tables.runs

    def build():
        ordered = aggregate_order_by(rt.c.run_data, rt.c.run_index.asc().nulls_last(), rt.c.created_at.asc(),
                                     rt.c.run_id.asc())
        runs = (select(func.coalesce(func.json_agg(ordered), literal_column("'[]'::json")))
                .where(rt.c.session_id == st.c.session_id).scalar_subquery())
        stmt = select(st, runs.label("run_list")).where(st.c.session_id == bindparam("session_id", type_=String))
        if user_id is not None:
            stmt = stmt.where(st.c.user_id == bindparam("user_id", type_=String))
        return stmt.with_for_update(of=st) if for_update else stmt

    rows = compiled.mappings(conn, ("session-runs", st, user_id is not None, for_update), build,
                             {"session_id": session_id, "user_id": user_id})
    if not rows:
        return None, None
    row = rows[0]
    return row, row.pop("run_list")


def get_run(conn: Connection, layout: Layout, *, session_id: str, run_id: str, user_id=None):
    """(session row, run, session_has_runs) for the single-run route; (None, None, False) when the
    session is not there (or not the user's).

    Where runs live only in `agno_runs` (agno 3.x), one statement finds both, and the session row
    holds only what the route reads (`session_type`, `agent_id`, and `agent_data` reduced to the
    two keys that name an SDK). Elsewhere the legacy array is read with the row."""
    if not _runs_in_one_statement(layout):
        row = get_session(conn, layout, session_id=session_id, user_id=user_id)
        if row is None:
            return None, None, False
        run, has_runs = find_run(conn, layout, row, run_id)
        return row, run, has_runs
    _, found = compiled.fetch(conn, ("session-run", layout.session_table, user_id is not None),
                              lambda: _session_run_statement(layout, user_id is not None),
                              {"session_id": session_id, "run_id": run_id, "user_id": user_id})
    if not found:
        return None, None, False
    session_type, agent_id, sdk, framework, run, has_runs = found[0]
    row = {"session_id": session_id, "session_type": session_type, "agent_id": agent_id,
           "agent_data": {"sdk": sdk, "framework": framework}}
    return row, run, run is not None or bool(has_runs)


def _session_run_statement(layout: Layout, by_user: bool):
    st, rt = layout.session_table, tables.runs
    run = and_(rt.c.session_id == st.c.session_id, rt.c.run_id == bindparam("run_id", type_=String))
    any_run = select(literal(1)).where(tables.runs.alias("any_run").c.session_id == st.c.session_id).exists()
    stmt = (
        select(st.c.session_type, st.c.agent_id, jget(st.c.agent_data, "sdk"), jget(st.c.agent_data, "framework"),
               rt.c.run_data, case((rt.c.run_data.is_(None), any_run)))
        .select_from(st.outerjoin(rt, run))
        .where(st.c.session_id == bindparam("session_id", type_=String))
    )
    if by_user:
        stmt = stmt.where(st.c.user_id == bindparam("user_id", type_=String))
    return stmt


def _runs_by_session(conn: Connection, session_ids: list[str]) -> dict[str, list[dict]]:
    rt = tables.runs
    out: dict[str, list[dict]] = {}
    stmt = (select(rt.c.session_id, rt.c.run_data).where(rt.c.session_id.in_(session_ids))
            .order_by(rt.c.run_index.asc().nulls_last(), rt.c.created_at.asc(), rt.c.run_id.asc()))
    for sid, data in conn.execute(stmt):
        out.setdefault(sid, []).append(data)
    return out


def merge_legacy(table_runs: list[dict], blob) -> list[dict]:
    """agno's merge of a legacy `runs` blob with `agno_runs` (contract §3.6)."""
    if isinstance(blob, str):
        try:
            blob = json.loads(blob)
        except ValueError:
            blob = None
    if not isinstance(blob, list) or not blob:
        return table_runs
    by_id = {r.get("run_id"): r for r in table_runs if isinstance(r, dict)}
    merged, seen = [], set()
    for element in blob:
        if not isinstance(element, dict) or not element.get("run_id"):
            continue
        run_id = element["run_id"]
        if run_id in seen:
            continue
        seen.add(run_id)
        merged.append(by_id.get(run_id, element))
    merged.extend(r for r in table_runs if r.get("run_id") not in seen)
    return merged


def session_runs(conn: Connection, layout: Layout, row: dict, *, created_after=None, created_before=None,
                 statuses=None) -> list[dict]:
    """The runs of a session in stored order, filtered in SQL where the layout allows."""
    blob = row.get("runs") if layout.has_legacy_runs else None
    has_blob = isinstance(blob, (list, str)) and bool(blob)
    table_runs: list[dict] = []
    if layout.reads_runs_table:
        rt = tables.runs

        def build():
            return (select(rt.c.run_data).where(rt.c.session_id == bindparam("session_id", type_=String))
                    .order_by(rt.c.run_index.asc().nulls_last(), rt.c.created_at.asc(), rt.c.run_id.asc()))

        unfiltered = has_blob or (created_after is None and created_before is None and statuses is None)
        if unfiltered:
            table_runs = [r["run_data"] for r in _rows(conn, layout, ("runs",), build, {"session_id": row["session_id"]})]
        else:
            run_filters = store_sqlite.run_filters if layout.dialect == "sqlite" else _run_filters
            table_runs = list(conn.execute(build().where(*run_filters(rt, created_after, created_before, statuses)),
                                           {"session_id": row["session_id"]}).scalars())
        if not has_blob:
            return _python_time_filter(table_runs, created_after, created_before)
    runs = merge_legacy(table_runs, blob)
    runs = _python_time_filter(runs, created_after, created_before, strict=True)
    if statuses is not None:
        runs = [r for r in runs if isinstance(r.get("status"), str) and r["status"].upper() in statuses]
    return runs


def _run_filters(rt, created_after, created_before, statuses):
    conds = []
    created = jget(rt.c.run_data, "created_at")
    is_number = func.jsonb_typeof(created) == "number"
    created_num = cast(rt.c.run_data.op("->>", return_type=String)(literal("created_at", String)), Numeric)
    # Bound as NUMERIC: a plain int parameter is cast to BIGINT, which a bound past 2^63 overflows.
    if created_after is not None:
        conds.append(case((is_number, created_num >= literal(created_after, Numeric)), else_=true()))
    if created_before is not None:
        conds.append(case((is_number, created_num <= literal(created_before, Numeric)), else_=true()))
    if statuses is not None:
        conds.append(func.upper(rt.c.run_data.op("->>")("status")).in_(sorted(statuses)))
    return conds


def _python_time_filter(runs, created_after, created_before, strict=False):
    """Bounds for ISO-string `created_at` values (numbers were filtered in SQL unless strict)."""
    if created_after is None and created_before is None:
        return runs
    out = []
    for run in runs:
        raw = run.get("created_at")
        if not strict and not isinstance(raw, str):
            out.append(run)
            continue
        ts = render.run_created_epoch(raw)
        if ts is not None and ((created_after is not None and ts < created_after)
                               or (created_before is not None and ts > created_before)):
            continue
        out.append(run)
    return out


def find_run(conn: Connection, layout: Layout, row: dict, run_id: str):
    """(run, session_has_runs) for the single-run route."""
    blob = row.get("runs") if layout.has_legacy_runs else None
    if isinstance(blob, (list, str)) and blob:
        runs = session_runs(conn, layout, row)
        return next((r for r in runs if r.get("run_id") == run_id), None), bool(runs)
    if not layout.reads_runs_table:
        return None, False
    rt = tables.runs
    found = conn.execute(select(rt.c.run_data).where(rt.c.session_id == row["session_id"], rt.c.run_id == run_id)
                         ).scalar_one_or_none()
    if found is not None:
        return found, True
    has_any = conn.execute(select(literal(1)).where(rt.c.session_id == row["session_id"]).limit(1)).first()
    return None, has_any is not None


# ---------------------------------------------------------------------------------------------
# Writes (§2.3, §2.8, §2.9, §2.10, §2.11)

RESERVED_METADATA_KEYS = ("agno_component_version", "agno_dispatch_chain", "agno_dispatch_depth")


def sanitise_metadata(metadata):
    """Reserved keys removed; metadata that held only reserved keys becomes null (§2.3 step 2).

    Metadata without reserved keys is kept as given, an empty object included.
    """
    if metadata is None or not any(k in metadata for k in RESERVED_METADATA_KEYS):
        return metadata
    cleaned = {k: v for k, v in metadata.items() if k not in RESERVED_METADATA_KEYS}
    return cleaned or None


def _now() -> int:
    return int(time.time())


def create_session(conn: Connection, layout: Layout, *, session_type: str, body: dict) -> dict | None:
    """Insert a new session as agno writes it; None when the id exists (never overwrites)."""
    st = layout.session_table
    session_id = body.get("session_id") or str(uuid.uuid4())
    session_data = {}
    if body.get("session_state") is not None:
        session_data["session_state"] = body["session_state"]
    if body.get("session_name") is not None:
        session_data["session_name"] = body["session_name"]
    metadata = sanitise_metadata(body.get("metadata"))
    now = _now()
    values = {
        "session_id": session_id,
        "session_type": session_type,
        "user_id": body.get("user_id"),
        "summary": None,
        "created_at": now,
        "updated_at": now,
    }
    if session_type == "workflow":
        values.update(workflow_id=body.get("workflow_id"), session_data=session_data,
                      workflow_data={}, metadata=metadata if metadata is not None else {})
    else:
        values.update({f"{session_type}_id": body.get(f"{session_type}_id"),
                       "session_data": session_data or None, f"{session_type}_data": None,
                       "metadata": metadata})
    if layout.legacy:
        values["runs"] = None  # agno 2.x stores "no runs" as JSON null; 3.x never writes the column
    if layout.dialect == "sqlite":
        stmt = store_sqlite.insert(st).values(**values).on_conflict_do_nothing(
            index_elements=[st.c.session_id]).returning(st)
        row = conn.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    def build():
        return (insert(st).values({name: bindparam(f"new_{name}", type_=st.c[name].type) for name in values})
                .on_conflict_do_nothing(index_elements=[st.c.session_id]).returning(st))

    rows = compiled.mappings(conn, ("create", st, tuple(values)), build,
                             {f"new_{name}": value for name, value in values.items()})
    return rows[0] if rows else None


def parse_summary(summary: dict) -> dict:
    """agno's SessionSummary round trip: `summary`, optional `topics`, ISO `updated_at`."""
    out = {"summary": summary["summary"]}
    if summary.get("topics") is not None:
        out["topics"] = summary["topics"]
    if summary.get("updated_at"):
        out["updated_at"] = datetime.fromisoformat(summary["updated_at"]).isoformat()
    return out


def update_session(conn: Connection, layout: Layout, row: dict, *, changes: dict) -> dict:
    """PATCH: rewrite the columns agno's upsert writes for the row's own type (§2.9)."""
    st = layout.session_table
    stype = render.detect_type(row)
    session_data = row.get("session_data")
    if changes.get("session_name") is not None or changes.get("session_state") is not None:
        session_data = dict(session_data) if isinstance(session_data, dict) else {}
        if changes.get("session_name") is not None:
            session_data["session_name"] = changes["session_name"]
        if changes.get("session_state") is not None:
            session_data["session_state"] = changes["session_state"]
    metadata = row.get("metadata")
    if stype == "workflow" and metadata is None:
        metadata = {}  # agno decodes a workflow's null metadata as {} before applying the change
    if changes.get("metadata") is not None:
        metadata = sanitise_metadata(changes["metadata"])
    summary = row.get("summary")
    if changes.get("summary") is not None:
        summary = changes["summary"]
    elif stype != "workflow" and isinstance(summary, dict) and "summary" in summary:
        # agno's round trip, but a null `summary` keeps its key: agno drops it with the other nulls
        # and then cannot load its own row (SessionSummary requires the key).
        summary = {"summary": summary["summary"], **(render.summary_out(summary) or {})}
    type_data = row.get(f"{stype}_data")
    if stype == "workflow":
        session_data = session_data if session_data is not None else {}
        type_data = type_data if type_data is not None else {}
    values = {
        f"{stype}_id": row.get(f"{stype}_id"),
        "user_id": row.get("user_id"),
        "session_data": session_data,
        f"{stype}_data": type_data,
        "metadata": metadata,
        "summary": summary,
        "updated_at": _now(),
    }

    def build():
        return (st.update().where(st.c.session_id == bindparam("target_id", type_=String))
                .values({name: bindparam(f"new_{name}", type_=st.c[name].type) for name in values})
                .returning(st))

    params = {f"new_{name}": value for name, value in values.items()}
    params["target_id"] = row["session_id"]
    if layout.dialect == "postgresql":
        return compiled.mappings(conn, ("update", st, stype), build, params)[0]
    return dict(conn.execute(build(), params).mappings().one())


def rename_session(conn: Connection, layout: Layout, *, session_id: str, name: str, session_type=None,
                   user_id=None):
    if layout.dialect == "sqlite":
        return store_sqlite.rename_session(conn, layout, session_id=session_id, name=name,
                                           session_type=session_type, user_id=user_id)
    st = layout.session_table

    def build():
        name_json = func.to_jsonb(cast(bindparam("new_name", type_=String), String))
        new_data = case(
            (func.jsonb_typeof(st.c.session_data) == "object",
             func.jsonb_set(st.c.session_data, literal_column("'{session_name}'"), name_json)),
            else_=func.jsonb_build_object("session_name", name_json),
        )
        stmt = st.update().where(st.c.session_id == bindparam("target_id", type_=String)).values(session_data=new_data)
        if session_type is not None:
            stmt = stmt.where(st.c.session_type == bindparam("target_type", type_=String))
        if user_id is not None:
            stmt = stmt.where(st.c.user_id == bindparam("target_user", type_=String))
        return stmt.returning(st)

    rows = compiled.mappings(conn, ("rename", st, session_type is not None, user_id is not None), build,
                             {"new_name": name, "target_id": session_id, "target_type": session_type,
                              "target_user": user_id})
    return rows[0] if rows else None


# agno's other tables with rows per session, and the column naming the agno session: transcripts
# are keyed by the external framework's session id and keep agno's in `agno_session_id`.
_SIDE_TABLES = {"agno_transcripts": "agno_session_id", "agno_compactions": "session_id",
                "agno_tool_results": "session_id"}


def _existing_side_tables(conn: Connection, schema: str) -> list[str]:
    if conn.dialect.name == "sqlite":
        names = set(inspect(conn).get_table_names())
        return [name for name in _SIDE_TABLES if name in names]
    return list(conn.execute(
        text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s AND table_name = ANY(:t)"),
        {"s": schema, "t": list(_SIDE_TABLES)}).scalars())


def delete_sessions(conn: Connection, layout: Layout, *, session_ids: list[str], user_id=None, schema="ai") -> list[str]:
    """Delete sessions (only the caller's, when user_id is given) and everything hanging off them."""
    st = layout.session_table
    stmt = st.delete().where(st.c.session_id.in_(session_ids))
    if user_id is not None:
        stmt = stmt.where(st.c.user_id == user_id)
    deleted = list(conn.execute(stmt.returning(st.c.session_id)).scalars())
    if not deleted:
        return deleted
    if layout.has_runs_table:
        conn.execute(tables.runs.delete().where(tables.runs.c.session_id.in_(deleted)))
    for name in _existing_side_tables(conn, schema):
        key = _SIDE_TABLES[name]
        if conn.dialect.name == "sqlite":
            side = table(name, column(key))
            conn.execute(side.delete().where(side.c[key].in_(deleted)))
        else:
            conn.execute(text(f'DELETE FROM "{schema}"."{name}" WHERE {key} = ANY(:ids)'), {"ids": deleted})
    return deleted


# ---------------------------------------------------------------------------------------------
# Creating agno's tables in an empty database (agno does this lazily on its first write)


def bootstrap_tables(conn: Connection, schema: str, generation: str = "agno3") -> bool:
    """Create agno's session tables and schema-version rows if none exist; True if created.

    agno 3.x creates `agno_sessions`, `agno_runs` and version rows `3.0.0` for both; agno 2.9.0
    creates `agno_sessions` with the `runs` column and a version row `2.5.6` (agno2-contract §3.1).
    On SQLite (agno's SqliteDb layout: the same tables, no schema) the caller's write transaction
    (`BEGIN IMMEDIATE`) already excludes every other writer.
    """
    if conn.dialect.name == "sqlite":
        if {"agno_sessions", "agno_runs", "agno_schema_versions"} & set(inspect(conn).get_table_names()):
            return False
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"agno-session-service:{schema}"})
        exists = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"
                                   " AND table_name IN ('agno_sessions', 'agno_runs', 'agno_schema_versions')"),
                              {"s": schema}).scalar_one()
        if exists:
            return False
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    if generation == "agno2":
        created, version = [tables.legacy_sessions, tables.legacy_schema_versions], "2.5.6"
        tables.legacy_metadata.create_all(conn, tables=created)
        names = ("agno_sessions",)
    elif conn.dialect.name == "sqlite":
        created, version = [tables.sqlite_sessions, tables.sqlite_runs, tables.sqlite_schema_versions], "3.0.0"
        tables.sqlite_metadata.create_all(conn, tables=created)
        names = ("agno_sessions", "agno_runs")
    else:
        created, version = [tables.sessions, tables.runs, tables.schema_versions], "3.0.0"
        tables.metadata.create_all(conn, tables=created)
        names = ("agno_sessions", "agno_runs")
    # agno records a version row for each data table it creates, with local naive ISO stamps.
    stamp = datetime.now().isoformat()
    conn.execute(tables.schema_versions.insert(), [
        {"table_name": name, "version": version, "created_at": stamp, "updated_at": stamp} for name in names
    ])
    return True
