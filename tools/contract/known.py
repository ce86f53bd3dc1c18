"""Which line of docs/compatibility.md explains a difference, if any.

``explain`` returns the line number, or None (an undocumented difference: the run fails). Each
matcher is strict: it needs the request that the line describes, AgentOS's failure as that line
describes it, and an answer from this service that the line promises. A step of the suite may
also name the line itself (``Step.known``) for requests built to show one difference, and a
write that leaves a documented difference in a stored row taints that session
(``Step.taints``): later answers about it, and its rows, are attributed to the same line.

Matchers take the reference's ``Features``: agno 2.9.0 answers its 500s with the exception's own
text instead of ``Internal server error (<class>)``, and fails in a few more places (its lines
below, ``AGNO2_LINES``); its writes that rewrite stored runs are ``row_line``'s business.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from steps import AGNO3, Features

from app.compare.core import MISSING, Difference, Request, Response, Rules, diff, substitute

INT64_MAX = 2**63 - 1
SORTABLE_COLUMNS = {"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
                    "agent_data", "team_data", "workflow_data", "metadata", "runs", "summary", "created_at",
                    "updated_at"}


def _detail(r: Response) -> str:
    try:
        body = json.loads(r.body)
    except ValueError:
        return ""
    return body.get("detail", "") if isinstance(body, dict) and isinstance(body.get("detail"), str) else ""


def _agno_500(r: Response, exc: str | None = None, f: Features = AGNO3) -> bool:
    if r.status != 500:
        return False
    detail = _detail(r)
    if f.agno2:  # 2.9.0: str(exception), whatever the class
        return bool(detail)
    return detail == f"Internal server error ({exc})" if exc else detail.startswith("Internal server error")


def _query(req: Request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(req.target).query, keep_blank_values=True))


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _client_error_with_detail(r: Response) -> bool:
    if not 400 <= r.status < 500:
        return False
    try:
        body = json.loads(r.body)
    except ValueError:
        return False
    return isinstance(body, dict) and "detail" in body


def line_1(req: Request, a: Response, b: Response, f: Features) -> bool:  # page=0
    page = _int(_query(req).get("page"))
    return page is not None and page <= 0 and _agno_500(a, "ValueError", f) and b.status == 422


def line_2(req: Request, a: Response, b: Response, f: Features) -> bool:  # sort_by naming a column-collection attribute
    sort_by = _query(req).get("sort_by")
    return bool(sort_by) and sort_by not in SORTABLE_COLUMNS and _agno_500(a, "AttributeError", f) and b.status == 200


def line_3(req: Request, a: Response, b: Response, f: Features) -> bool:  # int64 overflow in limit / offset
    q = _query(req)
    limit, page = _int(q.get("limit")) or 20, _int(q.get("page")) or 1
    overflow = limit > INT64_MAX or (page - 1) * limit > INT64_MAX
    return overflow and _agno_500(a, "OverflowError" if f.sqlite else "DataError", f) and b.status == 200


def line_4(req: Request, a: Response, b: Response, f: Features) -> bool:  # NUL in ids, filters, body strings
    has_nul = "%00" in req.target.lower() or b"\\u0000" in (req.body or b"")
    return has_nul and _agno_500(a, None, f) and (b.status == 204 or (b.status == 422 and "no_nul" in b.body.decode()))


def line_6(req: Request, a: Response, b: Response, f: Features) -> bool:  # create whose write fails
    return (req.method == "POST" and urlsplit(req.target).path == "/sessions" and a.status == 500
            and _detail(a).startswith("Failed to create session") and b.status == 422)


def line_7(req: Request, a: Response, b: Response, f: Features) -> bool:  # malformed summary in PATCH
    try:
        body = json.loads(req.body or b"null")
    except (ValueError, RecursionError):
        return False
    return (req.method == "PATCH" and isinstance(body, dict) and "summary" in body and _agno_500(a, None, f)
            and b.status == 422 and '"summary"' in b.body.decode())


def line_20(req: Request, a: Response, b: Response, f: Features) -> bool:  # media route without a storage key
    parts = urlsplit(req.target).path.rstrip("/").split("/")
    return (len(parts) == 4 and parts[1] == "sessions" and parts[3] == "media" and a.status == 307
            and a.headers.get("location", "").split("?")[0].endswith(urlsplit(req.target).path.rstrip("/") + "/")
            and b.status == 404)


# agno 2.9.0 only (agno2 contract §8); the numbers are lines of docs/compatibility.md
LINE_LIST_WRAP = 23       # list route: db resolution errors wrapped as 404 "<status>: <detail>"
LINE_BYTES = 24           # a body without a JSON content type: 500 "Object of type bytes ..."
LINE_TYPE_WORKFLOW = 25   # GET ?type=workflow on an agent or team session: 500 'steps'
LINE_PATCH_RUNS = 27      # PATCH rewrites the stored runs array
LINE_AGNO3_ROUTES = 29    # /run-previews, /media and the runs status filter: 2.9.0 has none of them
# agno 3.1.10 on SqliteDb only
LINE_SQLITE_RENAME_TYPE = 30  # rename ?type=<other type>: renames anyway, writing that type's columns
LINE_SQLITE_NAME_FILTER = 31  # session_name matches anywhere in the session_data text
TAINTING = {LINE_SQLITE_RENAME_TYPE}  # a write matched by these leaves the session's row different


def line_list_wrap(req: Request, a: Response, b: Response, f: Features) -> bool:
    if not f.agno2 or req.method != "GET" or urlsplit(req.target).path != "/sessions" or a.status != 404:
        return False
    m = re.fullmatch(r"(\d{3}): (.*)", _detail(a), re.S)
    return bool(m) and b.status == int(m.group(1)) and _detail(b) == m.group(2)


def line_bytes(req: Request, a: Response, b: Response, f: Features) -> bool:
    ctype = dict((k.lower(), v) for k, v in req.headers).get("content-type", "")
    return (f.agno2 and req.method in ("POST", "PATCH", "DELETE") and "json" not in ctype and bool(req.body)
            and a.status == 500 and _detail(a) == "Object of type bytes is not JSON serializable" and b.status == 422)


def line_type_workflow(req: Request, a: Response, b: Response, f: Features) -> bool:
    parts = urlsplit(req.target).path.split("/")
    return (f.agno2 and req.method == "GET" and len(parts) == 3 and parts[1] == "sessions"
            and _query(req).get("type") == "workflow" and a.status == 500 and _detail(a) == "'steps'"
            and b.status == 200)


def line_agno3_routes(req: Request, a: Response, b: Response, f: Features) -> bool:
    """Routes 2.9.0 lacks answer 404; its runs list ignores ``status``, this service filters by it."""
    path = urlsplit(req.target).path
    parts = path.split("/")
    if not f.agno2 or len(parts) < 4 or parts[1] != "sessions" or req.method != "GET":
        return False
    if parts[3] in ("run-previews", "media"):
        return a.status == 404 and _detail(a) == "Not Found"
    statuses = [v for k, v in parse_qsl(urlsplit(req.target).query, keep_blank_values=True) if k == "status"]
    if parts[3] != "runs" or len(parts) != 4 or not statuses or a.status != 200 or b.status not in (200, 400):
        return False
    if b.status == 400:  # a status 3.1.10 does not know: its 400
        return _detail(b).startswith("Invalid status value")
    runs_a, runs_b = json.loads(a.body), json.loads(b.body)
    ids_a = [r.get("run_id") for r in runs_a]
    return ([r.get("run_id") for r in runs_b] == [i for i in ids_a if i in {r.get("run_id") for r in runs_b}]
            and all(r.get("status") in statuses for r in runs_b))


def _like(pattern: str) -> re.Pattern:
    """SQL LIKE (``\\`` escapes) as a case-insensitive regular expression."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.I | re.S)


