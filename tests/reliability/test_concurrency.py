"""Concurrency on a real PostgreSQL with real commits: many requests released together by a
barrier, on one session, and a live agno 3.1.10 agent writing the same session meanwhile.

Promises (issue 6, part 5):
* concurrent creates with one session_id: exactly one 201, the others 409 with the detail, and
  the stored row is the one the 201 returned (also while the tables are being created, and on
  the agno 2.x layout);
* concurrent PATCH and rename on one session: the row's history is a chain of whole writes (each
  version is one write applied to the version before it: no mixed row, no lost update), every
  write that was acknowledged is in that chain, every response is the version its write committed
  (every GET one of the committed versions), the final row is the last version and agno reads it;
* a DELETE racing PATCH and rename: after the 204 the session never comes back (no row, no runs,
  GET/PATCH/rename 404, nothing created) and the racers get 200 or 404, never a 5xx;
* a live agno Agent appending runs while this service PATCHes and renames the session: no run
  lost, agno reads the row at every moment, and no write of ours ever undoes one of agno's (its
  session metrics stay the sum of its runs).

The order in which one row's versions were committed is read from an AFTER trigger that copies
each new version into a history table (test instrumentation on the test's own database): writes
to one row are serialised by its row lock, so the trigger's sequence numbers follow commit order.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import create_engine, text

from app.sessions import store
from tests import factories
from tests.conftest import new_database

THREADS = 32  # requests released together by one barrier
JOIN_TIMEOUT = 60  # seconds for a whole race: a hang fails the test instead of stalling CI
SERVICE = "agno-session-service"  # the application_name of the service's connections
SUMMARY_TOKENS = 18  # tokens tests.agno_seed.ScriptedModel reports per model call


# ---------------------------------------------------------------------------------------------
# Helpers


def url_string(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture
def env(fresh_url, make_app):
    """A real app with a pool large enough for every racing thread, and an engine for checks."""
    app = make_app(fresh_url, pool_size=THREADS + 8, pool_timeout=30)
    engine = create_engine(fresh_url, pool_size=4)
    try:
        yield app, engine, fresh_url
    finally:
        engine.dispose()


def race(n: int, work, timeout: float = JOIN_TIMEOUT) -> list:
    """Run `work(i, barrier)` in n threads that start together; their results, in order.

    A thread that is still running after `timeout` seconds fails the test (a hang); an exception
    in a thread is raised here."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def target(i):
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,), daemon=True, name=f"racer-{i}") for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"{len(hung)} request threads still running after {timeout}s: {hung[:5]}"
    if errors:
        raise errors[0]
    return results


def broken(sc, problem: str) -> None:
    """A promise broken by the state the requests left, not by one answer: one failure."""
    sc.record(False, problem)


def call(client, method: str, path: str, **kwargs) -> tuple[int, object]:
    resp = client.open(path, method=method, **kwargs)
    body = resp.get_json(silent=True) if resp.data else None
    return resp.status_code, body


class HttpClient:
    """`open()` as Flask's test client has it, over HTTP to a real server (one connection per
    request, tests/reliability/servers.py)."""

    def __init__(self, port: int):
        from tests.reliability.servers import Client

        self.client = Client(port, timeout=JOIN_TIMEOUT)

    def open(self, path, method="GET", json=None, query_string=None):
        if query_string:
            path = f"{path}?{urlencode(query_string)}"
        outcome = self.client.request(method, quote(path, safe="/?=&"), body=json)
        return SimpleNamespace(status_code=outcome.status or 599, data=outcome.body,
                               get_json=lambda silent=True: outcome.json())


def install_history(engine) -> None:
    """Copy every new version of a session row into public.row_history, in commit order, with
    the writing connection's application_name (the service's engine sets its own)."""
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE public.row_history (seq bigserial PRIMARY KEY, session_id text, session_data jsonb,"
            " metadata jsonb, summary jsonb, client text DEFAULT current_setting('application_name'))"))
        conn.execute(text(
            "CREATE FUNCTION public.log_row_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " INSERT INTO public.row_history (session_id, session_data, metadata, summary)"
            " VALUES (NEW.session_id, NEW.session_data, NEW.metadata, NEW.summary); RETURN NULL; END $$"))
        conn.execute(text(
            "CREATE TRIGGER log_row_version AFTER INSERT OR UPDATE ON ai.agno_sessions"
            " FOR EACH ROW EXECUTE FUNCTION public.log_row_version()"))


def history(engine, session_id: str, after: int = 0) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            text("SELECT seq, session_data, metadata, summary, client FROM public.row_history"
                 " WHERE session_id = :s AND seq > :a ORDER BY seq"), {"s": session_id, "a": after})]


def metrics_of(entry: dict):
    return (entry["session_data"] or {}).get("session_metrics")


def strip_sdk(metadata):
    """Metadata as stored: the detail adds agno's `sdk` from agent_data; {} and null alike."""
    if not isinstance(metadata, dict):
        return metadata
    out = {k: v for k, v in metadata.items() if k != "sdk"}
    return out or None


