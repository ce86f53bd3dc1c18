#!/usr/bin/env python3
"""A realistic agno 3.x database at a chosen scale, quickly, for `make bench`.

    python tools/bench/seed.py --url postgresql://postgres@127.0.0.1:5432/bench_x --sessions 2000 --runs 26000 \
        [--seed 1] [--schema ai] [--manifest FILE] [--replace] [--verify]

What it writes, and where the shapes come from:

* **Templates from real agno.** Real agno 3.1.10 ``Agent``, ``Team`` and ``Workflow`` objects, driven
  by the offline ``ScriptedModel`` of ``tests/agno_seed.py``, run once against a scratch schema of
  the target database: agents that chat, call one or two tools, keep session state, stream with
  their events stored, fail; teams that answer directly or delegate to one or two members (member
  runs stored); two-step workflows. Every text they see or say is a marker (``QQINPUTQQ``,
  ``QQANSWERQQ``, ``QQTOOLRESAQQ``, ``QQAGENTIDQQ``, ...), so the rows agno writes
  (``agno_sessions`` and ``agno_runs``) become templates: wherever agno copies a text (the run's
  content, its messages, tool results, stored events, member responses, workflow step results),
  the marker shows where the generated text goes. The rows are cached in ``build/bench/``.
* **Multiplied.** Sessions get a type (70 % agent, 20 % team, 10 % workflow), a component
  (dozens of agent, team and workflow ids, each with a profile, model and system prompt, used with
  a long-tailed popularity), a user (hundreds, long-tailed; a few sessions without one), a
  long-tailed number of runs (most a few, some hundreds; the total is exact), timestamps spread
  over six months (runs inside their session's time line; rows inserted in time order, as a live
  database grows), a stored name, a summary and metadata for some. Every run's payload size is
  drawn from the distribution of issue 7 (p50 12 KB, p99 91 KB, max 0.5 MB) and reached by
  growing the template's texts: user input, answers, tool results, member answers and step
  outputs, each cut from a generated corpus of prose, markdown, code and JSON search results
  (multilingual in part), so TOAST compression sees text, not padding. Ids (session, run,
  message, tool call) are fresh and unique; token counts scale with the text; the session row's
  ``session_metrics`` is the sum agno would have accumulated. A few multi-megabyte sessions
  (default 8, 4 and 2 MB: agent, team, workflow) have their ids in the manifest.
* **Fast.** The tables are created by the service's own ``bootstrap_tables`` (agno's DDL and
  indexes, names included), truncated and loaded with ``COPY ... FREEZE`` in one transaction
  (the foreign key is dropped during the load and added back with its exact definition), then
  ``ANALYZE``.
* **Manifest.** ``seed()`` returns (and the command writes, by default to
  ``build/bench/manifest-<sessions>-<runs>-s<seed>.json``) the ids a benchmark needs: typical
  sessions and runs per type, the big sessions, users and components with their session counts,
  filters of several selectivities, and the figures of what was generated.

``--verify`` then reads the data back with agno's own ``PostgresDb`` and through this service's
routes (in process); ``tests/test_bench_seed.py`` does both on a small scale.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import json
import logging
import math
import os
import random
import re
import string
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

os.environ.setdefault("AGNO_TELEMETRY", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(ROOT, "build", "bench")

# Bump when the template runs below change: the cache file name carries it.
TEMPLATE_VERSION = 1

# ---------------------------------------------------------------------------------------------
# The knobs (issue 7's reference figures)

TYPE_MIX = (("agent", 0.70), ("team", 0.20), ("workflow", 0.10))
PAYLOAD_P50 = 12_000            # bytes of run_data as PostgreSQL prints it, over all runs...
PAYLOAD_P99 = 91_000
PAYLOAD_MAX = 500_000
PAYLOAD_MIN = 1_200
# ...which is what comes out when the main run of each turn is drawn from a log-normal with this
# median (team member runs, sized by what they share with their team run, are small: 10 % of
# the rows at about 2 KB pull the overall median down); measured at 2,000/26,000.
SAMPLE_P50 = 13_000
RUNS_MEDIAN = 4                 # runs per session: log-normal, median and sigma...
RUNS_SIGMA = 1.5
RUNS_CAP = 800                  # ...capped; scaled so that the total is exactly what was asked
ANONYMOUS_SHARE = 0.03          # sessions without a user
NAMED_SHARE = 0.20              # sessions with a stored session_name (agent and team)
SUMMARY_SHARE = 0.10            # sessions with a summary (agent and team)
METADATA_SHARE = 0.35           # sessions with metadata
WINDOW_END = int(dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp())
WINDOW_DAYS = 182
# Multi-megabyte sessions: (type, megabytes of run_data, runs).
DEFAULT_BIG = (("agent", 8, 60), ("team", 4, 45), ("workflow", 2, 30))

# Run kinds, per component profile: which template turns a component produces, how often.
PROFILES = {
    "agent": {
        "assistant": (0.30, {"chat": 0.97, "error": 0.03}),
        "rag": (0.40, {"tool1": 0.45, "tool2": 0.25, "chat": 0.28, "error": 0.02}),
        "stateful": (0.15, {"state": 0.98, "error": 0.02}),
        "streaming": (0.15, {"events_chat": 0.45, "events_tool1": 0.53, "error": 0.02}),
    },
    "team": {
        "coordinate": (0.75, {"team_direct": 0.25, "team_delegate1": 0.50, "team_delegate2": 0.25}),
        "streaming": (0.25, {"events_team_direct": 0.30, "events_team_delegate1": 0.70}),
    },
    "workflow": {
        "pipeline": (0.85, {"wf": 1.0}),
        "streaming": (0.15, {"events_wf": 1.0}),
    },
}

# Texts that grow a run to its size: the corpus each is cut from, its weight in the split, and
# a cap per occurrence (a model answer is not 200 KB; a tool result or a pasted document can be).
GROWABLE = {
    "INPUT": ("prompt", 0.0, None),
    "ANSWER": ("answer", 1.0, 40_000),
    "TOOLRESA": ("tool", 3.0, None),
    "TOOLRESB": ("tool", 3.0, None),
    "MEMBERANSA": ("answer", 1.0, 30_000),
    "MEMBERANSB": ("answer", 1.0, 30_000),
    "STEPANSA": ("answer", 1.0, 30_000),
    "STEPANSB": ("answer", 1.0, 30_000),
}


def _marker(name: str) -> str:
    return f"QQ{name}QQ"


# ---------------------------------------------------------------------------------------------
# Templates: real agno components, run once with markers for every text


def _agno_turns(db: Any) -> dict[str, str]:
    """Run every template turn against `db` (an agno PostgresDb), one fresh session each;
    returns {kind: session_id}."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from agno.agent import Agent
    from agno.team import Team
    from agno.workflow import Step, Workflow
    from agno_seed import ScriptedModel

    @dataclass
    class FailingModel(ScriptedModel):
        """`ScriptedModel` whose script item ``{"fail": message}`` raises (a provider error)."""

        def _answer(self):
            if self.script and isinstance(self.script[0], dict) and "fail" in self.script[0]:
                raise RuntimeError(self.script.pop(0)["fail"])
            return super()._answer()

    M = _marker

    def model(*script: Any) -> Any:
        return FailingModel(id=M("MODELID"), name=M("MODELNAME"), provider=M("PROVIDER"), script=list(script))

    def search_knowledge_base(query: str) -> str:
        """Search the knowledge base and return the best matching passages."""
        return M("TOOLRESA")

    def fetch_document(doc_id: str) -> str:
        """Fetch the full text of a document by its id."""
        return M("TOOLRESB")

    tools = [search_knowledge_base, fetch_document]
    search = {"call": "search_knowledge_base", "args": {"query": M("ARGA")}}
    fetch = {"call": "fetch_document", "args": {"doc_id": M("ARGB")}}
    state = {"topic": M("TOPIC"), "visits": 3, "preferences": {"language": M("LANG"), "units": "metric"}}
    sessions: dict[str, str] = {}

    def agent(kind: str, *script: Any, stream: bool = False, **kwargs: Any) -> None:
        sid = M(f"SESSION{len(sessions)}")
        a = Agent(id=M("AGENTID"), name=M("AGENTNAME"), db=db, telemetry=False, instructions=M("SYSPROMPT"),
                  markdown=True, model=model(*script), store_events=stream, **kwargs)
        if stream:
            for _ in a.run(M("INPUT"), session_id=sid, user_id=M("USER"), stream=True, stream_events=True):
                pass
        else:
            a.run(M("INPUT"), session_id=sid, user_id=M("USER"))
        sessions[kind] = sid

    agent("chat", M("ANSWER"))
    agent("tool1", search, M("ANSWER"), tools=tools)
    agent("tool2", search, fetch, M("ANSWER"), tools=tools)
    agent("state", M("ANSWER"), session_state=state, add_session_state_to_context=True)
    agent("error", {"fail": "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', "
                            "'message': 'Overloaded'}}"})
    agent("events_chat", M("ANSWER"), stream=True)
    agent("events_tool1", search, M("ANSWER"), tools=tools, stream=True)

    def team(kind: str, *script: Any, stream: bool = False) -> None:
        sid = M(f"SESSION{len(sessions)}")
        members = [Agent(id=M(f"MEMBER{x}ID"), name=M(f"MEMBER{x}NAME"), role=M(f"MEMBER{x}ROLE"), telemetry=False,
                         model=model(M(f"MEMBERANS{x}"))) for x in "AB"]
        t = Team(id=M("TEAMID"), name=M("TEAMNAME"), members=members, db=db, telemetry=False,
                 instructions=M("SYSPROMPT"), store_member_responses=True, store_events=stream, model=model(*script))
        if stream:
            for _ in t.run(M("INPUT"), session_id=sid, user_id=M("USER"), stream=True, stream_events=True):
                pass
        else:
            t.run(M("INPUT"), session_id=sid, user_id=M("USER"))
        sessions[kind] = sid

    def delegate(x: str) -> dict:
        return {"call": "delegate_task_to_member", "args": {"member_id": M(f"MEMBER{x}ID"), "task": M(f"TASK{x}")}}

    team("team_direct", M("ANSWER"))
    team("team_delegate1", delegate("A"), M("ANSWER"))
    team("team_delegate2", delegate("A"), delegate("B"), M("ANSWER"))
    team("events_team_direct", M("ANSWER"), stream=True)
    team("events_team_delegate1", delegate("A"), M("ANSWER"), stream=True)

    def workflow(kind: str, stream: bool = False) -> None:
        sid = M(f"SESSION{len(sessions)}")
        steps = [Step(name=M(f"STEPNAME{x}"), agent=Agent(id=M(f"STEP{x}ID"), name=M(f"STEP{x}NAME"), telemetry=False,
                                                         model=model(M(f"STEPANS{x}")))) for x in "AB"]
        w = Workflow(id=M("WFID"), name=M("WFNAME"), description=M("WFDESC"), db=db, telemetry=False, steps=steps,
                     store_events=stream)
        if stream:
            for _ in w.run(input=M("INPUT"), session_id=sid, user_id=M("USER"), stream=True, stream_events=True):
                pass
        else:
            w.run(input=M("INPUT"), session_id=sid, user_id=M("USER"))
        sessions[kind] = sid

    workflow("wf")
    workflow("events_wf", stream=True)
    return sessions


