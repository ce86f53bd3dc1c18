"""gunicorn settings, flat and driven by the environment."""

import glob
import os
import sys
import tempfile

# Prometheus multiprocess mode: every worker writes its metrics to files in this directory and
# /metrics sums them. It must be set before prometheus_client is first imported (below, through
# the app), and it must not hold files of an earlier run: a given directory is wiped in
# on_starting; without one, a fresh directory is made (in /dev/shm when there is one).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="agno-session-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)

from app.config import ConfigError, load_settings  # noqa: E402
from app.db.engines import log_layouts  # noqa: E402
from app.embedded import prepare_embedded  # noqa: E402
from app.logging import logging_config  # noqa: E402

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
# gunicorn's runtime control socket (gunicornc) is not used: it would need a writable home
# directory, which a read-only container root does not have.
control_socket_disable = True
errorlog = "-"
logconfig_dict = logging_config()
# The app, and with it every engine and pool, is created in each worker after fork (engines are
# also created lazily at first use), so no connection is ever shared between processes.
preload_app = False


def _check_timeouts(settings) -> None:
    """The request guard is layered: PostgreSQL's statement_timeout ends a slow query with a clean
    504 well before gunicorn's heartbeat timeout would kill the worker (no answer at all), which in
    turn must stay below the proxy's read timeout (documented, not visible from here)."""
    if settings.statement_timeout_ms <= 0:
        return
    if settings.statement_timeout_ms >= timeout * 1000:
        raise ConfigError(f"AGNO_STATEMENT_TIMEOUT_MS ({settings.statement_timeout_ms}) must be below the worker"
                          f" timeout AGNO_WORKER_TIMEOUT ({timeout} s = {timeout * 1000} ms)")


def on_starting(server):
    """Refuse to start on a malformed configuration, with one line naming the variable. With no
    database configured, prepare the embedded SQLite database (AGNO_SQLITE_PATH) and say so."""
    try:
        settings = load_settings()
        _check_timeouts(settings)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(stale)
    try:
        prepare_embedded(settings, server.log)
    except Exception as exc:  # e.g. a directory that cannot be written
        sys.stderr.write(f"configuration error: AGNO_SQLITE_PATH: cannot prepare the embedded database ({exc})\n")
        sys.exit(2)


def when_ready(server):
    """Detect each database's layout once in the master, log it, and close the connections."""
    log_layouts(load_settings(), server.log)
    server.log.info(f"session service listening on :{_port}")


def child_exit(server, worker):
    """A worker is gone: its live gauges (pool usage) stop counting in /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """On SIGTERM, a sync worker also closes its inherited copies of the listening sockets.

    The master closes its own listeners at SIGTERM, but a worker still finishing a request holds
    copies inherited at fork, so the kernel would go on queueing new connections nobody accepts,
    and reset them when that worker exits. Closed, new connections are refused at once (a client
    or proxy retries elsewhere) while the requests in flight complete. An idle worker waiting in
    select() on a closed listener gets EBADF, which gunicorn's sync worker treats as "stop".
    (The threaded worker, AGNO_THREADS > 1, unregisters its listeners itself; it is left alone.)"""
    import signal

    from gunicorn.workers.sync import SyncWorker

    if not isinstance(worker, SyncWorker):
        return
    stop = worker.handle_exit

    def handle_exit(sig, frame):
        stop(sig, frame)
        for listener in worker.sockets:
            try:
                listener.close()
            except OSError:
                pass

    signal.signal(signal.SIGTERM, handle_exit)
