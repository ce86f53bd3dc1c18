#!/usr/bin/env python3
"""Seed one database with realistic agno data for `make contract-test`.

    python tools/contract/seed.py postgresql+psycopg://postgres@127.0.0.1:5432/db [--profile main|second] [--manifest FILE]
    python tools/contract/seed.py sqlite:////tmp/seed.db
    .venv-agno2/bin/python tools/contract/seed.py postgresql+psycopg://...   # agno 2.9.0: the legacy layout

`make contract-test` seeds one database, clones it twice, serves one clone with a real agno
AgentOS and the other with this service, and compares every answer. What is compared is only as
good as what is seeded, so the data here is written the way production writes it, by whichever
agno the interpreter has: agno 3.1.10 writes the 3.x layout (runs in ``agno_runs``), on
PostgreSQL (``PostgresDb``) or SQLite (``SqliteDb``, a ``sqlite:///`` URL); agno 2.9.0 (run under
``.venv-agno2``) writes the legacy layout (runs in the ``agno_sessions.runs`` array, no
``agno_runs`` table), through the same Agent, Team and Workflow code below:

* The tables are created the way AgentOS start-up creates them (all 16, schema ``ai``).
* Every session is written by real agno ``Agent``, ``Team`` and ``Workflow`` objects (and one
  external-SDK agent built on agno's ``BaseExternalAgent``), driven by the offline
  ``ScriptedModel`` of ``tests/agno_seed.py``: no network, no API keys, and the rows are exactly
  what agno persists.
* Every run status agno has comes from agno itself: COMPLETED; ERROR (a model that raises, a
  workflow step that fails); CANCELLED (a tool that cancels its own run); PAUSED (a tool or a
  workflow step that needs confirmation); RUNNING (a ``checkpoint="tool-batch"`` run whose stream
  is abandoned after the first tool batch); PENDING (a background run whose worker never starts);
  REGENERATED (``continue_run(regenerate=True)``), plus a forked run.
* Edge cases the API derives fields from: team member runs (``store_member_responses``), a
  nested team, workflow step runs, tool calls, stored events, structured output, reasoning,
  input media, dict input, multi-turn sessions, stored and derived session names (including a
  stored empty name), summaries, nested metadata with lists and nulls, session state, the
  ``sdk`` metadata rule, sessions without runs and without users, unicode everywhere (emoji, ZWJ
  sequences, CJK, RTL, combining characters) and multi-megabyte sessions and runs.
* 3.x layout on PostgreSQL only: legacy pre-3.0 ``agno_sessions.runs`` JSONB blobs (contract
  §3.6): sessions whose runs live only in the blob, blobs that overlap the runs table, a JSON-null blob, an SQL-NULL blob, an
  empty array and a JSON-string blob. Blob elements are run dicts that agno really stored.
* Legacy layout only (agno 2.9.0, agno2-contract.md §3.4, §5): the shapes agno 2.x databases hold
  besides what the components write, set through ``upsert_session`` or SQL: ``session_data`` JSON
  null on a session with runs, a workflow run without input, a team session holding a workflow
  run, a session with no ``updated_at``, unicode session ids.
* Nothing is seeded that makes agno's AgentOS answer 500 (list/number run content, chat messages
  without ids, multi-part first messages): the comparison needs agno's 200 answers.
* Timestamps are rewritten at the end (sessions between 2026-01 and 2026-06, runs and messages
  inside their session's window) so that every session has a distinct ``created_at`` and a
  distinct ``updated_at``; AgentOS sorts without a tie-breaker, so equal keys would make list
  pages unstable.

``seed(url, profile)`` returns a JSON-serialisable manifest of what was written, for the request
generator. Session ids are fixed and readable; run ids are random.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import logging
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

os.environ.setdefault("AGNO_TELEMETRY", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

from agno.agent import Agent  # noqa: E402
from agno.agents.base import BaseExternalAgent  # noqa: E402
from agno.db.base import SessionType  # noqa: E402
from agno.db.postgres import PostgresDb  # noqa: E402
from agno.db.sqlite import SqliteDb  # noqa: E402
from agno.media import File, Image  # noqa: E402
from agno.metrics import MessageMetrics  # noqa: E402
from agno.models.response import ModelResponse  # noqa: E402
from agno.run import RunContext  # noqa: E402
from agno.session import AgentSession, TeamSession, WorkflowSession  # noqa: E402
from agno.session.summary import SessionSummary  # noqa: E402
from agno.team import Team  # noqa: E402
from agno.tools import tool  # noqa: E402
from agno.workflow import Step, Workflow  # noqa: E402
from agno.workflow.types import HumanReview, StepInput, StepOutput  # noqa: E402
from agno_seed import CityFacts, ScriptedModel, lookup_capital, shout  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Fixed values

U1, U2, U3 = "u1", "u2", "u3"
UNI_USER = "usuário-ñ-ユーザー-🦊"          # accents, CJK, emoji
RTL_USER = "مستخدم-٧"                         # Arabic, Arabic-Indic digit
MAIL_USER = "ada+test@example.com"            # '+' and '@' in a query value

# Sessions are spread over this window (UTC), one slot per session.
WINDOW_START = int(dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC).timestamp())
WINDOW_END = int(dt.datetime(2026, 6, 20, 18, 0, tzinfo=dt.UTC).timestamp())
RUN_GAP = 97            # seconds between consecutive runs of one session
TIME_KEYS = ("created_at", "updated_at", "start_time", "end_time", "checkpoint_created_at")

_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Größenordnung: Fußgängerübergänge in Zürich sind breit.",
    "東京の天気は晴れです。気温は二十三度。",
    "مرحبا بالعالم، هذا نص من اليمين إلى اليسار.",
    "Emoji run: 🚀🌍👩‍💻🇳🇴✨ and a café (cafe\u0301) with combining marks.",
    "Ελληνικά: η γρήγορη καφέ αλεπού.",
    "Числа: 3.14159, 2.71828, 1.41421 и так далее.",
    "한국어 문장도 조금 포함되어 있습니다.",
)


def prose(n_bytes: int, salt: int = 0) -> str:
    """Deterministic multilingual text of at least `n_bytes` UTF-8 bytes."""
    lines, size, i = [], 0, 0
    while size < n_bytes:
        line = f"[{salt}:{i:05d}] {_SENTENCES[(i + salt) % len(_SENTENCES)]}"
        lines.append(line)
        size += len(line.encode()) + 1
        i += 1
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Model and tools


@dataclass
class SeedModel(ScriptedModel):
    """`ScriptedModel` plus two script items: ``{"fail": msg}`` raises (a provider error) and
    ``{"reasoning": r, "text": t}`` answers with reasoning content."""

    def _answer(self) -> ModelResponse:
        item = self.script[0] if self.script else None
        if isinstance(item, dict) and "fail" in item:
            self.script.pop(0)
            raise RuntimeError(item["fail"])
        if isinstance(item, dict) and "reasoning" in item:
            self.script.pop(0)
            return ModelResponse(role="assistant", content=item["text"], reasoning_content=item["reasoning"],
                                 response_usage=MessageMetrics(input_tokens=21, output_tokens=30, total_tokens=51,
                                                               reasoning_tokens=12))
        return super()._answer()


def model(*script: Any) -> SeedModel:
    return SeedModel(script=list(script))


def call(tool_name: str, /, **args: Any) -> dict:
    return {"call": tool_name, "args": args}


def abort_request(reason: str, run_context: RunContext) -> str:
    """Stop working on the current request."""
    Agent.cancel_run(run_context.run_id)
    return f"aborting: {reason}"


def abort_team_request(reason: str, run_context: RunContext) -> str:
    """Stop the team's current request."""
    Team.cancel_run(run_context.run_id)
    return f"aborting: {reason}"