SESSION_JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")


def build_templates(url: str, scratch_schema: str = "bench_seed_templates") -> dict:
    """Run the template turns with real agno in a scratch schema of `url`, read back the rows agno
    wrote, drop the schema. Returns {"agno": version, "kinds": {kind: {type, session, runs}}}."""
    import importlib.metadata

    from agno.db.postgres import PostgresDb
    from sqlalchemy import create_engine, text

    from app.config import sqlalchemy_url

    sa_url = sqlalchemy_url(url)
    engine = create_engine(sa_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{scratch_schema}" CASCADE'))
        db = PostgresDb(db_url=sa_url, db_schema=scratch_schema)
        try:
            with _quiet_agno():
                sessions = _agno_turns(db)
        finally:
            db.db_engine.dispose()
        kinds = {}
        with engine.connect() as conn:
            for kind, sid in sessions.items():
                cols = ", ".join(f"{c}::text AS {c}" for c in SESSION_JSON_COLUMNS)
                row = conn.execute(text(f'SELECT session_type, {cols} FROM "{scratch_schema}".agno_sessions '
                                        "WHERE session_id = :sid"), {"sid": sid}).mappings().one()
                runs = conn.execute(text(
                    f'SELECT run_id, run_type, agent_id, team_id, workflow_id, parent_run_id, status, run_index, '
                    f'run_data::text AS run_data, created_at FROM "{scratch_schema}".agno_runs '
                    "WHERE session_id = :sid ORDER BY run_index"), {"sid": sid}).mappings().all()
                kinds[kind] = {"type": row["session_type"],
                               "session": {c: row[c] for c in SESSION_JSON_COLUMNS},
                               "runs": [dict(r) for r in runs]}
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{scratch_schema}" CASCADE'))
    finally:
        engine.dispose()
    return {"version": TEMPLATE_VERSION, "agno": importlib.metadata.version("agno"), "kinds": kinds}


def load_templates(url: str, cache_dir: str | None = BUILD_DIR) -> dict:
    """The cached templates (made by the installed agno), or build (and cache) them."""
    import importlib.metadata

    path = os.path.join(cache_dir, f"templates-v{TEMPLATE_VERSION}.json") if cache_dir else None
    if path and os.path.exists(path):
        with open(path, "rb") as fh:
            cached = orjson.loads(fh.read())
        if (cached.get("version"), cached.get("agno")) == (TEMPLATE_VERSION, importlib.metadata.version("agno")):
            return cached
    templates = build_templates(url)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        with open(path + ".tmp", "wb") as fh:
            fh.write(orjson.dumps(templates, option=orjson.OPT_INDENT_2))
        os.replace(path + ".tmp", path)
    return templates


@contextlib.contextmanager
def _quiet_agno():
    """agno logs the provider error the error turn is made of; mute it."""
    loggers = [logging.getLogger(name) for name in ("agno", "agno-team", "agno-workflow")]
    saved = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, saved, strict=True):
            lg.disabled = was


# ---------------------------------------------------------------------------------------------
# Compiled templates: a run's JSON as literal bytes and slots

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TOKEN_RE = re.compile(
    r'(?P<userkv>(?:, )?"(?:current_)?user_id": "QQUSERQQ"(?:, )?)'
    r'|(?P<user>"QQUSERQQ")'
    r"|QQ(?P<marker>[A-Z]+?)\d*QQ"
    rf"|(?P<id>{_UUID}|call_[0-9a-f]{{12}})"
    r'|(?P<tokkey>"\w+_tokens": )(?P<tok>\d+)'
    r"|(?<![\w.\-])(?P<time>1\d{9}(?:\.\d+)?)(?![\w.])"
)

# Slot kinds
S_TEXT, S_USER, S_USERKV, S_ID, S_TOK, S_TIME = range(6)


@dataclass
class CompiledRun:
    """One run row of a template turn."""

    parts: list                      # bytes literals and int slot indexes
    slots: list                      # (kind, arg) per index
    counts: list                     # occurrences per slot index
    literal_len: int
    run_id: str
    parent_run_id: str | None
    columns: dict                    # run_type, agent_id/team_id/workflow_id (markers), status
    texts: set                       # growable text markers in this row
    created_at: int                  # the template's created_at


@dataclass
class Turn:
    kind: str
    type: str
    rows: list                       # CompiledRun, in run_index order
    metrics: dict                    # this turn's contribution to session_metrics
    tokens: int                      # total tokens of that contribution (for scaling)
    session: dict                    # the template session row's JSON columns (text or None)
    t_min: int = 0                   # earliest template timestamp of the turn


