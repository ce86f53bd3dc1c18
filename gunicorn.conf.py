"""gunicorn settings, flat and driven by the environment."""

import os
import sys

from app.config import ConfigError, load_settings
from app.db.engines import log_layouts
from app.embedded import prepare_embedded
from app.logging import logging_config

_port = os.environ.get("AGNO_SERVICE_PORT") or "8080"
bind = f"{os.environ.get('AGNO_SERVICE_HOST', '0.0.0.0')}:{_port}"
# Set WEB_CONCURRENCY explicitly per container; never derived from the host's CPU count.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("AGNO_THREADS", "1"))
timeout = int(os.environ.get("AGNO_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("AGNO_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Session ids of several thousand characters are valid (contract #122); 8190 is gunicorn's ceiling.
limit_request_line = 8190
max_requests = int(os.environ.get("AGNO_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None
errorlog = "-"
logconfig_dict = logging_config()
# Engines are created lazily inside each worker, so nothing opened before fork is shared.
preload_app = False


def on_starting(server):
    """Refuse to start on a malformed configuration, with one line naming the variable. With no
    database configured, prepare the embedded SQLite database (AGNO_SQLITE_PATH) and say so."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)
    try:
        prepare_embedded(settings, server.log)
    except Exception as exc:  # e.g. a directory that cannot be written
        sys.stderr.write(f"configuration error: AGNO_SQLITE_PATH: cannot prepare the embedded database ({exc})\n")
        sys.exit(2)


def when_ready(server):
    """Detect each database's layout once in the master, log it, and close the connections."""
    log_layouts(load_settings(), server.log)
    server.log.info(f"session service listening on :{_port}")
