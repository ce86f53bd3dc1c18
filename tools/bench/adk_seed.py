#!/usr/bin/env python3
"""A realistic Google ADK session database at a chosen scale, quickly, for `make bench`.

    python tools/bench/adk_seed.py --url postgresql://postgres@127.0.0.1:5432/bench_adk --sessions 2000 \
        [--events 40000] [--seed 1] [--manifest FILE] [--replace] [--verify]

What it writes (ADK 2.13.0's DatabaseSessionService tables, schema version 1, in the connection's
default schema), and where the shapes come from:

* **Templates from real ADK.** ``DatabaseSessionService`` itself creates the tables (DDL, index,
  ``adk_internal_metadata``) and writes one template session through ``create_session`` and
  ``append_event``: a user message, a model answer (usage metadata, finish reason, model version,
  log-probabilities), a function call with its function response (carrying a state delta of every
  scope) and a state-only event as ADK's PATCH route records it. The rows it wrote are read back
  and removed; every generated row is one of them with its ids, times, texts, arguments, results,
  token counts and state deltas replaced, so each ``event_data`` document has exactly the keys
  ADK writes (``actions`` with its empty maps, ``node_info``, ``usage_metadata`` ...).
* **Multiplied.** Several apps (an assistant per domain, each with its tools and app state), many
  users (long-tailed: a few users own dozens or hundreds of sessions, most a handful, each mostly
  in one "home" app), sessions over two months with a long-tailed number of events (most a few,
  some hundreds; a few sessions never used; the total is exact). Events come in turns: the user
  writes, the model calls zero to three tools (call, then response), then answers; now and then
  a state-only event. Texts are cut from ``seed.py``'s corpus (prose, markdown, code, JSON search
  results, partly multilingual); sizes are log-normal (a model answer p50 about 1 KB, a tool
  result 1.5 KB with a tail to 100 KB). State: an initial state per session (``user:`` keys go
  to ``user_states``), deltas in tool responses (session, ``user:`` and ``app:`` keys), merged as
  ADK merges them, so every ``sessions.state``, ``user_states`` and ``app_states`` row is what ADK
  would hold after those events; every app and every (app, user) has its state row, as
  ``create_session`` makes them. ``update_time`` is the last event's time.
* **Fast.** One transaction: ``TRUNCATE``, ``COPY ... FREEZE`` of the four tables, then ``ANALYZE``.
* **Manifest.** ``seed()`` returns the ids a benchmark needs: typical sessions (around the median
  event count), the (app, user) with the most sessions, three disjoint pools of median-sized
  sessions for writes, and the figures of what was generated.

``--verify`` reads sessions back with ADK's own ``DatabaseSessionService`` and through this
service's routes (in process) and compares them; ``tests/test_bench_adk_seed.py`` does both on a
small scale.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(ROOT, "build", "bench")


def _bench_seed():
    """tools/bench/seed.py (its corpus and helpers) under the name `bench_seed`, as the tests load
    it: tools/contract/seed.py is also a `seed`."""
    module = sys.modules.get("bench_seed")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_seed", os.path.join(HERE, "seed.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_seed"] = module
        spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# The knobs

EVENTS_PER_SESSION = 20         # default events per session (2,000 sessions: 40,000 events)
EVENTS_MEDIAN = 8               # events per used session: log-normal, median and sigma, capped,
EVENTS_SIGMA = 1.3              # scaled so that the total is exactly what was asked
EVENTS_CAP = 600
EMPTY_SHARE = 0.04              # sessions created and never used
USERS_PER_SESSION = 1 / 6       # users: sessions / 6, Zipf-like popularity
USER_ZIPF = 0.85
HOME_APP_SHARE = 0.8            # a user's sessions in their "home" app
PATCH_SHARE = 0.03              # turns followed by a state-only event (a UI setting state)
WINDOW_END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
WINDOW_DAYS = 61
TEMPLATE_APP = "bench-template"

# app -> (weight, agent name, model, tools: name -> argument builder kind)
APPS = {
    "support_bot": (0.35, "support_agent", "gemini-2.5-flash", ("lookup_order", "search_kb", "create_ticket")),
    "travel_planner": (0.20, "travel_agent", "gemini-2.5-pro", ("search_flights", "get_weather", "search_hotels")),
    "research_assistant": (0.20, "research_agent", "gemini-2.5-pro", ("web_search", "fetch_page")),
    "code_helper": (0.15, "code_agent", "gemini-2.5-flash", ("search_docs", "run_python")),
    "dummy_agent": (0.10, "dummy_agent", "gemini-2.0-flash", ("search_kb",)),
}
# Text sizes in characters (log-normal median, sigma, cap).
USER_TEXT = (160, 0.9, 6_000)
ANSWER_TEXT = (900, 0.9, 20_000)
TOOL_RESULT = (1_400, 1.1, 100_000)
TOOLS_PER_TURN = ((0, 0.45), (1, 0.35), (2, 0.15), (3, 0.05))

_LANGS = ("en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES", "pt-BR")
_ZONES = ("Europe/Zurich", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Sao_Paulo")


class SeedError(RuntimeError):
    """The database cannot be seeded as asked."""


def libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+asyncpg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def adk_url(url: str) -> str:
    """The URL as ADK's DatabaseSessionService wants it: an async driver (psycopg 3)."""
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