def compile_run(run_data_text: str, t0: int) -> tuple[list, list, list, int]:
    """Split a run's JSON text into literals and slots."""
    text = json.dumps(json.loads(run_data_text), ensure_ascii=False)   # PostgreSQL's jsonb text layout
    parts: list = []
    slots: list = []
    index: dict = {}
    counts: list = []

    def slot(key: tuple) -> int:
        if key not in index:
            index[key] = len(slots)
            slots.append(key)
            counts.append(0)
        counts[index[key]] += 1
        return index[key]

    pos = 0
    for m in _TOKEN_RE.finditer(text):
        if m.group("time") is not None:
            value = float(m.group("time"))
            if abs(value - t0) > 3600:
                continue
        parts.append(text[pos:m.start()].encode())
        pos = m.end()
        if m.group("userkv") is not None:
            s = m.group("userkv")
            parts.append(slot((S_USERKV, (s.startswith(", "), s.endswith(", "), s.strip(", ")))))
        elif m.group("user") is not None:
            parts.append(slot((S_USER, None)))
        elif m.group("marker") is not None:
            parts.append(slot((S_TEXT, m.group("marker"))))
        elif m.group("id") is not None:
            parts.append(slot((S_ID, m.group("id"))))
        elif m.group("tok") is not None:
            parts.append(m.group("tokkey").encode())
            parts.append(slot((S_TOK, int(m.group("tok")))))
        else:
            parts.append(slot((S_TIME, m.group("time"))))
    parts.append(text[pos:].encode())
    parts = [p for p in parts if not (isinstance(p, bytes) and not p)]
    literal_len = sum(len(p) for p in parts if isinstance(p, bytes))
    return parts, slots, counts, literal_len


def compile_templates(templates: dict) -> dict[str, Turn]:
    t0 = min(int(r["created_at"]) for k in templates["kinds"].values() for r in k["runs"])
    turns = {}
    for kind, spec in templates["kinds"].items():
        rows = []
        for r in spec["runs"]:
            parts, slots, counts, literal_len = compile_run(r["run_data"], t0)
            texts = {arg for (k, arg) in slots if k == S_TEXT and arg in GROWABLE}
            rows.append(CompiledRun(parts, slots, counts, literal_len, r["run_id"], r["parent_run_id"],
                                    {"run_type": r["run_type"], "agent_id": r["agent_id"], "team_id": r["team_id"],
                                     "workflow_id": r["workflow_id"], "status": r["status"]}, texts,
                                    int(r["created_at"])))
        data = json.loads(spec["session"]["session_data"] or "null") or {}
        metrics = data.get("session_metrics") or {}
        t_min = min(int(float(arg)) for row in rows for (k, arg) in row.slots if k == S_TIME)
        turns[kind] = Turn(kind, spec["type"], rows, metrics, int(metrics.get("total_tokens") or 1), spec["session"],
                           min(t_min, *(row.created_at for row in rows)))
    return turns


# ---------------------------------------------------------------------------------------------
# Text: a generated corpus of prose, markdown, code and search results

_WORDS = (
    "the of and to in is that for it as with was on be by this are or from at an but not have has had they which "
    "you we their can all more one will about if there when so what out up into time than other some them could "
    "only new these its may also two first after use way our how work because any most well even through over "
    "customer order account invoice payment refund shipment delivery address product price plan subscription "
    "billing report dashboard metric revenue quarter forecast budget team project deadline meeting review "
    "document policy contract clause section request ticket issue error status service server database query "
    "index table column schema migration deploy release version build test pipeline cluster node cache latency "
    "throughput memory cpu disk network endpoint response timeout retry backoff token model prompt context "
    "agent tool result summary answer question detail example step process workflow data record field value "
    "user session history message note update change support guide setting option feature limit quota region "
    "europe america asia market growth churn retention cohort segment campaign lead pipeline opportunity "
    "supplier warehouse stock inventory route carrier tracking estimate risk compliance audit security access "
    "permission role owner approval manager employee benefit salary leave travel expense receipt tax rate"
).split()
_UNICODE_SENTENCES = (
    "Größenordnung: die Fußgängerübergänge in Zürich sind breit.",
    "Le café est fermé le dimanche, désolé pour la gêne occasionnée.",
    "東京の天気は晴れです。気温は二十三度。",
    "Los pedidos de España llegan en tres días hábiles.",
    "Отчёт за квартал готов, цифры в таблице ниже.",
    "配送状态已更新，请查看跟踪号码。",
    "Status: ✅ done, ⚠️ two warnings, 🚀 deployed.",
)


class Corpus:
    """Deterministic text in three styles, stored JSON-escaped (as it sits inside run_data)."""

    SIZE = 3_000_000

    def __init__(self, seed: int = 20261101):
        rng = random.Random(seed)
        self.styles = {style: json.dumps(make(rng), ensure_ascii=False)[1:-1].encode()
                       for style, make in (("prompt", self._prompts), ("answer", self._answers), ("tool", self._tools))}

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        if rng.random() < 0.03:
            return rng.choice(_UNICODE_SENTENCES)
        words = rng.choices(_WORDS, k=rng.randint(6, 22))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), str(rng.choice([rng.randint(2, 9999), round(rng.random() * 100, 2)])))
        if rng.random() < 0.25:
            words[rng.randrange(len(words))] += ","
        return " ".join(words).capitalize() + rng.choice(".....?!")

    @staticmethod
    def _paragraph(rng: random.Random) -> str:
        return " ".join(Corpus._sentence(rng) for _ in range(rng.randint(2, 6)))

    def _fill(self, rng: random.Random, block) -> str:
        out, size = [], 0
        while size < self.SIZE:
            piece = block(rng)
            out.append(piece)
            size += len(piece) + 2
        return "\n\n".join(out)

    def _prompts(self, rng: random.Random) -> str:
        return self._fill(rng, lambda r: self._paragraph(r) if r.random() < 0.6 else self._sentence(r))

    def _answers(self, rng: random.Random) -> str:
        def block(r: random.Random) -> str:
            x = r.random()
            if x < 0.45:
                return self._paragraph(r)
            if x < 0.6:
                return "## " + " ".join(r.choices(_WORDS, k=r.randint(2, 5))).title()
            if x < 0.8:
                bullet = r.choice(["-", "*", "1."])
                return "\n".join(f"{bullet} **{r.choice(_WORDS)}**: {self._sentence(r)}" for _ in range(r.randint(2, 6)))
            if x < 0.9:
                name = "_".join(r.choices(_WORDS, k=2))
                lines = [f"def {name}({r.choice(_WORDS)}, limit={r.randint(1, 100)}):",
                         f'    """{self._sentence(r)}"""']
                lines += [f"    {r.choice(_WORDS)} = {r.choice(_WORDS)}.get(\"{r.choice(_WORDS)}\", {r.randint(0, 9)})"
                          for _ in range(r.randint(2, 8))]
                lines.append(f"    return {r.choice(_WORDS)}")
                return "```python\n" + "\n".join(lines) + "\n```"
            cols = r.choices(_WORDS, k=r.randint(3, 5))
            rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            rows += ["| " + " | ".join(str(r.randint(0, 10000)) if r.random() < 0.5 else r.choice(_WORDS) for _ in cols) + " |"
                     for _ in range(r.randint(2, 8))]
            return "\n".join(rows)
        return self._fill(rng, block)

    def _tools(self, rng: random.Random) -> str:
        def block(r: random.Random) -> str:
            if r.random() < 0.5:
                hits = [{"id": f"doc-{r.randint(1000, 99999)}", "title": self._sentence(r)[:60],
                         "url": f"https://docs.example.com/{r.choice(_WORDS)}/{r.choice(_WORDS)}-{r.randint(1, 999)}",
                         "score": round(r.random(), 4), "snippet": self._paragraph(r)} for _ in range(r.randint(1, 4))]
                return json.dumps({"results": hits}, ensure_ascii=False)
            return f"Source: {r.choice(_WORDS)}-{r.randint(1, 999)}.md (updated {r.randint(1, 28)}/{r.randint(1, 12)})\n" + \
                "\n".join(self._paragraph(r) for _ in range(r.randint(1, 4)))
        return self._fill(rng, block)

    def cut(self, style: str, length: int, rng: random.Random) -> bytes:
        """About `length` bytes of escaped text, cut at spaces (never inside an escape or a character)."""
        text = self.styles[style]
        length = max(1, min(length, len(text) - 2000))
        offset = rng.randrange(0, len(text) - length - 1000)
        start = text.find(b". " if style != "tool" else b" ", offset) + (2 if style != "tool" else 1)
        end = text.find(b" ", start + length)
        return text[start:end]


