"""Reads and writes of ADK sessions, with ADK's state scoping, in one transaction per request.

State keys are scoped by prefix, as ADK's `DatabaseSessionService` scopes them: `app:k` is kept
as `k` in `app_states` (shared by every session of the app), `user:k` as `k` in `user_states`
(every session of that user in that app), `temp:k` nowhere, any other key in the session's own
`state`. A session's state as the API shows it is the three merged back, prefixes restored.
Updates merge at the top level (a key's value is replaced whole), as `dict.update` does.

Where ADK needs several transactions (create, then one per appended event) this service makes
one: a request either happens whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from sqlalchemy import and_, bindparam, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from . import tables as t

APP_PREFIX, USER_PREFIX, TEMP_PREFIX = "app:", "user:", "temp:"
# Sessions ADK's evaluation runs create; its list route leaves them out.
EVAL_SESSION_PREFIXES = ("adk-eval-session-", "___eval___session___")


class SessionExists(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Detection and creation of the tables


def detect_adk_version(conn: Connection, inspector=None) -> str | None:
    """ADK's schema version for this database's default schema, as ADK itself decides it: the
    `schema_version` row of `adk_internal_metadata`; "0" (the legacy, pickled layout) for an
    `events` table with an `actions` column and no `event_data`; "1" for its current tables
    without the metadata row; None when ADK's tables are not there."""
    inspector = inspector or inspect(conn)
    names = set(inspector.get_table_names())
    if t.internal_metadata.name in names:
        version = conn.execute(select(t.internal_metadata.c.value)
                               .where(t.internal_metadata.c.key == t.SCHEMA_VERSION_KEY)).scalar_one_or_none()
        return version if version is not None else t.SCHEMA_VERSION
    if "sessions" not in names or "events" not in names:
        return None
    columns = {c["name"] for c in inspector.get_columns("events")}
    if "event_data" in columns:
        return t.SCHEMA_VERSION
    if "actions" in columns:
        return "0"
    return None