@tool(requires_confirmation=True)
def delete_file(path: str) -> str:
    """Delete a file (needs a human's confirmation)."""
    return f"deleted {path}"


_BIG_REPORT = prose(460_000, salt=7)


def fetch_report(name: str) -> str:
    """Fetch a (long) stored report by name."""
    return f"Report {name}:\n{_BIG_REPORT}"


def word_count(step_input: StepInput) -> StepOutput:
    """A function step: counts the words of the previous step."""
    words = str(step_input.previous_step_content or "").split()
    return StepOutput(content=f"{len(words)} words")


def fragile(step_input: StepInput) -> StepOutput:
    """A function step that always fails."""
    raise ValueError("upstream service unavailable ✗")


class EchoSdkAgent(BaseExternalAgent):
    """An external-framework agent (its sessions carry ``agent_data.sdk``) that echoes."""

    _sdk_name: ClassVar[str] = "echo-sdk"

    async def _arun_adapter(self, input: Any, *, history: Any = None, **kwargs: Any) -> str:
        return f"echo: {input}"


# ---------------------------------------------------------------------------------------------
# The seeding context


def open_db(url: str) -> Any:
    """agno's database object for a SQLAlchemy URL: ``SqliteDb`` for ``sqlite:///``, else ``PostgresDb``."""
    if url.startswith("sqlite"):
        return SqliteDb(db_file=url.split(":///", 1)[1])
    return PostgresDb(db_url=url)


class Seeder:
    def __init__(self, url: str):
        self.url = url
        self.db = open_db(url)
        self.engine = create_engine(url)
        self.sqlite = url.startswith("sqlite")
        self.schema = "" if self.sqlite else "ai."     # SqliteDb has no schema
        self.legacy = False                             # set once the tables exist (agno 2.x: no agno_runs)
        self.order: list[str] = []                      # session ids, in creation order
        self.tags: dict[str, list[str]] = {}
        self.blobs: dict[str, Any] = {}                 # session id -> legacy blob (None: JSON null; absent: SQL NULL)
        self.no_updated_at: set[str] = set()            # sessions whose updated_at is SQL NULL

    # -- bookkeeping
    def add(self, session_id: str, *tags: str) -> str:
        if session_id in self.tags:
            raise ValueError(f"duplicate session id {session_id}")
        self.order.append(session_id)
        self.tags[session_id] = list(tags)
        return session_id

    def sql(self, statement: str, **params: Any) -> list:
        """Run one statement; ``ai.`` names the schema (dropped on SQLite), ``:j_*`` parameters are JSON."""
        statement = statement.replace("ai.", self.schema)
        if not self.sqlite:
            statement = re.sub(r":(j_\w+)", r"CAST(:\1 AS JSONB)", statement)
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.fetchall() if result.returns_rows else []

    @staticmethod
    def json(value: Any) -> Any:
        """A JSON column read through ``sql`` (parsed by psycopg on PostgreSQL, text on SQLite)."""
        return json.loads(value) if isinstance(value, str) else value

    def create_tables(self) -> None:
        """What AgentOS does at start-up; then note the layout agno wrote."""
        self.db._create_all_tables()
        self.legacy = not inspect(self.engine).has_table("agno_runs", schema=None if self.sqlite else "ai")

    def stored_runs(self, session_id: str) -> list[dict]:
        """The run dicts agno stored for a session, in session order."""
        session = self.db.get_session(session_id=session_id, deserialize=False)
        return list(session["runs"] or []) if session else []

    def edit_session(self, session_id: str, session_type: SessionType, change: Callable[[Any], None]) -> None:
        """Load a session with agno, change it in memory, write it back with agno."""
        session = self.db.get_session(session_id=session_id, session_type=session_type)
        change(session)
        self.db.upsert_session(session)

    # -- component helpers
    def agent(self, agent_id: str, name: str, *script: Any, **kwargs: Any) -> Agent:
        return Agent(id=agent_id, name=name, db=self.db, telemetry=False, model=model(*script), **kwargs)

    def team(self, team_id: str, name: str, members: list, *script: Any, **kwargs: Any) -> Team:
        return Team(id=team_id, name=name, members=members, db=self.db, telemetry=False, model=model(*script), **kwargs)

    def workflow(self, workflow_id: str, name: str, steps: list, **kwargs: Any) -> Workflow:
        return Workflow(id=workflow_id, name=name, db=self.db, telemetry=False, steps=steps, **kwargs)


def member(agent_id: str, name: str, *script: Any, **kwargs: Any) -> Agent:
    """A team member or step agent: no db of its own (the team or workflow stores it)."""
    return Agent(id=agent_id, name=name, telemetry=False, model=model(*script), **kwargs)