def _utc(epoch: float) -> str:
    """The `timestamp without time zone` text ADK stores for an epoch (its own conversion)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _lognormal(rng: random.Random, median: float, sigma: float, cap: float, floor: float = 1) -> int:
    return int(max(floor, min(cap, median * math.exp(rng.gauss(0.0, sigma)))))


def _pct(values: list, q: float) -> Any:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# ---------------------------------------------------------------------------------------------
# Templates: what DatabaseSessionService writes


async def _write_templates(url: str) -> None:
    from google.adk.events import Event, EventActions
    from google.adk.sessions import DatabaseSessionService
    from google.genai import types

    usage = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=1200, candidates_token_count=80, total_token_count=1280,
        prompt_tokens_details=[types.ModalityTokenCount(modality=types.MediaModality.TEXT, token_count=1200)],
        candidates_tokens_details=[types.ModalityTokenCount(modality=types.MediaModality.TEXT, token_count=80)])
    model = {"usage_metadata": usage, "finish_reason": types.FinishReason.STOP, "model_version": "gemini-2.5-flash",
             "avg_logprobs": -0.25}
    service = DatabaseSessionService(db_url=adk_url(url))
    try:
        session = await service.create_session(app_name=TEMPLATE_APP, user_id="template-user", session_id="template",
                                               state={"k": "v", "user:u": "v", "app:a": "v", "temp:t": "v"})
        inv = "e-template"
        now = time.time()
        events = [
            ("user", Event(invocation_id=inv, author="user", timestamp=now,
                           content=types.Content(role="user", parts=[types.Part(text="QQUSERQQ")]))),
            ("call", Event(invocation_id=inv, author="template_agent", timestamp=now + 1, **model,
                           content=types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(
                               id="adk-template-call", name="tool", args={"q": "QQARGQQ"}))]))),
            ("response", Event(invocation_id=inv, author="template_agent", timestamp=now + 2,
                               content=types.Content(role="user", parts=[types.Part(
                                   function_response=types.FunctionResponse(id="adk-template-call", name="tool",
                                                                            response={"result": "QQRESULTQQ"}))]),
                               actions=EventActions(state_delta={"k": "w", "user:u": "w", "app:a": "w"}))),
            ("answer", Event(invocation_id=inv, author="template_agent", timestamp=now + 3, **model,
                             content=types.Content(role="model", parts=[types.Part(text="QQANSWERQQ")]))),
            ("patch", Event(invocation_id="p-template", author="user", timestamp=now + 4,
                            actions=EventActions(state_delta={"k": "x"}))),
        ]
        for kind, event in events:
            event.custom_metadata = {"bench_template": kind}
            await service.append_event(session, event)
    finally:
        await service.close()


def build_templates(url: str) -> dict:
    """Run DatabaseSessionService once on the (empty) target database; return its rows by kind."""
    asyncio.run(_write_templates(url))
    with psycopg.connect(libpq_url(url)) as conn:
        events = {}
        for (data,) in conn.execute("SELECT event_data::text FROM events WHERE app_name = %s", (TEMPLATE_APP,)):
            doc = orjson.loads(data)
            kind = doc.pop("custom_metadata")["bench_template"]
            events[kind] = doc
        session = conn.execute("SELECT state::text FROM sessions WHERE app_name = %s", (TEMPLATE_APP,)).fetchone()
        user = conn.execute("SELECT state::text FROM user_states WHERE app_name = %s", (TEMPLATE_APP,)).fetchone()
        app = conn.execute("SELECT state::text FROM app_states WHERE app_name = %s", (TEMPLATE_APP,)).fetchone()
    if set(events) != {"user", "call", "response", "answer", "patch"}:
        raise SeedError(f"ADK wrote unexpected template events: {sorted(events)}")
    # What ADK made of the state at creation and after the deltas: the scoping the generator follows.
    expected = ({"k": "x"}, {"u": "w"}, {"a": "w"})
    got = tuple(orjson.loads(row[0]) for row in (session, user, app))
    if got != expected:
        raise SeedError(f"ADK scoped the template state as {got}, not {expected}")
    return events


# ---------------------------------------------------------------------------------------------
# Plan and rows


@dataclass
class SessionPlan:
    app: str
    user: str
    id: str
    created: float
    events: int
    state: dict = field(default_factory=dict)


def events_per_session(rng: random.Random, n: int, total: int) -> list[int]:
    """`n` long-tailed counts (some 0, the others 1..EVENTS_CAP) summing to exactly `total`."""
    empty = {i for i in range(n) if rng.random() < EMPTY_SHARE} if n > 20 else set()
    used = [i for i in range(n) if i not in empty]
    if total < len(used):
        raise SeedError(f"{total} events cannot fill {len(used)} used sessions (one event each at least)")
    if total > len(used) * EVENTS_CAP:
        raise SeedError(f"{total} events do not fit in {len(used)} sessions of at most {EVENTS_CAP}")
    raw = [EVENTS_MEDIAN * math.exp(rng.gauss(0.0, EVENTS_SIGMA)) for _ in used]

    def counts(k: float) -> list[int]:
        return [max(1, min(EVENTS_CAP, round(x * k))) for x in raw]

    lo, hi = 0.0, 1.0
    while sum(counts(hi)) < total:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(counts(mid)) < total else (lo, mid)
    got = counts(hi)
    diff = sum(got) - total
    order = sorted(range(len(got)), key=lambda i: -got[i])
    i = 0
    while diff:
        j = order[i % len(got)]
        if diff > 0 and got[j] > 1:
            got[j], diff = got[j] - 1, diff - 1
        elif diff < 0 and got[j] < EVENTS_CAP:
            got[j], diff = got[j] + 1, diff + 1
        i += 1
    out = [0] * n
    for i, c in zip(used, got, strict=True):
        out[i] = c
    return out


def plan(sessions: int, events: int, seed: int) -> tuple[list[SessionPlan], list[str]]:
    rng = random.Random(seed)
    n_users = max(3, round(sessions * USERS_PER_SESSION))
    users = [f"user-{_uuid(rng)[:8]}" for _ in range(n_users)]
    weights = [1.0 / (k + 1) ** USER_ZIPF for k in range(n_users)]
    apps = list(APPS)
    app_weights = [APPS[a][0] for a in apps]
    home = {u: rng.choices(apps, app_weights)[0] for u in users}
    counts = events_per_session(rng, sessions, events)
    start = WINDOW_END - WINDOW_DAYS * 86400
    plans = []
    for count in counts:
        user = rng.choices(users, weights)[0]
        app = home[user] if rng.random() < HOME_APP_SHARE else rng.choices(apps, app_weights)[0]
        plans.append(SessionPlan(app, user, _uuid(rng), round(start + rng.random() * WINDOW_DAYS * 86400 * 0.9, 6),
                                 count))
    return plans, users


class Generator:
    """Event rows from ADK's templates, and the states they leave behind."""

    def __init__(self, templates: dict, seed: int):
        self.templates = {k: orjson.dumps(v) for k, v in templates.items()}
        self.corpus = _bench_seed().Corpus()
        self.rng = random.Random(seed * 17 + 3)
        self.app_states: dict[str, dict] = {}
        self.user_states: dict[tuple[str, str], dict] = {}

    def text(self, style: str, size: tuple) -> str:
        raw = self.corpus.cut(style, _lognormal(self.rng, *size), self.rng)
        return json.loads(b'"' + raw + b'"')

    def _doc(self, kind: str, event_id: str, inv: str, ts: float, author: str | None = None) -> dict:
        doc = orjson.loads(self.templates[kind])
        doc["id"], doc["invocation_id"], doc["timestamp"] = event_id, inv, ts
        if author is not None:
            doc["author"] = author
        return doc

    def _model(self, doc: dict, model: str, prompt_tokens: int, out_chars: int) -> None:
        out = max(1, out_chars // 4)
        usage = doc["usage_metadata"]
        usage["prompt_token_count"] = usage["prompt_tokens_details"][0]["token_count"] = prompt_tokens
        usage["candidates_token_count"] = usage["candidates_tokens_details"][0]["token_count"] = out
        usage["total_token_count"] = prompt_tokens + out
        doc["model_version"] = model
        doc["avg_logprobs"] = round(-self.rng.random() * 0.6, 6)

    def initial_state(self, sp: SessionPlan) -> dict:
        """The state a client passes at creation (`user:` keys: the user's state row)."""
        r = self.rng
        state: dict[str, Any] = {"channel": r.choice(("web", "mobile", "slack", "api")),
                                 "conversation_goal": self.text("prompt", (60, 0.5, 300))}
        if r.random() < 0.5:
            state["user:locale"] = r.choice(_LANGS)
            state["user:timezone"] = r.choice(_ZONES)
        if r.random() < 0.2:
            state["user:display_name"] = " ".join(r.choices(("Ana", "Kenji", "Lea", "Omar", "Priya", "Tom"), k=2))
        if r.random() < 0.15:  # a client that keeps a working document in the state
            state["notes"] = self.text("answer", (2_000, 0.8, 20_000))
        return state

    def session_rows(self, sp: SessionPlan) -> tuple[dict, list[tuple]]:
        """The session's state after its events, and its event rows (id, inv, ts, event_data bytes)."""
        r = self.rng
        weight, agent, model, tools = APPS[sp.app]
        app_state = self.app_states.setdefault(sp.app, {
            "model": model, "prompt_version": r.randint(3, 40), "searches_total": 0,
            "feature_flags": {"citations": True, "handoff": r.random() < 0.5, "max_tool_calls": 5}})
        user_state = self.user_states.setdefault((sp.app, sp.user), {})
        app_d, user_d, state = _split(self.initial_state(sp))
        app_state.update(app_d)
        user_state.update(user_d)
        rows: list[tuple] = []
        ts = sp.created + r.uniform(2, 60)
        prompt_tokens = r.randint(600, 2_400)
        turn = 0
        while len(rows) < sp.events:
            inv = "e-" + _uuid(r)
            turn += 1
            user_text = self.text("prompt", USER_TEXT)
            doc = self._doc("user", _uuid(r), inv, ts)
            doc["content"]["parts"][0]["text"] = user_text
            rows.append(doc)
            prompt_tokens += len(user_text) // 4
            n_tools = r.choices([n for n, _ in TOOLS_PER_TURN], [w for _, w in TOOLS_PER_TURN])[0]
            for _ in range(n_tools):
                if len(rows) >= sp.events:
                    break
                name = r.choice(tools)
                call_id = "adk-" + _uuid(r)
                ts += r.uniform(0.6, 4)
                doc = self._doc("call", _uuid(r), inv, ts, agent)
                fc = doc["content"]["parts"][0]["function_call"]
                fc["id"], fc["name"], fc["args"] = call_id, name, self._args(name)
                self._model(doc, model, prompt_tokens, 120)
                rows.append(doc)
                if len(rows) >= sp.events:
                    break
                ts += r.uniform(0.2, 6)
                doc = self._doc("response", _uuid(r), inv, ts, agent)
                fr = doc["content"]["parts"][0]["function_response"]
                result = self._result(name)
                fr["id"], fr["name"], fr["response"] = call_id, name, result
                delta = self._delta(name, turn, app_state)
                doc["actions"]["state_delta"] = delta
                a, u, s = _split(delta)
                app_state.update(a)
                user_state.update(u)
                state.update(s)
                rows.append(doc)
                prompt_tokens += len(orjson.dumps(result)) // 4
            if len(rows) >= sp.events:
                break
            ts += r.uniform(1, 12)
            answer = self.text("answer", ANSWER_TEXT)
            doc = self._doc("answer", _uuid(r), inv, ts, agent)
            doc["content"]["parts"][0]["text"] = answer
            self._model(doc, model, prompt_tokens, len(answer))
            rows.append(doc)
            prompt_tokens += len(answer) // 4
            if len(rows) < sp.events and r.random() < PATCH_SHARE:
                ts += r.uniform(5, 120)
                doc = self._doc("patch", _uuid(r), "p-" + _uuid(r), ts)
                delta = {"rating": r.randint(1, 5), "feedback": self.text("prompt", (80, 0.6, 400))}
                doc["actions"]["state_delta"] = delta
                state.update(delta)
                rows.append(doc)
            ts += r.uniform(20, 900) if r.random() < 0.8 else r.uniform(3_600, 86_400)
        sp.state = state
        return state, [(d["id"], d["invocation_id"], d["timestamp"], orjson.dumps(d)) for d in rows]

    def _args(self, name: str) -> dict:
        r = self.rng
        if name in ("search_kb", "web_search", "search_docs"):
            return {"query": self.text("prompt", (70, 0.5, 300)), "top_k": r.choice((3, 5, 10))}
        if name == "fetch_page":
            return {"url": f"https://example.org/{_uuid(r)[:8]}/{r.randint(1, 999)}", "max_chars": 20_000}
        if name == "run_python":
            return {"code": self.text("answer", (300, 0.7, 4_000)), "timeout_s": 30}
        if name in ("search_flights", "search_hotels"):
            return {"origin": r.choice(("ZRH", "JFK", "NRT", "LHR", "GRU")),
                    "destination": r.choice(("CDG", "SFO", "HND", "FCO", "BCN")),
                    "dates": {"from": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", "nights": r.randint(1, 14)},
                    "travellers": [{"type": "adult"}] * r.randint(1, 3), "filters": {"max_stops": r.randint(0, 2)}}
        if name == "get_weather":
            return {"city": r.choice(("Zürich", "Tokyo", "Lisbon", "New York", "São Paulo")), "days": r.randint(1, 7)}
        if name == "lookup_order":
            return {"order_id": f"ORD-{r.randint(100000, 999999)}", "include": ["items", "shipping"]}
        return {"title": self.text("prompt", (60, 0.4, 200)), "priority": r.choice(("low", "normal", "high"))}

    def _result(self, name: str) -> dict:
        r = self.rng
        if name in ("search_flights", "search_hotels", "lookup_order", "get_weather"):
            items = [{"id": f"{name[:3]}-{r.randint(1000, 99999)}", "price": round(r.uniform(40, 2500), 2),
                      "currency": "EUR", "summary": self.text("prompt", (120, 0.6, 800))}
                     for _ in range(r.randint(1, 6))]
            return {"status": "ok", "results": items, "count": len(items)}
        if name == "create_ticket":
            return {"status": "created", "ticket_id": f"T-{r.randint(10000, 99999)}", "queue": "tier-1"}
        return {"result": self.text("tool", TOOL_RESULT)}

    def _delta(self, name: str, turn: int, app_state: dict) -> dict:
        r = self.rng
        delta: dict[str, Any] = {"last_tool": name, "turns": turn}
        if r.random() < 0.3:
            delta[f"{name}_last_query"] = self.text("prompt", (60, 0.5, 300))
        if r.random() < 0.1:
            delta["user:last_topic"] = self.text("prompt", (40, 0.4, 120))
        if r.random() < 0.05:
            delta["app:searches_total"] = app_state.get("searches_total", 0) + 1
        return delta


def _split(state: dict) -> tuple[dict, dict, dict]:
    app, user, session = {}, {}, {}
    for key, value in state.items():
        if key.startswith("app:"):
            app[key[4:]] = value
        elif key.startswith("user:"):
            user[key[5:]] = value
        elif not key.startswith("temp:"):
            session[key] = value
    return app, user, session


# ---------------------------------------------------------------------------------------------
# Load


def _copy_line(values: tuple) -> bytes:
    out = []
    for v in values:
        if isinstance(v, bytes):
            out.append(v.replace(b"\\", b"\\\\"))
        else:
            out.append(str(v).encode().replace(b"\\", b"\\\\"))
    return b"\t".join(out) + b"\n"


def _copy(conn, table: str, columns: str, lines) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FREEZE)") as cp:
        buf = bytearray()
        for line in lines:
            buf += line
            if len(buf) > 4_000_000:
                cp.write(buf)
                buf = bytearray()
        cp.write(buf)


def check_empty(url: str, replace: bool) -> bool:
    """True when ADK's tables exist already; SeedError when they hold sessions and not `replace`."""
    with psycopg.connect(libpq_url(url)) as conn:
        exists = conn.execute("SELECT to_regclass('sessions') IS NOT NULL AND to_regclass('events') IS NOT NULL "
                              "AND to_regclass('adk_internal_metadata') IS NOT NULL").fetchone()[0]
        if exists:
            n = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
            if n and not replace:
                raise SeedError(f"sessions is not empty ({n} sessions): pass --replace (replace=True) to overwrite it")
        elif conn.execute("SELECT to_regclass('sessions') IS NOT NULL OR to_regclass('events') IS NOT NULL").fetchone()[0]:
            raise SeedError("the database has tables named sessions/events that are not ADK's schema version 1")
    return exists


def load(url: str, plans: list[SessionPlan], gen: Generator) -> dict:
    event_sizes, per_session, state_sizes = [], [], []
    events_rows: list[tuple] = []
    session_rows: list[tuple] = []
    for sp in sorted(plans, key=lambda p: p.created):
        state, rows = gen.session_rows(sp)
        update = rows[-1][2] if rows else sp.created
        state_json = orjson.dumps(state)
        state_sizes.append(len(state_json))
        session_rows.append((sp.app, sp.user, sp.id, state_json, _utc(sp.created), _utc(update)))
        per_session.append(len(rows))
        for event_id, inv, ts, data in rows:
            event_sizes.append(len(data))
            events_rows.append((event_id, sp.app, sp.user, sp.id, inv, ts, data))
    events_rows.sort(key=lambda row: row[5])  # in time order, as a live database grows
    now = _utc(WINDOW_END)
    timing: dict[str, float] = {}
    started = time.monotonic()
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("TRUNCATE sessions, events, app_states, user_states")
        _copy(conn, "sessions", "app_name, user_id, id, state, create_time, update_time",
              (_copy_line(row) for row in session_rows))
        _copy(conn, "events", "id, app_name, user_id, session_id, invocation_id, timestamp, event_data",
              (_copy_line((*row[:5], _utc(row[5]), row[6])) for row in events_rows))
        _copy(conn, "app_states", "app_name, state, update_time",
              (_copy_line((app, orjson.dumps(state), now)) for app, state in sorted(gen.app_states.items())))
        _copy(conn, "user_states", "app_name, user_id, state, update_time",
              (_copy_line((app, user, orjson.dumps(state), now))
               for (app, user), state in sorted(gen.user_states.items())))
        conn.commit()
        timing["copy_s"] = time.monotonic() - started
        started = time.monotonic()
        conn.autocommit = True
        for table in ("sessions", "events", "app_states", "user_states"):
            conn.execute(f"ANALYZE {table}")
        timing["analyze_s"] = time.monotonic() - started
        size = conn.execute("SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY['sessions', 'events', "
                            "'app_states', 'user_states']) t").fetchone()[0]
    return {"event_sizes": event_sizes, "per_session": per_session, "state_sizes": state_sizes, "timing": timing,
            "database_bytes": int(size)}


# ---------------------------------------------------------------------------------------------
# Manifest


def build_manifest(plans: list[SessionPlan], loaded: dict, gen: Generator, args: dict,
                   pool_size: int = 300) -> dict:
    per_pair = Counter((sp.app, sp.user) for sp in plans)
    (list_app, list_user), list_n = max(per_pair.items(), key=lambda kv: (kv[1], kv[0]))
    used = sorted((sp for sp in plans if sp.events), key=lambda sp: (sp.events, sp.id))
    median = used[len(used) // 2].events if used else 0
    mid, half = len(used) // 2, max(1, min(10, len(used) // 6))
    typical = used[max(0, mid - half):mid + half]
    taken = {sp.id for sp in typical}
    # Write pools: median-sized sessions (the middle half) of other users than the listed one, dealt
    # in turn to the three sides, so that each side writes sessions of the same sizes and never
    # another side's; on a small database any other session.
    lo, hi = _pct([sp.events for sp in used], 0.25), _pct([sp.events for sp in used], 0.75)
    candidates = [sp for sp in used if lo <= sp.events <= hi and sp.id not in taken
                  and (sp.app, sp.user) != (list_app, list_user)]
    if len(candidates) < 12:
        candidates = [sp for sp in used if sp.id not in taken]
    rng = random.Random(args["seed"] * 13 + 5)
    rng.shuffle(candidates)
    # A multiple of 4 where there are enough: wrk's threads (1, 2 or 4) then never share a session
    # (run.py deals paths t, t+n, t+2n, ... to thread t of n), so no two PATCHes of one overlap.
    n = min(pool_size, len(candidates) // 3)
    n = n // 4 * 4 or n
    pools = {side: [[sp.app, sp.user, sp.id] for sp in candidates[i * n:(i + 1) * n]]
             for i, side in enumerate(("ours", "reference", "db"))}
    sizes, counts = loaded["event_sizes"], loaded["per_session"]
    users = {sp.user for sp in plans}
    return {
        "layout": "adk", "args": args,
        "typical_sessions": [[sp.app, sp.user, sp.id] for sp in typical],
        "typical_events": median,
        "list_user": {"app": list_app, "user": list_user, "sessions": list_n},
        "pools": pools,
        "stats": {
            "sessions": len(plans), "events": len(sizes), "empty_sessions": sum(1 for c in counts if c == 0),
            "sessions_by_app": dict(sorted(Counter(sp.app for sp in plans).items())),
            "users": len(users), "app_user_pairs": len(per_pair),
            "sessions_per_pair": {"p50": _pct(list(per_pair.values()), 0.5), "max": list_n},
            "events_per_session": {q: _pct(counts, v) for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
            | {"max": max(counts)},
            "event_bytes": {q: _pct(sizes, v) for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
            | {"max": max(sizes, default=0), "total": sum(sizes)},
            "session_state_bytes": {"p50": _pct(loaded["state_sizes"], 0.5), "p99": _pct(loaded["state_sizes"], 0.99)},
            "user_states_nonempty": sum(1 for s in gen.user_states.values() if s),
            "database_bytes": loaded["database_bytes"],
        },
    }


def seed(url: str, sessions: int, events: int | None = None, seed: int = 1, *, replace: bool = False,
         pool_size: int = 300) -> dict:
    """Fill ADK's tables at `url` with `sessions` sessions and exactly `events` events (default
    EVENTS_PER_SESSION per session); returns the manifest. Deterministic for (sessions, events, seed)."""
    started = time.monotonic()
    events = EVENTS_PER_SESSION * sessions if events is None else events
    exists = check_empty(url, replace)
    if exists:  # the template session goes into tables that must not hold anything else
        with psycopg.connect(libpq_url(url)) as conn:
            conn.execute("TRUNCATE sessions, events, app_states, user_states")
    templates = build_templates(url)
    t_templates = time.monotonic() - started
    plans, _ = plan(sessions, events, seed)
    gen = Generator(templates, seed)
    t_plan = time.monotonic() - started - t_templates
    loaded = load(url, plans, gen)
    manifest = build_manifest(plans, loaded, gen, {"sessions": sessions, "events": events, "seed": seed}, pool_size)
    manifest["stats"]["seconds"] = {"templates": round(t_templates, 2), "plan": round(t_plan, 2),
                                    **{k[:-2]: round(v, 2) for k, v in loaded["timing"].items()},
                                    "total": round(time.monotonic() - started, 2)}
    return manifest


# ---------------------------------------------------------------------------------------------
# Verification: ADK's own DatabaseSessionService, and this service's routes


def adk_sessions(url: str, keys: list[tuple[str, str, str]], list_pairs: list[tuple[str, str]]) -> tuple[dict, dict]:
    """Sessions as `adk api_server` returns them (camelCase, `None` left out), read by ADK's
    DatabaseSessionService: {key: session JSON}, {(app, user): listed session JSON, by id}."""
    from google.adk.events._internal_metadata import public_event
    from google.adk.sessions import DatabaseSessionService

    def api_json(session) -> dict:
        # What the api_server's response model makes of it: aliases, no nulls, ADK's internal
        # event metadata removed.
        shown = session.model_copy(update={"events": [public_event(e) for e in session.events]})
        return shown.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def read():
        service = DatabaseSessionService(db_url=adk_url(url))
        try:
            got = {}
            for app, user, sid in keys:
                s = await service.get_session(app_name=app, user_id=user, session_id=sid)
                got[(app, user, sid)] = None if s is None else api_json(s)
            listed = {}
            for app, user in list_pairs:
                response = await service.list_sessions(app_name=app, user_id=user)
                listed[(app, user)] = {s.id: api_json(s) for s in response.sessions}
            return got, listed
        finally:
            await service.close()

    return asyncio.run(read())


def service_client(url: str):
    """This service's Flask app (in process) on `url`, and a function that disposes of it."""
    sys.path.insert(0, ROOT)
    from app import create_app
    from app.config import DatabaseConfig, Settings, sqlalchemy_url

    settings = Settings(databases={"bench": DatabaseConfig("bench", sqlalchemy_url(libpq_url(url)))},
                        default_db_id="bench")
    app = create_app({"TESTING": True, "SETTINGS": settings})

    def dispose():
        registry = app.extensions["engines"]
        registry.engine("bench").dispose()
        registry.dispose()

    return app.test_client(), dispose


def comparable(session: dict) -> dict:
    """A session JSON without what ADK's API hides or rounds: the restored-event marker in
    `customMetadata` is never shown, and times are compared to the microsecond."""
    out = dict(session)
    out["lastUpdateTime"] = round(out["lastUpdateTime"], 6)
    out["events"] = [{**e, "timestamp": round(e["timestamp"], 6)} for e in out.get("events", [])]
    return out


def verify(url: str, manifest: dict, sample: int = 12) -> str:
    """Read typical, pooled and the listed user's sessions with ADK's DatabaseSessionService and
    through the service's routes (in process); raises AssertionError on the first difference."""
    from urllib.parse import quote

    keys = [tuple(k) for k in manifest["typical_sessions"][:sample]]
    for pool in manifest["pools"].values():
        keys += [tuple(k) for k in pool[:2]]
    lu = manifest["list_user"]
    pairs = [(lu["app"], lu["user"])] + sorted({(k[0], k[1]) for k in keys})[:3]
    theirs, listed = adk_sessions(url, keys, pairs)
    client, dispose = service_client(url)
    requests = 0
    try:
        for key in keys:
            app, user, sid = key
            assert theirs[key] is not None, f"ADK cannot read session {key}"
            response = client.get(f"/apps/{quote(app, safe='')}/users/{quote(user, safe='')}/sessions/{quote(sid, safe='')}")
            requests += 1
            assert response.status_code == 200, f"GET {key}: {response.status_code}"
            ours = response.get_json()
            assert comparable(ours) == comparable(theirs[key]), f"session {key} differs from ADK's"
        for app, user in pairs:
            response = client.get(f"/apps/{quote(app, safe='')}/users/{quote(user, safe='')}/sessions")
            requests += 1
            assert response.status_code == 200, f"list {app}/{user}: {response.status_code}"
            ours = {s["id"]: comparable(s) for s in response.get_json()}
            assert ours == {k: comparable(v) for k, v in listed[(app, user)].items()}, f"list {app}/{user} differs"
        assert len(listed[(lu["app"], lu["user"])]) == lu["sessions"]
    finally:
        dispose()
    return (f"verified: ADK's DatabaseSessionService and the service's routes return the same {len(keys)} sessions "
            f"and {len(pairs)} lists ({requests} requests)")


# ---------------------------------------------------------------------------------------------
# Entry point


def format_stats(manifest: dict) -> str:
    st = manifest["stats"]
    eps, eb = st["events_per_session"], st["event_bytes"]
    return "\n".join([
        f"sessions {st['sessions']} ({', '.join(f'{a} {n}' for a, n in st['sessions_by_app'].items())}); "
        f"events {st['events']}; {st['empty_sessions']} sessions without events",
        f"events per session: p50 {eps['p50']}, p90 {eps['p90']}, p99 {eps['p99']}, max {eps['max']}",
        f"event_data bytes: p50 {eb['p50']:,}, p90 {eb['p90']:,}, p99 {eb['p99']:,}, max {eb['max']:,}, "
        f"total {eb['total'] / 1e6:,.0f} MB; session state bytes p50 {st['session_state_bytes']['p50']}, "
        f"p99 {st['session_state_bytes']['p99']}",
        f"users {st['users']} in {st['app_user_pairs']} (app, user) pairs (sessions per pair p50 "
        f"{st['sessions_per_pair']['p50']}, max {st['sessions_per_pair']['max']}); non-empty user states "
        f"{st['user_states_nonempty']}",
        f"database size {st['database_bytes'] / 1e6:,.0f} MB; seconds: "
        + ", ".join(f"{k} {v}" for k, v in st["seconds"].items()),
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="PostgreSQL URL (libpq or SQLAlchemy form)")
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--events", type=int, default=None, help=f"rows of events (default {EVENTS_PER_SESSION} per session)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--manifest", help="where to write the manifest (default build/bench/adk-manifest-<sessions>-"
                    "<events>-s<seed>.json)")
    ap.add_argument("--replace", action="store_true", help="overwrite non-empty ADK tables")
    ap.add_argument("--verify", action="store_true", help="read sessions back with ADK and the service, and compare")
    args = ap.parse_args(argv)
    try:
        manifest = seed(args.url, args.sessions, args.events, args.seed, replace=args.replace)
    except SeedError as exc:
        print(f"adk_seed: {exc}", file=sys.stderr)
        return 2
    events = manifest["stats"]["events"]
    path = args.manifest or os.path.join(BUILD_DIR, f"adk-manifest-{args.sessions}-{events}-s{args.seed}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    print(format_stats(manifest))
    print(f"manifest: {path}")
    if args.verify:
        print(verify(args.url, manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
