#!/usr/bin/env python3
"""Seed one database through Google ADK's own ``DatabaseSessionService``, for `make contract-test`.

    python tools/contract/adk_seed.py postgresql+psycopg://postgres@127.0.0.1:5432/db [--manifest FILE]
    python tools/contract/adk_seed.py sqlite+aiosqlite:///PATH/seed.db

The ``adk-pg`` and ``adk-sqlite`` references compare this service's ADK session routes with
``adk api_server`` over two copies of this database, so the rows are written by ADK 2.13.0
itself: ``create_session`` and ``append_event`` with real ``Event``/``EventActions`` objects and
``google.genai.types`` content, never SQL. What is seeded is what agents leave behind:

* several apps (the agents folder's ``dummy_agent`` and apps no agent folder has: ADK does not
  check the name) and users, sessions with and without events, short and long (dozens of events);
* text turns, function calls and responses with nested arguments, multi-part content (text,
  thoughts, inline bytes), an error event, transfers, escalation, artifact deltas, long-running
  tool ids, custom metadata and usage metadata;
* state written at creation and by events' ``state_delta``: session keys, ``app:`` and ``user:``
  keys (kept in ``app_states``/``user_states``) and ``temp:`` keys (dropped by ADK);
* session ids the routes must quote: unicode, a slash, a percent sign, a space, exactly 128
  characters (the column's length), and the two eval prefixes ADK's list route hides.

Everything is deterministic: session, event and invocation ids are fixed, and ADK's clock
(``google.adk.platform.time``) is a fake one, so create and update times are the same in every
seed (2026-01-05 onwards, each write 1.25 s after the previous one, with microseconds).
``seed(url)`` returns a JSON-serialisable manifest of what was written, for the request suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from typing import Any

from google.adk.events import Event, EventActions
from google.adk.platform import time as platform_time
from google.adk.sessions import DatabaseSessionService
from google.genai import types

EPOCH = 1767603600.0  # 2026-01-05 09:00:00 UTC
STEP = 1.25

APP = "dummy_agent"  # the agents folder's app
APP_TRAVEL = "travel_planner"
APP_SUPPORT = "support_bot"


class FakeClock:
    """ADK's time provider during the seed: a fixed start, each reading a step later."""

    def __init__(self, start: float):
        self.now = start
        self.rng = random.Random(7)

    def __call__(self) -> float:
        return self.now

    def tick(self) -> float:
        # microseconds that a float epoch and PostgreSQL's timestamp both keep exactly
        self.now = round(self.now + STEP + self.rng.randrange(1, 999999) / 1e6, 6)
        return self.now