def drain(stream: Iterator[Any]) -> None:
    for _ in stream:
        pass


# ---------------------------------------------------------------------------------------------
# Profile "main": agent sessions


def seed_agents(s: Seeder) -> None:
    # Two plain turns.
    sid = s.add("c-agent-two-turns", "multi-turn")
    a = s.agent("support-agent", "Support Agent", "Hi! How can I help you today?", "Paris is the capital of France.")
    a.run("Hello there 👋", session_id=sid, user_id=U1)
    a.run("What is the capital of France?", session_id=sid, user_id=U1)

    # Five turns with history in the context.
    sid = s.add("c-agent-history", "multi-turn")
    a = s.agent("support-agent", "Support Agent", *[f"Answer number {n}." for n in range(1, 6)],
                add_history_to_context=True, num_history_runs=3)
    for n, q in enumerate(["Plan a trip to Oslo", "Which month?", "And the budget?", "Any museums?", "Thanks!"]):
        a.run(q, session_id=sid, user_id=U2, metadata={"turn": n + 1})

    # A tool call, streamed, with its events stored.
    sid = s.add("c-agent-tool-events", "tools", "events")
    a = s.agent("ops-agent", "Ops Agent", call("lookup_capital", country="Norway"), "The capital of Norway is Oslo.",
                tools=[lookup_capital], store_events=True)
    drain(a.run("Capital of Norway?", session_id=sid, user_id=U1, stream=True, stream_events=True))

    # Structured output: the run content is an object.
    sid = s.add("c-agent-structured", "structured", "multi-turn")
    a = s.agent("facts-agent", "Facts Agent", {"json": {"city": "Zürich", "population_m": 0.42, "coastal": False}},
                {"json": {"city": "東京", "population_m": 13.96, "coastal": True}}, output_schema=CityFacts)
    a.run("Facts about Zürich", session_id=sid, user_id=U3)
    a.run("Facts about 東京", session_id=sid, user_id=U3)

    # Stored name, summary, nested metadata and session state.
    sid = s.add("c-agent-named-summary", "named", "summary", "metadata", "state")
    a = s.agent("support-agent", "Support Agent", "Noted: green.", "Sure, green it is.",
                session_state={"colour": "green", "visits": 1, "prefs": {"units": "metric", "langs": ["en", "de"]}},
                metadata={"project": "apollo"})
    a.run("My favourite colour is green", session_id=sid, user_id=U2)
    a.run("Remember it please", session_id=sid, user_id=U2)

    def name_and_summary(session: Any) -> None:
        session.session_data["session_name"] = "Colour talk 🎨"
        session.metadata = {"project": "apollo", "tags": ["alpha", "β"], "owner": {"team": "core", "oncall": None},
                            "priority": 3, "ratio": 0.25, "flags": [True, False, None], "empty": {}, "none": None}
        session.summary = SessionSummary(summary="The user likes green and wants it remembered.",
                                         topics=["colour", "preferences"],
                                         updated_at=dt.datetime(2026, 3, 4, 5, 6, 7, 891011))
    s.edit_session(sid, SessionType.AGENT, name_and_summary)

    # No user; run metadata.
    sid = s.add("c-agent-anon", "no-user")
    a = s.agent("support-agent", "Support Agent", "You are an anonymous visitor.")
    a.run("Who am I?", session_id=sid, metadata={"channel": "web", "ab": {"variant": "B", "weights": [0.5, 0.5]}})

    # Every run status agno produces, in one session.
    sid = s.add("c-agent-statuses", "statuses", "error", "cancelled", "paused", "running", "pending", "tools")
    a = s.agent("ops-agent", "Ops Agent", "All systems nominal.", {"fail": "provider exploded ⚡ (HTTP 529)"},
                call("abort_request", reason="the user left"), "(discarded: the run is cancelled before this answer)",
                call("delete_file", path="/srv/data/old.log"),
                tools=[abort_request, delete_file])
    a.run("Status report", session_id=sid, user_id=U1)
    a.run("This request will fail", session_id=sid, user_id=U1)
    a.run("Start a long job, then cancel it", session_id=sid, user_id=U1)
    a.run("Delete the old log", session_id=sid, user_id=U1)
    checkpointed = s.agent("ops-agent", "Ops Agent", call("lookup_capital", country="France"), "Paris.",
                           tools=[lookup_capital], checkpoint="tool-batch")
    stream = checkpointed.run("Capital of France, slowly", session_id=sid, user_id=U1, stream=True)
    next(iter(stream))          # the first tool batch is checkpointed as RUNNING; the stream is then abandoned
    stream.close()
    background = s.agent("ops-agent", "Ops Agent", "never produced")
    loop = asyncio.new_event_loop()   # the background worker is scheduled on this loop, which never runs again
    try:
        loop.run_until_complete(background.arun("Queued job", session_id=sid, user_id=U1, background=True))
    finally:
        loop.close()

    # Regenerated and forked runs.
    sid = s.add("c-agent-regenerate", "regenerated", "forked", "multi-turn")
    a = s.agent("support-agent", "Support Agent", "First answer.", "Second answer.", "A better second answer.",
                "An answer on a fork.")
    first = a.run("First question", session_id=sid, user_id=U3)
    second = a.run("Second question", session_id=sid, user_id=U3)
    a.continue_run(run_id=second.run_id, session_id=sid, user_id=U3, regenerate=True)
    a.continue_run(run_id=first.run_id, session_id=sid, user_id=U3, fork=True, input="First question, rephrased")

    # Paused for confirmation, then confirmed and continued.
    sid = s.add("c-agent-hitl-resumed", "tools", "hitl")
    a = s.agent("ops-agent", "Ops Agent", call("delete_file", path="/tmp/cache.bin"), "The cache file is deleted.",
                tools=[delete_file])
    paused = a.run("Delete the cache file", session_id=sid, user_id=U2)
    for requirement in paused.active_requirements:
        requirement.confirm()
    a.continue_run(run_response=paused, requirements=paused.requirements, session_id=sid, user_id=U2)

    # Unicode everywhere, with a unicode agent id and a stored RTL/emoji/combining name.
    sid = s.add("c-agent-unicode", "unicode", "named", "state", "metadata")
    a = s.agent("asistente-日本", "Asistente 日本 🤖", "こんにちは！🌸 Wie geht's? ¿Qué tal?", "שלום! مرحبا 👋🏽",
                session_state={"ciudad": "Zürich", "言語": ["日本語", "Deutsch"], "emoji": "👩‍💻", "rtl": "עברית"},
                metadata={"étiquette": "naïve café", "标签": ["测试", "😀"], "nested": {"ключ": None}})
    a.run("Grüße aus Zürich! 你好，世界 🌍", session_id=sid, user_id=UNI_USER)
    a.run("cafe\u0301 vs café — e\u0301 ≠ é, 🇳🇴🏳️‍🌈", session_id=sid, user_id=UNI_USER)
    s.db.rename_session(session_id=sid, session_type=SessionType.AGENT,
                        session_name="مرحبا 👩‍💻 cafe\u0301 東京 — «Ünïcødé»")

    # A session of several megabytes (many runs with long answers).
    sid = s.add("c-agent-big-session", "big", "multi-turn", "unicode")
    answers = [prose(150_000, salt=n) for n in range(12)]
    a = s.agent("support-agent", "Support Agent", *answers)
    for n in range(12):
        a.run(f"Chapter {n + 1}, please", session_id=sid, user_id=U2)

    # One run of more than a megabyte (a long tool result, stored three times with its events).
    sid = s.add("c-agent-big-run", "big-run", "tools", "events", "unicode")
    a = s.agent("ops-agent", "Ops Agent", call("fetch_report", name="Q2 ✓"), "The report is long; here is the gist.",
                tools=[fetch_report], store_events=True)
    drain(a.run("Fetch the Q2 report", session_id=sid, user_id=U1, stream=True, stream_events=True))

    # External-SDK agents: `agent_data.sdk` turns into `metadata.sdk`.
    sid = s.add("c-agent-sdk", "sdk", "metadata", "multi-turn")
    ext = EchoSdkAgent(id="echo-sdk-agent", name="Echo SDK Agent", db=s.db)
    ext.run("hello external", session_id=sid, user_id=U3)
    ext.run("and again ✨", session_id=sid, user_id=U3)

    def import_metadata(session: Any) -> None:
        session.metadata = {"origin": "import", "sdk": "stale-value", "labels": ["ext", None]}
    s.edit_session(sid, SessionType.AGENT, import_metadata)

    sid = s.add("c-agent-sdk-plain", "sdk", "no-user")
    EchoSdkAgent(id="echo-sdk-agent", name="Echo SDK Agent", db=s.db).run("just one", session_id=sid)

    # Reasoning content, then input media.
    sid = s.add("c-agent-reasoning-media", "reasoning", "media", "multi-turn")
    a = s.agent("support-agent", "Support Agent",
                {"reasoning": "The user wants a haiku. Five, seven, five.",
                 "text": "Autumn moonlight —\na worm digs silently\ninto the chestnut."},
                "A cat sitting on a mat, next to a PDF.")
    a.run("Write a haiku", session_id=sid, user_id=U1)
    a.run("Describe these", session_id=sid, user_id=U1,
          images=[Image(url="https://example.com/cat.png", id="img-cat")],
          files=[File(url="https://example.com/report.pdf", id="file-report")])

    # A dict input first (the derived name is the input's indented JSON), then a long input.
    sid = s.add("c-agent-dict-input", "dict-input", "long-input", "unicode")
    a = s.agent("facts-agent", "Facts Agent", "Got your structured question.", "y" * 400)
    a.run({"question": "Grüße 🙂", "n": 1, "opts": {"deep": True, "tags": ["a", None]}}, session_id=sid, user_id=U3)
    a.run("x" * 400, session_id=sid, user_id=U3)

    # Created without runs (as POST /sessions does): JSON-null session_data and metadata.
    sid = s.add("c-agent-empty", "no-runs")
    s.db.upsert_session(AgentSession(session_id=sid, agent_id="support-agent", user_id=U1, created_at=int(time.time())))

    # A stored empty name (wins over the derived one).
    sid = s.add("c-agent-empty-name", "empty-name")
    s.agent("support-agent", "Support Agent", "Named nothing.").run("Give this chat no name", session_id=sid, user_id=U2)
    s.db.rename_session(session_id=sid, session_type=SessionType.AGENT, session_name="")

    # A mail-like user id.
    sid = s.add("c-agent-mail-user", "special-user")
    s.agent("support-agent", "Support Agent", "Mail received.").run("Check my inbox", session_id=sid, user_id=MAIL_USER)


