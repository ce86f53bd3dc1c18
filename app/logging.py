"""Structured JSON logging to stdout, configured once, shared with gunicorn."""

from __future__ import annotations

import logging.config
import os

SERVICE = "agno-session-service"


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
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stdout"], "level": level},
    }


def configure_logging(level: str | None = None) -> None:
    logging.config.dictConfig(logging_config(level))
