"""Schema fuzzing: schemathesis, driven by the service's own /openapi.json, against the app in
process (WSGI) on a real PostgreSQL database with real commits, seeded by real agno 3.1.10
Agent, Team and Workflow objects (tests/agno_seed.py) plus a few factory rows.

Every operation of the document gets schemathesis' coverage phase (deterministic boundary and
mutation cases: each field missing, null or mistyped, near-boundary values, unexpected methods
and content types) and then generated cases in both modes: positive (what the document allows)
and negative (what it forbids). Each answer must pass schemathesis' checks: no 5xx, a documented
status, content type and headers, a body valid against the documented schema, positive data
accepted, negative data rejected. Afterwards agno's own `PostgresDb` must still list and load
every session of every type, and every session whose creation was acknowledged must be there.

Path parameters are drawn from the seeded ids too (a random id only ever meets a 404), so the
success answers and the writes of every route run on agno's rows. Deletes run last and aim at
rows seeded for them, so agno's sessions are still there for the final read.

Deterministic: hypothesis runs derandomized, without an example database; the seed data is
fixed. Only generated ids and timestamps differ between runs.
"""

from __future__ import annotations

import collections
import json
import time
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, negative_data_rejection, not_a_server_error,
                                 positive_data_acceptance, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import create_engine, text
from werkzeug.test import Client

from app.sessions.render import RUN_STATUSES
from tests.agno_seed import SessionType, agno_db, seed_sessions
from tests.conftest import DB_ID
from tests.factories import add_run, agent_run, make_session

ROW = "schema fuzzing (schemathesis)"
AGNO_ROW = "schema fuzzing: agno reads every session afterwards"

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, positive_data_acceptance, negative_data_rejection)

# Generated cases per operation and mode, after the coverage phase. The probes and documentation
# routes take nothing but an optional X-Request-ID header: nothing to negate, fewer cases.
EXAMPLES = {GenerationMode.POSITIVE: 150, GenerationMode.NEGATIVE: 60}
LIGHT_EXAMPLES = 40
MIN_CASES = 3000

MEDIA_NOT_CONFIGURED = "Media storage is not configured on AgentOS"
TABLE_NEEDS_DB_ID = "The db_id query parameter is required when passing a table"
LENGTHS_DIFFER = "Session IDs and session types must have the same length"

# Files of Swagger UI that /docs loads (a random name is a 404).
DOCS_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
# Rows for the delete routes (run last): sessions of each type, with a run.
DOOMED = {f"fz-doomed-{kind}-{i}": kind for kind in ("agent", "team", "workflow") for i in range(3)}
# An agent session with one run of every status, for the `status` filter.
STATUSES_SESSION = "fz-agent-statuses"
SESSION_TYPES = ("agent", "team", "workflow")


@pytest.fixture
def seeded(fresh_url, make_app):
    """A fresh database written by agno 3.1.10 (plus factory rows), and a real app over it."""
    url = fresh_url.render_as_string(hide_password=False)
    db = agno_db(url)
    try:
        sessions = dict(seed_sessions(db)["sessions"])
    finally:
        db.close()
    engine = create_engine(fresh_url)
    try:
        with engine.begin() as conn:
            make_session(conn, STATUSES_SESSION, "agent", user_id="u1")
            for i, status in enumerate(RUN_STATUSES):
                add_run(conn, STATUSES_SESSION, agent_run(f"fz-run-{status.lower()}", STATUSES_SESSION,
                                                          status=status, created_at=1_795_000_000 + i))
            for sid, kind in DOOMED.items():
                make_session(conn, sid, kind, user_id="u1")
                add_run(conn, sid, agent_run(f"{sid}-run", sid))
        with engine.connect() as conn:
            runs = [tuple(r) for r in conn.execute(text(
                "SELECT session_id, run_id FROM ai.agno_runs ORDER BY session_id, run_index"))]
    finally:
        engine.dispose()
    sessions[STATUSES_SESSION] = "agent"
    assert set(sessions.values()) == set(SESSION_TYPES) and len(runs) > len(sessions)
    runs_by_session: dict[str, list[str]] = {}
    for sid, rid in runs:
        runs_by_session.setdefault(sid, []).append(rid)
    return SimpleNamespace(app=make_app(fresh_url), url=url, sessions=sessions, runs=runs,
                           runs_by_session=runs_by_session)


