"""Database faults under gunicorn (issue 6, item 3).

A PostgreSQL cluster of the test's own, with durable settings, is stopped (`fast`: sessions
ended, clean shutdown; `immediate`: processes killed, crash recovery at the next start) and
started again on the same port while load flows; a statement runs past the statement timeout;
the pool of a threaded worker is exhausted. Every request must come back within a bound, as a
success or as a 503/504 with a JSON `detail`, no worker may die, the service must recover by
itself, and no acknowledged write may be missing.

Bounds. Every database wait of a request is bounded: connecting by libpq's `connect_timeout`
(5 s, app/db/engines.py), waiting for a pooled connection by AGNO_DB_POOL_TIMEOUT (2 s here; the
pool never grows, max_overflow=0), a statement by AGNO_STATEMENT_TIMEOUT_MS (5 s here). A stopped
server refuses connections at once, so the requests of the outage are answered in milliseconds;
the 6 s bound is the connect timeout plus slack.
"""

from __future__ import annotations

import threading
import time

import pytest

from .servers import Client, Load, Outcome, gunicorn, poll, row_lock, stored_sessions, wait_for_lock_waiters

BOUND = 6.0          # seconds any request may take while the database is down or coming back
DOWN_SECONDS = 3.0   # how long the database stays stopped
RECOVERY_BOUND = 10.0  # seconds after the restart until every request succeeds again
SUCCESS = (200, 201)
UNAVAILABLE = (503, 504)


def _answered_well(out: Outcome, bound: float) -> str:
    """'' when the request got a success or a 503/504 with a JSON detail within `bound` seconds."""
    if out.status is None:
        return f"no answer: {out.describe()}"
    if out.elapsed > bound:
        return f"took {out.elapsed:.2f}s (bound {bound:g}s): {out.describe()}"
    if out.status in SUCCESS:
        return ""
    if out.status in UNAVAILABLE and out.detail:
        return ""
    return f"unexpected answer: {out.describe()}"


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_database_stopped_and_restarted(scenario, cluster, workdir, mode):
    sc = scenario("database stopped and restarted")
    url = cluster.database(f"faults_restart_{mode}")
    with gunicorn(url, workdir, WEB_CONCURRENCY=2, AGNO_DB_POOL_TIMEOUT=2, AGNO_STATEMENT_TIMEOUT_MS=5000) as server:
        workers = server.worker_pids()
        assert len(workers) == 2, server.log_tail()
        load = Load(server.client, threads=4).start()
        probes: list[Outcome] = []
        probing = threading.Event()
        prober = poll(Client(server.port), "/readyz", probing, 0.1, probes)
        try:
            time.sleep(1.5)  # traffic flows
            t_stop = time.monotonic()
            try:
                cluster.stop(mode)
                t_down = time.monotonic()
                time.sleep(DOWN_SECONDS)
                t_start = time.monotonic()
            finally:
                cluster.start()
            t_up = time.monotonic()
            # Go on until every request of the last two seconds succeeded (or the bound is over).
            while time.monotonic() - t_up < RECOVERY_BOUND + 3:
                time.sleep(0.25)
                now = time.monotonic()
                recent = [o for o in list(load.outcomes) if o.started > now - 2]
                if now - t_up > 2 and recent and all(o.status in SUCCESS for o in recent):
                    break
        finally:
            load.stop()
            probing.set()
            prober.join(15)
        workers_after = server.worker_pids()
        alive = server.proc.poll() is None

    outcomes = load.outcomes
    for out in outcomes + probes:
        problem = _answered_well(out, BOUND)
        if not problem and out.started >= t_down and out.ended <= t_start and out.status not in UNAVAILABLE:
            problem = f"answered {out.status} while the database was down: {out.describe()}"
        sc.record(not problem, problem)
    down_probes = [p for p in probes if p.started >= t_down and p.ended <= t_start]
    sc.record(bool(down_probes) and all(p.status == 503 for p in down_probes),
              f"/readyz while the database was down: {[p.status for p in down_probes]}")
    sc.record(bool(probes) and probes[-1].status == 200, f"/readyz at the end: {probes[-1].describe() if probes else '-'}")
    sc.record(alive and workers_after == workers,
              f"workers {sorted(workers)} before, {sorted(workers_after)} after; master alive: {alive}")

    after = [o for o in outcomes if o.started >= t_start]
    first_ok = min((o.ended for o in after if o.status in SUCCESS), default=None)
    last_failure = max((o.ended for o in after if o.status not in SUCCESS), default=t_up)
    to_first = None if first_ok is None else first_ok - t_up
    to_all = last_failure - t_up
    sc.record(to_first is not None and to_first <= RECOVERY_BOUND and to_all <= RECOVERY_BOUND,
              f"recovery after the restart: first 2xx after {to_first}, all 2xx after {to_all:.2f}s")
    sc.record(any(o.started > last_failure for o in outcomes), "no request after the last failure")

    lost = load.verify(url)
    sc.acked(load.writes_acked)
    sc.lost(len(lost), "; ".join(lost[:5]))
    during = [o for o in outcomes if o.started >= t_stop and o.ended <= t_up]
    slowest = max((o.elapsed for o in during), default=0.0)
    print(f"\n[{mode}] {len(outcomes)} requests + {len(probes)} probes; database down {t_start - t_down:.2f}s"
          f" (stop took {t_down - t_stop:.2f}s, start {t_up - t_start:.2f}s); {len(during)} requests meanwhile,"
          f" {sum(o.status in UNAVAILABLE for o in during)} answered 503/504, slowest {slowest:.3f}s;"
          f" first 2xx {to_first if to_first is None else round(to_first, 2)}s and all 2xx {to_all:.2f}s"
          f" after the restart; {load.writes_acked} writes acknowledged, {len(lost)} lost")
    sc.check()


