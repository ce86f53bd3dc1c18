"""Prometheus metrics, correct across gunicorn workers.

Under gunicorn every worker is its own process, so a scrape that reached one worker's in-memory
registry would see a fraction of the traffic. prometheus-client's multiprocess mode solves this:
with `PROMETHEUS_MULTIPROC_DIR` set before the first import of `prometheus_client` (gunicorn.conf.py
sets a fresh directory when none is given, and wipes it at start), every worker writes its values
to memory-mapped files there and `/metrics` aggregates all of them. A dead worker's files are
marked by the `child_exit` hook, so its live gauges stop counting. Without the variable (tests,
`flask run`), the process's own registry is served.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from prometheus_client import multiprocess
from sqlalchemy import event

bp = Blueprint("metrics", __name__)

PREFIX = "agno_session"
# Request latency buckets (seconds): a list page answers in a few ms, a multi-megabyte detail in
# tens to hundreds; the top buckets reach the statement timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter(f"{PREFIX}_http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram(f"{PREFIX}_http_request_duration_seconds",
                    "Time from the start of request handling to the response, by route template and status",
                    ["method", "route", "status"], buckets=LATENCY_BUCKETS)
ERRORS = Counter(f"{PREFIX}_errors_total",
                 "Errors by kind: unhandled (a 500), db_unavailable, db_statement_timeout, db_pool_timeout,"
                 " db_conflict, db_error", ["kind"])
POOL_SIZE = Gauge(f"{PREFIX}_db_pool_size", "Connections each worker's pool may hold, summed over live workers",
                  ["db_id"], multiprocess_mode="livesum")
POOL_CHECKED_OUT = Gauge(f"{PREFIX}_db_pool_checked_out",
                         "Connections in use by a request, summed over live workers", ["db_id"],
                         multiprocess_mode="livesum")
POOL_OPEN = Gauge(f"{PREFIX}_db_pool_connections", "Connections open to the database, summed over live workers",
                  ["db_id"], multiprocess_mode="livesum")

UNMATCHED_ROUTE = "<unmatched>"


# (method, route, status) -> the counter and histogram children: `labels()` builds and locks on
# every call. Routes are templates and methods and statuses few, so this stays small; the bound
# keeps odd methods (any token is a method to WSGI) from growing it forever.
_children: dict[tuple, tuple] = {}
MAX_CHILDREN = 4096


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        labels = (method, route or UNMATCHED_ROUTE, str(status))
        children = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        if len(_children) >= MAX_CHILDREN:
            _children.clear()
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def count_error(kind: str) -> None:
    ERRORS.labels(kind).inc()


def instrument_pool(engine, db_id: str, size: int) -> None:
    """Track one engine's pool through SQLAlchemy's pool events."""
    POOL_SIZE.labels(db_id).set(size)
    checked_out, opened = POOL_CHECKED_OUT.labels(db_id), POOL_OPEN.labels(db_id)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        opened.inc()

    @event.listens_for(engine, "close")
    def _close(dbapi_connection, record):
        opened.dec()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        checked_out.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        checked_out.dec()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@bp.get("/metrics")
def metrics():
    """Prometheus text exposition of every worker's metrics."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), status=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