# ---------------------------------------------------------------------------------------------
# What is generated


def strategies_for(op, mode, env) -> list:
    """The operation's generated cases; for routes with ids, half of them on seeded rows."""
    free = op.as_strategy(mode)
    if op.method.upper() == "DELETE" and op.path == "/sessions":
        body = {"session_ids": list(DOOMED), "session_types": list(DOOMED.values())}
        return [free, op.as_strategy(mode, body=body, media_type="application/json")]
    if op.path == "/docs/{filename}":
        targets = [{"filename": name} for name in DOCS_FILES]
    elif "{session_id}" not in op.path or op.path.endswith("/media/{storage_key}"):
        return [free]
    elif op.method.upper() == "DELETE":
        targets = [{"session_id": sid} for sid in DOOMED]
    elif "{run_id}" in op.path:
        targets = [{"session_id": sid, "run_id": rid} for sid, rid in env.runs if sid not in DOOMED]
    else:
        targets = [{"session_id": sid} for sid in env.sessions]
    known = [op.as_strategy(mode, path_parameters=path, query=query)
             for path in targets for query in (None, {"db_id": DB_ID})]
    return [free, st.one_of(known)]


def negatable(op) -> bool:
    """Whether negative mode has something to break: a query parameter or a body."""
    definition = op.definition.raw
    return bool(definition.get("requestBody") or any(
        isinstance(p, dict) and p.get("in") == "query" for p in definition.get("parameters", [])))


# ---------------------------------------------------------------------------------------------
# What is checked


def adjustments(case, response):
    """The checks left out for this case, and the exact (status, detail) that replaces them.

    * `table` without `db_id` (400) and session_ids/session_types of different lengths (400) are
      constraints between two parameters, which OpenAPI cannot state; the document says them in
      words and documents the 400 (both are AgentOS's answers). For such positive cases
      `positive_data_acceptance` is replaced by that exact 400.
    * 503 `Media storage is not configured on AgentOS` to a request for media (the media route,
      `delete_media`) is the documented answer of AgentOS without media storage, not a fault:
      `not_a_server_error` is left out for that answer only. Any other 5xx still fails.
    """
    query = case.query or {}
    excluded, expected = set(), None
    if case.meta.generation.mode.is_positive:
        body = case.body if isinstance(case.body, dict) else {}
        ids, types = body.get("session_ids"), body.get("session_types")
        if (case.method.upper(), case.path) == ("DELETE", "/sessions") and isinstance(ids, list) \
                and isinstance(types, list) and len(ids) != len(types):
            excluded.add(positive_data_acceptance)
            expected = (400, LENGTHS_DIFFER)
        elif query.get("table") and not query.get("db_id"):
            excluded.add(positive_data_acceptance)
            expected = (400, TABLE_NEEDS_DB_ID)
    asks_media = case.path.endswith("/media/{storage_key}") or "delete_media" in query
    if asks_media and response.status_code == 503 and detail(response) == MEDIA_NOT_CONFIGURED:
        excluded.add(not_a_server_error)
    return excluded, expected


def detail(response):
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


class BufferedClient(Client):
    """The WSGI client the cases are sent with: reads each answer whole and closes it
    (schemathesis' own client leaves a file that /docs sends open)."""

    def open(self, *args, **kwargs):
        return super().open(*args, **{**kwargs, "buffered": True})