def line_sqlite_name_filter(req: Request, a: Response, b: Response, f: Features) -> bool:
    """AgentOS over SqliteDb matches the pattern anywhere in the session_data text; this service
    answers with the sessions whose stored name matches, as over PostgreSQL: fewer or as many."""
    name = _query(req).get("session_name")
    if not (f.sqlite and name is not None and req.method == "GET" and urlsplit(req.target).path == "/sessions"
            and a.status == 200 and b.status == 200):
        return False
    body_a, body_b = json.loads(a.body), json.loads(b.body)
    like = _like(name)
    return (body_b["meta"]["total_count"] <= body_a["meta"]["total_count"]
            and all(like.search(str(item.get("session_name", ""))) for item in body_b["data"]))


def line_sqlite_rename_type(req: Request, a: Response, b: Response, f: Features) -> bool:
    parts = urlsplit(req.target).path.split("/")
    return (f.sqlite and req.method == "POST" and len(parts) == 4 and parts[3] == "rename"
            and _query(req).get("type") in ("agent", "team", "workflow") and a.status == 200 and b.status == 404
            and _detail(b) == f"Session with id '{unquote(parts[2])}' not found")


MATCHERS = {1: line_1, 2: line_2, 3: line_3, 4: line_4, 6: line_6, 7: line_7, 20: line_20,
            LINE_LIST_WRAP: line_list_wrap, LINE_BYTES: line_bytes, LINE_TYPE_WORKFLOW: line_type_workflow,
            LINE_AGNO3_ROUTES: line_agno3_routes, LINE_SQLITE_RENAME_TYPE: line_sqlite_rename_type,
            LINE_SQLITE_NAME_FILTER: line_sqlite_name_filter}


