"""Thin views: validate the request, run one transaction, shape the response."""

from __future__ import annotations

import math

from flask import Response, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from ..db.engines import detect_layout
from ..db.resolve import resolve_database
from ..errors import BadRequest, Conflict, NotFound, RequestValidationError, ServiceUnavailable
from ..responses import json_response
from ..validation import NUL, load_request, query_args
from . import bp, render, store
from .schemas import (BulkDeleteBodySchema, DeleteQuerySchema, RenameBodySchema, RunsQuerySchema,
                      SessionCreateBodySchema, SessionCreateQuerySchema, SessionListQuerySchema,
                      SessionQuerySchema, SessionUpdateBodySchema, SummarySchema)

_list_query = SessionListQuerySchema()
_create_query = SessionCreateQuerySchema()
_create_body = SessionCreateBodySchema()
_session_query = SessionQuerySchema()
_runs_query = RunsQuerySchema()
_delete_query = DeleteQuerySchema()
_rename_body = RenameBodySchema()
_update_body = SessionUpdateBodySchema()
_summary = SummarySchema()
_bulk_body = BulkDeleteBodySchema()

MEDIA_NOT_CONFIGURED = "Media storage is not configured on AgentOS"
PROGRAM_LIMIT_EXCEEDED = "54000"  # PostgreSQL: e.g. an index row larger than a btree page allows


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"Session with id '{session_id}' not found")


def _runs_not_found(session_id: str) -> NotFound:
    return NotFound(f"Session with ID {session_id} not found")


def _path_id(value: str, name: str = "session_id") -> str:
    if NUL in value:
        raise RequestValidationError([{"type": "string_no_nul", "loc": ["path", name],
                                       "msg": "String should not contain NUL (\\u0000) characters",
                                       "input": value}])
    return value


# ---------------------------------------------------------------------------------------------
# GET /sessions


@bp.get("")
def list_sessions():
    """List sessions, filtered and paged in SQL."""
    q, _ = load_request(_list_query)
    if q["page"] == 0:
        # AgentOS accepts page=0 and then fails with a 500 (contract §5.1).
        raise RequestValidationError([{"type": "greater_than_equal", "loc": ["query", "page"],
                                       "msg": "Input should be greater than or equal to 1",
                                       "input": query_args()["page"], "ctx": {"ge": 1}}])
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        layout = db.layout(conn)
        if not layout.has_sessions:
            items, total = [], 0
        else:
            items, total = store.list_sessions(
                conn, layout, session_type=q["type"], component_id=q["component_id"], user_id=q["user_id"],
                session_name=q["session_name"], limit=q["limit"], page=q["page"], sort_by=q["sort_by"],
                sort_order=q["sort_order"])
    meta = {"page": q["page"], "limit": q["limit"], "total_pages": math.ceil(total / q["limit"]),
            "total_count": total, "search_time_ms": 0.0}
    return json_response({"data": items, "meta": meta})


# ---------------------------------------------------------------------------------------------
# POST /sessions


@bp.post("")
def create_session():
    """Create a session; 409 if the id exists, whoever owns it."""
    q, body = load_request(_create_query, _create_body)
    body = body or {}
    stype = q["type"]
    db = resolve_database(q["db_id"], None)
    with db.transaction() as conn:
        layout = db.layout(conn)
        if not layout.has_sessions:
            created = store.bootstrap_tables(conn, db.config.schema, layout.generation)
            # Tables this transaction created exist for other requests only after its commit:
            # their layout is detected, not remembered.
            layout = detect_layout(conn, db.config) if created else db.layout(conn)
        try:
            row = store.create_session(conn, layout, session_type=stype, body=body)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != PROGRAM_LIMIT_EXCEEDED:
                raise
            # The id is the one indexed value a create writes: one too long (after compression)
            # for a btree entry is the client's error, not an unavailable database (AgentOS: 500).
            raise RequestValidationError([{"type": "id_too_long", "loc": ["body", "session_id"],
                                           "msg": "String is too long to be stored as a session id",
                                           "input": body.get("session_id")}]) from None
        if row is None:
            sid = body.get("session_id")
            raise Conflict(f"Session with id '{sid}' already exists. Use PATCH /sessions/{sid} to update it.")
    detail = render.detail(row, [], stype, legacy=layout.legacy)
    return json_response(detail, 201)