def bootstrap_tables(conn: Connection) -> None:
    """Create ADK's tables, index and schema-version row where they are missing (ADK does the
    same lazily before its first operation). On PostgreSQL an advisory lock keeps two workers
    from creating them at once; on SQLite the write transaction already excludes other writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('agno-session-service:adk'))"))
    t.metadata.create_all(conn, checkfirst=True)
    found = conn.execute(select(t.internal_metadata.c.value)
                         .where(t.internal_metadata.c.key == t.SCHEMA_VERSION_KEY)).first()
    if found is None:
        conn.execute(t.internal_metadata.insert().values(key=t.SCHEMA_VERSION_KEY, value=t.SCHEMA_VERSION))


# ---------------------------------------------------------------------------------------------
# Time: ADK keeps UTC in `timestamp without time zone` (DATETIME on SQLite)


def utc_datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


def epoch(value: dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


# ---------------------------------------------------------------------------------------------
# State


def split_state(state: dict | None) -> tuple[dict, dict, dict]:
    """(app, user, session) parts of a state or state delta; `temp:` keys are dropped."""
    app, user, session = {}, {}, {}
    for key, value in (state or {}).items():
        if key.startswith(APP_PREFIX):
            app[key[len(APP_PREFIX):]] = value
        elif key.startswith(USER_PREFIX):
            user[key[len(USER_PREFIX):]] = value
        elif not key.startswith(TEMP_PREFIX):
            session[key] = value
    return app, user, session


def merge_state(app_state, user_state, session_state) -> dict:
    """The state the API shows: the session's own keys, then the app's and the user's, prefixed
    (a missing row, or a stored value that is not an object, adds nothing)."""
    merged = dict(session_state) if isinstance(session_state, dict) else {}
    if isinstance(app_state, dict):
        for key, value in app_state.items():
            merged[APP_PREFIX + key] = value
    if isinstance(user_state, dict):
        for key, value in user_state.items():
            merged[USER_PREFIX + key] = value
    return merged


def _upsert_state(conn: Connection, table, key: dict, delta: dict) -> dict:
    """Create the app's or user's state row if missing (ADK makes one for every app and user it
    sees), merge `delta` into it, and return the state after the change. `update_time` is the
    database's now(), as ADK's column default writes it, and changes only with the state."""
    where = and_(*(table.c[name] == value for name, value in key.items()))
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(**key, state=delta, update_time=func.now())
        if delta:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key),
                set_={"state": table.c.state.op("||")(stmt.excluded.state), "update_time": func.now()})
            return conn.execute(stmt.returning(table.c.state)).scalar_one()
        inserted = conn.execute(stmt.on_conflict_do_nothing().returning(table.c.state)).scalar_one_or_none()
        if inserted is not None:
            return inserted
        return conn.execute(select(table.c.state).where(where)).scalar_one()
    # SQLite: the request's write transaction holds the database's write lock.
    current = conn.execute(select(table.c.state).where(where)).first()
    if current is None:
        conn.execute(sqlite.insert(table).values(**key, state=delta, update_time=func.now()))
        return dict(delta)
    state = current[0] if isinstance(current[0], dict) else {}
    if delta:
        state = {**state, **delta}
        conn.execute(table.update().where(where).values(state=state, update_time=func.now()))
    return state


# ---------------------------------------------------------------------------------------------
# Sessions


def _session_json(row, state: dict, events: list[dict]) -> dict:
    return {"id": row["id"], "appName": row["app_name"], "userId": row["user_id"], "state": state,
            "events": events, "lastUpdateTime": epoch(row["update_time"])}


def create_session(conn: Connection, *, app_name: str, user_id: str, session_id: str | None,
                   state: dict | None, events: list[dict] | None = None) -> dict:
    """Insert a session (a new uuid4 id when none is given) and its initial events.

    Returns the stored row as a dict plus `merged_state` and `events` (the stored event documents,
    in order). Raises SessionExists when (app, user, id) is taken; nothing is written then."""
    session_id = session_id if session_id is not None else str(uuid.uuid4())
    app_delta, user_delta, session_state = split_state(state)
    now = utc_datetime(time.time())
    values = {"app_name": app_name, "user_id": user_id, "id": session_id, "state": session_state,
              "create_time": now, "update_time": now}
    insert = (postgresql.insert(t.sessions) if conn.dialect.name == "postgresql" else sqlite.insert(t.sessions))
    created = conn.execute(insert.values(**values).on_conflict_do_nothing().returning(t.sessions.c.id)).first()
    if created is None:
        raise SessionExists(session_id)
    app_state = _upsert_state(conn, t.app_states, {"app_name": app_name}, app_delta)
    user_state = _upsert_state(conn, t.user_states, {"app_name": app_name, "user_id": user_id}, user_delta)
    row = dict(values)
    stored_events = []
    for event in events or ():
        if event.get("partial"):
            continue  # ADK neither stores a partial event nor shows it
        _insert_event(conn, row, event)
        row["update_time"] = utc_datetime(event["timestamp"])
        stored_events.append(event)
    if stored_events:
        conn.execute(t.sessions.update().where(_session_key(app_name, user_id, session_id))
                     .values(update_time=row["update_time"]))
    row["merged_state"] = merge_state(app_state, user_state, session_state)
    row["events"] = stored_events
    return row


def _session_key(app_name: str, user_id: str, session_id: str):
    s = t.sessions.c
    return and_(s.app_name == app_name, s.user_id == user_id, s.id == session_id)


def _insert_event(conn: Connection, row: dict, event: dict) -> None:
    conn.execute(t.events.insert().values(
        id=event["id"], app_name=row["app_name"], user_id=row["user_id"], session_id=row["id"],
        invocation_id=event.get("invocation_id", ""), timestamp=utc_datetime(event["timestamp"]),
        event_data=event))


def _sessions_with_states():
    """Sessions with their app's and user's state, in one statement."""
    s, a, u = t.sessions.c, t.app_states.c, t.user_states.c
    app_state = select(a.state).where(a.app_name == s.app_name).scalar_subquery()
    user_state = select(u.state).where(u.app_name == s.app_name, u.user_id == s.user_id).scalar_subquery()
    return select(t.sessions, app_state.label("app_state"), user_state.label("user_state"))


def _merged(found) -> dict:
    row = dict(found)
    row["merged_state"] = merge_state(row.pop("app_state"), row.pop("user_state"), row["state"])
    return row


def get_session(conn: Connection, *, app_name: str, user_id: str, session_id: str,
                for_update: bool = False) -> dict | None:
    """The session row (dict) with `merged_state`, or None. `for_update` locks the session's
    row (PostgreSQL; SQLite's write transaction holds the whole database)."""
    stmt = _sessions_with_states().where(_session_key(app_name, user_id, session_id))
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=t.sessions)
    found = conn.execute(stmt).mappings().first()
    return _merged(found) if found is not None else None