# ---------------------------------------------------------------------------------------------
# Profile "main": team sessions


def seed_teams(s: Seeder) -> None:
    # Delegation to a member that calls a tool; member responses and events stored.
    sid = s.add("c-team-delegate", "member-runs", "events", "tools")
    researcher = member("researcher", "Researcher", call("lookup_capital", country="France"), "Paris is the capital.",
                        tools=[lookup_capital])
    t = s.team("research-team", "Research Team", [researcher],
               call("delegate_task_to_member", member_id="researcher", task="Find the capital of France"),
               "The team found it: Paris.", store_member_responses=True, store_events=True)
    drain(t.run("What is the capital of France?", session_id=sid, user_id=U1, stream=True, stream_events=True))

    # Two plain turns, no delegation.
    sid = s.add("c-team-plain", "multi-turn")
    t = s.team("desk-team", "Desk Team", [member("writer", "Writer")], "Team hello.", "Team bye.")
    t.run("Hello team", session_id=sid, user_id=U3)
    t.run("Bye team", session_id=sid, user_id=U3)

    # Delegation to all members, two turns.
    sid = s.add("c-team-all-members", "member-runs", "multi-turn")
    t = s.team("panel-team", "Panel Team",
               [member("optimist", "Optimist", "It will work.", "Even better."),
                member("critic", "Critic", "It might fail.", "Still risky.")],
               call("delegate_task_to_members", task="Judge the plan"), "Opinions are split.",
               call("delegate_task_to_members", task="Judge the revised plan"), "Cautiously positive.",
               delegate_to_all_members=True, store_member_responses=True)
    t.run("Is the plan good?", session_id=sid, user_id=U2)
    t.run("And the revised plan?", session_id=sid, user_id=U2)

    # A team as a member of a team.
    sid = s.add("c-team-nested", "member-runs", "nested-team")
    inner = Team(id="inner-team", name="Inner Team", telemetry=False,
                 members=[member("leaf-agent", "Leaf Agent", "Leaf says hi.")],
                 model=model(call("delegate_task_to_member", member_id="leaf-agent", task="Say hi"), "Inner done."))
    t = s.team("panel-team", "Panel Team", [inner, member("critic", "Critic", "Fine.")],
               call("delegate_task_to_member", member_id="inner-team", task="Greet"), "Outer done.",
               store_member_responses=True)
    t.run("Greet through the inner team", session_id=sid, user_id=U1)

    # No user; stored name, summary (aware timestamp, empty topics), metadata and state.
    sid = s.add("c-team-named-summary", "named", "summary", "metadata", "state", "no-user")
    t = s.team("desk-team", "Desk Team", [member("writer", "Writer")], "Drafted.",
               session_state={"draft": 2, "sections": ["intro", "body"], "reviewer": None},
               metadata={"ticket": "DESK-42", "links": [{"rel": "doc", "href": "https://example.com/d"}]})
    t.run("Draft the announcement", session_id=sid)

    def name_and_summary(session: Any) -> None:
        session.session_data["session_name"] = "Announcement draft"
        session.summary = SessionSummary(summary="A draft announcement was written.", topics=[],
                                         updated_at=dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC))
    s.edit_session(sid, SessionType.TEAM, name_and_summary)

    # Team run statuses: completed, error, cancelled, paused.
    sid = s.add("c-team-statuses", "statuses", "error", "cancelled", "paused", "tools")
    t = s.team("research-team", "Research Team", [member("researcher", "Researcher")],
               "Nothing to report.", {"fail": "team model unavailable (503)"},
               call("abort_team_request", reason="superseded"), "(discarded: the run is cancelled before this answer)",
               call("delete_file", path="/srv/tmp/x"),
               tools=[abort_team_request, delete_file])
    t.run("Anything new?", session_id=sid, user_id=U1)
    t.run("This will fail", session_id=sid, user_id=U1)
    t.run("Start and cancel", session_id=sid, user_id=U1)
    t.run("Delete the temp file", session_id=sid, user_id=U1)

    # Unicode, RTL user, structured team output.
    sid = s.add("c-team-unicode", "unicode", "structured")
    t = s.team("desk-team", "Desk Team", [member("writer", "Writer")],
               {"json": {"city": "القاهرة", "population_m": 10.1, "coastal": False}}, output_schema=CityFacts)
    t.run("حقائق عن القاهرة 🐪", session_id=sid, user_id=RTL_USER)

    # Created without runs.
    sid = s.add("c-team-empty", "no-runs")
    s.db.upsert_session(TeamSession(session_id=sid, team_id="desk-team", user_id=U3, created_at=int(time.time())))