def stored_version(row: dict) -> dict:
    """The fields the PATCH/rename race writes, from a stored row (or history entry)."""
    sd = row["session_data"] if isinstance(row["session_data"], dict) else {}
    summary = row["summary"] if isinstance(row["summary"], dict) else {}
    return {"session_name": sd.get("session_name"), "session_state": sd.get("session_state"),
            "metadata": strip_sdk(row["metadata"]), "summary": summary.get("summary")}


def answered_version(body: dict) -> dict:
    """The same fields from a session detail answer."""
    summary = body.get("session_summary") or {}
    return {"session_name": body.get("session_name"), "session_state": body.get("session_state"),
            "metadata": strip_sdk(body.get("metadata")), "summary": summary.get("summary")}


def agno_postgres(url):
    from tests.agno_seed import agno_db

    return agno_db(url_string(url))


def run_agent(db, session_id: str, turns: int, user_id: str = "u-live") -> list[str]:
    from tests.agno_seed import Agent, ScriptedModel

    agent = Agent(id="conc-agent", name="Concurrency Agent", db=db, telemetry=False,
                  model=ScriptedModel(script=[f"answer {i}" for i in range(turns)]))
    return [agent.run(f"question {i}", session_id=session_id, user_id=user_id).run_id for i in range(turns)]


# ---------------------------------------------------------------------------------------------
# Concurrent creates with one session_id


CREATE_TYPES = ("agent", "team", "workflow")
READERS = 8  # threads reading the session and the list while the creates race
EMPTY_ROUNDS = 4  # create races that start from an empty database


def test_concurrent_creates_one_session_id(pg_server, make_app, scenario):
    """32 creates of one id at once while 8 readers GET the session and the list: one 201, 31
    409s, the 201's row stored, and every read a 200 or a 404.

    Four rounds, each in an empty database of its own (a new app too, nothing remembered), so each
    also races the creation of agno's tables (the first write creates them, as agno does) against
    readers of the empty database; then three rounds on one database in agno 2.x's layout."""
    sc = scenario("concurrent creates, one session_id")
    for rnd in range(EMPTY_ROUNDS):
        with new_database(pg_server, f"agno_svc_{uuid.uuid4().hex[:12]}") as url:
            app = make_app(url, pool_size=THREADS + READERS + 2, pool_timeout=30)
            engine = create_engine(url, pool_size=1)
            try:
                create_rounds(sc, app.test_client, engine, f"empty database {rnd}", 1)
            finally:
                app.extensions["engines"].dispose()
                engine.dispose()
    with new_database(pg_server, f"agno_svc_{uuid.uuid4().hex[:12]}") as url:
        app = make_app(url, pool_size=THREADS + READERS + 2, pool_timeout=30)
        engine = create_engine(url, pool_size=1)
        try:
            with engine.begin() as conn:
                store.bootstrap_tables(conn, "ai", "agno2")
            create_rounds(sc, app.test_client, engine, "agno2", 3)
        finally:
            app.extensions["engines"].dispose()
            engine.dispose()
    sc.check()


def create_rounds(sc, new_client, engine, label, rounds):
    for rnd in range(rounds):
        sid = f"create-race-{label}-{rnd}-{uuid.uuid4().hex[:8]}"
        creators_done = Countdown(THREADS)

        def work(i, barrier, sid=sid, creators_done=creators_done):
            client = new_client()
            if i >= THREADS:
                return read_while_creating(client, i, barrier, sid, creators_done)
            stype = CREATE_TYPES[i % 3]
            body = {"session_id": sid, "session_name": f"writer {i}", "session_state": {"writer": i},
                    "metadata": {"writer": i}, "user_id": f"user-{i}"}
            barrier.wait(timeout=30)
            try:
                status, answer = call(client, "POST", "/sessions", query_string={"type": stype}, json=body)
            finally:
                creators_done.count_down()
            return [("POST", i, stype, status, answer)]

        results = list(itertools.chain.from_iterable(race(THREADS + READERS, work)))
        creates = [r for r in results if r[0] == "POST"]
        created = [r for r in creates if r[3] == 201]
        winner = created[0][1] if created else None
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(text(
                "SELECT session_type, user_id, session_data, metadata FROM ai.agno_sessions WHERE session_id = :s"),
                {"s": sid}).mappings()]
        conflict = f"Session with id '{sid}' already exists. Use PATCH /sessions/{sid} to update it."
        for _, i, stype, status, answer in creates:
            if status != 201:
                sc.record(status == 409 and answer == {"detail": conflict},
                          f"{label} round {rnd}: writer {i}: {status} {answer}")
                continue
            sc.acked()
            if not rows:
                sc.lost(1, f"{label} round {rnd}: writer {i}'s 201 but no row")
            # The one 201 answers its own body, and its row is the one stored.
            expected = {"session_type": stype, "user_id": f"user-{i}",
                        "session_data": {"session_name": f"writer {i}", "session_state": {"writer": i}},
                        "metadata": {"writer": i}}
            sc.record(len(created) == 1 and answer.get("session_id") == sid and answer.get("session_name") == f"writer {i}"
                      and answer.get("session_state") == {"writer": i} and rows in ([], [expected]),
                      f"{label} round {rnd}: writer {i}: 201 #{len(created)} {answer}; stored {rows}")
        for kind, _, _, status, answer in (r for r in results if r[0] != "POST"):
            if kind == "GET one":
                ok = status == 404 or (status == 200 and answer["session_name"] == f"writer {winner}")
            else:
                ok = status == 200 and [s["session_id"] for s in answer["data"]] in ([], [sid])
            sc.record(ok, f"{label} round {rnd}: {kind} during the creates: {status} {answer}")
        if winner is not None:
            status, answer = call(new_client(), "GET", f"/sessions/{sid}")
            sc.record(status == 200 and answer["session_name"] == f"writer {winner}"
                      and answer["session_state"] == {"writer": winner},
                      f"{label} round {rnd}: GET after the race: {status} {answer}")
        else:
            broken(sc, f"{label} round {rnd}: no create answered 201")
        # The next round's list readers expect no session but their own.
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM ai.agno_sessions WHERE session_id = :s"), {"s": sid})


