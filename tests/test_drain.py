"""The drain of a graceful stop: /readyz at 503 while a worker still serves, AGNO_DRAIN_SECONDS
checked at start-up, and one real gunicorn stop (the full sequence under load is in
tests/reliability/test_shutdown.py)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from app import health
from pgcluster import free_port  # tools/, on sys.path through tests/conftest.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


@pytest.fixture
def draining(monkeypatch):
    """This process as a worker in its drain; restored afterwards."""
    monkeypatch.setattr(health, "_shutting_down", threading.Event())
    health.begin_shutdown()


def test_readyz_is_503_during_the_drain(client, draining):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"detail": "Shutting down", "databases": {}}


def test_everything_else_is_served_during_the_drain(client, draining):
    assert client.get("/health").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/sessions", json={"session_id": "drain-1"}).status_code == 201
    assert client.get("/sessions/drain-1").status_code == 200


def test_readyz_is_200_without_a_drain(client):
    assert not health.shutting_down()
    assert client.get("/readyz").status_code == 200


def _env(tmp_path, **settings) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "WEB_", "PROMETHEUS_"))}
    return {**keep, "AGNO_SQLITE_PATH": str(tmp_path / "agno.db"), "AGNO_SERVICE_HOST": "127.0.0.1",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **settings}


def _refused(settings: dict, tmp_path) -> str:
    done = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                          env=_env(tmp_path, AGNO_SERVICE_PORT=str(free_port()), **settings),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(("settings", "message"), [
    ({"AGNO_DRAIN_SECONDS": "30", "AGNO_GRACEFUL_TIMEOUT": "30"},
     "AGNO_DRAIN_SECONDS (30) must be below the graceful timeout AGNO_GRACEFUL_TIMEOUT (30 s)"),
    ({"AGNO_DRAIN_SECONDS": "5", "AGNO_GRACEFUL_TIMEOUT": "4"},
     "AGNO_DRAIN_SECONDS (5) must be below the graceful timeout AGNO_GRACEFUL_TIMEOUT (4 s)"),
    ({"AGNO_DRAIN_SECONDS": "soon"}, "AGNO_DRAIN_SECONDS: expected an integer, got 'soon'"),
    ({"AGNO_DRAIN_SECONDS": "-1"}, "AGNO_DRAIN_SECONDS: must be >= 0, got -1"),
])
def test_drain_setting_is_checked_at_start(tmp_path, settings, message):
    assert _refused(settings, tmp_path) == f"configuration error: {message}"


def _get(port: int, path: str) -> tuple[int | None, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    except ConnectionRefusedError:
        return None, "refused"
    finally:
        conn.close()


def test_sigterm_drains_then_refuses(tmp_path):
    """gunicorn with one sync worker: after SIGTERM /readyz is 503 while other routes answer,
    then new connections are refused and the master exits 0, within the graceful timeout."""
    port = free_port()
    proc = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=_env(tmp_path, AGNO_SERVICE_PORT=str(port), WEB_CONCURRENCY="1",
                                     AGNO_DRAIN_SECONDS="2", AGNO_GRACEFUL_TIMEOUT="6"))
    try:
        deadline = time.monotonic() + 30
        while _get(port, "/readyz")[0] != 200:
            assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not become ready"
            time.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert _get(port, "/readyz") == (503, '{"detail":"Shutting down","databases":{}}')
        assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/sessions")[0] == 200
        time.sleep(max(0.0, t0 + 2.7 - time.monotonic()))
        assert _get(port, "/healthz") == (None, "refused")
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 6
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
