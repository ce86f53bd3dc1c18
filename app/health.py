"""Probes: /health (AgentOS's), /healthz (the Go service's), /readyz (every database)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, UTC

from flask import Blueprint, current_app

from .db.engines import registry
from .responses import json_response
from .sessions.render import format_datetime

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# Set in a gunicorn worker when SIGTERM starts its drain (gunicorn.conf.py): the worker goes on
# serving every request, but /readyz answers 503 so load balancers stop sending it traffic.
_shutting_down = threading.Event()


def begin_shutdown() -> None:
    """Readiness answers 503 from now on in this process (the drain phase of a graceful stop)."""
    _shutting_down.set()


def shutting_down() -> bool:
    return _shutting_down.is_set()


@bp.get("/health")
def health():
    """Liveness as AgentOS answers it; no database involved."""
    started = current_app.config["INSTANTIATED_AT"]
    return json_response({"status": "ok", "instantiated_at": format_datetime(started)})


@bp.get("/healthz")
def healthz():
    """Liveness as the earlier Go service answered it."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready when every configured database answers; each one's layout is reported.

    503 names the databases that do not answer (the reason is logged, not shown), or says the
    process is shutting down (no database is reached then)."""
    if shutting_down():
        return json_response({"detail": "Shutting down", "databases": {}}, 503)
    reg = registry()
    results, failed = {}, []
    for db_id in reg.databases:
        try:
            layout = reg.check(db_id)
            results[db_id] = {"status": "ok", **layout.describe()}
        except Exception as exc:  # any failure means not ready
            log.warning("readiness check failed", extra={"db_id": db_id, "error": type(exc).__name__})
            results[db_id] = {"status": "unreachable"}
            failed.append(db_id)
    if not reg.databases:
        return json_response({"detail": "No database is configured", "databases": {}}, 503)
    if failed:
        names = ", ".join(f"'{d}'" for d in failed)
        return json_response({"detail": f"Database {names} unreachable", "databases": results}, 503)
    return json_response({"status": "ok", "databases": results})


def started_now() -> datetime:
    return datetime.now(UTC)
