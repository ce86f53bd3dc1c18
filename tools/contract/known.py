"""Which line of docs/compatibility.md explains a difference, if any.

``explain`` returns the line number, or None (an undocumented difference: the run fails). Each
matcher is strict: it needs the request that the line describes, AgentOS's failure as that line
describes it, and an answer from this service that the line promises. A step of the suite may
also name the line itself (``Step.known``) for requests built to show one difference, and a
write that leaves a documented difference in a stored row taints that session
(``Step.taints``): later answers about it, and its rows, are attributed to the same line.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from app.compare.core import Difference, Request, Response, Rules, diff, substitute

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


def _agno_500(r: Response, exc: str | None = None) -> bool:
    if r.status != 500:
        return False
    detail = _detail(r)
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


def line_1(req: Request, a: Response, b: Response) -> bool:  # page=0
    page = _int(_query(req).get("page"))
    return page is not None and page <= 0 and _agno_500(a, "ValueError") and b.status == 422


def line_2(req: Request, a: Response, b: Response) -> bool:  # sort_by naming a column-collection attribute
    sort_by = _query(req).get("sort_by")
    return bool(sort_by) and sort_by not in SORTABLE_COLUMNS and _agno_500(a, "AttributeError") and b.status == 200


def line_3(req: Request, a: Response, b: Response) -> bool:  # int64 overflow in limit / offset
    q = _query(req)
    limit, page = _int(q.get("limit")) or 20, _int(q.get("page")) or 1
    overflow = limit > INT64_MAX or (page - 1) * limit > INT64_MAX
    return overflow and _agno_500(a, "DataError") and b.status == 200


def line_4(req: Request, a: Response, b: Response) -> bool:  # NUL in ids, filters, body strings
    has_nul = "%00" in req.target.lower() or b"\\u0000" in (req.body or b"")
    return has_nul and _agno_500(a) and (b.status == 204 or (b.status == 422 and "no_nul" in b.body.decode()))


def line_6(req: Request, a: Response, b: Response) -> bool:  # create whose write fails
    return (req.method == "POST" and urlsplit(req.target).path == "/sessions" and a.status == 500
            and _detail(a).startswith("Failed to create session") and b.status == 422)


def line_7(req: Request, a: Response, b: Response) -> bool:  # malformed summary in PATCH
    try:
        body = json.loads(req.body or b"null")
    except (ValueError, RecursionError):
        return False
    return (req.method == "PATCH" and isinstance(body, dict) and "summary" in body and _agno_500(a)
            and b.status == 422 and '"summary"' in b.body.decode())


def line_20(req: Request, a: Response, b: Response) -> bool:  # media route without a storage key
    parts = urlsplit(req.target).path.rstrip("/").split("/")
    return (len(parts) == 4 and parts[1] == "sessions" and parts[3] == "media" and a.status == 307
            and a.headers.get("location", "").split("?")[0].endswith(urlsplit(req.target).path.rstrip("/") + "/")
            and b.status == 404)


MATCHERS = {1: line_1, 2: line_2, 3: line_3, 4: line_4, 6: line_6, 7: line_7, 20: line_20}


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


def explain(step, req: Request, a: Response, b: Response, diffs: list[Difference],
            taints: dict[str, set[int]], rules: Rules) -> int | None:
    if step.known:
        return min(step.known)
    for line, matcher in MATCHERS.items():
        if matcher(req, a, b):
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