class Countdown:
    """Set once `count_down()` was called `n` times."""

    def __init__(self, n: int):
        self.left, self.lock, self.done = n, threading.Lock(), threading.Event()

    def count_down(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.done.set()


def read_while_creating(client, i, barrier, sid, creators_done, minimum=5, maximum=25):
    """GET the session or the list until every creator has answered (between `minimum` and
    `maximum` times: the reads that matter overlap the first creates)."""
    out = []
    barrier.wait(timeout=30)
    for n in range(maximum):
        if n >= minimum and creators_done.done.is_set():
            break
        if i % 2:
            out.append(("GET one", i, None) + call(client, "GET", f"/sessions/{sid}"))
        else:
            out.append(("GET list", i, None) + call(client, "GET", "/sessions"))
    return out


# ---------------------------------------------------------------------------------------------
# Concurrent PATCH and rename on one session


# What a PATCH writes, by (thread + iteration) % 5: partial PATCHes carry the other fields over
# from the row they read, so one that read a stale row would undo a concurrent write.
PATCH_FIELDS = (("session_state",), ("metadata",), ("summary",), ("session_name", "metadata"),
                ("session_name", "session_state", "metadata", "summary"))


def patch_body(tag: str, fields) -> dict:
    values = {"session_name": f"name {tag}", "session_state": {"by": tag, "items": [tag] * 3},
              "metadata": {"by": tag}, "summary": {"summary": f"summary {tag}", "topics": [tag]}}
    return {f: values[f] for f in fields}


def written_values(body: dict) -> dict:
    """The stored_version() fields a PATCH or rename body sets."""
    out = {k: body[k] for k in ("session_name", "session_state", "metadata") if k in body}
    if "summary" in body:
        out["summary"] = body["summary"]["summary"]
    return out


def check_chain(sc, versions: list[dict], writes: dict[str, dict], label: str) -> dict[str, tuple[int, str]]:
    """Each version after the first must be exactly one write applied to the version before it:
    the fields that write set hold its values, every other field is the previous version's.
    Returns {write tag: (index of the version it made, problem or "")}."""
    made: dict[str, tuple[int, str]] = {}
    for n in range(1, len(versions)):
        prev, cur = versions[n - 1], versions[n]
        candidates = [tag for tag, vals in writes.items()
                      if tag not in made and all(cur[f] == v for f, v in vals.items())]
        if len(candidates) != 1:
            broken(sc, f"{label}: version {n} {cur} is no single write (candidates {candidates})")
            continue
        tag = candidates[0]
        carried = {f: cur[f] for f in cur if f not in writes[tag]}
        expected = {f: prev[f] for f in carried}
        made[tag] = (n, "" if carried == expected else
                     f"version {n} changed fields it did not write: {carried} instead of {expected}")
    return made


def test_concurrent_patch_and_rename(env, scenario):
    """24 racers x 6 iterations per round (PATCHes of every field subset, renames, GETs), each
    iteration released by a barrier, on one agno-written session with a run."""
    sc = scenario("concurrent PATCH and rename")
    app, engine, url = env
    db = agno_postgres(url)
    try:
        sid = f"patch-race-{uuid.uuid4().hex[:8]}"
        run_ids = run_agent(db, sid, 1)
        install_history(engine)
        for rnd in range(3):
            patch_rename_round(sc, app.test_client, engine, db, sid, rnd, run_ids)
    finally:
        db.close()
    sc.check()


def patch_rename_round(sc, new_client, engine, db, sid, rnd, run_ids, racers=24, iterations=6, label=""):
    from tests.agno_seed import SessionType

    label = f"{label}round {rnd}"
    with engine.connect() as conn:
        start = conn.execute(text("SELECT coalesce(max(seq), 0) FROM public.row_history")).scalar_one()
        first = conn.execute(text("SELECT session_data, metadata, summary FROM ai.agno_sessions"
                                  " WHERE session_id = :s"), {"s": sid}).mappings().one()
    # A session without a stored name is shown with the name derived from its first run.
    derived = call(new_client(), "GET", f"/sessions/{sid}")[1]["session_name"]
    writes: dict[str, dict] = {}  # tag -> the fields it sets
    lock = threading.Lock()

    def work(t, barrier):
        client = new_client()
        out = []
        for j in range(iterations):
            tag = f"r{rnd}.t{t}.i{j}"
            role = t % 6
            barrier.wait(timeout=30)
            if role <= 2:  # PATCH
                body = patch_body(tag, PATCH_FIELDS[(t + j) % len(PATCH_FIELDS)])
                with lock:
                    writes[tag] = written_values(body)
                out.append(("PATCH", tag) + call(client, "PATCH", f"/sessions/{sid}", json=body))
            elif role <= 4:  # rename
                body = {"session_name": f"renamed {tag}"}
                with lock:
                    writes[tag] = written_values(body)
                out.append(("rename", tag) + call(client, "POST", f"/sessions/{sid}/rename", json=body))
            else:
                out.append(("GET", tag) + call(client, "GET", f"/sessions/{sid}"))
        return out

    answers = list(itertools.chain.from_iterable(race(racers, work)))
    entries = history(engine, sid, after=start)
    versions = [stored_version(first)] + [stored_version(e) for e in entries]
    made = check_chain(sc, versions, writes, label)
    shown = [dict(v, session_name=v["session_name"] if v["session_name"] is not None else derived)
             for v in versions]

    for kind, tag, status, body in answers:
        if kind == "GET":
            sc.record(status == 200 and answered_version(body) in shown,
                      f"{label}: GET {tag}: {status}, not a committed version: {body and answered_version(body)}")
            continue
        if status != 200:
            sc.record(tag not in made, f"{label}: {kind} {tag}: {status} {body}, its write committed anyway"
                      if tag in made else f"{label}: {kind} {tag}: {status} {body}")
            continue
        sc.acked()
        if tag not in made:
            sc.lost(1, f"{label}: {kind} {tag} answered 200 but no version of the row is its write")
            sc.record(False, f"{label}: {kind} {tag}: no version of the row is its write")
            continue
        n, problem = made[tag]
        mine = answered_version(body)
        history_len = len(body.get("chat_history") or [])
        sc.record(not problem and mine == shown[n] and history_len == 2 * len(run_ids),
                  f"{label}: {kind} {tag}: {problem or ''} answered {mine}, committed {shown[n]},"
                  f" {history_len} chat messages")

    # The final row is the last version, for us and for agno (whose models must accept it).
    status, body = call(new_client(), "GET", f"/sessions/{sid}")
    sc.record(status == 200 and answered_version(body) == shown[-1],
              f"{label}: GET after the race: {status} {body and answered_version(body)}, last version {shown[-1]}")
    session = db.get_session(session_id=sid, session_type=SessionType.AGENT)
    seen = None if session is None else {
        "session_name": (session.session_data or {}).get("session_name"),
        "session_state": (session.session_data or {}).get("session_state"),
        "metadata": strip_sdk(session.metadata),
        "summary": session.summary.summary if session.summary else None,
        "runs": [r.run_id for r in session.runs or []]}
    sc.record(seen == dict(versions[-1], runs=run_ids),
              f"{label}: agno reads {seen}, last version {versions[-1]} with runs {run_ids}")


# ---------------------------------------------------------------------------------------------
# DELETE racing PATCH and rename


def test_delete_racing_patch(env, scenario):
    """Per round: a session with three runs; one DELETE (single or bulk) released together with
    PATCHes and renames of the same session, each racer repeating its write three times. Half
    the rounds run without the foreign key that cascades runs (as on a database whose agno_runs
    lacks it), so the runs are gone because the service deleted them."""
    sc = scenario("delete racing PATCH")
    app, engine, _ = env
    with engine.begin() as conn:
        store.bootstrap_tables(conn, "ai")
    racers = 16
    for rnd in range(12):
        if rnd == 6:
            # The second half without agno's ON DELETE CASCADE: the service deletes runs itself.
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE ai.agno_runs DROP CONSTRAINT agno_runs_session_id_fkey"))
        sid = f"delete-race-{rnd}-{uuid.uuid4().hex[:8]}"
        with engine.begin() as conn:
            factories.make_session(conn, sid, session_data={"session_name": "before"}, user_id="u1")
            for k in range(3):
                factories.add_run(conn, sid, factories.agent_run(f"{sid}-run-{k}", sid))
        bulk = rnd % 2 == 1

        def work(t, barrier, sid=sid, bulk=bulk):
            client = app.test_client()
            barrier.wait(timeout=30)
            if t == 0:
                if bulk:
                    return [("DELETE",) + call(client, "DELETE", "/sessions",
                                               json={"session_ids": [sid], "session_types": ["agent"]})]
                return [("DELETE",) + call(client, "DELETE", f"/sessions/{sid}")]
            out = []
            for j in range(3):
                if t % 3:
                    body = {"session_name": f"p{t}.{j}", "session_state": {"t": t, "j": j}, "metadata": {"t": t}}
                    out.append(("PATCH",) + call(client, "PATCH", f"/sessions/{sid}", json=body))
                else:
                    out.append(("rename",) + call(client, "POST", f"/sessions/{sid}/rename",
                                                  json={"session_name": f"r{t}.{j}"}))
            return out

        answers = list(itertools.chain.from_iterable(race(racers, work)))
        gone = remains(engine, sid)
        not_found = {"detail": f"Session with id '{sid}' not found"}
        for kind, status, body in answers:
            if kind == "DELETE":
                if status == 204:
                    sc.acked()
                # Acknowledged: the row and its runs are gone, whatever raced it.
                sc.record(status == 204 and gone == (0, 0),
                          f"round {rnd}: DELETE answered {status} {body}; left (rows, runs) {gone}")
            elif status == 200:
                sc.acked()
                sc.record(body.get("session_id") == sid, f"round {rnd}: {kind} 200 with {body}")
            else:
                sc.record(status == 404 and body == not_found, f"round {rnd}: {kind} answered {status} {body}")

        # After the acknowledged DELETE the session stays gone, whatever comes next.
        client = app.test_client()
        for what, method, path, body in [
            ("GET", "GET", f"/sessions/{sid}", None),
            ("GET runs", "GET", f"/sessions/{sid}/runs", None),
            ("PATCH", "PATCH", f"/sessions/{sid}", {"session_name": "late", "session_state": {"late": True}}),
            ("rename", "POST", f"/sessions/{sid}/rename", {"session_name": "late"}),
        ]:
            status, answer = call(client, method, path, json=body)
            after = remains(engine, sid)
            sc.record(status == 404 and after == (0, 0),
                      f"round {rnd}: {what} after the DELETE: {status} {answer}; then (rows, runs) {after}")
    sc.check()


def remains(engine, sid: str) -> tuple[int, int]:
    """(session rows, run rows) stored for `sid`."""
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM ai.agno_sessions WHERE session_id = :s"), {"s": sid}).scalar_one(),
                conn.execute(text("SELECT count(*) FROM ai.agno_runs WHERE session_id = :s"), {"s": sid}).scalar_one())


