"""Structured JSON logging to stdout, configured once, shared with gunicorn."""

from __future__ import annotations

import json
import logging.config
import os
import time

import orjson
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .requestlog import ACCESS_FIELDS, request_id

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


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, with a short path for the access line.

    The access line is written once per request, so its cost is paid on every request: the
    generic path (walking the record's attributes, then the standard library's encoder) took more
    time than a whole /health request. A record carrying its fields as one dict (`ACCESS_FIELDS`,
    see app.requestlog) is written as the same JSON object, keys in the same order, by orjson;
    every other record goes the generic way."""

    _second: tuple[int, str] = (-1, "")  # one tuple, so threads never pair a second with another's text

    def _time(self, record: logging.LogRecord) -> str:
        # logging's default asctime ("2026-11-21 19:09:16,263"), the strftime done once a second.
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, time.strftime(self.default_time_format, self.converter(record.created)))
        return self.default_msec_format % (cached[1], record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, ACCESS_FIELDS, None)
        if fields is None or record.exc_info or record.stack_info or self.datefmt:
            return super().format(record)
        line = {"time": self._time(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), "service": SERVICE, **fields}
        rid = getattr(record, "request_id", None)
        if rid is not None:
            line["request_id"] = rid
        try:
            return orjson.dumps(line).decode()
        except TypeError:  # e.g. a lone surrogate in a header
            return json.dumps(line, default=str)


def logging_config(level: str | None = None) -> dict:
    level = (level or os.environ.get("AGNO_LOG_LEVEL") or "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "app.logging.JsonFormatter",
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
