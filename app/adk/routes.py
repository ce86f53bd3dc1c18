"""ADK's session routes, as `adk api_server` (google-adk 2.13.0) serves them, with and without
the `/api` prefix: `/apps/{app_name}/users/{user_id}/sessions[/{session_id}]`.

The database is chosen as for the agno routes (`db_id`, else the default) and must hold ADK's
tables or none yet (a create makes them); a database of agno's answers 404.
"""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, request

from ..db.resolve import resolve_database
from ..errors import BadRequest, Conflict, NotFound, RequestValidationError
from ..responses import json_response
from ..validation import NUL, read_json_body
from . import models, store
from .tables import KEY_LENGTH

bp = Blueprint("adk", __name__)
SESSIONS = "/apps/<app_name>/users/<user_id>/sessions"
SESSION = SESSIONS + "/<session_id>"
# Keys of `options` that the route itself binds (ADK: 400 when a body sets them again).
BOUND_OPTIONS = ("app_name", "user_id", "state", "session_id")


def _database():
    db_id = request.args.getlist("db_id")
    return resolve_database(db_id[-1] if db_id else None, None)


def _layout(db, conn):
    layout = db.layout(conn, family="adk")
    if layout.adk_version not in (None, "1"):
        raise NotFound(f"Database '{db.config.db_id}' holds ADK sessions in ADK's schema version "
                       f"{layout.adk_version}, which this service does not read: migrate it with "
                       "`adk migrate session` first")
    return layout


def _check_path(conn, write: bool, body_id: str | None = None, **params) -> None:
    """PostgreSQL cannot hold NUL in text, and ADK's key columns are varchar(128): such a value
    would fail in the database (ADK: 500). On SQLite both are stored, as ADK stores them.
    `body_id`: the body's key that carried `session_id` (its location in an error)."""
    if conn.dialect.name != "postgresql":
        return
    items = []
    for name, value in params.items():
        loc = ["body", body_id] if body_id and name == "session_id" else ["path", name]
        if NUL in value:
            items.append({"type": "string_no_nul", "loc": loc,
                          "msg": "String should not contain NUL (\\u0000) characters", "input": value})
        elif write and len(value) > KEY_LENGTH:
            items.append({"type": "string_too_long", "loc": loc,
                          "msg": f"String should have at most {KEY_LENGTH} characters", "input": value,
                          "ctx": {"max_length": KEY_LENGTH}})
    if items:
        raise RequestValidationError(items)


