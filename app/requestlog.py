"""Per-request context: the request id, one JSON access line, the request metrics.

`X-Request-ID` is honoured when it is a plausible id (1-128 characters of letters, digits and
`._:/+=@-`), otherwise replaced by a generated one, so a client cannot inject log lines or
unbounded values; it is echoed on every response and attached to every log line written while
the request is handled (`app.logging.RequestContextFilter`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

from . import metrics

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

access_log = logging.getLogger("agno_session.access")


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    if has_request_context():
        return g.get("request_id")
    return None


def _incoming_request_id() -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _incoming_request_id()


def _user_hash(user_id: str | None) -> str | None:
    """A short, stable pseudonym of `user_id`: traffic per user can be followed in the logs without
    writing who the user is."""
    if not user_id:
        return None
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _finish(resp: Response) -> Response:
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    rid = g.get("request_id") or _incoming_request_id()
    resp.headers[REQUEST_ID_HEADER] = rid
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics.observe_request(request.method, route, resp.status_code, seconds)
    if not access_log.isEnabledFor(logging.INFO):  # AGNO_ACCESS_LOG_LEVEL=WARNING: nothing to build
        return resp
    access_log.info("request", extra={
        "method": request.method,
        "route": route or metrics.UNMATCHED_ROUTE,
        "path": request.path,
        "status": resp.status_code,
        "duration_ms": round(seconds * 1000, 3),
        "bytes": resp.content_length,
        "db_id": g.get("db_id") or request.args.get("db_id") or None,
        "user": _user_hash(request.args.get("user_id")),
        "client_ip": request.remote_addr,
        "user_agent": request.user_agent.string or None,
    })
    return resp


def init_request_log(app: Flask) -> None:
    """Register before every other hook, so the id exists when CORS, auth or a route logs."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