def session_events(conn: Connection, row: dict) -> list[dict]:
    """The session's events, oldest first (timestamp, then id, as ADK orders them), each as ADK
    reads it back: its stored document with the row's id and invocation id, and the document's
    own timestamp (the column's where the document has none)."""
    e = t.events.c
    rows = conn.execute(
        select(e.id, e.invocation_id, e.timestamp, e.event_data)
        .where(e.app_name == row["app_name"], e.user_id == row["user_id"], e.session_id == row["id"])
        .order_by(e.timestamp.asc(), e.id.asc())).all()
    out = []
    for event_id, invocation_id, stamp, data in rows:
        doc = dict(data) if isinstance(data, dict) else {}
        doc["id"] = event_id
        doc["invocation_id"] = invocation_id
        if doc.get("timestamp") is None:
            doc["timestamp"] = epoch(stamp)
        out.append(doc)
    return out


def list_sessions(conn: Connection, *, app_name: str, user_id: str) -> list[dict]:
    """The user's sessions of the app (evaluation sessions left out), least recently updated
    first, each with `merged_state`; events are never listed."""
    s, a, u = t.sessions.c, t.app_states.c, t.user_states.c
    hidden = [func.substr(s.id, 1, len(prefix)) != prefix for prefix in EVAL_SESSION_PREFIXES]
    rows = conn.execute(select(t.sessions).where(s.app_name == app_name, s.user_id == user_id, *hidden)
                        .order_by(s.update_time.asc(), s.user_id.asc(), s.id.asc())).mappings().all()
    if not rows:
        return []
    # The app's and the user's state are the same for every row: read and decoded once.
    app_state, user_state = conn.execute(select(
        select(a.state).where(a.app_name == app_name).scalar_subquery(),
        select(u.state).where(u.app_name == app_name, u.user_id == user_id).scalar_subquery())).one()
    out = []
    for found in rows:
        row = dict(found)
        row["merged_state"] = merge_state(app_state, user_state, row["state"])
        out.append(row)
    return out


def append_state_event(conn: Connection, row: dict, event: dict, state_delta: dict) -> dict:
    """Record a state change as ADK's PATCH does: the event (its `temp:` keys already left out
    of the stored delta by the caller) is appended, the deltas merged into the three states, and
    the session's update time set to the event's. `row` is the session read FOR UPDATE. Returns
    the row as it is now, with `merged_state` as the response shows it (temp keys included)."""
    app_delta, user_delta, session_delta = split_state(state_delta)
    key = {"app_name": row["app_name"]}
    if app_delta:
        _upsert_state(conn, t.app_states, key, app_delta)
    if user_delta:
        _upsert_state(conn, t.user_states, {**key, "user_id": row["user_id"]}, user_delta)
    values: dict[str, Any] = {"update_time": utc_datetime(event["timestamp"])}
    if session_delta:
        if conn.dialect.name == "postgresql":
            values["state"] = t.sessions.c.state.op("||")(bindparam("delta", session_delta, type_=t.JsonDocument()))
        else:
            values["state"] = {**(row["state"] if isinstance(row["state"], dict) else {}), **session_delta}
    stmt = t.sessions.update().where(_session_key(row["app_name"], row["user_id"], row["id"])).values(**values)
    conn.execute(stmt)
    _insert_event(conn, row, event)
    out = dict(row)
    out["update_time"] = values["update_time"]
    out["merged_state"] = {**row["merged_state"], **state_delta}
    return out


def delete_session(conn: Connection, *, app_name: str, user_id: str, session_id: str) -> None:
    """Delete the session and its events (its app's and user's state rows stay, as with ADK)."""
    e = t.events.c
    conn.execute(t.events.delete().where(e.app_name == app_name, e.user_id == user_id, e.session_id == session_id))
    conn.execute(t.sessions.delete().where(_session_key(app_name, user_id, session_id)))