class Fuzzer:
    def __init__(self, env, sc):
        self.sc = sc
        self.client = BufferedClient(env.app)
        self.statuses: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: collections.Counter = collections.Counter()
        self.examples: dict[tuple, str] = {}
        self.created: set[str] = set()              # acknowledged creates
        self.maybe_deleted: set[str] = set()        # ids named by a delete answered 204
        self.patched: collections.Counter = collections.Counter()   # PATCH fields written to a seeded row
        self.seeded = set(env.sessions)

    def exercise(self, case, mode):
        label = case.operation.label
        try:
            response = case.call(session=self.client)
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app fails the case
            self.sc.record(False, f"{label} ({mode.value}): the call raised {exc!r}\n{case.as_curl_command()}")
            return
        self.statuses[(label, mode.value)][response.status_code] += 1
        self._note_write(case, response)
        excluded, expected = self.adjustments(case, response)
        problems = []
        try:
            case.validate_response(response, checks=[c for c in CHECKS if c not in excluded])
        except FailureGroup as exc:
            for failure in exc.exceptions:
                kind = (label, mode.value, failure.code, failure.title, response.status_code)
                self.failures[kind] += 1
                self.examples.setdefault(kind, str(exc)[:2500])
            problems.append(str(exc))
        if expected is not None and (response.status_code, detail(response)) != expected:
            problems.append(f"expected {expected}, got {response.status_code} {response.text[:300]}\n"
                            f"{case.as_curl_command()}")
        self.sc.record(not problems, f"{label} ({mode.value}): " + "\n".join(problems)[:2500])

    def adjustments(self, case, response):
        return adjustments(case, response)

    def _note_write(self, case, response):
        method = case.method.upper()
        if not 200 <= response.status_code < 300 or method not in ("POST", "PATCH", "DELETE"):
            return
        self.sc.acked()
        if method == "DELETE":
            ids = case.body["session_ids"] if case.path == "/sessions" else [case.path_parameters["session_id"]]
            self.maybe_deleted.update(ids)
        if method == "POST" and case.path == "/sessions":
            self.created.add(json.loads(response.content)["session_id"])
        if method == "PATCH" and case.path_parameters.get("session_id") in self.seeded:
            self.patched.update(k for k, v in case.body.items() if v is not None)

    def cover(self, op):
        """schemathesis' coverage phase for the operation, both modes."""
        config = op.schema.config.generation
        for case in op.schema.iter_coverage_cases(op, generation_modes=list(GenerationMode), generation_config=config):
            self.exercise(case, case.meta.generation.mode)

    def fuzz(self, op, mode, strategies, max_examples):
        @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate], print_blob=False)
        @given(case=st.one_of(strategies))
        def run(case):
            self.exercise(case, mode)

        run()

    def report(self, elapsed, operations):
        print(f"\n{self.sc.requests} generated requests over {len(operations)} operations in {elapsed:.0f} s")
        for (label, mode), counts in sorted(self.statuses.items()):
            print(f"  {label} ({mode}): {dict(sorted(counts.items()))}")
        for kind, count in self.failures.most_common():
            print(f"  FAILED {count}x {kind}, e.g.\n{self.examples[kind]}")


# ---------------------------------------------------------------------------------------------
# The test


def test_schema_fuzzing(seeded, scenario):
    sc = scenario(ROW)
    fuzzer = Fuzzer(seeded, sc)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded.app)
    schema.config.output.sanitization.update(enabled=False)   # show ids and bodies in failure reports
    # schemathesis leaves out the operation that served the document unless it is selected
    document_op = schema.include(path="/openapi.json", method="GET")
    operations = [result.ok() for s in (schema, document_op) for result in s.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in schema.raw_schema["paths"].values())
    # ADK's operations answer 404 on agno's database: they are fuzzed on an ADK one (below).
    operations = [op for op in operations if not is_adk(op)]
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))   # deletes last

    started = time.monotonic()
    for op in operations:
        fuzzer.cover(op)
        light = not negatable(op)
        for mode in GenerationMode:
            if light and mode is GenerationMode.NEGATIVE:
                continue
            fuzzer.fuzz(op, mode, strategies_for(op, mode, seeded), LIGHT_EXAMPLES if light else EXAMPLES[mode])
    fuzzer.report(time.monotonic() - started, operations)

    # The run reached what it is meant to reach: a success answer of every route (the media
    # route has none), PATCHes of every field on agno's rows (creates of every type: below).
    for op in operations:
        counts = fuzzer.statuses[(op.label, "positive")]
        if not op.path.endswith("/media/{storage_key}"):
            assert any(200 <= s < 300 for s in counts), f"{op.label}: no success answer in {dict(counts)}"
    assert set(fuzzer.patched) >= {"session_name", "session_state", "metadata", "summary"}, fuzzer.patched
    assert sc.requests >= MIN_CASES

    agno_reads_everything(seeded, fuzzer, scenario(AGNO_ROW))
    sc.check()