# ---------------------------------------------------------------------------------------------
# Profile "main": workflow sessions


def seed_workflows(s: Seeder) -> None:
    # An agent step then a function step, streamed with events.
    sid = s.add("c-workflow-steps", "events", "step-runs")
    w = s.workflow("pipeline-wf", "Pipeline Workflow",
                   [Step(name="research", agent=member("step-researcher", "Step Researcher", "cats sleep a lot")),
                    Step(name="shout", executor=shout)], store_events=True)
    drain(w.run(input="Tell me about cats", session_id=sid, user_id=U2, stream=True, stream_events=True))

    # A dict input: the derived name is its compact JSON.
    sid = s.add("c-workflow-dict", "dict-input")
    w = s.workflow("shout-wf", "Shout Workflow", [Step(name="shout", executor=shout)])
    w.run(input={"topic": "dogs", "depth": 2, "filters": {"breed": None, "tags": ["small"]}}, session_id=sid, user_id=U1)

    # A team step, then a function step.
    sid = s.add("c-workflow-team-step", "step-runs")
    step_team = Team(id="step-team", name="Step Team", telemetry=False,
                     members=[member("step-writer", "Step Writer")], model=model("A team-written paragraph about owls."))
    w = s.workflow("review-wf", "Review Workflow", [Step(name="write", team=step_team), Step(name="count", executor=word_count)])
    w.run(input="Write about owls", session_id=sid, user_id=U3)

    # Three runs, with session state and metadata.
    sid = s.add("c-workflow-multi-run", "multi-turn", "state", "metadata", "step-runs")
    w = s.workflow("pipeline-wf", "Pipeline Workflow",
                   [Step(name="research", agent=member("step-researcher", "Step Researcher", "one", "two", "three")),
                    Step(name="shout", executor=shout)],
                   session_state={"batch": 7, "seen": ["a", "b"]}, metadata={"env": "staging", "owner": {"id": None}})
    for topic in ("owls", "bats", "moths"):
        w.run(input=f"Research {topic}", session_id=sid, user_id=U1)

    # Unicode input, stored name.
    sid = s.add("c-workflow-unicode", "unicode", "named")
    w = s.workflow("shout-wf", "Shout Workflow", [Step(name="shout", executor=shout)])
    w.run(input="straße → STRASSE? ß, ǆ, ﬁ, 🐍 — ελληνικά", session_id=sid, user_id=UNI_USER)
    s.db.rename_session(session_id=sid, session_type=SessionType.WORKFLOW, session_name="Großschreibung 🔠 テスト")

    # A step that fails: the workflow run is stored as ERROR.
    sid = s.add("c-workflow-error", "error")
    w = s.workflow("review-wf", "Review Workflow",
                   [Step(name="shout", executor=shout),
                    Step(name="fragile", executor=fragile, max_retries=0, human_review=HumanReview(on_error="fail"))])
    with contextlib.suppress(ValueError), contextlib.redirect_stderr(io.StringIO()):   # agno prints the traceback
        w.run(input="Try the fragile path", session_id=sid, user_id=U2)

    # A step that needs confirmation: the workflow run is stored as PAUSED.
    sid = s.add("c-workflow-paused", "paused", "hitl")
    w = s.workflow("review-wf", "Review Workflow",
                   [Step(name="shout", executor=shout),
                    Step(name="publish", executor=shout,
                         human_review=HumanReview(requires_confirmation=True, confirmation_message="Publish now?"))])
    w.run(input="Publish the draft", session_id=sid, user_id=U1)

    # Created without runs and without a user.
    sid = s.add("c-workflow-empty", "no-runs", "no-user")
    s.db.upsert_session(WorkflowSession(session_id=sid, workflow_id="shout-wf", session_data={}, workflow_data={},
                                        metadata={}, created_at=int(time.time())))