# ---------------------------------------------------------------------------------------------
# The plan: components, users, sessions, runs

_ROLES = ("support", "billing", "research", "sales", "onboarding", "docs", "sql", "triage", "legal", "hr", "travel",
          "finance", "code-review", "marketing", "security", "devops", "data", "product", "qa", "recruiting",
          "procurement", "analytics", "compliance", "shipping", "returns", "pricing", "content", "seo", "it-helpdesk",
          "contracts", "forecasting", "inventory", "payroll", "partner", "translation", "incident", "release",
          "knowledge", "insights", "planning")
_MODELS = (("gpt-4.1", "OpenAIChat", "OpenAI"), ("gpt-4o-mini", "OpenAIChat", "OpenAI"),
           ("claude-sonnet-4-5", "Claude", "Anthropic"), ("gemini-2.5-flash", "Gemini", "Google"),
           ("o4-mini", "OpenAIResponses", "OpenAI"))


@dataclass
class Component:
    type: str
    id: str
    name: str
    profile: str
    kinds: dict                     # run kind -> weight
    values: dict                    # marker -> escaped bytes
    weight: float


@dataclass
class SessionPlan:
    session_id: str
    type: str
    component: Component
    user_id: str | None
    created_at: int
    rows: int
    big: bool = False
    big_bytes: int = 0
    groups: list = field(default_factory=list)   # GroupPlan
    updated_at: int = 0
    name: str | None = None
    state: dict | None = None
    values: dict = field(default_factory=dict)


@dataclass
class GroupPlan:
    turn: Turn
    at: int                          # created_at of the group's first run
    targets: list                    # target bytes per row
    factor: int                      # token multiplier
    run_index: int                   # run_index of the first row
    durations: list                  # seconds per row (updated_at - created_at)


def _esc(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_ALNUM = string.ascii_letters + string.digits


def _call_id(rng: random.Random) -> str:
    return "call_" + "".join(rng.choices(_ALNUM, k=24))


def _cumulative(weights: dict) -> tuple:
    keys = list(weights)
    acc, cum = 0.0, []
    for k in keys:
        acc += weights[k]
        cum.append(acc)
    return keys, cum


def _pick(rng: random.Random, table: tuple) -> Any:
    keys, cum = table
    return keys[bisect.bisect(cum, rng.random() * cum[-1])]


def _zipf_weights(n: int, s: float, rng: random.Random) -> list[float]:
    w = [1.0 / (k + 1) ** s for k in range(n)]
    rng.shuffle(w)
    return w


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(_WORDS, k=n))


def make_components(rng: random.Random, sessions: int, corpus: Corpus) -> dict[str, list[Component]]:
    counts = {"agent": max(4, min(40, round(sessions / 60))), "team": max(2, min(12, round(sessions / 200))),
              "workflow": max(2, min(10, round(sessions / 300)))}
    used: set[str] = set()
    out: dict[str, list[Component]] = {}
    for kind, n in counts.items():
        profiles = {p: w for p, (w, _) in PROFILES[kind].items()}
        ptable = _cumulative(profiles)
        weights = _zipf_weights(n, 1.0, rng)
        comps = []
        for i in range(n):
            role = rng.choice(_ROLES)
            suffix = {"agent": rng.choice(("agent", "assistant", "bot", "copilot")), "team": "team",
                      "workflow": rng.choice(("workflow", "pipeline", "flow"))}[kind]
            cid = f"{role}-{suffix}"
            while cid in used:
                cid = f"{role}-{suffix}-{rng.randint(2, 99)}"
            used.add(cid)
            name = " ".join(w.capitalize() for w in cid.replace("-", " ").split())
            profile = _pick(rng, ptable) if i >= len(profiles) else list(profiles)[i]   # every profile at least once
            model_id, model_name, provider = rng.choice(_MODELS)
            values = {"MODELID": _esc(model_id), "MODELNAME": _esc(model_name), "PROVIDER": _esc(provider),
                      "SYSPROMPT": corpus.cut("prompt", rng.randint(400, 4000), rng)}
            if kind == "agent":
                values.update(AGENTID=_esc(cid), AGENTNAME=_esc(name))
            elif kind == "team":
                values.update(TEAMID=_esc(cid), TEAMNAME=_esc(name))
                for x in "AB":
                    mrole = rng.choice(_ROLES)
                    values[f"MEMBER{x}ID"] = _esc(f"{cid}-{mrole}-{x.lower()}")
                    values[f"MEMBER{x}NAME"] = _esc(f"{mrole.capitalize()} Specialist {x}")
                    values[f"MEMBER{x}ROLE"] = _esc(f"Handles {mrole} questions: {_words(rng, 8)}")
            else:
                values.update(WFID=_esc(cid), WFNAME=_esc(name), WFDESC=_esc(f"{name}: {_words(rng, 10)}"))
                for x, step in zip("AB", rng.sample(("research", "draft", "review", "classify", "extract", "summarize"), 2),
                                   strict=True):
                    values[f"STEPNAME{x}"] = _esc(step)
                    values[f"STEP{x}ID"] = _esc(f"{cid}-{step}-agent")
                    values[f"STEP{x}NAME"] = _esc(f"{step.capitalize()} Agent")
            comps.append(Component(kind, cid, name, profile, PROFILES[kind][profile][1], values, weights[i]))
        out[kind] = comps
    return out