# ---------------------------------------------------------------------------------------------
# DELETE /sessions (bulk)


@bp.delete("")
def delete_sessions():
    """Delete several sessions (their types are validated, then ignored, as AgentOS does)."""
    q, body = load_request(_delete_query, _bulk_body, body_required=True)
    if len(body["session_ids"]) != len(body["session_types"]):
        raise BadRequest("Session IDs and session types must have the same length")
    db = resolve_database(q["db_id"], q["table"])
    if q["delete_media"]:
        raise ServiceUnavailable(MEDIA_NOT_CONFIGURED)
    with db.transaction() as conn:
        layout = db.layout(conn)
        if layout.has_sessions:
            store.delete_sessions(conn, layout, session_ids=list(dict.fromkeys(body["session_ids"])),
                                  user_id=q["user_id"], schema=db.config.schema)
    return _no_content()


def _no_content() -> Response:
    return Response(status=204, mimetype="application/json")


# ---------------------------------------------------------------------------------------------
# /sessions/<id>


def _load(db, conn, session_id, user_id, *, for_update=False):
    layout = db.layout(conn)
    if not layout.has_sessions:
        return layout, None
    return layout, store.get_session(conn, layout, session_id=session_id, user_id=user_id, for_update=for_update)


def _load_with_runs(db, conn, session_id, user_id, *, for_update=False):
    """(layout, session row or None, its runs)."""
    layout = db.layout(conn)
    if not layout.has_sessions:
        return layout, None, None
    row, runs = store.get_session_and_runs(conn, layout, session_id=session_id, user_id=user_id,
                                           for_update=for_update)
    return layout, row, runs


@bp.get("/<session_id>")
def get_session(session_id):
    """One session with its chat history, rendered as the requested or detected type."""
    q, _ = load_request(_session_query)
    _path_id(session_id)
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        layout, row, runs = _load_with_runs(db, conn, session_id, q["user_id"])
        if row is None:
            if q["type"]:
                raise NotFound(f"{q['type'].capitalize()} Session with id '{session_id}' not found")
            raise _not_found(session_id)
    return json_response(render.detail(row, runs, q["type"], legacy=layout.legacy))


@bp.patch("/<session_id>")
def update_session(session_id):
    """Change name, state, metadata or summary; every other column keeps its value."""
    q, body = load_request(_session_query, _update_body, body_required=True)
    _path_id(session_id)
    if body.get("summary") is not None:
        body["summary"] = _parse_summary(body["summary"])
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        layout, row, runs = _load_with_runs(db, conn, session_id, q["user_id"], for_update=True)
        if row is None:
            raise _not_found(session_id)
        row = store.update_session(conn, layout, row, changes=body)
    return json_response(render.detail(row, runs, emit_nulls=True, legacy=layout.legacy))


def _parse_summary(summary: dict) -> dict:
    """agno's SessionSummary: `summary` required, `topics` and ISO `updated_at` optional."""
    items = []
    unknown = [k for k in summary if k not in ("summary", "topics", "updated_at")]
    for key in unknown:
        items.append({"type": "extra_forbidden", "loc": ["body", "summary", key],
                      "msg": "Extra inputs are not permitted", "input": summary[key]})
    try:
        loaded = _summary.load({k: v for k, v in summary.items() if k not in unknown})
    except ValidationError as exc:
        for name, messages in exc.messages.items():
            for msg in messages:
                items.append({"type": msg["type"], "loc": ["body", "summary", name] + msg.get("_loc", []),
                              "msg": msg["msg"], "input": summary.get(name) if msg["type"] != "missing" else summary})
        loaded = None
    if loaded is not None and loaded.get("updated_at"):
        try:
            return store.parse_summary(loaded)
        except ValueError as exc:
            items.append({"type": "datetime_from_date_parsing", "loc": ["body", "summary", "updated_at"],
                          "msg": f"Input should be a valid ISO 8601 datetime, {exc}", "input": loaded["updated_at"]})
    if items:
        raise RequestValidationError(items)
    return store.parse_summary(loaded)