def agno_reads_everything(env, fuzzer, sc):
    """agno 3.1.10's PostgresDb lists every session of every type and loads each one, runs
    deserialised, without an exception; every acknowledged create is there."""
    engine = create_engine(env.url)
    try:
        with engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT session_id, session_type FROM ai.agno_sessions")).all())
    finally:
        engine.dispose()
    kept = set(env.sessions) - set(DOOMED)
    assert kept <= set(stored), f"seeded sessions gone after fuzzing: {kept - set(stored)}"
    assert {stored[sid] for sid in fuzzer.created if sid in stored} == set(SESSION_TYPES), "creates of every type"
    missing = fuzzer.created - fuzzer.maybe_deleted - set(stored)
    fuzzer.sc.lost(len(missing), f"created with 201, never deleted, not in the table: {sorted(missing)[:10]}")

    db = agno_db(env.url)
    try:
        listed: dict[str, str] = {}
        for kind in SESSION_TYPES:
            try:
                rows, total = db.get_sessions(session_type=SessionType(kind), deserialize=False)
                objects = db.get_sessions(session_type=SessionType(kind))
                ids = sorted(s.session_id for s in objects)
                listed.update((sid, kind) for sid in ids)
                sc.record(total == len(rows) and ids == sorted(r["session_id"] for r in rows),
                          f"get_sessions({kind}): {total} counted, {len(rows)} rows, {len(ids)} sessions")
            except Exception as exc:  # noqa: BLE001 - agno failing to read is what is checked
                sc.record(False, f"get_sessions({kind}) raised {exc!r}")
        sc.record(listed == stored, f"agno lists {len(listed)} sessions, the table holds {len(stored)}: "
                                    f"{sorted(set(listed.items()) ^ set(stored.items()))[:10]}")
        for sid, kind in sorted(stored.items()):
            try:
                session = db.get_session(session_id=sid, session_type=SessionType(kind))
                ok = session is not None and session.session_id == sid
                if ok and sid in env.runs_by_session:   # a seeded session: its runs, loaded
                    loaded = {r.run_id for r in session.runs or []}
                    ok = bool(loaded) and loaded <= set(env.runs_by_session[sid])
                sc.record(ok, f"get_session({sid!r}, {kind}) gave {session!r:.300}")
            except Exception as exc:  # noqa: BLE001
                sc.record(False, f"get_session({sid!r}, {kind}) raised {exc!r}")
    finally:
        db.close()
    sc.check()


# ---------------------------------------------------------------------------------------------
# Google ADK's operations, on an ADK database


ADK_ROW = "schema fuzzing: ADK routes (schemathesis)"
# Generated cases per ADK operation and mode; the `/api` copies (the same views) get fewer.
ADK_EXAMPLES = {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 30}
ADK_API_EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
ADK_KEY_LENGTH = 128
ADK_SEEDS = [("fz-app", "fz-user", f"fz-s{i}") for i in range(3)] + [("fz-app", "fz-other", "fz-s0")]
ADK_DOOMED = [("fz-app", "fz-user", f"fz-doomed-{i}") for i in range(4)]


def is_adk(op) -> bool:
    return "adk" in (op.definition.raw.get("tags") or [])


def has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(map(has_nul, value))


def adk_adjustments(case):
    """The checks left out for a positive ADK case whose refusal the document states in words:
    NUL anywhere, or an id over 128 characters on a create, is a 422 on PostgreSQL
    (docs/compatibility.md lines 39-41; the document keeps ADK's plain `string` types); `events`
    items are documented as free-form objects but are ADK events (typed fields, ADK-generated
    ones refused with 400); `options` other than `{}` is a documented 400. Everything else of a
    positive case must be accepted; no case may get a 5xx."""
    if not case.meta.generation.mode.is_positive:
        return set()
    creates = case.method.upper() == "POST"
    params = case.path_parameters or {}
    body = case.body if isinstance(case.body, dict) else {}
    refused = any(has_nul(v) or (creates and len(v) > ADK_KEY_LENGTH) for v in params.values())
    refused |= has_nul(case.body)
    sid = body.get("sessionId", body.get("session_id"))
    refused |= creates and isinstance(sid, str) and len(sid) > ADK_KEY_LENGTH and case.path.endswith("/sessions")
    refused |= bool(body.get("events")) or bool(body.get("options")) if case.path.endswith("/sessions") else False
    return {positive_data_acceptance} if refused else set()