def make_users(rng: random.Random, sessions: int) -> tuple[list[str], list[float]]:
    n = max(3, min(2000, sessions // 8))
    users, seen = [], set()
    while len(users) < n:
        x = rng.random()
        if x < 0.5:
            u = f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}{rng.randint(1, 99)}@example.com"
        elif x < 0.8:
            u = f"usr_{rng.getrandbits(48):012x}"
        else:
            u = _uuid(rng)
        if u not in seen:
            seen.add(u)
            users.append(u)
    return users, _zipf_weights(n, 0.8, rng)


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def runs_per_session(rng: random.Random, n: int, total: int) -> list[int]:
    """`n` long-tailed counts (each >= 1, <= RUNS_CAP) summing to exactly `total`."""
    if total < n:
        raise SeedError(f"{total} runs cannot fill {n} sessions (one run each at least)")
    raw = [_lognormal(rng, RUNS_MEDIAN, RUNS_SIGMA) for _ in range(n)]

    def counts(k: float) -> list[int]:
        return [max(1, min(RUNS_CAP, round(x * k))) for x in raw]

    lo, hi = 0.0, 1.0
    while sum(counts(hi)) < total and hi < 1e9:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if sum(counts(mid)) < total:
            lo = mid
        else:
            hi = mid
    out = counts(hi)
    diff = sum(out) - total
    order = sorted(range(n), key=lambda i: -out[i])
    i = 0
    while diff != 0:
        j = order[i % n]
        if diff > 0 and out[j] > 1:
            out[j] -= 1
            diff -= 1
        elif diff < 0 and out[j] < RUNS_CAP:
            out[j] += 1
            diff += 1
        i += 1
    return out


def payload_sigma() -> float:
    return math.log(PAYLOAD_P99 / SAMPLE_P50) / 2.3263


def plan(sessions: int, runs: int, seed: int, turns: dict[str, Turn], corpus: Corpus,
         big: tuple = DEFAULT_BIG) -> tuple[list[SessionPlan], dict]:
    rng = random.Random(seed)
    comps = make_components(rng, sessions, corpus)
    users, user_weights = make_users(rng, sessions)
    user_table = _cumulative(dict(zip(users, user_weights, strict=True)))
    big = tuple(b for b in big)[:sessions]
    big_runs = sum(b[2] for b in big)
    if big_runs + (sessions - len(big)) > runs:
        raise SeedError(f"{runs} runs are too few for {sessions} sessions with big sessions of {big_runs} runs")

    # Types: exact shares, big sessions first.
    types = [b[0] for b in big]
    regular = sessions - len(big)
    shares = [(t, round(regular * w)) for t, w in TYPE_MIX]
    shares[0] = (shares[0][0], regular - sum(c for _, c in shares[1:]))
    regular_types = [t for t, c in shares for _ in range(c)]
    rng.shuffle(regular_types)
    types += regular_types
    counts = [b[2] for b in big] + runs_per_session(rng, regular, runs - big_runs)

    # Created times: denser towards the end of the window (usage grows), distinct.
    start = WINDOW_END - WINDOW_DAYS * 86400
    created_set: set[int] = set()
    plans = []
    comp_tables = {t: _cumulative({c.id: c.weight for c in cs}) for t, cs in comps.items()}
    comp_by_id = {c.id: c for cs in comps.values() for c in cs}
    for i, (stype, nrows) in enumerate(zip(types, counts, strict=True)):
        span = WINDOW_DAYS * 86400 * (0.9 if nrows > 50 else 0.97)
        t = start + int(span * rng.random() ** 0.7)
        while t in created_set:
            t += 1
        created_set.add(t)
        comp = comp_by_id[_pick(rng, comp_tables[stype])]
        user = None if rng.random() < ANONYMOUS_SHARE and i >= len(big) else _pick(rng, user_table)
        sp = SessionPlan(_uuid(rng), stype, comp, user, t, nrows)
        if i < len(big):
            sp.big, sp.big_bytes = True, int(big[i][1] * 1_000_000)
        plans.append(sp)

    sigma = payload_sigma()
    for sp in plans:
        _plan_session(sp, rng, turns, sigma)
    # One regular run at the maximum payload size (the reference database has one of 0.5 MB).
    regular_groups = [g for sp in plans if not sp.big for g in sp.groups]
    if regular_groups:
        max(regular_groups, key=lambda g: g.targets[-1]).targets[-1] = PAYLOAD_MAX
    return plans, {"components": comps, "users": users, "window": [start, WINDOW_END]}


def _plan_session(sp: SessionPlan, rng: random.Random, turns: dict[str, Turn], sigma: float) -> None:
    comp = sp.component
    remaining = sp.rows
    t = sp.created_at + rng.randint(0, 5)
    index = 0
    per_row_big = sp.big_bytes / max(sp.rows, 1)
    while remaining > 0:
        if per_row_big:
            targets_hint = min(PAYLOAD_MAX, per_row_big * math.exp(rng.gauss(0, 0.3)))
        else:
            targets_hint = min(PAYLOAD_MAX, max(PAYLOAD_MIN, _lognormal(rng, SAMPLE_P50, sigma)))
        weights = {}
        for k, w in comp.kinds.items():
            turn = turns[k]
            if len(turn.rows) > remaining:
                continue
            if targets_hint > 40_000 and any(r.texts & {"TOOLRESA", "MEMBERANSA", "STEPANSA"} for r in turn.rows):
                w *= 5
            weights[k] = w
        if not weights:     # only multi-row kinds and one row left: a direct answer of the same type
            weights = {k: 1.0 for k, turn in turns.items() if turn.type == sp.type and len(turn.rows) == 1}
        kind = _pick(rng, _cumulative(weights))
        turn = turns[kind]
        # The main run (the last row) sets the size of the turn's texts; a member run is as big as
        # what it shares with its team run, so its own target only matters for texts of its own.
        main = targets_hint * (0.75 * len(turn.rows) if per_row_big and len(turn.rows) > 1 else 1)
        targets = [PAYLOAD_MIN] * (len(turn.rows) - 1) + [int(main)]
        factor = max(1, round(sum(targets) / 4 / max(turn.tokens, 1)))
        durations = [max(1, int(min(180, 2 + x / 2000 * rng.uniform(0.5, 1.5)))) for x in targets]
        sp.groups.append(GroupPlan(turn, t, targets, factor, index, durations))
        index += len(turn.rows)
        remaining -= len(turn.rows)
        end = _group_end(sp.groups[-1])
        # The next turn: mostly a reply within minutes, sometimes the user comes back days later.
        gap = _lognormal(rng, 90, 1.0) if rng.random() < 0.85 else _lognormal(rng, 86400, 1.2)
        t = end + int(gap)
    # Keep the whole session inside the window: compress its time line if needed.
    end = _group_end(sp.groups[-1])
    if end > WINDOW_END:
        scale = (WINDOW_END - sp.created_at - 600) / max(end - sp.created_at, 1)
        previous_end = sp.created_at
        for g in sp.groups:     # gaps shrink, runs keep their length and their order
            g.at = max(sp.created_at + int((g.at - sp.created_at) * scale), previous_end + 1)
            previous_end = _group_end(g)
    sp.updated_at = max(_group_end(g) for g in sp.groups[-3:])
    # Session-level texts.
    if sp.type != "workflow" and rng.random() < NAMED_SHARE:
        sp.name = " ".join(rng.choices(_WORDS, k=rng.randint(2, 6))).capitalize()
    topic, lang = rng.choice(_WORDS), rng.choice(("en", "de", "fr", "es", "ja", "pt"))
    sp.values = {"TOPIC": _esc(topic), "LANG": _esc(lang)}
    if comp.profile == "stateful":
        sp.state = {"topic": topic, "visits": 3, "preferences": {"language": lang, "units": "metric"}}


def _group_end(g: GroupPlan) -> int:
    """The last updated_at of a turn's rows (agno writes the session row after the run)."""
    return max(g.at + row.created_at - g.turn.t_min + d for row, d in zip(g.turn.rows, g.durations, strict=True))


# ---------------------------------------------------------------------------------------------
# Rendering


class Renderer:
    def __init__(self, corpus: Corpus, seed: int):
        self.corpus = corpus
        self.rng = random.Random(seed * 7919 + 1)

    def group_rows(self, sp: SessionPlan, g: GroupPlan) -> list[tuple]:
        """The run rows of one turn: (columns..., run_data bytes)."""
        rng = self.rng
        ids: dict[str, bytes] = {}
        texts: dict[str, bytes] = {}     # growable texts, shared by the rows of the turn
        shift = g.at - g.turn.t_min
        user = sp.user_id
        user_json = b"null" if user is None else orjson.dumps(user)
        small = {**sp.component.values, **sp.values, "SESSION": sp.session_id.encode()}
        rows = g.turn.rows
        all_vals: list[list] = []
        fixed: list[int] = []
        for row in rows:
            vals: list = [None] * len(row.slots)
            size = row.literal_len
            for i, (kind, arg) in enumerate(row.slots):
                if kind == S_TEXT:
                    if arg in GROWABLE:
                        continue
                    v = small.get(arg)
                    if v is None:   # short safe phrases: tool arguments, delegated tasks
                        v = small[arg] = _esc(_words(rng, rng.randint(3, 9)))
                    vals[i] = v
                elif kind == S_ID:
                    v = ids.get(arg)
                    if v is None:
                        v = ids[arg] = (_call_id(rng) if arg.startswith("call_") else _uuid(rng)).encode()
                    vals[i] = v
                elif kind == S_TIME:
                    if "." in arg:
                        vals[i] = repr(float(arg) + shift).encode()
                    else:
                        vals[i] = str(int(arg) + shift).encode()
                elif kind == S_TOK:
                    vals[i] = str(arg * g.factor).encode()
                elif kind == S_USER:
                    vals[i] = user_json
                else:   # S_USERKV: the key with a user, nothing (or one separator) without
                    lead, trail, kv = arg
                    if user is None:
                        vals[i] = b", " if lead and trail else b""
                    else:
                        vals[i] = ((", " if lead else "") + kv.replace('"QQUSERQQ"', user_json.decode())
                                   + (", " if trail else "")).encode()
                size += row.counts[i] * len(vals[i])
            all_vals.append(vals)
            fixed.append(size)
        # The texts are sized on the turn's main run (the last row: the team run holds its members'
        # answers, the workflow run its steps'); a member row is as big as what it shares with it.
        for k in range(len(rows) - 1, -1, -1):
            row = rows[k]
            counts = {row.slots[i][1]: row.counts[i] for i in range(len(row.slots))
                      if row.slots[i][0] == S_TEXT and row.slots[i][1] in GROWABLE and row.slots[i][1] not in texts}
            budget = g.targets[k] - fixed[k] - sum(row.counts[i] * len(texts[arg]) for i, (kind, arg) in
                                                   enumerate(row.slots) if kind == S_TEXT and arg in texts)
            if counts:
                for name, length in self.allocate(budget, counts).items():
                    texts[name] = self.corpus.cut(GROWABLE[name][0], length, rng)
        out = []
        for k, row in enumerate(rows):
            vals = all_vals[k]
            for i, (kind, arg) in enumerate(row.slots):
                if kind == S_TEXT and arg in GROWABLE:
                    vals[i] = texts[arg]
            run_data = b"".join([vals[p] if p.__class__ is int else p for p in row.parts])
            created = row.created_at + shift
            run_id = ids[row.run_id].decode()
            parent = ids[row.parent_run_id].decode() if row.parent_run_id else None
            cols = row.columns
            comp_cols = [_fill_marker(cols[c], small) for c in ("agent_id", "team_id", "workflow_id")]
            out.append((run_id, sp.session_id, cols["run_type"], *comp_cols, user, parent, cols["status"],
                        g.run_index + k, run_data, created, created + g.durations[k]))
        return out

    def allocate(self, budget: int, counts: dict[str, int]) -> dict[str, int]:
        """Split `budget` bytes among the open texts of a row (`counts`: occurrences of each)."""
        rng = self.rng
        lengths: dict[str, int] = {}
        if "INPUT" in counts:
            want = int(min(4000, max(12, _lognormal(rng, 220, 1.1))))
            lengths["INPUT"] = max(12, min(want, int(max(budget, 0) * 0.4 / counts["INPUT"])))
            budget -= lengths["INPUT"] * counts["INPUT"]
        others = [n for n in counts if n != "INPUT"]
        budget = max(budget, 0)
        for n in others:
            lengths[n] = 24
        left = budget - sum(24 * counts[n] for n in others)
        free = list(others)
        for _ in range(3):
            if left <= 0 or not free:
                break
            total_w = sum(GROWABLE[n][1] for n in free)
            spent = 0
            for n in list(free):
                share = left * GROWABLE[n][1] / total_w / counts[n]
                cap = GROWABLE[n][2]
                add = int(share if cap is None else min(share, cap - lengths[n]))
                lengths[n] += add
                spent += add * counts[n]
                if cap is not None and lengths[n] >= cap:
                    free.remove(n)
            left -= spent
        if left > 1000 and "INPUT" in counts and others:   # answers are capped: the rest is a pasted document
            lengths["INPUT"] += left // counts["INPUT"]
        return lengths


def _fill_marker(value: str | None, values: dict) -> str | None:
    if value is None:
        return None
    return re.sub(r"QQ([A-Z]+?)\d*QQ", lambda m: values[m.group(1)].decode(), value)


# ---------------------------------------------------------------------------------------------
# Session rows


def _scaled_metrics(groups: list[GroupPlan]) -> dict:
    acc: dict = {}

    def add(into: Any, contrib: Any, factor: int) -> Any:
        if isinstance(contrib, dict):
            into = into if isinstance(into, dict) else {}
            for k, v in contrib.items():
                if k.endswith("_tokens") and isinstance(v, int):
                    into[k] = into.get(k, 0) + v * factor
                else:
                    into[k] = add(into.get(k), v, factor)
            return into
        if isinstance(contrib, list):
            into = into if isinstance(into, list) else []
            for j, v in enumerate(contrib):
                if j < len(into):
                    into[j] = add(into[j], v, factor)
                else:
                    into.append(add(None, v, factor))
            return into
        return contrib

    for g in groups:
        acc = add(acc, g.turn.metrics, g.factor)
    return acc


_METADATA_SOURCES = ("web", "slack", "api", "mobile", "teams", "email")


def session_row(sp: SessionPlan, rng: random.Random, template: dict) -> tuple:
    values = {**sp.component.values, **sp.values}
    metrics = json.loads(_fill_marker(json.dumps(_scaled_metrics(sp.groups)), values))
    data = json.loads(template["session_data"])
    data["session_metrics"] = metrics
    if sp.state is not None:
        data["session_state"] = sp.state
    if sp.name is not None:
        data["session_name"] = sp.name
    cols = {}
    for c in ("agent_data", "team_data", "workflow_data"):
        cols[c] = None if template[c] is None else _fill_marker(template[c], values).encode()
    metadata: bytes | None = template["metadata"].encode() if template["metadata"] is not None else None
    if rng.random() < METADATA_SHARE:
        meta = {"source": rng.choice(_METADATA_SOURCES), "tenant_id": f"t-{rng.randint(1, 60):03d}",
                "app_version": f"{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"}
        if rng.random() < 0.5:
            meta["tags"] = rng.sample(_WORDS[-60:], rng.randint(1, 4))
        if rng.random() < 0.3:
            meta["client"] = {"locale": rng.choice(("en-US", "de-DE", "fr-FR", "ja-JP")), "beta": rng.random() < 0.2}
        metadata = orjson.dumps(meta)
    summary: bytes | None = template["summary"].encode() if template["summary"] is not None else None
    if sp.type != "workflow" and rng.random() < SUMMARY_SHARE:
        updated = dt.datetime.fromtimestamp(sp.updated_at, dt.UTC).replace(tzinfo=None).isoformat()
        summary = orjson.dumps({"summary": Corpus._paragraph(rng), "topics": rng.sample(_WORDS[-80:], 3),
                                "updated_at": updated})
    comp = {"agent": (sp.component.id, None, None), "team": (None, sp.component.id, None),
            "workflow": (None, None, sp.component.id)}[sp.type]
    return (sp.session_id, sp.type, *comp, sp.user_id, orjson.dumps(data), cols["agent_data"], cols["team_data"],
            cols["workflow_data"], metadata, summary, sp.created_at, sp.updated_at)


# ---------------------------------------------------------------------------------------------
# Loading


SESSION_COLUMNS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
                   "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at")