# ---------------------------------------------------------------------------------------------
# A live agno agent appending runs while this service PATCHes and renames the session


def test_live_agno_agent_vs_patch_and_rename(env, scenario):
    """agno 3.1.10's Agent (offline model, agno's PostgresDb on the same database) answers turn
    after turn in one session; meanwhile PATCHes and renames of that session flow, and readers
    load it through agno and through GET /sessions/{id}/runs."""
    from tests.agno_seed import SessionType

    sc = scenario("live agno agent vs PATCH/rename")
    app, engine, url = env
    turns = 16
    sid = f"live-{uuid.uuid4().hex[:8]}"
    agent_db, reader_db = agno_postgres(url), agno_postgres(url)
    try:
        completed: list[str] = run_agent(agent_db, sid, 1)  # agno creates its tables and the session
        install_history(engine)
        done = threading.Event()
        ours: dict[str, dict] = {}  # tag -> fields our acknowledged write set
        lock = threading.Lock()

        def agent_loop():
            from tests.agno_seed import Agent, ScriptedModel

            agent = Agent(id="conc-agent", name="Concurrency Agent", db=agent_db, telemetry=False,
                          model=ScriptedModel(script=[f"live answer {i}" for i in range(turns)]))
            try:
                for i in range(turns):
                    run = agent.run(f"live question {i}", session_id=sid, user_id="u-live")
                    with lock:
                        completed.append(run.run_id)
            finally:
                done.set()

        def writer(t):
            client = app.test_client()
            for j in itertools.count():
                if done.is_set():
                    return
                tag = f"w{t}.{j}"
                if t == 0:
                    body = {"session_name": f"renamed {tag}"}
                    status, answer = call(client, "POST", f"/sessions/{sid}/rename", json=body)
                else:
                    body = patch_body(tag, PATCH_FIELDS[(t + j) % len(PATCH_FIELDS)])
                    status, answer = call(client, "PATCH", f"/sessions/{sid}", json=body)
                ok = status == 200 and all(answered_version(answer)[f] == v for f, v in written_values(body).items())
                sc.record(ok, f"our write {tag}: {status} {answer}")
                if status == 200:
                    sc.acked()
                    with lock:
                        ours[tag] = written_values(body)

        def reader(t):
            client = app.test_client()
            while not done.is_set():
                with lock:
                    before = list(completed)
                if t == 0:
                    try:
                        session = reader_db.get_session(session_id=sid, session_type=SessionType.AGENT)
                        got = [r.run_id for r in session.runs or []] if session is not None else None
                        problem = "" if session is not None else "agno's get_session found no session"
                    except Exception as exc:  # noqa: BLE001 - agno failing to read the row is the finding
                        got, problem = None, f"agno's get_session raised {exc!r}"
                    sc.record(got is not None and got[:len(before)] == before,
                              problem or f"agno read runs {got}, completed before the read {before}")
                else:
                    status, answer = call(client, "GET", f"/sessions/{sid}/runs")
                    got = [r.get("run_id") for r in answer] if status == 200 else None
                    sc.record(got is not None and got[:len(before)] == before,
                              f"GET runs: {status}, runs {got}, completed before the read {before}")

        def work(i, barrier):
            barrier.wait(timeout=30)
            if i == 0:
                agent_loop()
            elif i <= 3:
                writer(i - 1)
            else:
                reader(i - 4)

        race(6, work, timeout=JOIN_TIMEOUT)

        # Every run the agent completed (acknowledged by agno's database) is in agno_runs, read
        # back by agno and by GET .../runs, in order; agno's session metrics count every run.
        sc.acked(len(completed))
        with engine.connect() as conn:
            stored = list(conn.execute(text("SELECT run_id FROM ai.agno_runs WHERE session_id = :s"
                                            " ORDER BY run_index"), {"s": sid}).scalars())
        missing = [r for r in completed if r not in stored]
        sc.lost(len(missing), f"runs the agent completed missing from agno_runs: {missing}")
        session = reader_db.get_session(session_id=sid, session_type=SessionType.AGENT)
        runs = [r.run_id for r in session.runs or []] if session is not None else None
        total = ((session.session_data or {}).get("session_metrics") or {}).get("total_tokens") if session else None
        sc.record(len(completed) == turns + 1 and runs == completed and total == SUMMARY_TOKENS * len(completed),
                  f"agno reads runs {runs} with total_tokens {total}; the agent completed {completed}"
                  f" ({SUMMARY_TOKENS} tokens each)")
        status, answer = call(app.test_client(), "GET", f"/sessions/{sid}/runs")
        sc.record(status == 200 and [r["run_id"] for r in answer] == completed,
                  f"GET runs after: {status} {answer if status != 200 else [r['run_id'] for r in answer]}")

        # No write of ours undid one of agno's: each version our write made keeps the previous
        # version's session metrics. (The writes did interleave: both wrote versions.)
        entries = history(engine, sid)
        undone = [cur["seq"] for prev, cur in itertools.pairwise(entries) if cur["client"] == SERVICE
                  and metrics_of(cur) != metrics_of(prev)]
        if undone:
            broken(sc, f"versions written by us that changed agno's session metrics: {undone}")
        if not (any(e["client"] == SERVICE for e in entries) and any(e["client"] != SERVICE for e in entries)):
            broken(sc, f"the row's history has no interleaving: {[e['client'] for e in entries]}")

        # agno's upsert writes back the session_data, metadata and summary it read when its run
        # began: a PATCH or rename committed during a run is replaced at the run's end. That is
        # agno's own last-writer-wins, counted here, not a failure.
        reverted = set()
        for prev, cur in itertools.pairwise(entries):
            prev_v, cur_v = stored_version(prev), stored_version(cur)
            if cur["client"] == SERVICE:
                continue
            for tag, vals in ours.items():
                if any(prev_v[f] == v and cur_v[f] != v for f, v in vals.items()):
                    reverted.add(tag)
        print(f"\nlive agno agent: {len(completed)} runs, {len(ours)} acknowledged PATCH/rename,"
              f" {len(entries)} row versions, {len(reverted)} of our writes replaced by agno's next upsert;"
              f" final row {stored_version(entries[-1])}")
    finally:
        agent_db.close()
        reader_db.close()
    sc.check()