def _nul_location(value, loc: list):
    """Where a JSON value holds NUL (a key or a string), which jsonb cannot store; else None."""
    stack = [(value, loc)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return where
        elif isinstance(node, dict):
            for key, child in node.items():
                if NUL in key:
                    return where
                stack.append((child, where + [key]))
        elif isinstance(node, list):
            stack.extend((child, where + [i]) for i, child in enumerate(node))
    return None


def _check_storable(conn, value, loc: list) -> None:
    if conn.dialect.name != "postgresql":
        return
    where = _nul_location(value, loc)
    if where is not None:
        raise RequestValidationError([{"type": "json_no_nul", "loc": where,
                                       "msg": "JSON should not contain NUL (\\u0000) characters",
                                       "input": value}])


def _check_events(conn, events: list[dict]) -> None:
    """An event's time must fit a timestamp column (ADK: 500 from Python's datetime); on
    PostgreSQL its ids must fit their varchar columns."""
    items = []
    for index, event in enumerate(events):
        if event.get("partial"):
            continue  # neither stored nor shown
        try:
            store.utc_datetime(event["timestamp"])
        except (OverflowError, OSError, ValueError):
            items.append({"type": "timestamp_out_of_range", "loc": ["body", "events", index, "timestamp"],
                          "msg": "Timestamp should be between 0001-01-01 and 9999-12-31 (UTC), in epoch seconds",
                          "input": event["timestamp"]})
        if conn.dialect.name != "postgresql":
            continue
        for name, limit in (("id", KEY_LENGTH), ("invocation_id", 256)):
            value = event.get(name) or ""
            if len(value) > limit:
                items.append({"type": "string_too_long", "loc": ["body", "events", index, name],
                              "msg": f"String should have at most {limit} characters", "input": value,
                              "ctx": {"max_length": limit}})
    if items:
        raise RequestValidationError(items)


def _body():
    """The decoded body, or MISSING_BODY (models tells the two apart, as FastAPI does)."""
    return read_json_body()


def _session_json(row: dict, events: list[dict]) -> dict:
    """ADK's session JSON. ADK redacts credential secrets from its whole answer: the state here,
    each event in models.event_json."""
    return {"id": row["id"], "appName": row["app_name"], "userId": row["user_id"],
            "state": models.redact_secrets(row["merged_state"]),
            "events": [models.event_json(e) for e in events], "lastUpdateTime": store.epoch(row["update_time"])}


def _create(app_name: str, user_id: str, session_id: str | None, state: dict | None, events: list[dict],
            body_id: str | None = None):
    db = _database()
    with db.transaction() as conn:
        layout = _layout(db, conn)
        _check_path(conn, True, body_id, app_name=app_name, user_id=user_id,
                    **({"session_id": session_id} if session_id is not None else {}))
        _check_storable(conn, state, ["body", "state"])
        _check_storable(conn, events, ["body", "events"])
        _check_events(conn, events)
        if not layout.has_adk:
            store.bootstrap_tables(conn)
        try:
            row = store.create_session(conn, app_name=app_name, user_id=user_id, session_id=session_id,
                                       state=state, events=events)
        except store.SessionExists:
            raise Conflict(f"Session already exists: {session_id}") from None
    return json_response(_session_json(row, row["events"]))


@bp.post(SESSIONS)
def create_session(app_name, user_id):
    """Create a session: an id (else a new uuid4), an initial state, and events appended in order."""
    body = _body()
    req = models.parse_create_request(body)
    events = req.get("events") or []
    for index, event in enumerate(events):
        disallowed = models.initialization_error(event)
        if disallowed:
            raise BadRequest(f"Session initialization event {index} cannot include {disallowed}.")
    options = req.get("options") or {}
    bound = sorted(set(options) & set(BOUND_OPTIONS))
    if bound:
        raise BadRequest(f"Session options cannot contain keys already bound by the endpoint: {', '.join(bound)}")
    if options:
        raise BadRequest("Session options are not supported by the configured session service.")
    body_id = "sessionId" if isinstance(body, dict) and "sessionId" in body else "session_id"
    return _create(app_name, user_id, req.get("session_id"), req.get("state"),
                   [models.mark_restored(e) for e in events], body_id)


@bp.post(SESSION)
def create_session_with_id(app_name, user_id, session_id):
    """ADK's deprecated create: the whole body is the initial state."""
    state = models.parse_state_body(_body())
    return _create(app_name, user_id, session_id, state, [])


def _existing(conn, layout, app_name: str, user_id: str, session_id: str, for_update: bool = False) -> dict:
    """The session (with its merged state), or ADK's 404."""
    _check_path(conn, False, app_name=app_name, user_id=user_id, session_id=session_id)
    row = store.get_session(conn, app_name=app_name, user_id=user_id, session_id=session_id,
                            for_update=for_update) if layout.has_adk else None
    if row is None:
        raise NotFound("Session not found")
    return row


@bp.get(SESSION)
def get_session(app_name, user_id, session_id):
    db = _database()
    with db.transaction() as conn:
        row = _existing(conn, _layout(db, conn), app_name, user_id, session_id)
        events = store.session_events(conn, row)
    return json_response(_session_json(row, events))


@bp.get(SESSIONS)
def list_sessions(app_name, user_id):
    db = _database()
    with db.transaction() as conn:
        layout = _layout(db, conn)
        _check_path(conn, False, app_name=app_name, user_id=user_id)
        rows = store.list_sessions(conn, app_name=app_name, user_id=user_id) if layout.has_adk else []
    return json_response([_session_json(row, []) for row in rows])


@bp.patch(SESSION)
def update_session(app_name, user_id, session_id):
    """Change the state without running the agent: recorded as an event by `user` whose
    invocation id is `p-<uuid4>` and whose actions carry the delta (without `temp:` keys)."""
    delta = models.parse_update_request(_body())["state_delta"]
    db = _database()
    with db.transaction() as conn:
        row = _existing(conn, _layout(db, conn), app_name, user_id, session_id, for_update=True)
        _check_storable(conn, delta, ["body", "stateDelta"])
        events = store.session_events(conn, row)
        kept = {k: v for k, v in delta.items() if not k.startswith(store.TEMP_PREFIX)}
        event = models.parse_event({"invocation_id": f"p-{uuid.uuid4()}", "author": "user",
                                    "actions": {"state_delta": kept}, "timestamp": time.time()})
        row = store.append_state_event(conn, row, event, delta)
    return json_response(_session_json(row, events + [event]))


@bp.delete(SESSION)
def delete_session(app_name, user_id, session_id):
    """Delete a session and its events; 200 with `null` whether it existed or not, as ADK."""
    db = _database()
    with db.transaction() as conn:
        layout = _layout(db, conn)
        _check_path(conn, False, app_name=app_name, user_id=user_id, session_id=session_id)
        if layout.has_adk:
            store.delete_session(conn, app_name=app_name, user_id=user_id, session_id=session_id)
    return json_response(None)