def line_14(req: Request, a: Response, b: Response, diffs: list[Difference], rules: Rules) -> bool:
    """A list page whose only difference is the order of sessions with equal sort keys."""
    if urlsplit(req.target).path != "/sessions" or req.method != "GET" or a.status != 200 or b.status != 200:
        return False
    key = _query(req).get("sort_by") or "created_at"
    pa, pb = json.loads(a.body), substitute(json.loads(b.body), rules.substitutions)
    da, db = pa.get("data"), pb.get("data")
    if not (isinstance(da, list) and isinstance(db, list) and len(da) == len(db)):
        return False
    aligned, i = [], 0
    while i < len(da):
        j = i
        while j < len(da) and da[j].get(key) == da[i].get(key):
            j += 1
        block_a, block_b = da[i:j], db[i:j]
        ids = [x.get("session_id") for x in block_a]
        by_id = {x.get("session_id"): x for x in block_b}
        if sorted(ids, key=str) != sorted(by_id, key=str):
            return False
        aligned.extend(by_id[s] for s in ids)
        i = j
    return not diff(pa, dict(pb, data=aligned), rules)


def _sessions_in_paths(diffs: list[Difference], a: Response, b: Response) -> set[str] | None:
    """Session ids of the list items (or the one detail) that the differences are about."""
    out: set[str] = set()
    bodies = []
    for r in (a, b):
        try:
            bodies.append(json.loads(r.body))
        except ValueError:
            bodies.append(None)
    for d in diffs:
        m = re.match(r"^body\.data\[(\d+)\]", d.path)
        if not m:
            return None
        i = int(m.group(1))
        for body in bodies:
            items = body.get("data") if isinstance(body, dict) else None
            if isinstance(items, list) and i < len(items) and isinstance(items[i], dict):
                out.add(str(items[i].get("session_id")))
    return out


def row_line(features: Features, session_id: str, diffs: list[Difference], table: str, key: str,
             patched: set[str]) -> int | None:
    """A stored row that differs only in its runs array after agno 2.9.0 PATCHed the session: 2.9.0
    rewrites the array from its decoded view (``events: []`` added, empty ``tools`` dropped, runs
    without ``agent_id``/``team_id`` dropped, ids invented for messages without one); this service
    leaves runs untouched."""
    if not features.agno2 or session_id not in patched or table != "agno_sessions":
        return None
    prefix = f"{table}[{key}].runs"
    if all(d.path == prefix or d.path.startswith((prefix + ".", prefix + "[")) for d in diffs):
        return LINE_PATCH_RUNS
    return None


def patched_runs_read(req: Request, diffs: list[Difference], features: Features, patched: set[str]) -> int | None:
    """A run read of a session agno 2.9.0 PATCHed earlier, differing only where its rewrite of the
    stored runs shows through: nested runs (``member_responses``, ``step_executor_runs``) are served
    as stored, and there 2.9.0 added ``events: []`` and dropped empty lists."""
    parts = urlsplit(req.target).path.split("/")
    if not (features.agno2 and req.method == "GET" and len(parts) >= 4 and parts[1] == "sessions"
            and parts[3] == "runs" and unquote(parts[2]) in patched):
        return None
    empty = ([], MISSING)
    if diffs and all(d.primary in empty and d.candidate in empty and d.primary is not d.candidate
                     and re.search(r"\.(member_responses|step_executor_runs)\[\d+\]\.", d.path) for d in diffs):
        return LINE_PATCH_RUNS
    return None