# ---------------------------------------------------------------------------------------------
# The same races through gunicorn: several worker processes, each with its own pool and layout


def test_races_through_gunicorn(fresh_url, scenario, tmp_path):
    """gunicorn as production runs it (4 sync workers): creates of one id starting from an empty
    database (the workers race to create agno's tables, serialised by an advisory lock), then a
    PATCH/rename round on one session, checked as in-process."""
    from tests.reliability.servers import gunicorn

    engine = create_engine(fresh_url, pool_size=2)
    db = agno_postgres(fresh_url)
    libpq = fresh_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with gunicorn(libpq, str(tmp_path), WEB_CONCURRENCY=4, AGNO_DB_POOL_SIZE=2) as server:
            def new_client():
                return HttpClient(server.port)

            creates = scenario("concurrent creates, one session_id")
            create_rounds(creates, new_client, engine, "gunicorn", 2)
            patches = scenario("concurrent PATCH and rename")
            sid = f"patch-race-gunicorn-{uuid.uuid4().hex[:8]}"
            run_ids = run_agent(db, sid, 1)
            install_history(engine)
            patch_rename_round(patches, new_client, engine, db, sid, 0, run_ids, racers=12, iterations=4,
                               label="gunicorn ")
    finally:
        db.close()
        engine.dispose()
    creates.check()
    patches.check()