# ---------------------------------------------------------------------------------------------
# Profile "main": legacy `runs` blobs (contract §3.6)


def seed_legacy(s: Seeder) -> None:
    """Sessions written by real components; their blobs are set after the column is added."""

    def to_blob(session_id: str) -> list[dict]:
        """Move a session's stored runs out of agno_runs; they become its legacy blob."""
        runs = s.stored_runs(session_id)
        s.sql("DELETE FROM ai.agno_runs WHERE session_id = :sid", sid=session_id)
        return runs

    # (a) runs only in the blob: agent, team (with its member run), workflow.
    sid = s.add("c-legacy-only-agent", "legacy-only", "multi-turn")
    a = s.agent("support-agent", "Support Agent", "Legacy hello.", "Legacy answer: 42.")
    a.run("Legacy question one", session_id=sid, user_id=U1)
    a.run("Legacy question two", session_id=sid, user_id=U1)
    s.blobs[sid] = to_blob(sid)

    sid = s.add("c-legacy-only-team", "legacy-only", "member-runs")
    t = s.team("research-team", "Research Team", [member("researcher", "Researcher", "Legacy member result.")],
               call("delegate_task_to_member", member_id="researcher", task="Old task"), "Legacy team answer.",
               store_member_responses=True)
    t.run("Legacy team question", session_id=sid, user_id=U2)
    s.blobs[sid] = to_blob(sid)

    sid = s.add("c-legacy-only-workflow", "legacy-only", "step-runs")
    w = s.workflow("pipeline-wf", "Pipeline Workflow",
                   [Step(name="research", agent=member("step-researcher", "Step Researcher", "legacy research")),
                    Step(name="shout", executor=shout)])
    w.run(input="Legacy workflow input", session_id=sid, user_id=U3)
    s.blobs[sid] = to_blob(sid)

    # (b) blob and table overlap: blob = [old-1, run-A (stale copy), old-2, run-B]; table = [run-A, run-B, run-C].
    sid = s.add("c-legacy-mixed-agent", "legacy-mixed", "multi-turn")
    a = s.agent("support-agent", "Support Agent", "Old answer one.", "Old answer two.",
                "Answer A.", "Answer B.", "Answer C.")
    a.run("Old question one", session_id=sid, user_id=U1)
    a.run("Old question two", session_id=sid, user_id=U1)
    old_one, old_two = to_blob(sid)
    for q in ("Question A", "Question B", "Question C"):
        a.run(q, session_id=sid, user_id=U1)
    run_a, run_b, _run_c = s.stored_runs(sid)
    stale_a = {**run_a, "status": "RUNNING", "content": "Answer A (partial"}
    s.blobs[sid] = [old_one, stale_a, old_two, run_b]

    sid = s.add("c-legacy-mixed-team", "legacy-mixed", "member-runs")
    t = s.team("desk-team", "Desk Team", [member("writer", "Writer")], "Old team answer.", "Team answer A.", "Team answer B.")
    t.run("Old team question", session_id=sid, user_id=U2)
    (old_team,) = to_blob(sid)
    t.run("Team question A", session_id=sid, user_id=U2)
    t.run("Team question B", session_id=sid, user_id=U2)
    team_a, _team_b = s.stored_runs(sid)
    s.blobs[sid] = [old_team, {**team_a, "content": "Team answer A (as first stored)"}]

    # (c) a JSON-null blob, an SQL-NULL blob, an empty array, and a JSON string holding the array.
    sid = s.add("c-legacy-json-null", "legacy-json-null")
    s.agent("support-agent", "Support Agent", "Table run.").run("Only in the table", session_id=sid, user_id=U3)
    s.blobs[sid] = None

    sid = s.add("c-legacy-sql-null", "legacy-sql-null", "no-user")
    s.agent("support-agent", "Support Agent", "Table run, no blob.").run("No blob at all", session_id=sid)

    sid = s.add("c-legacy-empty-array", "legacy-empty")
    s.agent("support-agent", "Support Agent", "Table run, empty blob.").run("Empty blob", session_id=sid, user_id=U1)
    s.blobs[sid] = []

    sid = s.add("c-legacy-string", "legacy-only", "legacy-string")
    a = s.agent("support-agent", "Support Agent", "Stringified legacy answer.")
    a.run("Stringified legacy question", session_id=sid, user_id=U2)
    s.blobs[sid] = json.dumps(to_blob(sid))