def explain(step, req: Request, a: Response, b: Response, diffs: list[Difference],
            taints: dict[str, set[int]], rules: Rules, features: Features = AGNO3,
            patched: set[str] = frozenset()) -> int | None:
    if step.known:
        return min(step.known)
    for line, matcher in MATCHERS.items():
        if matcher(req, a, b, features):
            return line
    line = patched_runs_read(req, diffs, features, patched)
    if line is not None:
        return line
    if line_14(req, a, b, diffs, rules):
        return 14
    if taints:
        path = urlsplit(req.target).path
        parts = path.split("/")
        if len(parts) >= 3 and parts[1] == "sessions":
            lines = taints.get(unquote(parts[2]))
            if lines:
                return min(lines)
        if path == "/sessions" and req.method == "GET":
            sessions = _sessions_in_paths(diffs, a, b)
            if sessions:
                lines = set().union(*(taints.get(s, set()) for s in sessions))
                if lines and all(taints.get(s) for s in sessions):
                    return min(lines)
    return None


# ----------------------------------------------------------------------------------------------
# Google ADK 2.13.0 api_server (the adk-pg and adk-sqlite references)
# ----------------------------------------------------------------------------------------------
LINE_ADK_LONG_ID = 39       # PostgreSQL: app, user or session id over 128 characters: 500 with the SQL
LINE_ADK_EVENT_PARTIAL = 40  # PostgreSQL: an event that cannot be stored: 500 after the session is committed
LINE_ADK_NUL = 41           # PostgreSQL: NUL characters, NaN/Infinity/1e400: 500
LINE_ADK_SQLITE_NONFINITE = 42  # SQLite: NaN/Infinity/1e400 stored as text that is not JSON, served as null
# A write matched by these leaves the session's rows different (ADK wrote them, this service not).
ADK_TAINTING = {LINE_ADK_EVENT_PARTIAL, LINE_ADK_SQLITE_NONFINITE}
ADK_MAX_KEY = 128           # ADK's varchar(128) for app_name, user_id and the session and event ids
ADK_MAX_INVOCATION = 256    # varchar(256) for events.invocation_id


def adk_target(req: Request) -> tuple[str, str, str | None] | None:
    """(app, user, session id or None) of an ADK session route's target, ``/api`` removed."""
    path = urlsplit(req.target).path
    path = path[4:] if path.startswith("/api/") else path
    parts = path.split("/")
    if len(parts) not in (6, 7) or parts[1] != "apps" or parts[3] != "users" or parts[5] != "sessions":
        return None
    return unquote(parts[2]), unquote(parts[4]), unquote(parts[6]) if len(parts) == 7 else None


def adk_body(req: Request) -> object:
    try:
        return json.loads(req.body or b"null")
    except (ValueError, RecursionError):
        return None


def adk_created_id(req: Request) -> str | None:
    """The session id a create names: the path's (deprecated route) or the body's ``sessionId``."""
    where = adk_target(req)
    if where is None or req.method != "POST":
        return None
    if where[2] is not None:
        return where[2]
    body = adk_body(req)
    sid = body.get("sessionId", body.get("session_id")) if isinstance(body, dict) else None
    return sid if isinstance(sid, str) else None


def _adk_service_refused(b: Response) -> bool:
    """This service's answer where ADK fails: a 4xx with a ``detail`` (nothing written)."""
    return _client_error_with_detail(b)


def adk_line_long_id(req: Request, a: Response, b: Response, f: Features) -> bool:
    where = adk_target(req)
    if f.sqlite or where is None or req.method != "POST":
        return False
    ids = [where[0], where[1], adk_created_id(req) or ""]
    return (any(len(i) > ADK_MAX_KEY for i in ids) and a.status == 500
            and _detail(a).startswith("(psycopg.errors.StringDataRightTruncation)") and _adk_service_refused(b))


def _unstorable(raw: bytes) -> bool:
    """JSON text PostgreSQL refuses: a NUL character, or a non-finite number (``NaN``, ``Infinity``,
    a literal past a double's range) that Python's JSON parser turns into a float."""
    return b"\\u0000" in raw or any(t in raw for t in (b"NaN", b"Infinity", b"1e400"))