# ---------------------------------------------------------------------------------------------
# Google ADK's session routes: creates of one id, PATCHes of one session, DELETE racing PATCH


ADK_APP, ADK_USER = "conc-app", "conc-user"


def adk_path(sid: str | None = None, prefix: str = "") -> str:
    base = f"{prefix}/apps/{ADK_APP}/users/{ADK_USER}/sessions"
    return base if sid is None else f"{base}/{sid}"


def adk_rows(engine, sid: str) -> tuple[int, int]:
    """(session rows, event rows) stored for `sid`."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*) FROM {name} WHERE app_name = :a AND user_id = :u AND {col} = :s"),
                                  {"a": ADK_APP, "u": ADK_USER, "s": sid}).scalar_one()
                     for name, col in (("sessions", "id"), ("events", "session_id")))


def adk_create_rounds(sc, new_client, engine, label: str, rounds: int) -> None:
    """THREADS creates of one (app, user, id), each with its own state, both prefixes and both
    create routes: one 200, the rest 409 with ADK's detail, and the stored session the winner's."""
    for rnd in range(rounds):
        sid = f"adk-create-race-{label}-{rnd}-{uuid.uuid4().hex[:8]}"

        def work(i, barrier, sid=sid):
            client = new_client()
            state = {"writer": i, "user:last_writer": i}
            barrier.wait(timeout=30)
            prefix = "/api" if i % 2 else ""
            if i % 3 == 0:   # ADK's deprecated create: the body is the state
                return i, *call(client, "POST", adk_path(sid, prefix), json=state)
            return i, *call(client, "POST", adk_path(prefix=prefix), json={"sessionId": sid, "state": state})

        answers = race(THREADS, work)
        won = [(i, body) for i, status, body in answers if status == 200]
        conflicts = [(i, status, body) for i, status, body in answers if status != 200]
        sc.record(len(won) == 1, f"{label} round {rnd}: {len(won)} creates answered 200: {[i for i, _ in won]}")
        for i, status, body in conflicts:
            sc.record(status == 409 and body == {"detail": f"Session already exists: {sid}"},
                      f"{label} round {rnd}: writer {i}: {status} {body}")
        if len(won) != 1:
            continue
        sc.acked()
        winner, answer = won[0]
        status, stored = call(new_client(), "GET", adk_path(sid))
        if status != 200:
            sc.lost(1, f"{label} round {rnd}: the acknowledged create of writer {winner} is not there ({status})")
            continue
        sc.record(stored["state"].get("writer") == winner and answer["state"]["writer"] == winner
                  and adk_rows(engine, sid) == (1, 0),
                  f"{label} round {rnd}: writer {winner} won, stored {stored['state']}, rows {adk_rows(engine, sid)}")


def test_adk_concurrent_creates_one_session_id(pg_server, make_app, scenario):
    """Three rounds each starting from an empty database (the first ADK create makes ADK's tables,
    as ADK does: here THREADS creates race to make them), then three on one database."""
    sc = scenario("ADK: concurrent creates, one session id")
    for rnd in range(3):
        with new_database(pg_server, f"adk_svc_{uuid.uuid4().hex[:12]}") as url:
            app = make_app(url, pool_size=THREADS + 2, pool_timeout=30)
            engine = create_engine(url, pool_size=1)
            try:
                adk_create_rounds(sc, app.test_client, engine, f"empty database {rnd}", 1 if rnd < 2 else 3)
            finally:
                app.extensions["engines"].dispose()
                engine.dispose()
    sc.check()


def fold_state(events: list[dict]) -> dict:
    """The merged state a session's PATCH events make, applied in event order (ADK's own
    reading: each event's stateDelta merged at the top level)."""
    state: dict = {}
    for event in events:
        state.update((event.get("actions") or {}).get("stateDelta") or {})
    return state


