"""Structured JSON logging to stdout, configured once, shared with gunicorn."""

from __future__ import annotations

import logging.config
import os

from .requestlog import request_id

SERVICE = "agno-session-service"


class RequestContextFilter(logging.Filter):
    """Adds `request_id` to every record written while a request is handled (gunicorn's own
    lines and start-up lines have none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            rid = request_id()
            if rid is not None:
                record.request_id = rid
        return True


def logging_config(level: str | None = None) -> dict:
    level = (level or os.environ.get("AGNO_LOG_LEVEL") or "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "static_fields": {"service": SERVICE},
            },
        },
        "filters": {"request": {"()": "app.logging.RequestContextFilter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout",
                       "filters": ["request"]},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            # gunicorn's access log is off (accesslog = None): the app writes one JSON line per
            # request with the route template, duration and request id instead.
            "gunicorn.access": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
            "agno_session.access": {"handlers": ["stdout"], "level": os.environ.get("AGNO_ACCESS_LOG_LEVEL", "INFO").upper(),
                                    "propagate": False},
        },
        "root": {"handlers": ["stdout"], "level": level},
    }


def configure_logging(level: str | None = None) -> None:
    logging.config.dictConfig(logging_config(level))