def adk_line_event_partial(req: Request, a: Response, b: Response, f: Features) -> bool:
    """A create whose events cannot be stored: ADK commits the session first, then fails on the
    event (500 ``Internal Server Error``, text), leaving the session and its state rows behind."""
    where = adk_target(req)
    body = adk_body(req)
    if f.sqlite or where is None or req.method != "POST" or where[2] is not None or not isinstance(body, dict):
        return False
    events = body.get("events") if isinstance(body.get("events"), list) else []
    unstorable = any(isinstance(e, dict) and (
        len(str(e.get("id", ""))) > ADK_MAX_KEY
        or len(str(e.get("invocationId", e.get("invocation_id", "")))) > ADK_MAX_INVOCATION
        or _unstorable(json.dumps(e).encode())) for e in events)
    return unstorable and a.status == 500 and a.body == b"Internal Server Error" and _adk_service_refused(b)


def adk_line_nul(req: Request, a: Response, b: Response, f: Features) -> bool:
    """NUL in a path id or a body string, or a non-finite number in the body: PostgreSQL refuses
    them and ADK answers 500 (reads and deletes too); this service a 422 naming the field."""
    if f.sqlite or adk_target(req) is None or a.status != 500:
        return False
    return ("%00" in req.target or _unstorable(req.body or b"")) and _adk_service_refused(b)


def adk_line_sqlite_nonfinite(req: Request, a: Response, b: Response, f: Features) -> bool:
    """SQLite: ADK stores a non-finite number as `NaN`/`Infinity` (not JSON) and serves it as null
    afterwards; this service refuses the body (422 ``json_invalid``), as it does on PostgreSQL."""
    if not f.sqlite or adk_target(req) is None or a.status != 200 or b.status != 422:
        return False
    return any(t in (req.body or b"") for t in (b"NaN", b"Infinity", b"1e400")) and _adk_service_refused(b)


ADK_MATCHERS = {LINE_ADK_LONG_ID: adk_line_long_id, LINE_ADK_EVENT_PARTIAL: adk_line_event_partial,
                LINE_ADK_NUL: adk_line_nul, LINE_ADK_SQLITE_NONFINITE: adk_line_sqlite_nonfinite}


def adk_session_key(app: str, user: str, sid: str) -> str:
    return f"{app}|{user}|{sid}"


def adk_explain(step, req: Request, a: Response, b: Response, diffs: list[Difference],
                taints: dict[str, set[int]], rules: Rules, features: Features) -> int | None:
    if step.known:
        return min(step.known)
    for line, matcher in ADK_MATCHERS.items():
        if matcher(req, a, b, features):
            return line
    where = adk_target(req)
    if not taints or where is None or req.method != "GET":
        return None
    if where[2] is not None:  # a session that ADK's failed write left behind
        lines = taints.get(adk_session_key(*where))
        return min(lines) if lines and a.status == 200 and b.status == 404 else None
    # a list holding such sessions: the same once they are left out of ADK's answer
    try:
        list_a, list_b = json.loads(a.body), substitute(json.loads(b.body), rules.substitutions)
    except ValueError:
        return None
    if not (isinstance(list_a, list) and isinstance(list_b, list)):
        return None
    lines: set[int] = set()
    kept = []
    for item in list_a:
        found = taints.get(adk_session_key(where[0], where[1], str(item.get("id")))) if isinstance(item, dict) else None
        if found:
            lines |= found
        else:
            kept.append(item)
    return min(lines) if lines and not diff(kept, list_b, rules) else None


def adk_row_line(table: str, row: dict, diffs: list[Difference], taints: dict[str, set[int]],
                 features: Features) -> int | None:
    """A row that ADK's failed write left behind (present on ADK's side only): its session's, or
    the app or user state row that write created."""
    if not taints or not all(d.candidate == "absent" for d in diffs):
        return None
    if table in ("sessions", "events"):
        sid = row.get("id") if table == "sessions" else row.get("session_id")
        lines = taints.get(adk_session_key(str(row.get("app_name")), str(row.get("user_id")), str(sid)))
        return min(lines) if lines else None
    if table in ("app_states", "user_states"):
        prefix = f"{row.get('app_name')}|" + (f"{row.get('user_id')}|" if table == "user_states" else "")
        lines = set().union(*(v for k, v in taints.items() if k.startswith(prefix)))
        return min(lines) if lines else None
    return None