def test_statement_timeout(scenario, cluster, workdir):
    """A write stuck behind another transaction's row lock is cancelled by the statement timeout:
    504 with a detail within the bound, the same worker answers the next request, nothing of the
    cancelled write is stored."""
    sc = scenario("statement timeout")
    url = cluster.database("faults_statement_timeout")
    sid = "stmt-timeout-1"
    with gunicorn(url, workdir, WEB_CONCURRENCY=1, AGNO_STATEMENT_TIMEOUT_MS=1000) as server:
        client = server.client
        created = client.request("POST", "/sessions?type=agent", {"session_id": sid, "session_name": "before",
                                                                  "session_state": {"v": 1}})
        assert created.status == 201, created.describe()
        workers = server.worker_pids()
        before = stored_sessions(url, sid)
        writes = [("PATCH", f"/sessions/{sid}?type=agent", {"session_state": {"v": 2}, "session_name": "half"}),
                  ("POST", f"/sessions/{sid}/rename?type=agent", {"session_name": "renamed"}),
                  ("DELETE", f"/sessions/{sid}?type=agent", None)]
        timings = []
        with row_lock(url, sid):
            for method, path, body in writes:
                out = client.request(method, path, body, timeout=15)
                timings.append(out.elapsed)
                sc.record(out.status == 504 and out.detail is not None and out.elapsed <= 5.0,
                          f"past the statement timeout: {out.describe()}")
                # The worker is healthy: the same process answers a read at once.
                nxt = client.request("GET", f"/sessions/{sid}?type=agent", timeout=15)
                same = server.worker_pids() == workers
                sc.record(nxt.status == 200 and same, f"next request {nxt.describe()}; same worker: {same}")
        sc.record(stored_sessions(url, sid) == before, f"stored after the timeouts: {stored_sessions(url, sid)}")
        out = client.request("PATCH", f"/sessions/{sid}?type=agent", {"session_state": {"v": 3}})
        sc.record(out.status == 200, f"after the lock is gone: {out.describe()}")
        if out.status == 200:
            sc.acked()
        state = stored_sessions(url, sid).get(sid, {}).get("session_state")
        sc.lost(0 if state == {"v": 3} else 1, f"session_state {state!r} after an acknowledged PATCH to v=3")
    print(f"\n3 writes past a 1 s statement timeout answered in {', '.join(f'{t:.2f}s' for t in timings)}")
    sc.check()


def test_pool_exhausted(scenario, cluster, workdir):
    """One threaded worker, a pool of one connection held by a request waiting for a row lock:
    the other requests wait AGNO_DB_POOL_TIMEOUT for a connection, then get a 503 with a detail;
    the pool does not grow (max_overflow=0); once the lock is gone everything succeeds again."""
    sc = scenario("pool exhausted")
    url = cluster.database("faults_pool")
    sid = "pool-held-1"
    pool_timeout = 1
    with gunicorn(url, workdir, WEB_CONCURRENCY=1, AGNO_THREADS=4, AGNO_DB_POOL_SIZE=1,
                  AGNO_DB_POOL_TIMEOUT=pool_timeout, AGNO_STATEMENT_TIMEOUT_MS=30000) as server:
        client = server.client
        created = client.request("POST", "/sessions?type=agent", {"session_id": sid, "session_state": {"v": 0}})
        assert created.status == 201, created.describe()
        workers = server.worker_pids()
        held: list[Outcome] = []
        timings: list[float] = []
        with row_lock(url, sid):
            holder = threading.Thread(target=lambda: held.append(
                client.request("PATCH", f"/sessions/{sid}?type=agent", {"session_state": {"v": 1}})))
            holder.start()
            assert wait_for_lock_waiters(url), "the PATCH never waited for the row lock"
            # Three threads of the worker are free: three requests at a time, so none queues
            # behind another and each one's wait is the pool timeout alone.
            for round_ in range(3):
                batch: list[Outcome] = []
                requests = [("GET", "/sessions?type=agent", None), ("GET", f"/sessions/{sid}?type=agent", None),
                            ("POST", "/sessions?type=agent", {"session_id": f"pool-new-{round_}"})]
                threads = [threading.Thread(target=lambda r=r, into=batch: into.append(client.request(*r)))
                           for r in requests]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
                for out in batch:
                    timings.append(out.elapsed)
                    sc.record(out.status == 503 and out.detail is not None and out.elapsed <= pool_timeout + 3,
                              f"with the pool exhausted: {out.describe()}")
        holder.join(30)
        sc.record(bool(held) and held[0].status == 200, f"the PATCH that held the connection: "
                  f"{held[0].describe() if held else 'no answer'}")
        if held and held[0].status == 200:
            sc.acked()
        for _ in range(2):
            for method, path in (("GET", "/sessions?type=agent"), ("GET", f"/sessions/{sid}?type=agent"), ("GET", "/readyz")):
                out = client.request(method, path)
                sc.record(out.status == 200, f"after the lock is gone: {out.describe()}")
        stored = stored_sessions(url, "pool-")
        sc.lost(0 if stored.get(sid, {}).get("session_state") == {"v": 1} else 1, f"{sid}: {stored.get(sid)}")
        sc.record(not any(k.startswith("pool-new-") for k in stored), f"creates answered 503 were stored: {sorted(stored)}")
        sc.record(server.worker_pids() == workers, "the worker changed")
    print(f"\n9 requests with the pool exhausted answered in {min(timings):.2f}-{max(timings):.2f}s"
          f" (pool timeout {pool_timeout}s)")
    sc.check()