def test_adk_concurrent_patches_keep_every_delta(env, scenario):
    """24 racers x 6 PATCHes of one session, released together each time, with session keys,
    `app:` and `user:` keys (shared by racers, so the last writer matters) and `temp:` keys: every
    200 has its event stored, the events are exactly the 200s, and the merged state equals the
    deltas applied in event order (no lost update of the session, app or user state)."""
    sc = scenario("ADK: concurrent PATCH of one session")
    app, engine, _ = env
    sid = f"adk-patch-race-{uuid.uuid4().hex[:8]}"
    client = app.test_client()
    status, body = call(client, "POST", adk_path(), json={"sessionId": sid, "state": {"seed": 1}})
    assert status == 200, body
    racers, iterations = 24, 6

    def work(t, barrier):
        client = app.test_client()
        out = []
        for j in range(iterations):
            tag = f"t{t}.i{j}"
            delta = {f"own{t}": j, "last": tag, f"app:k{t % 4}": tag, f"user:k{t % 3}": tag, "temp:scratch": tag}
            barrier.wait(timeout=30)
            out.append((tag, delta) + call(client, "PATCH", adk_path(sid, "/api" if t % 2 else ""),
                                           json={"stateDelta": delta}))
        return out

    answers = list(itertools.chain.from_iterable(race(racers, work)))
    status, stored = call(app.test_client(), "GET", adk_path(sid))
    assert status == 200, stored
    events = stored["events"]
    by_invocation = {e["invocationId"]: e for e in events}
    acked = 0
    for tag, delta, status, body in answers:
        if status != 200:
            sc.record(False, f"PATCH {tag}: {status} {body}")
            continue
        acked += 1
        sc.acked()
        mine = body["events"][-1]
        kept = {k: v for k, v in delta.items() if not k.startswith("temp:")}
        if mine["invocationId"] not in by_invocation:
            sc.lost(1, f"PATCH {tag}: its event {mine['invocationId']} is not stored")
            continue
        sc.record(by_invocation[mine["invocationId"]]["actions"]["stateDelta"] == kept
                  and body["state"].get("temp:scratch") == tag and all(body["state"].get(k) == v for k, v in kept.items()),
                  f"PATCH {tag}: stored event {by_invocation[mine['invocationId']]}, answered state {body['state']}")
    sc.record(len(events) == acked, f"{len(events)} events stored, {acked} PATCHes answered 200")
    expected = {"seed": 1, **fold_state(events)}
    sc.record(stored["state"] == expected,
              f"merged state after the race differs from the deltas in event order: "
              f"{sorted(set(stored['state'].items()) ^ set(expected.items()))[:6]}")
    with engine.connect() as conn:
        app_state = conn.execute(text("SELECT state FROM app_states WHERE app_name = :a"), {"a": ADK_APP}).scalar_one()
        user_state = conn.execute(text("SELECT state FROM user_states WHERE app_name = :a AND user_id = :u"),
                                  {"a": ADK_APP, "u": ADK_USER}).scalar_one()
    sc.record(app_state == {k[4:]: v for k, v in expected.items() if k.startswith("app:")}
              and user_state == {k[5:]: v for k, v in expected.items() if k.startswith("user:")},
              f"app_states {app_state}, user_states {user_state}, expected from the events {expected}")
    sc.check()


