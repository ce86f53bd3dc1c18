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
# The record attribute holding the access line's fields as one dict (app.logging.JsonFormatter).
ACCESS_FIELDS = "access_fields"


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
    # The proxies `request` and `g` resolved once: each attribute through them is a lookup.
    req, ctx = request._get_current_object(), g._get_current_object()
    started = getattr(ctx, "request_started", None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    rid = getattr(ctx, "request_id", None) or _incoming_request_id()
    resp.headers[REQUEST_ID_HEADER] = rid
    route = req.url_rule.rule if req.url_rule is not None else None
    status = resp.status_code
    metrics.observe_request(req.method, route, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):  # AGNO_ACCESS_LOG_LEVEL=WARNING: nothing to build
        return resp
    args = req.args
    fields = {
        "method": req.method,
        "route": route or metrics.UNMATCHED_ROUTE,
        "path": req.path,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "bytes": resp.content_length,
        "db_id": getattr(ctx, "db_id", None) or args.get("db_id") or None,
        "user": _user_hash(args.get("user_id")),
        "client_ip": req.remote_addr,
        "user_agent": req.headers.get("User-Agent") or None,
    }
    # makeRecord and handle: logger.info's caller lookup (a walk up the stack) is not needed for
    # a line whose origin is known.
    access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, "request", (), None,
                                            extra={ACCESS_FIELDS: fields}))
    return resp


def init_request_log(app: Flask) -> None:
    """Register before every other hook, so the id exists when CORS, auth or a route logs."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