RUN_COLUMNS = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "parent_run_id",
               "status", "run_index", "run_data", "created_at", "updated_at")


def _copy_line(values: tuple) -> bytes:
    out = []
    for v in values:
        if v is None:
            out.append(b"\\N")
        elif isinstance(v, bytes):
            out.append(v.replace(b"\\", b"\\\\"))
        elif isinstance(v, int):
            out.append(str(v).encode())
        else:
            out.append(v.encode().replace(b"\\", b"\\\\"))
    return b"\t".join(out) + b"\n"


def libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def prepare_tables(url: str, schema: str, replace: bool) -> None:
    """agno's tables through the service's own bootstrap (agno's DDL, index names included)."""
    from sqlalchemy import create_engine

    from app.config import sqlalchemy_url
    from app.sessions.store import bootstrap_tables

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            conn = conn.execution_options(schema_translate_map={"ai": schema} if schema != "ai" else None)
            bootstrap_tables(conn, schema)
    finally:
        engine.dispose()
    with psycopg.connect(libpq_url(url)) as conn:
        have = conn.execute(
            "SELECT (SELECT count(*) FROM {s}.agno_runs), (SELECT count(*) FROM {s}.agno_sessions)".format(
                s=_ident(schema))).fetchone()
        if any(have) and not replace:
            raise SeedError(f"{schema}.agno_sessions/agno_runs are not empty ({have[1]} sessions, {have[0]} runs): "
                             "pass --replace (replace=True) to overwrite them")