def test_adk_delete_racing_patch(env, scenario):
    """Per round: a session with an event; one DELETE released together with 15 racers PATCHing
    it three times each. The DELETE answers 200 `null`; afterwards no session row and no event is
    left, every PATCH answered 200 or 404 `Session not found` (never a 5xx), and later PATCHes
    and GETs are 404: the session never comes back."""
    sc = scenario("ADK: delete racing PATCH")
    app, engine, _ = env
    not_found = {"detail": "Session not found"}
    for rnd in range(8):
        sid = f"adk-delete-race-{rnd}-{uuid.uuid4().hex[:8]}"
        status, body = call(app.test_client(), "POST", adk_path(), json={
            "sessionId": sid, "state": {"before": True},
            "events": [{"author": "user", "content": {"role": "user", "parts": [{"text": "hi"}]}}]})
        assert status == 200, body

        def work(t, barrier, sid=sid, prefix="/api" if rnd % 2 else ""):
            client = app.test_client()
            barrier.wait(timeout=30)
            if t == 0:
                return [("DELETE",) + call(client, "DELETE", adk_path(sid, prefix))]
            return [("PATCH",) + call(client, "PATCH", adk_path(sid), json={"stateDelta": {"t": t, "j": j}})
                    for j in range(3)]

        answers = list(itertools.chain.from_iterable(race(16, work)))
        left = adk_rows(engine, sid)
        for kind, status, body in answers:
            if kind == "DELETE":
                if status == 200:
                    sc.acked()
                sc.record(status == 200 and body is None and left == (0, 0),
                          f"round {rnd}: DELETE answered {status} {body}; left (sessions, events) {left}")
            elif status == 200:
                sc.acked()
                sc.record(body.get("id") == sid, f"round {rnd}: PATCH 200 with {body}")
            else:
                sc.record(status == 404 and body == not_found, f"round {rnd}: PATCH answered {status} {body}")
        client = app.test_client()
        for what, method, body in (("GET", "GET", None), ("PATCH", "PATCH", {"stateDelta": {"late": True}})):
            status, answer = call(client, method, adk_path(sid), json=body)
            after = adk_rows(engine, sid)
            sc.record(status == 404 and answer == not_found and after == (0, 0),
                      f"round {rnd}: {what} after the DELETE: {status} {answer}; then {after}")
        status, answer = call(client, "GET", adk_path())
        sc.record(status == 200 and sid not in {s["id"] for s in answer}, f"round {rnd}: listed after the DELETE")
    sc.check()


def test_adk_races_through_gunicorn(fresh_url, scenario, tmp_path):
    """gunicorn with 4 sync workers on an empty database: the workers race to make ADK's tables
    with the first creates of one id, then a second round on the tables made."""
    from tests.reliability.servers import gunicorn

    engine = create_engine(fresh_url, pool_size=2)
    libpq = fresh_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with gunicorn(libpq, str(tmp_path), WEB_CONCURRENCY=4, AGNO_DB_POOL_SIZE=2) as server:
            sc = scenario("ADK: concurrent creates, one session id")
            adk_create_rounds(sc, lambda: HttpClient(server.port), engine, "gunicorn", 2)
    finally:
        engine.dispose()
    sc.check()
