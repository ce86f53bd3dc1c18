"""Typed API errors mapped once to AgentOS's `{"detail": ...}` envelope."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from . import metrics

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a `detail` that is safe to show."""

    status = 500

    def __init__(self, detail, status: int | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class ServiceUnavailable(ApiError):
    status = 503


class RequestValidationError(ApiError):
    """422 with FastAPI's list of error items (`type`, `loc`, `msg`, `input`, `ctx`)."""

    status = 422

    def __init__(self, items: list[dict]):
        super().__init__(items)


def error_response(status: int, detail, headers: dict | None = None) -> Response:
    resp = jsonify(detail=detail)
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        return error_response(exc.status, exc.detail, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        # Werkzeug's own errors (404 routing, 405, 413) in AgentOS's wording.
        detail = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.code, exc.description or exc.name)
        if exc.code == 413:
            detail = "Request body too large"
        headers = {}
        if exc.code == 405:
            allowed = [m for m in (getattr(exc, "valid_methods", None) or []) if m not in ("HEAD", "OPTIONS")]
            headers["Allow"] = ", ".join(allowed)
        return error_response(exc.code or 500, detail, headers)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc: IntegrityError):
        log.warning("integrity error", exc_info=exc)
        metrics.count_error("db_conflict")
        return error_response(409, "The write conflicts with existing data")

    @app.errorhandler(PoolTimeout)
    def handle_pool_timeout(exc):
        log.error("database pool exhausted", exc_info=exc)
        metrics.count_error("db_pool_timeout")
        return error_response(503, "Database is busy, try again later")

    @app.errorhandler(OperationalError)
    def handle_operational_error(exc: OperationalError):
        # Connection loss, server shutdown and statement timeouts: the database, not the request.
        log.error("database unavailable", exc_info=exc)
        if "statement timeout" in str(exc.orig):
            metrics.count_error("db_statement_timeout")
            return error_response(504, "Database statement timed out")
        if "database is locked" in str(exc.orig):  # SQLite: another writer held the lock past the timeout
            metrics.count_error("db_pool_timeout")
            return error_response(503, "Database is busy, try again later")
        metrics.count_error("db_unavailable")
        return error_response(503, "Database unavailable")

    @app.errorhandler(DBAPIError)
    def handle_dbapi_error(exc: DBAPIError):
        if exc.connection_invalidated:
            log.error("database connection lost", exc_info=exc)
            metrics.count_error("db_unavailable")
            return error_response(503, "Database unavailable")
        log.exception("database error", exc_info=exc)
        metrics.count_error("db_error")
        return error_response(500, "Internal server error")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled exception", exc_info=exc)
        metrics.count_error("unhandled")
        return error_response(500, "Internal server error")