class AdkFuzzer(Fuzzer):
    def __init__(self, app, sc):
        super().__init__(SimpleNamespace(app=app, sessions={}), sc)

    def adjustments(self, case, response):
        return adk_adjustments(case), None

    def _note_write(self, case, response):
        if 200 <= response.status_code < 300 and case.method.upper() in ("POST", "PATCH", "DELETE"):
            self.sc.acked()
            if case.method.upper() == "POST":
                self.created.add(json.loads(response.content)["id"])


def adk_strategies(op, mode) -> list:
    """Free cases, and half of them on the seeded sessions (deletes: on sessions seeded for them)."""
    free = op.as_strategy(mode)
    if "{user_id}" not in op.path:
        return [free]
    targets = ADK_DOOMED if op.method.upper() == "DELETE" else ADK_SEEDS
    keys = [dict(zip(("app_name", "user_id", "session_id"), key, strict=True)) for key in targets]
    if "{session_id}" not in op.path:
        keys = [{"app_name": a, "user_id": u} for a, u, _ in targets]
    return [free, st.one_of([op.as_strategy(mode, path_parameters=k) for k in keys])]


def test_adk_schema_fuzzing(fresh_url, make_app, scenario):
    """ADK's operations of /openapi.json (both prefixes) on an ADK database on PostgreSQL: the
    coverage phase, then positive and negative cases, every answer held to the document; then
    google-adk's own DatabaseSessionService lists and loads every session the fuzzing left."""
    sc = scenario(ADK_ROW)
    app = make_app(fresh_url)
    client = app.test_client()
    for a, u, sid in ADK_SEEDS + ADK_DOOMED:
        resp = client.post(f"/apps/{a}/users/{u}/sessions", json={
            "sessionId": sid, "state": {"k": sid, "app:shared": 1, "user:mine": u},
            "events": [{"author": "user", "content": {"role": "user", "parts": [{"text": f"hello {sid}"}]}}]})
        assert resp.status_code == 200, resp.get_data()[:200]
    fuzzer = AdkFuzzer(app, sc)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.config.output.sanitization.update(enabled=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = sorted((op for op in operations if is_adk(op)),
                        key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    assert len(operations) == 12, [op.label for op in operations]
    started = time.monotonic()
    for op in operations:
        fuzzer.cover(op)
        examples = ADK_API_EXAMPLES if op.path.startswith("/api/") else ADK_EXAMPLES
        for mode in GenerationMode:
            fuzzer.fuzz(op, mode, adk_strategies(op, mode), examples[mode])
    fuzzer.report(time.monotonic() - started, operations)
    for op in operations:
        counts = fuzzer.statuses[(op.label, "positive")]
        assert any(200 <= s < 300 for s in counts), f"{op.label}: no success answer in {dict(counts)}"
    adk_reads_everything(fresh_url, fuzzer, sc)
    sc.check()


def adk_reads_everything(url, fuzzer, sc) -> None:
    """google-adk 2.13.0's DatabaseSessionService lists every (app, user)'s sessions and loads
    each one the fuzzing left in the tables, without an exception."""
    import asyncio

    from google.adk.sessions import DatabaseSessionService

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(text("SELECT app_name, user_id, id FROM sessions"))]
    finally:
        engine.dispose()
    seeded = set(ADK_SEEDS)
    sc.record(seeded <= set(stored), f"seeded sessions gone after fuzzing: {seeded - set(stored)}")

    async def read():
        service = DatabaseSessionService(url.render_as_string(hide_password=False))
        problems = []
        try:
            for pair in sorted({(a, u) for a, u, _ in stored}):
                listed = await service.list_sessions(app_name=pair[0], user_id=pair[1])
                ids = {s.id for s in listed.sessions}
                want = {sid for a, u, sid in stored if (a, u) == pair}
                if ids != want:
                    problems.append(f"list {pair}: {sorted(ids)[:5]} != {sorted(want)[:5]}")
            for a, u, sid in stored:
                session = await service.get_session(app_name=a, user_id=u, session_id=sid)
                if session is None or session.id != sid:
                    problems.append(f"get {(a, u, sid)!r:.120}: {session!r:.120}")
        finally:
            await service.close()
        return problems

    try:
        problems = asyncio.run(read())
    except Exception as exc:  # noqa: BLE001 - ADK failing to read is what is checked
        problems = [f"DatabaseSessionService raised {exc!r}"]
    sc.record(not problems, f"google-adk reads the tables: {problems[:5]}", count=max(1, len(stored)))