def seed_legacy_shapes(s: Seeder) -> None:
    """agno 2.x databases only: shapes that 2.x databases hold besides what a live component writes."""

    def edit_runs(session_id: str, change: Callable[[list], list]) -> None:
        runs = s.json(s.sql("SELECT runs FROM ai.agno_sessions WHERE session_id = :sid", sid=session_id)[0][0])
        s.sql("UPDATE ai.agno_sessions SET runs = :j_runs WHERE session_id = :sid",
              j_runs=json.dumps(change(list(runs or []))), sid=session_id)

    # session_data JSON null on a session with runs (sessions imported or written by older agno):
    # the name is derived from the runs, there are no metrics, and 2.9.0 cannot rename it.
    sid = s.add("c2-null-data-runs", "json-null-data", "multi-turn")
    a = s.agent("support-agent", "Support Agent", "Imported answer one.", "Imported answer two.")
    a.run("Imported question one", session_id=sid, user_id=U2)
    a.run("Imported question two", session_id=sid, user_id=U2)
    s.sql("UPDATE ai.agno_sessions SET session_data = :j_data WHERE session_id = :sid", j_data="null", sid=sid)

    # A workflow run stored without input: the name is "New <workflow name> Session".
    sid = s.add("c2-workflow-no-input", "no-input")
    s.workflow("shout-wf", "Shout Workflow", [Step(name="shout", executor=shout)]).run(
        input="input removed below", session_id=sid, user_id=U3)
    edit_runs(sid, lambda runs: [{k: v for k, v in run.items() if k != "input"} for run in runs])

    # A team session that also holds a workflow run (neither agent_id nor team_id): listed, never
    # shown by detail or runs, and dropped by a 2.9.0 PATCH.
    sid = s.add("c2-team-odd-run", "odd-team", "member-runs")
    s.team("research-team", "Research Team", [member("researcher", "Researcher", "Odd member result.")],
           call("delegate_task_to_member", member_id="researcher", task="Odd task"), "Odd team answer.",
           store_member_responses=True).run("A team session with a stray run", session_id=sid, user_id=U1)
    w = s.workflow("shout-wf", "Shout Workflow", [Step(name="shout", executor=shout)])
    w.run(input="stray workflow run", session_id="c2-stray-source", user_id=U1)
    stray = s.json(s.sql("SELECT runs FROM ai.agno_sessions WHERE session_id = 'c2-stray-source'")[0][0])[0]
    s.sql("DELETE FROM ai.agno_sessions WHERE session_id = 'c2-stray-source'")
    edit_runs(sid, lambda runs: [*runs, {**stray, "session_id": sid}])

    # updated_at SQL NULL (rows written before agno set it): lists omit it, details fall back.
    sid = s.add("c2-no-updated-at", "no-updated-at")
    s.agent("support-agent", "Support Agent", "Old row.").run("An old row", session_id=sid, user_id=U3)
    s.no_updated_at.add(sid)

    # Unicode session ids, percent-encoded in every path.
    sid = s.add("c2-ünïcødé-セッション-🦊", "unicode-id", "unicode", "multi-turn")
    a = s.agent("asistente-日本", "Asistente 日本 🤖", "Hallo! 👋", "さようなら")
    a.run("Grüezi 🇨🇭", session_id=sid, user_id=UNI_USER)
    a.run("Sayōnara", session_id=sid, user_id=UNI_USER)
    sid = s.add("c2-team ü 团队", "unicode-id", "unicode")
    s.team("desk-team", "Desk Team", [member("writer", "Writer")], "团队回答。").run(
        "Ein Team mit Leerzeichen im Namen", session_id=sid, user_id=RTL_USER)


def install_blobs(s: Seeder) -> None:
    """Add the pre-3.0 column (JSONB, nullable) and write the blobs."""
    s.sql("ALTER TABLE ai.agno_sessions ADD COLUMN IF NOT EXISTS runs JSONB")
    for sid, blob in s.blobs.items():
        s.sql("UPDATE ai.agno_sessions SET runs = CAST(:blob AS JSONB) WHERE session_id = :sid",
              blob=json.dumps(blob), sid=sid)


# ---------------------------------------------------------------------------------------------
# Profile "second"


def seed_second(s: Seeder) -> None:
    sid = s.add("s2-agent-chat", "multi-turn")
    a = s.agent("second-agent", "Second Agent", "Hello from the second database.", "Still here.")
    a.run("Hello second db", session_id=sid, user_id="v1")
    a.run("Are you there? 🛰️", session_id=sid, user_id="v1")

    sid = s.add("s2-agent-tool", "tools")
    s.agent("second-agent", "Second Agent", call("lookup_capital", country="France"), "Paris.",
            tools=[lookup_capital]).run("Capital of France?", session_id=sid, user_id="v2")

    sid = s.add("s2-agent-named", "named", "no-user")
    s.agent("second-agent", "Second Agent", "Named.").run("Name me", session_id=sid)
    s.db.rename_session(session_id=sid, session_type=SessionType.AGENT, session_name="Second-db chat 2️⃣")

    sid = s.add("s2-team-delegate", "member-runs")
    s.team("second-team", "Second Team", [member("second-member", "Second Member", "Member answer.")],
           call("delegate_task_to_member", member_id="second-member", task="Answer"), "Team answer.",
           store_member_responses=True).run("Ask the second team", session_id=sid, user_id="v1")

    sid = s.add("s2-workflow-steps", "step-runs")
    s.workflow("second-workflow", "Second Workflow",
               [Step(name="research", agent=member("second-step-agent", "Second Step Agent", "found it")),
                Step(name="shout", executor=shout)]).run(input="Second workflow input", session_id=sid, user_id="v2")

    sid = s.add("s2-workflow-empty", "no-runs")
    s.db.upsert_session(WorkflowSession(session_id=sid, workflow_id="second-workflow", user_id="v3", session_data={},
                                        workflow_data={}, metadata={}, created_at=int(time.time())))


# ---------------------------------------------------------------------------------------------
# Timestamps