@bp.delete("/<session_id>")
def delete_session(session_id):
    """Delete a session and its runs; 204 whether or not it existed (AgentOS's answer)."""
    q, _ = load_request(_delete_query)
    db = resolve_database(q["db_id"], q["table"])
    if q["delete_media"]:
        raise ServiceUnavailable(MEDIA_NOT_CONFIGURED)
    if NUL not in session_id:
        with db.transaction() as conn:
            layout = db.layout(conn)
            if layout.has_sessions:
                store.delete_sessions(conn, layout, session_ids=[session_id], user_id=q["user_id"],
                                      schema=db.config.schema)
    return _no_content()


# ---------------------------------------------------------------------------------------------
# Runs


def _statuses():
    values = request.args.getlist("status")
    if not values:
        return None
    upper = [v.upper() for v in values]
    bad = sorted({v for v in upper if v not in render.RUN_STATUSES})
    if bad:
        raise BadRequest(f"Invalid status value(s) {bad!r}; expected one of {sorted(render.RUN_STATUSES)!r}")
    return set(upper)


def _session_runs_view(session_id):
    q, _ = load_request(_runs_query)
    statuses = _statuses()
    _path_id(session_id)
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        if q["created_after"] is None and q["created_before"] is None and statuses is None:
            layout, row, runs = _load_with_runs(db, conn, session_id, q["user_id"])
        else:
            layout, row = _load(db, conn, session_id, q["user_id"])
            runs = None
        if row is None:
            raise _runs_not_found(session_id)
        if runs is None:
            runs = store.session_runs(conn, layout, row, created_after=q["created_after"],
                                      created_before=q["created_before"], statuses=statuses)
    effective = q["type"] or render.detect_type(row)
    return render.runs_for_session(row, runs, effective, legacy=layout.legacy)


@bp.get("/<session_id>/runs")
def get_session_runs(session_id):
    """The runs of a session as a bare array (what the agent-ui expects)."""
    return json_response([render.prune(s) for s in _session_runs_view(session_id)])


@bp.get("/<session_id>/run-previews")
def get_session_run_previews(session_id):
    """Light previews of the runs: ids, status, the first 280 characters of input and content."""
    return json_response([render.preview(s) for s in _session_runs_view(session_id)])


@bp.get("/<session_id>/runs/<run_id>")
def get_session_run(session_id, run_id):
    """One run, classified by the run itself; every field emitted, nulls included."""
    q, _ = load_request(_session_query)
    _path_id(session_id)
    _path_id(run_id, "run_id")
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        layout = db.layout(conn)
        row = run = None
        has_runs = False
        if layout.has_sessions:
            row, run, has_runs = store.get_run(conn, layout, session_id=session_id, run_id=run_id, user_id=q["user_id"])
        if row is None:
            raise _runs_not_found(session_id)
    if not has_runs:
        raise NotFound(f"Session with ID {session_id} has no runs")
    if run is None:
        raise NotFound(f"Run with ID {run_id} not found in session {session_id}")
    return json_response(render.single_run(row, run, legacy=layout.legacy))


@bp.post("/<session_id>/rename")
def rename_session(session_id):
    """Set the stored session name (a JSON-null session_data becomes an object)."""
    q, body = load_request(_session_query, _rename_body, body_required=True, embed_field="session_name")
    _path_id(session_id)
    name = body["session_name"]
    db = resolve_database(q["db_id"], q["table"])
    with db.transaction() as conn:
        layout = db.layout(conn)
        row = None
        if layout.has_sessions:
            row = store.rename_session(conn, layout, session_id=session_id, name=name,
                                       session_type=q["type"], user_id=q["user_id"])
        if row is None:
            raise _not_found(session_id)
        runs = store.session_runs(conn, layout, row)
    return json_response(render.detail(row, runs, q["type"], emit_nulls=True, legacy=layout.legacy))


@bp.get("/<session_id>/media/<path:storage_key>")
def get_session_media(session_id, storage_key):
    """Offloaded media: this service has no media storage, as AgentOS without one."""
    raise ServiceUnavailable(MEDIA_NOT_CONFIGURED)


