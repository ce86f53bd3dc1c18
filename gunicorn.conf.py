"""gunicorn settings, flat and driven by the environment."""

import contextvars
import errno
import glob
import logging
import os
import signal
import sys
import tempfile
import threading

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
from gunicorn.glogging import Logger  # noqa: E402

_port = os.environ.get("AGNO_SERVICE_PORT") or "8080"
bind = f"{os.environ.get('AGNO_SERVICE_HOST', '0.0.0.0')}:{_port}"
# Set WEB_CONCURRENCY explicitly per container; never derived from the host's CPU count.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("AGNO_THREADS", "1"))
timeout = int(os.environ.get("AGNO_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("AGNO_GRACEFUL_TIMEOUT", "30"))
DEFAULT_DRAIN_SECONDS = 5
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


class AppAccessLogger(Logger):
    """gunicorn's logger without gunicorn's own access line: the app writes one JSON line per
    request (app/requestlog.py) and `gunicorn.access` sits at WARNING, but with a logging config
    gunicorn would still build its access-log atoms for every request before the line is
    dropped (about 3 % of a /health request)."""

    def access(self, resp, req, environ, request_time):
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)


logger_class = AppAccessLogger
# The app, and with it every engine and pool, is created in each worker after fork (engines are
# also created lazily at first use), so no connection is ever shared between processes.
preload_app = False


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own refusals (a request line or header past its limits, bytes that are not HTTP)
    never reach the app; answer them as the app answers errors, JSON with a `detail`, instead of
    gunicorn's HTML page. Same signature as gunicorn.util.write_error, which this replaces."""
    import json

    from gunicorn import util

    detail = mesg or ("Internal server error" if status_int >= 500 else reason)
    body = json.dumps({"detail": detail}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def _install_json_errors() -> None:
    from gunicorn import util

    util.write_error = _write_json_error


def _check_timeouts(settings) -> None:
    """The request guard is layered: PostgreSQL's statement_timeout ends a slow query with a clean
    504 well before gunicorn's heartbeat timeout would kill the worker (no answer at all), which in
    turn must stay below the proxy's read timeout (documented, not visible from here)."""
    if settings.statement_timeout_ms <= 0:
        return
    if settings.statement_timeout_ms >= timeout * 1000:
        raise ConfigError(f"AGNO_STATEMENT_TIMEOUT_MS ({settings.statement_timeout_ms}) must be below the worker"
                          f" timeout AGNO_WORKER_TIMEOUT ({timeout} s = {timeout * 1000} ms)")


def drain_seconds() -> int:
    """AGNO_DRAIN_SECONDS: how long a worker goes on serving after SIGTERM with /readyz at 503."""
    raw = os.environ.get("AGNO_DRAIN_SECONDS", "").strip()
    if not raw:
        return DEFAULT_DRAIN_SECONDS
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"AGNO_DRAIN_SECONDS: expected an integer, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"AGNO_DRAIN_SECONDS: must be >= 0, got {value}")
    return value


def _check_drain(drain: int) -> None:
    """The drain is the first part of gunicorn's graceful timeout (the master kills the workers
    that are still running when it ends), so the requests in flight at the end of the drain need
    the rest of it."""
    if drain and drain >= graceful_timeout:
        raise ConfigError(f"AGNO_DRAIN_SECONDS ({drain}) must be below the graceful timeout"
                          f" AGNO_GRACEFUL_TIMEOUT ({graceful_timeout} s)")


def on_starting(server):
    """Refuse to start on a malformed configuration, with one line naming the variable. With no
    database configured, prepare the embedded SQLite database (AGNO_SQLITE_PATH) and say so."""
    try:
        settings = load_settings()
        _check_timeouts(settings)
        _check_drain(drain_seconds())
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)
    _install_json_errors()  # before the workers are forked: they inherit it
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


class _ClosedListener:
    """Stands in for a listening socket a draining sync worker has closed, inside gunicorn's
    listener wrapper, which the worker goes on using: the address stays readable (gunicorn reads
    it for every request it serves, one accepted just before the close included), accept() finds
    nothing waiting, and select() on it fails with EBADF, the sync worker's "stop waiting"."""

    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address

    def accept(self):
        raise BlockingIOError(errno.EAGAIN, "listener closed for shutdown")

    def fileno(self):
        raise OSError(errno.EBADF, "listener closed for shutdown")

    def setblocking(self, flag):
        pass

    def close(self):
        pass


class Drain:
    """A worker's graceful stop in two phases.

    SIGTERM starts the drain: for AGNO_DRAIN_SECONDS the worker accepts and serves every request
    as before, except that /readyz answers 503 "Shutting down", so load balancers and Kubernetes
    stop sending it traffic while it still answers what they send meanwhile. Then gunicorn's own
    stop: the worker closes its inherited copies of the listening sockets (the master closed its
    own at SIGTERM), so new connections are refused at once instead of queueing where nobody
    accepts them, finishes the requests in flight and exits. SIGINT and SIGQUIT (quick stop) are
    gunicorn's and never wait for the drain.

    A sync worker ends the drain on a SIGALRM (setitimer): the handler runs in its one thread,
    between two steps of whatever it is doing (a request in flight included: the blocking call
    is interrupted and resumed), and the signal also wakes it from select() through the wake-up
    pipe gunicorn installs (signal.set_wakeup_fd). It closes the listeners in that handler. The
    threaded worker (AGNO_THREADS > 1) ends it in its poll loop, woken through gunicorn's method
    queue by a timer thread; it leaves the loop on gunicorn's own SIGTERM handling and closes the
    listeners right after it has unregistered them. During the drain the threaded worker also
    ends each response with "Connection: close", so kept-alive clients reconnect elsewhere."""

    def __init__(self, worker, seconds: int):
        from gunicorn.workers.gthread import ThreadWorker

        from app.health import begin_shutdown

        self.worker, self.seconds = worker, seconds
        self.threaded = isinstance(worker, ThreadWorker)
        self.stop = worker.handle_exit  # gunicorn's SIGTERM handling, run when the drain is over
        self.begin_shutdown = begin_shutdown
        self.started = self.over = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.begin)
        worker = self.worker
        if not self.threaded:
            # SIGALRM interrupts a blocking call (reading a slow client's request, say) so that
            # the handler runs at once; Python then resumes the call where it was (PEP 475).
            signal.signal(signal.SIGALRM, self.end)
            signal.siginterrupt(signal.SIGALRM, True)
        if self.threaded:
            enable = worker.set_accept_enabled

            def set_accept_enabled(enabled):
                enable(enabled)
                if not enabled and not worker.alive:  # out of the poll loop: stopping
                    for listener in worker.sockets:
                        listener.close()

            worker.set_accept_enabled = set_accept_enabled
        else:
            accept = worker.accept

            def accept_unless_closed(listener):
                try:
                    accept(listener)
                except OSError as exc:
                    # The drain ended between the worker's look at `alive` and its accept().
                    if exc.errno != errno.EBADF or worker.alive:
                        raise

            worker.accept = accept_unless_closed

    def begin(self, sig, frame) -> None:
        if self.started:
            return
        self.started = True
        self.begin_shutdown()
        if self.threaded:
            self.worker.cfg.set("keepalive", 0)
        if self.seconds <= 0:
            self.end(sig, frame)
            return
        self.log(f"SIGTERM: draining for {self.seconds} s (/readyz answers 503, requests are served)")
        if self.threaded:
            # The poll loop runs the end of the drain: queued through gunicorn's method queue,
            # whose pipe wakes the loop at once.
            timer = threading.Timer(self.seconds, self.worker.method_queue.defer, (self.end, sig, None))
            timer.daemon = True
            timer.start()
        else:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def log(self, message: str) -> None:
        # In an empty context: the handler may interrupt a request, whose id is not this line's.
        contextvars.Context().run(self.worker.log.info, message)

    def end(self, sig, frame) -> None:
        if self.over:
            return
        self.over = True
        if self.seconds > 0:
            self.log("drain over: listeners closed, finishing the requests in flight")
        self.stop(sig, frame)
        if not self.threaded:
            for listener in self.worker.sockets:
                real = listener.sock
                if real is None or isinstance(real, _ClosedListener):
                    continue
                listener.sock = _ClosedListener(real.getsockname())
                real.close()


def post_worker_init(worker):
    """Graceful stop with a drain (see Drain), for the sync and the threaded worker."""
    from gunicorn.workers.gthread import ThreadWorker
    from gunicorn.workers.sync import SyncWorker

    if isinstance(worker, SyncWorker | ThreadWorker):
        Drain(worker, drain_seconds()).install()