def _shift(value: Any, delta: int) -> Any:
    """Shift every epoch timestamp (keys in TIME_KEYS) inside a run dict by `delta` seconds."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in TIME_KEYS and isinstance(item, (int, float)) and not isinstance(item, bool) and item > 1e9:
                out[key] = item + delta
            else:
                out[key] = _shift(item, delta)
        return out
    if isinstance(value, list):
        return [_shift(item, delta) for item in value]
    return value


def _merged_order(table_runs: list[dict], blob: Any) -> list[str]:
    """Run ids in the order agno reads them: blob order (table copy wins), then table-only runs."""
    if isinstance(blob, str):
        blob = json.loads(blob)
    ids: list[str] = []
    for run in blob or []:
        if isinstance(run, dict) and run.get("run_id") and run["run_id"] not in ids:
            ids.append(run["run_id"])
    ids += [r["run_id"] for r in table_runs if r["run_id"] not in ids]
    return ids


def rewrite_timestamps(s: Seeder) -> None:
    """Distinct, past session timestamps; runs (and their messages, events, tools) inside them."""
    order = list(s.order)
    random.Random(20260101).shuffle(order)     # interleave types on the time line, deterministically
    slot = (WINDOW_END - WINDOW_START) // max(len(order), 1)
    used_updated: set[int] = set()
    for i, sid in enumerate(order):
        created = WINDOW_START + i * slot + (i * 523) % 3000
        if s.legacy:
            rows = []
            blob = s.json(s.sql("SELECT runs FROM ai.agno_sessions WHERE session_id = :sid", sid=sid)[0][0])
            s.blobs[sid] = blob
        else:
            rows = s.sql("SELECT run_id, run_data FROM ai.agno_runs WHERE session_id = :sid "
                         "ORDER BY run_index ASC, created_at ASC, run_id ASC", sid=sid)
            blob = s.blobs.get(sid)
        table_runs = [s.json(row[1]) for row in rows]
        new_at = {rid: created + RUN_GAP * (k + 1) for k, rid in enumerate(_merged_order(table_runs, blob))}
        for run in table_runs:
            at = new_at[run["run_id"]]
            shifted = _shift(run, at - int(run.get("created_at") or at))
            shifted["created_at"] = at
            s.sql("UPDATE ai.agno_runs SET run_data = :j_data, created_at = :at, updated_at = :up "
                  "WHERE run_id = :rid", j_data=json.dumps(shifted), at=at, up=at + 5, rid=run["run_id"])
        if isinstance(blob, (list, str)) and blob:
            items = json.loads(blob) if isinstance(blob, str) else blob
            moved = []
            for run in items:
                if not isinstance(run, dict) or run.get("run_id") not in new_at:
                    moved.append(run)
                    continue
                at = new_at[run["run_id"]]
                shifted = _shift(run, at - int(run.get("created_at") or at))
                shifted["created_at"] = at
                moved.append(shifted)
            s.blobs[sid] = json.dumps(moved) if isinstance(blob, str) else moved
        # Most sessions are updated right after their last run; every fourth one weeks later,
        # so that ordering by updated_at differs from ordering by created_at.
        updated = created + RUN_GAP * (len(new_at) + 1) + 60
        later = updated + 86400 * (20 + i % 9)
        if i % 4 == 1 and later < WINDOW_END:
            updated = later
        while updated in used_updated:
            updated += 60
        used_updated.add(updated)
        if sid in s.no_updated_at:
            updated = None
        s.sql("UPDATE ai.agno_sessions SET created_at = :c, updated_at = :u WHERE session_id = :sid",
              c=created, u=updated, sid=sid)
        if s.legacy and isinstance(s.blobs.get(sid), list):
            s.sql("UPDATE ai.agno_sessions SET runs = :j_runs WHERE session_id = :sid",
                  j_runs=json.dumps(s.blobs[sid]), sid=sid)


# ---------------------------------------------------------------------------------------------
# Manifest


def build_manifest(s: Seeder, profile: str) -> dict:
    reader = open_db(s.url)                    # a fresh instance sees the legacy column
    sessions: dict[str, dict] = {}
    users: set[str] = set()
    components: dict[str, set[str]] = {"agent": set(), "team": set(), "workflow": set()}
    total_bytes = n_runs = 0
    for sid in s.order:
        row = s.sql("SELECT session_type, user_id, agent_id, team_id, workflow_id, session_data "
                    "FROM ai.agno_sessions WHERE session_id = :sid", sid=sid)[0]
        kind, user_id, agent_id, team_id, workflow_id, data = row
        data = s.json(data)
        name = data.get("session_name") if isinstance(data, dict) else None
        component = {"agent": agent_id, "team": team_id, "workflow": workflow_id}[kind]
        runs = [r for r in reader.get_session(session_id=sid, deserialize=False)["runs"] or [] if isinstance(r, dict)]
        top = [r["run_id"] for r in runs if not r.get("parent_run_id")]
        members = [r["run_id"] for r in runs if r.get("parent_run_id")]
        statuses = {r["run_id"]: r.get("status") for r in runs}
        sessions[sid] = {"type": kind, "user_id": user_id, "component_id": component, "name": name,
                         "null_data": data is None,
                         "runs": top, "member_runs": members, "statuses": statuses, "tags": s.tags[sid]}
        if user_id is not None:
            users.add(user_id)
        if component:
            components[kind].add(component)
        n_runs += len(runs)
    size = "length(CAST({} AS BLOB))" if s.sqlite else "octet_length({}::text)"
    total_bytes = 0
    if not s.legacy:
        total_bytes += s.sql(f"SELECT coalesce(sum({size.format('run_data')}), 0) FROM ai.agno_runs")[0][0]
    if s.blobs:
        total_bytes += s.sql(f"SELECT coalesce(sum({size.format('runs')}), 0) FROM ai.agno_sessions")[0][0]
    layout = "sqlite" if s.sqlite else "legacy" if s.legacy else "v3"
    return {"profile": profile, "layout": layout, "sessions": sessions, "users": sorted(users),
            "components": {k: sorted(v) for k, v in components.items()},
            "totals": {"sessions": len(sessions), "runs": n_runs, "run_data_bytes": int(total_bytes)}}


# ---------------------------------------------------------------------------------------------
# Entry points


@contextlib.contextmanager
def quiet_agno() -> Iterator[None]:
    """agno logs every failed, cancelled and paused run it is made to produce here; mute it."""
    loggers = [logging.getLogger(name) for name in ("agno", "agno-team", "agno-workflow", "asyncio")]
    saved = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, saved, strict=True):
            lg.disabled = was


def seed(url: str, profile: str = "main") -> dict:
    """Seed the empty database at `url` (a SQLAlchemy URL) and return the manifest."""
    if profile not in ("main", "second"):
        raise ValueError(f"unknown profile {profile!r}")
    s = Seeder(url)
    try:
        with quiet_agno():
            s.create_tables()
            if profile == "main":
                seed_agents(s)
                seed_teams(s)
                seed_workflows(s)
                if s.legacy:
                    seed_legacy_shapes(s)
                elif not s.sqlite:
                    seed_legacy(s)
            else:
                seed_second(s)
            rewrite_timestamps(s)
            if s.blobs and not s.legacy:
                install_blobs(s)
            return build_manifest(s, profile)
    finally:
        s.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="SQLAlchemy URL of an empty database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/db "
                    "or sqlite:////tmp/seed.db")
    ap.add_argument("--profile", choices=("main", "second"), default="main")
    ap.add_argument("--manifest", help="write the manifest (JSON) to this file")
    args = ap.parse_args(argv)
    started = time.monotonic()
    manifest = seed(args.url, args.profile)
    if args.manifest:
        with open(args.manifest, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=1)
    totals = manifest["totals"]
    print(f"seeded profile {args.profile}: {totals['sessions']} sessions, {totals['runs']} runs, "
          f"{totals['run_data_bytes'] / 1e6:.1f} MB of run data in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