class SeedError(RuntimeError):
    """The database cannot be seeded as asked."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(url: str, schema: str, plans: list[SessionPlan], renderer: Renderer, templates: dict,
         seed: int, progress: bool = False) -> dict:
    """COPY every row (FREEZE, one transaction), foreign key dropped during the load; ANALYZE."""
    s = _ident(schema)
    sizes: list[int] = []
    session_template = {t: templates["kinds"][k]["session"] for k, t in
                        (("chat", "agent"), ("team_direct", "team"), ("wf", "workflow"))}
    sessions_by_time = sorted(plans, key=lambda p: p.created_at)
    groups = sorted(((g.at, i, j) for i, sp in enumerate(plans) for j, g in enumerate(sp.groups)))
    rng = random.Random(seed * 31 + 7)
    timing = {}
    with psycopg.connect(libpq_url(url)) as conn:
        fk = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = %s::regclass", (f"{s}.agno_runs",)).fetchall()
        conn.execute(f"TRUNCATE {s}.agno_sessions, {s}.agno_runs")
        for name, _ in fk:
            conn.execute(f"ALTER TABLE {s}.agno_runs DROP CONSTRAINT {_ident(name)}")
        started = time.monotonic()
        with conn.cursor().copy(f"COPY {s}.agno_sessions ({', '.join(SESSION_COLUMNS)}) FROM STDIN WITH (FREEZE)") as cp:
            buf = bytearray()
            for sp in sessions_by_time:
                buf += _copy_line(session_row(sp, rng, session_template[sp.type]))
                if len(buf) > 4_000_000:
                    cp.write(buf)
                    buf = bytearray()
            cp.write(buf)
        timing["sessions_s"] = time.monotonic() - started
        started = time.monotonic()
        last_report = started
        with conn.cursor().copy(f"COPY {s}.agno_runs ({', '.join(RUN_COLUMNS)}) FROM STDIN WITH (FREEZE)") as cp:
            buf = bytearray()
            for _, i, j in groups:
                sp = plans[i]
                for row in renderer.group_rows(sp, sp.groups[j]):
                    sizes.append(len(row[10]))
                    buf += _copy_line(row)
                if len(buf) > 8_000_000:
                    cp.write(buf)
                    buf = bytearray()
                    if progress and time.monotonic() - last_report > 10:
                        last_report = time.monotonic()
                        print(f"  ... {len(sizes)} runs, {sum(sizes) / 1e6:.0f} MB, {last_report - started:.0f} s",
                              flush=True)
            cp.write(buf)
        timing["runs_s"] = time.monotonic() - started
        started = time.monotonic()
        for name, definition in fk:
            conn.execute(f"ALTER TABLE {s}.agno_runs ADD CONSTRAINT {_ident(name)} {definition}")
        conn.commit()
        timing["constraints_s"] = time.monotonic() - started
        started = time.monotonic()
        conn.autocommit = True
        conn.execute(f"ANALYZE {s}.agno_sessions")
        conn.execute(f"ANALYZE {s}.agno_runs")
        timing["analyze_s"] = time.monotonic() - started
        size = conn.execute("SELECT pg_total_relation_size(%s::regclass) + pg_total_relation_size(%s::regclass)",
                            (f"{s}.agno_sessions", f"{s}.agno_runs")).fetchone()[0]
    return {"sizes": sizes, "timing": timing, "database_bytes": size}


# ---------------------------------------------------------------------------------------------
# Manifest


def _pct(values: list, q: float) -> Any:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def build_manifest(plans: list[SessionPlan], meta: dict, loaded: dict, args: dict) -> dict:
    rng = random.Random(args["seed"] * 13 + 5)
    by_type: dict[str, list[SessionPlan]] = {}
    for sp in plans:
        by_type.setdefault(sp.type, []).append(sp)
    rows = [sp.rows for sp in plans]
    sizes = loaded["sizes"]
    regular = [sp for sp in plans if not sp.big]
    median_rows = _pct([sp.rows for sp in regular], 0.5)

    def typical(stype: str, k: int = 20) -> list[str]:
        pool = [sp for sp in by_type.get(stype, []) if not sp.big and abs(sp.rows - median_rows) <= max(2, median_rows)]
        pool = pool or [sp for sp in by_type.get(stype, []) if not sp.big]
        return [sp.session_id for sp in rng.sample(pool, min(k, len(pool)))]

    # Run ids: top-level runs of typical sessions (the render does not keep ids, so the plan is
    # replayed: ids are drawn in order by the renderer, hence read back from the database below).
    user_counts = Counter(sp.user_id for sp in plans if sp.user_id is not None)
    comp_counts = Counter((sp.type, sp.component.id) for sp in plans)
    pair_counts = Counter((sp.type, sp.component.id, sp.user_id) for sp in plans if sp.user_id is not None)
    components = {t: sorted(({"id": c.id, "name": c.name, "profile": c.profile, "sessions": comp_counts[(t, c.id)]}
                             for c in cs), key=lambda x: -x["sessions"]) for t, cs in meta["components"].items()}
    users_sorted = user_counts.most_common()
    filters = []
    for t in ("agent", "team", "workflow"):
        if components.get(t):
            used = [c for c in components[t] if c["sessions"]]
            top, mid = used[0], used[len(used) // 2]
            filters.append({"name": f"{t}-top-component", "type": t, "component_id": top["id"], "sessions": top["sessions"]})
            filters.append({"name": f"{t}-median-component", "type": t, "component_id": mid["id"],
                            "sessions": mid["sessions"]})
    # By user: agent sessions (a list without `type` is AgentOS's agent list).
    agent_users = Counter(sp.user_id for sp in plans if sp.user_id is not None and sp.type == "agent").most_common()
    if agent_users:
        filters.append({"name": "agent-top-user", "type": "agent", "user_id": agent_users[0][0],
                        "sessions": agent_users[0][1]})
        mu = agent_users[len(agent_users) // 2]
        filters.append({"name": "agent-median-user", "type": "agent", "user_id": mu[0], "sessions": mu[1]})
    if pair_counts:
        (t, c, u), n = pair_counts.most_common(1)[0]
        filters.append({"name": "top-component-user", "type": t, "component_id": c, "user_id": u, "sessions": n})
    type_runs = Counter()
    for sp in plans:
        type_runs[sp.type] += sp.rows
    stats = {
        "sessions": len(plans),
        "sessions_by_type": {t: len(v) for t, v in sorted(by_type.items())},
        "runs": sum(rows),
        "runs_by_session_type": dict(sorted(type_runs.items())),
        "runs_per_session": {"p50": _pct(rows, 0.5), "p90": _pct(rows, 0.9), "p99": _pct(rows, 0.99), "max": max(rows)},
        "run_payload_bytes": {"p50": _pct(sizes, 0.5), "p90": _pct(sizes, 0.9), "p99": _pct(sizes, 0.99),
                              "max": max(sizes) if sizes else 0, "mean": int(sum(sizes) / max(len(sizes), 1)),
                              "total": sum(sizes)},
        "users": len(user_counts),
        "anonymous_sessions": sum(1 for sp in plans if sp.user_id is None),
        "components": {t: len(v) for t, v in components.items()},
        "named_sessions": sum(1 for sp in plans if sp.name),
        "database_bytes": loaded["database_bytes"],
        "seconds": loaded["timing"],
    }
    return {
        "version": 1,
        "scale": {"sessions": args["sessions"], "runs": args["runs"], "seed": args["seed"]},
        "schema": args["schema"],
        "window": meta["window"],
        "stats": stats,
        "typical_sessions": {t: typical(t) for t in ("agent", "team", "workflow")},
        "big_sessions": [{"session_id": sp.session_id, "type": sp.type, "runs": sp.rows, "component_id": sp.component.id,
                          "user_id": sp.user_id, "target_bytes": sp.big_bytes} for sp in plans if sp.big],
        "components": components,
        "users": {"count": len(user_counts), "top": [{"user_id": u, "sessions": n} for u, n in users_sorted[:10]],
                  "median": [{"user_id": u, "sessions": n} for u, n in
                             users_sorted[len(users_sorted) // 2: len(users_sorted) // 2 + 5]]},
        "filters": filters,
    }


def add_run_ids(url: str, schema: str, manifest: dict) -> None:
    """Run ids for the single-run benchmark: top-level runs of the typical and big sessions."""
    s = _ident(schema)
    with psycopg.connect(libpq_url(url)) as conn:
        def runs_of(ids: list[str]) -> list[dict]:
            rows = conn.execute(
                f"SELECT session_id, run_id, run_type, octet_length(run_data::text) FROM {s}.agno_runs "
                "WHERE session_id = ANY(%s) AND parent_run_id IS NULL ORDER BY session_id, run_index", (ids,)).fetchall()
            return [{"session_id": r[0], "run_id": r[1], "run_type": r[2], "bytes": r[3]} for r in rows]
        rng = random.Random(len(manifest["typical_sessions"]["agent"]))
        typical = {}
        for t, ids in manifest["typical_sessions"].items():    # two runs from each typical session
            by_session: dict[str, list] = {}
            for r in runs_of(ids):
                by_session.setdefault(r["session_id"], []).append(r)
            typical[t] = [r for rs in by_session.values() for r in rng.sample(rs, min(2, len(rs)))]
        big = runs_of([b["session_id"] for b in manifest["big_sessions"]])
        for b in manifest["big_sessions"]:
            b["bytes"] = conn.execute(f"SELECT coalesce(sum(octet_length(run_data::text)), 0) FROM {s}.agno_runs "
                                      "WHERE session_id = %s", (b["session_id"],)).fetchone()[0]
    manifest["typical_runs"] = typical
    manifest["big_runs"] = [max((r for r in big if r["session_id"] == b["session_id"]), key=lambda r: r["bytes"])
                            for b in manifest["big_sessions"] if any(r["session_id"] == b["session_id"] for r in big)]


# ---------------------------------------------------------------------------------------------
# Realism check: agno reads it, the service serves it


def verify(url: str, manifest: dict, schema: str = "ai") -> str:
    """Read the seeded data with agno's own PostgresDb (deserialized) and through the service's
    routes (in process); raises AssertionError on the first problem, returns a summary line."""
    from agno.db.base import SessionType
    from agno.db.postgres import PostgresDb

    from app import create_app
    from app.config import DatabaseConfig, Settings, sqlalchemy_url

    sa_url = sqlalchemy_url(url)
    db = PostgresDb(db_url=sa_url, db_schema=schema)
    checked = 0
    for t in ("agent", "team", "workflow"):
        expected = manifest["stats"]["sessions_by_type"].get(t, 0)
        page = db.get_sessions(session_type=SessionType(t), limit=20, page=1, sort_by="created_at", sort_order="desc")
        assert len(page) == min(20, expected), f"agno lists {len(page)} {t} sessions on page 1, expected {min(20, expected)}"
        _, total = db.get_sessions(session_type=SessionType(t), limit=1, page=1, deserialize=False, include_runs=False)
        assert total == expected, f"agno counts {total} {t} sessions, expected {expected}"
        for session_id in manifest["typical_sessions"][t][:3]:
            session = db.get_session(session_id=session_id, session_type=SessionType(t))
            assert session is not None and session.runs, f"agno cannot load {t} session {session_id}"
            checked += 1
    for b in manifest["big_sessions"]:
        session = db.get_session(session_id=b["session_id"], session_type=SessionType(b["type"]))
        assert session is not None and len(session.runs) == b["runs"], f"agno loads big session {b['session_id']} wrongly"
        checked += 1
    db.db_engine.dispose()

    settings = Settings(databases={"bench": DatabaseConfig("bench", sa_url, schema=schema)}, default_db_id="bench")
    app = create_app({"TESTING": True, "SETTINGS": settings})
    requests = 0
    try:
        client = app.test_client()

        def get(path: str, **query: Any) -> Any:
            nonlocal requests
            requests += 1
            response = client.get(path, query_string=query)
            assert response.status_code == 200, f"GET {path} {query}: {response.status_code} {response.get_data()[:300]!r}"
            return response.get_json()

        for t in ("agent", "team", "workflow"):
            listed = get("/sessions", type=t)
            assert listed["meta"]["total_count"] == manifest["stats"]["sessions_by_type"].get(t, 0)
            for session_id in manifest["typical_sessions"][t][:3]:
                get(f"/sessions/{session_id}", type=t)
                runs = get(f"/sessions/{session_id}/runs", type=t)
                assert runs, f"no runs for {session_id}"
                get(f"/sessions/{session_id}/run-previews", type=t)
            for run in manifest["typical_runs"][t][:3]:
                get(f"/sessions/{run['session_id']}/runs/{run['run_id']}", type=t)
        for f in manifest["filters"]:
            query = {k: f[k] for k in ("type", "component_id", "user_id") if k in f}
            listed = get("/sessions", **query)
            assert listed["meta"]["total_count"] == f["sessions"], f"filter {f['name']}: {listed['meta']}"
        for b in manifest["big_sessions"]:
            detail = get(f"/sessions/{b['session_id']}", type=b["type"])
            assert detail["session_id"] == b["session_id"]
            assert len(get(f"/sessions/{b['session_id']}/runs", type=b["type"])) >= 1
    finally:
        registry = app.extensions["engines"]
        registry.engine("bench").dispose()    # closes the pooled connections, which registry.dispose() leaves open
        registry.dispose()
    return (f"verified: agno's PostgresDb listed every type and loaded {checked} sessions; "
            f"the service answered {requests} requests")


# ---------------------------------------------------------------------------------------------
# Entry points


def seed(url: str, sessions: int, runs: int, seed: int = 1, *, schema: str = "ai", big: tuple = DEFAULT_BIG,
         replace: bool = False, cache_dir: str | None = BUILD_DIR, progress: bool = False) -> dict:
    """Fill agno's tables at `url` (schema `schema`) with `sessions` sessions and exactly `runs` run
    rows; returns the manifest. Deterministic for a given (sessions, runs, seed, big)."""
    started = time.monotonic()
    prepare_tables(url, schema, replace)
    templates = load_templates(url, cache_dir)
    turns = compile_templates(templates)
    corpus = Corpus()
    t_prep = time.monotonic() - started
    plans, meta = plan(sessions, runs, seed, turns, corpus, big)
    renderer = Renderer(corpus, seed)
    loaded = load(url, schema, plans, renderer, templates, seed, progress)
    loaded["timing"]["prepare_s"] = t_prep
    manifest = build_manifest(plans, meta, loaded, {"sessions": sessions, "runs": runs, "seed": seed, "schema": schema})
    add_run_ids(url, schema, manifest)
    loaded["timing"]["total_s"] = time.monotonic() - started
    manifest["stats"]["seconds"] = {k: round(v, 2) for k, v in loaded["timing"].items()}
    return manifest


def format_stats(manifest: dict) -> str:
    st = manifest["stats"]
    rps, pb = st["runs_per_session"], st["run_payload_bytes"]
    lines = [
        f"sessions {st['sessions']} ({', '.join(f'{t} {n}' for t, n in st['sessions_by_type'].items())}); "
        f"runs {st['runs']} ({', '.join(f'{t} sessions {n}' for t, n in st['runs_by_session_type'].items())})",
        f"runs per session: p50 {rps['p50']}, p90 {rps['p90']}, p99 {rps['p99']}, max {rps['max']}",
        f"run payload bytes: p50 {pb['p50']:,}, p90 {pb['p90']:,}, p99 {pb['p99']:,}, max {pb['max']:,}, "
        f"mean {pb['mean']:,}, total {pb['total'] / 1e6:,.0f} MB",
        f"users {st['users']} (+{st['anonymous_sessions']} sessions without a user); components "
        f"{', '.join(f'{t} {n}' for t, n in st['components'].items())}; named sessions {st['named_sessions']}",
        "big sessions: " + ", ".join(f"{b['type']} {b['session_id']} {b['runs']} runs {b.get('bytes', 0) / 1e6:.1f} MB"
                                     for b in manifest["big_sessions"]),
        f"database size (both tables, indexes, TOAST) {st['database_bytes'] / 1e6:,.0f} MB; seconds: "
        + ", ".join(f"{k[:-2]} {v}" for k, v in st["seconds"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="PostgreSQL URL (libpq or SQLAlchemy form)")
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True, help="rows of agno_runs (member runs included)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schema", default="ai")
    ap.add_argument("--manifest", help="where to write the manifest "
                    "(default build/bench/manifest-<sessions>-<runs>-s<seed>.json)")
    ap.add_argument("--replace", action="store_true", help="overwrite non-empty agno tables")
    ap.add_argument("--no-big", action="store_true", help="no multi-megabyte sessions")
    ap.add_argument("--verify", action="store_true", help="read the data back with agno's PostgresDb and the service")
    args = ap.parse_args(argv)
    sys.path.insert(0, ROOT)
    try:
        manifest = seed(args.url, args.sessions, args.runs, args.seed, schema=args.schema, replace=args.replace,
                        big=() if args.no_big else DEFAULT_BIG, progress=True)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2
    path = args.manifest or os.path.join(BUILD_DIR, f"manifest-{args.sessions}-{args.runs}-s{args.seed}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    print(format_stats(manifest))
    print(f"manifest: {path}")
    if args.verify:
        print(verify(args.url, manifest, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