def user_text(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


def model_text(*texts: str) -> types.Content:
    return types.Content(role="model", parts=[types.Part(text=t) for t in texts])


def usage(prompt: int, out: int) -> types.GenerateContentResponseUsageMetadata:
    return types.GenerateContentResponseUsageMetadata(prompt_token_count=prompt, candidates_token_count=out,
                                                      total_token_count=prompt + out)


class Seeder:
    def __init__(self, service: DatabaseSessionService, clock: FakeClock):
        self.service, self.clock = service, clock
        self.manifest: dict[str, Any] = {"layout": "adk", "sessions": [], "apps": {}}

    async def session(self, app: str, user: str, sid: str, state: dict[str, Any] | None = None,
                      tags: tuple[str, ...] = ()):
        self.clock.tick()
        session = await self.service.create_session(app_name=app, user_id=user, session_id=sid, state=state)
        entry = {"app": app, "user": user, "id": sid, "events": 0, "tags": list(tags)}
        self.manifest["sessions"].append(entry)
        self.manifest["apps"].setdefault(app, [])
        if user not in self.manifest["apps"][app]:
            self.manifest["apps"][app].append(user)
        return session, entry

    async def event(self, session, entry: dict[str, Any], inv: str, author: str, **fields: Any) -> Event:
        n = entry["events"]
        ts = self.clock.tick()
        event = Event(id=f"ev-{session.id[:40]}-{n:03d}", invocation_id=inv, author=author, timestamp=ts, **fields)
        await self.service.append_event(session, event)
        entry["events"] = n + 1
        return event

    # ------------------------------------------------------------------------------------------
    async def conversation(self, app: str, user: str, sid: str, turns: list[str], state=None, tags=()) -> None:
        """Plain text turns, the model answering each with usage metadata."""
        session, entry = await self.session(app, user, sid, state, tags)
        for i, text in enumerate(turns):
            inv = f"e-{sid[:20]}-{i}"
            await self.event(session, entry, inv, "user", content=user_text(text))
            await self.event(session, entry, inv, APP if app == APP else "assistant",
                             content=model_text(f"Answer {i}: {text[::-1]}"), usage_metadata=usage(12 + i, 30 + i),
                             finish_reason=types.FinishReason.STOP, model_version="gemini-2.0-flash-001",
                             turn_complete=True)

    async def tools(self, app: str, user: str, sid: str) -> None:
        """A tool round trip with nested arguments, a state delta of every scope, then an answer."""
        session, entry = await self.session(app, user, sid, {"trip": {"from": "ZRH", "to": "NRT"}, "app:currency": "CHF"})
        inv = "e-tools-1"
        await self.event(session, entry, inv, "user", content=user_text("Find me a flight to Tokyo in March ✈️"))
        args = {"origin": "ZRH", "destination": "NRT", "dates": {"depart": "2026-03-02", "return": None},
                "passengers": [{"type": "adult", "age": 41}, {"type": "child", "age": 7, "seat": {"window": True}}],
                "filters": {"max_stops": 1, "airlines": ["LX", "NH"], "price": {"max": 2400.5, "currency": "CHF"}}}
        await self.event(session, entry, inv, APP, content=types.Content(role="model", parts=[
            types.Part(text="Let me search."),
            types.Part(function_call=types.FunctionCall(id="fc-001", name="search_flights", args=args))]),
            usage_metadata=usage(220, 18))
        await self.event(session, entry, inv, APP, content=types.Content(role="user", parts=[
            types.Part(function_response=types.FunctionResponse(id="fc-001", name="search_flights", response={
                "result": [{"flight": "LX160", "stops": 0, "price": 2310.0, "legs": [{"dep": "08:40", "arr": "05:55+1"}]},
                           {"flight": "NH210", "stops": 1, "price": 1980.25, "legs": []}], "count": 2,
                "meta": {"source": "gds", "cached": False, "warnings": None}}))]),
            actions=EventActions(state_delta={"last_search": {"count": 2, "cheapest": "NH210"},
                                              "app:searches_total": 1, "user:home_airport": "ZRH",
                                              "temp:raw_response_size": 5120}))
        await self.event(session, entry, inv, APP,
                         content=model_text("NH210 is the cheapest at CHF 1,980.25 (one stop)."),
                         usage_metadata=usage(310, 40), finish_reason=types.FinishReason.STOP, turn_complete=True)
        inv = "e-tools-2"
        await self.event(session, entry, inv, "user", content=user_text("Book it and remember I prefer aisle seats"))
        await self.event(session, entry, inv, APP, content=types.Content(role="model", parts=[
            types.Part(function_call=types.FunctionCall(id="fc-002", name="book_flight",
                                                        args={"flight": "NH210", "seat_pref": "aisle"}))]),
            long_running_tool_ids={"fc-002"})
        await self.event(session, entry, inv, APP, content=types.Content(role="user", parts=[
            types.Part(function_response=types.FunctionResponse(id="fc-002", name="book_flight",
                                                                response={"status": "pending", "ticket": None}))]),
            actions=EventActions(state_delta={"user:seat_pref": "aisle", "booking": {"status": "pending"}},
                                 artifact_delta={"itinerary.pdf": 0}))

    async def multipart(self, app: str, user: str, sid: str) -> None:
        session, entry = await self.session(app, user, sid)
        inv = "e-mp-1"
        await self.event(session, entry, inv, "user", content=types.Content(role="user", parts=[
            types.Part(text="What is in this picture?"),
            types.Part(inline_data=types.Blob(mime_type="image/png", data=bytes(range(0, 256, 7)))),
            types.Part(text="And this note: ½ café, naïve — 你好 🌍")]))
        await self.event(session, entry, inv, APP, content=types.Content(role="model", parts=[
            types.Part(text="The user sends an image and a note.", thought=True),
            types.Part(text="A tiny test pattern."), types.Part(text="The note mixes scripts.")]),
            custom_metadata={"trace": {"span": "abc123", "sampled": True}, "labels": ["vision", "demo"]},
            branch=f"{APP}.vision")

    async def failing(self, app: str, user: str, sid: str) -> None:
        session, entry = await self.session(app, user, sid, {"attempts": 0})
        inv = "e-err-1"
        await self.event(session, entry, inv, "user", content=user_text("Summarise the attached 500-page PDF"))
        await self.event(session, entry, inv, APP, error_code="RESOURCE_EXHAUSTED",
                         error_message="Quota exceeded for aiplatform.googleapis.com/generate_content_requests",
                         actions=EventActions(state_delta={"attempts": 1}), turn_complete=True)
        await self.event(session, entry, inv, APP, actions=EventActions(escalate=True, transfer_to_agent="human_support",
                                                                       end_of_agent=True),
                         interrupted=True)

    async def long(self, app: str, user: str, sid: str, n: int) -> None:
        session, entry = await self.session(app, user, sid, {"counter": 0, "user:tier": "gold"})
        rng = random.Random(sid)
        for i in range(n):
            inv = f"e-long-{i // 4}"
            kind = i % 4
            if kind == 0:
                await self.event(session, entry, inv, "user", content=user_text(f"Step {i}: {rng.choice(WORDS)}"))
            elif kind == 1:
                await self.event(session, entry, inv, APP, content=types.Content(role="model", parts=[
                    types.Part(function_call=types.FunctionCall(id=f"fc-l{i}", name="counter_add",
                                                                args={"by": rng.randint(1, 9), "tags": [i, str(i)]}))]))
            elif kind == 2:
                await self.event(session, entry, inv, APP, content=types.Content(role="user", parts=[
                    types.Part(function_response=types.FunctionResponse(id=f"fc-l{i - 1}", name="counter_add",
                                                                        response={"value": i}))]),
                    actions=EventActions(state_delta={"counter": i, f"temp:scratch_{i}": i}))
            else:
                await self.event(session, entry, inv, APP, content=model_text(f"Counter is {i}. " + rng.choice(WORDS)),
                                 usage_metadata=usage(100 + i, 10))

    async def seed(self) -> None:
        await self.conversation(APP, "u1", "s-hello", ["Hello!", "What's the weather like in Zürich?",
                                                       "Thanks 🙏"], {"greeting": "hi", "app:theme": "dark",
                                                                     "user:lang": "en", "temp:draft": "x"})
        await self.tools(APP, "u1", "s-tools")
        await self.multipart(APP, "u1", "s-multipart")
        await self.failing(APP, "u1", "s-error")
        await self.long(APP, "u1", "s-long", 64)
        await self.session(APP, "u1", "s-empty", tags=("empty",))
        await self.session(APP, "u1", "s-empty-state", {"nested": {"a": [1, 2, {"b": None}]}, "flag": False,
                                                        "ratio": 0.5, "big": 2**53}, tags=("empty",))
        await self.conversation(APP, "u2", "s-u2-chat", ["Bonjour", "Où est la gare ?"], {"user:lang": "fr"})
        await self.session(APP, "u2", "s-u2-empty", tags=("empty",))
        await self.conversation(APP, "ユーザー", "セッション-1", ["こんにちは", "東京の天気は？"], {"user:lang": "ja"},
                                tags=("unicode",))
        await self.session(APP, "u1", "séance-☕", {"emoji": "🧪", "rtl": "שלום", "zwj": "👩‍💻"},
                           tags=("unicode", "empty"))
        await self.session(APP, "u1", "folder/sub", tags=("slash", "empty"))
        await self.session(APP, "u1", "100%done", tags=("percent", "empty"))
        await self.session(APP, "u1", "with space", tags=("space", "empty"))
        await self.session(APP, "u1", "L" * 128, tags=("max-length", "empty"))
        await self.session(APP, "u1", "adk-eval-session-0001", {"eval": True}, tags=("eval",))
        await self.session(APP, "u1", "___eval___session___0002", tags=("eval",))
        await self.conversation(APP_TRAVEL, "u1", "t-plan", ["Plan 3 days in Kyoto"], {"app:region": "APAC"})
        await self.tools(APP_TRAVEL, "u3", "t-tools")
        await self.long(APP_TRAVEL, "u3", "t-long", 36)
        await self.session(APP_TRAVEL, "u3", "t-empty", tags=("empty",))
        await self.failing(APP_SUPPORT, "u9", "sup-err")
        await self.conversation(APP_SUPPORT, "u9", "sup-chat", ["My order #4411 did not arrive"])


WORDS = ["alpha", "bravo ✓", "charlie", "délta", "echo", "foxtrot 🦊", "golf", "hôtel", "india", "juliett",
         "kilo", "lima", "mike", "november", "oscar", "papa", "québec", "romeo", "sierra", "tango"]


async def _seed(url: str) -> dict[str, Any]:
    clock = FakeClock(EPOCH)
    platform_time.set_time_provider(clock)
    service = DatabaseSessionService(db_url=url)
    try:
        seeder = Seeder(service, clock)
        await seeder.seed()
        return seeder.manifest
    finally:
        await service.close()
        platform_time.reset_time_provider()


def seed(url: str) -> dict[str, Any]:
    return asyncio.run(_seed(url))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="postgresql+psycopg://... or sqlite+aiosqlite:///...")
    ap.add_argument("--manifest", help="write the manifest (JSON) here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    manifest = seed(args.url)
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    if args.manifest:
        with open(args.manifest, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
