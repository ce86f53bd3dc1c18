"""Real agno 3.1.10 on both sides of the parity tests (tests/test_agno_roundtrip.py).

* `ScriptedModel` is an offline stand-in for an LLM: every call answers with the next scripted
  item (text, a tool call, or JSON), so real `Agent`, `Team` and `Workflow` objects run without
  network or API keys and persist exactly what they would persist in production.
* `seed_sessions(db)` runs those components against a `PostgresDb` (or a `SqliteDb`) and returns
  what it created.
* `AgentOSRoutes` is the oracle: agno's own `/sessions` route functions, taken from
  `agno.os.routers.session`, called directly and serialised the way FastAPI serialises a route
  result (dump, validate against the declared `response_model`, dump as JSON, dropping top-level
  nulls only where the route declares `response_model_exclude_none=True`).

Nothing here is copied from agno; it only calls agno's objects and functions.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
import os
import types
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")



from agno.agent import Agent  # noqa: E402
from agno.db.base import SessionType  # noqa: E402
from agno.db.postgres import PostgresDb  # noqa: E402
from agno.db.sqlite import SqliteDb  # noqa: E402
from agno.metrics import MessageMetrics  # noqa: E402
from agno.models.base import Model  # noqa: E402
from agno.models.response import ModelResponse  # noqa: E402
from agno.session.summary import SessionSummary  # noqa: E402
from agno.team import Team  # noqa: E402
from agno.workflow import Step, Workflow  # noqa: E402
from agno.workflow.types import StepInput, StepOutput  # noqa: E402
from pydantic import BaseModel, TypeAdapter  # noqa: E402
from pydantic.fields import FieldInfo  # noqa: E402
from sqlalchemy.exc import SADeprecationWarning  # noqa: E402

# ---------------------------------------------------------------------------------------------
# An offline model


@dataclass
class ScriptedModel(Model):
    """Answers from a script instead of a provider.

    Script items: a string is a plain assistant answer; ``{"call": name, "args": {...}}`` asks for
    one tool call; ``{"json": {...}}`` answers with that object as JSON text (for output
    schemas). An exhausted script answers ``"ok"``.
    """

    id: str = "scripted-1"
    name: str = "ScriptedModel"
    provider: str = "Scripted"
    script: list[Any] = field(default_factory=list)

    def _answer(self) -> ModelResponse:
        item = self.script.pop(0) if self.script else "ok"
        if isinstance(item, str):
            return ModelResponse(role="assistant", content=item,
                                 response_usage=MessageMetrics(input_tokens=11, output_tokens=7, total_tokens=18))
        if "json" in item:
            return ModelResponse(role="assistant", content=json.dumps(item["json"]),
                                 response_usage=MessageMetrics(input_tokens=9, output_tokens=9, total_tokens=18))
        call = {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                "function": {"name": item["call"], "arguments": json.dumps(item["args"])}}
        return ModelResponse(role="assistant", content=None, tool_calls=[call],
                             response_usage=MessageMetrics(input_tokens=13, output_tokens=5, total_tokens=18))

    def invoke(self, *args, **kwargs):
        return self._answer()

    async def ainvoke(self, *args, **kwargs):
        return self._answer()

    def invoke_stream(self, *args, **kwargs):
        yield self._answer()

    async def ainvoke_stream(self, *args, **kwargs):
        yield self._answer()

    def _parse_provider_response(self, response, **kwargs):
        return response

    def _parse_provider_response_delta(self, response):
        return response


def lookup_capital(country: str) -> str:
    """Return the capital city of a country."""
    return {"France": "Paris", "Norway": "Oslo"}.get(country, "unknown")


class CityFacts(BaseModel):
    city: str
    population_m: float
    coastal: bool


def shout(step_input: StepInput) -> StepOutput:
    """A function step: the previous step's text in capitals."""
    return StepOutput(content=str(step_input.previous_step_content or "").upper())


def agno_db(url: str, **kwargs) -> PostgresDb | SqliteDb:
    """agno's PostgresDb, or its SqliteDb for a `sqlite:///` URL (on the file, as users configure it)."""
    if url.startswith("sqlite"):
        return SqliteDb(db_file=url.split(":///", 1)[1], **kwargs)
    return PostgresDb(db_url=url, **kwargs)


# ---------------------------------------------------------------------------------------------
# Sessions written by real agno components


def seed_sessions(db: PostgresDb) -> dict:
    """Run agno components against `db`; returns {"sessions": {id: type}, "runs": {id: [run ids]}}."""
    created: dict[str, str] = {}

    # An agent, two turns (user u1).
    agent = Agent(id="rt-agent", name="Roundtrip Agent", db=db, telemetry=False,
                  model=ScriptedModel(script=["Hello! How can I help?", "Paris, of course."]))
    agent.run("Hi there", session_id="rt-agent-two-turns", user_id="u1")
    agent.run("Capital of France?", session_id="rt-agent-two-turns", user_id="u1")
    created["rt-agent-two-turns"] = "agent"

    # An agent that calls a tool, streamed with its events stored (user u1).
    tool_agent = Agent(id="rt-agent", name="Roundtrip Agent", db=db, telemetry=False, tools=[lookup_capital],
                       store_events=True,
                       model=ScriptedModel(script=[{"call": "lookup_capital", "args": {"country": "Norway"}},
                                                   "The capital of Norway is Oslo."]))
    for _ in tool_agent.run("Capital of Norway?", session_id="rt-agent-tool", user_id="u1", stream=True,
                            stream_events=True):
        pass
    created["rt-agent-tool"] = "agent"

    # An agent with state and metadata; then a stored name and a summary (user u2).
    noted = Agent(id="rt-agent", name="Roundtrip Agent", db=db, telemetry=False,
                  session_state={"colour": "green", "visits": 1}, metadata={"project": "apollo"},
                  model=ScriptedModel(script=["Noted: green."]))
    noted.run("My favourite colour is green", session_id="rt-agent-summary", user_id="u2")
    session = db.get_session(session_id="rt-agent-summary", session_type=SessionType.AGENT)
    session.session_data["session_name"] = "Colour talk"
    session.metadata = {"project": "apollo", "tags": ["a", "b"], "nested": {"x": None}}
    session.summary = SessionSummary(summary="The user likes green.", topics=["colour"],
                                     updated_at=datetime.datetime(2026, 3, 4, 5, 6, 7, 891011))
    db.upsert_session(session)
    created["rt-agent-summary"] = "agent"

    # A structured-output agent: the run content is an object (user u3).
    facts = Agent(id="rt-structured", name="Facts Agent", db=db, telemetry=False, output_schema=CityFacts,
                  model=ScriptedModel(script=[{"json": {"city": "Zürich", "population_m": 0.42, "coastal": False}}]))
    facts.run("Facts about Zürich", session_id="rt-agent-structured", user_id="u3")
    created["rt-agent-structured"] = "agent"

    # An agent session without a user.
    anon = Agent(id="rt-agent", name="Roundtrip Agent", db=db, telemetry=False,
                 model=ScriptedModel(script=["Anonymous answer."]))
    anon.run("Who am I?", session_id="rt-agent-anon")
    created["rt-agent-anon"] = "agent"

    # A team whose leader delegates to a member, member responses and events stored (user u1).
    member = Agent(id="rt-member", name="Roundtrip Member", telemetry=False,
                   model=ScriptedModel(script=["Member result: 42."]))
    team = Team(id="rt-team", name="Roundtrip Team", members=[member], db=db, telemetry=False,
                store_member_responses=True, store_events=True,
                model=ScriptedModel(script=[{"call": "delegate_task_to_member",
                                             "args": {"member_id": "rt-member", "task": "Compute the answer"}},
                                            "The team says 42."]))
    for _ in team.run("What is the answer?", session_id="rt-team-delegate", user_id="u1", stream=True,
                      stream_events=True):
        pass
    created["rt-team-delegate"] = "team"

    # A team answering directly, two turns (user u3).
    team2 = Team(id="rt-team", name="Roundtrip Team", db=db, telemetry=False,
                 members=[Agent(id="rt-member", name="Roundtrip Member", telemetry=False, model=ScriptedModel())],
                 model=ScriptedModel(script=["Team hello.", "Team bye."]))
    team2.run("Hello team", session_id="rt-team-plain", user_id="u3")
    team2.run("Bye team", session_id="rt-team-plain", user_id="u3")
    created["rt-team-plain"] = "team"

    # A workflow: an agent step, then a function step, events stored (user u2).
    step_agent = Agent(id="rt-step-agent", name="Step Agent", telemetry=False,
                       model=ScriptedModel(script=["cats sleep a lot"]))
    workflow = Workflow(id="rt-workflow", name="Roundtrip Workflow", db=db, telemetry=False, store_events=True,
                        steps=[Step(name="research", agent=step_agent), Step(name="shout", executor=shout)])
    for _ in workflow.run(input="Tell me about cats", session_id="rt-workflow-steps", user_id="u2", stream=True,
                          stream_events=True):
        pass
    created["rt-workflow-steps"] = "workflow"

    # A workflow started with an object input (user u1).
    workflow2 = Workflow(id="rt-workflow", name="Roundtrip Workflow", db=db, telemetry=False,
                         steps=[Step(name="shout", executor=shout)])
    workflow2.run(input={"topic": "dogs", "depth": 2}, session_id="rt-workflow-dict", user_id="u1")
    created["rt-workflow-dict"] = "workflow"

    return {"sessions": created}


# ---------------------------------------------------------------------------------------------
# agno's AgentOS session routes, without an HTTP server


class _RecordingRouter:
    """Collects the route functions (and their decorator options) that agno attaches."""

    def __init__(self, *args, **kwargs):
        self.routes: dict[tuple[str, str], tuple[Any, dict]] = {}

    def _route(self, method):
        def register(path, **options):
            def decorate(fn):
                self.routes[(method, path)] = (fn, options)
                return fn
            return decorate
        return register

    def __getattr__(self, name):
        if name in ("get", "post", "patch", "delete", "put"):
            return self._route(name.upper())
        raise AttributeError(name)


def load_agentos_session_routes():
    """agno's session router module and the HTTPException class its routes raise."""
    from agno.os.routers.session import session as session_routes
    from fastapi import HTTPException
    return session_routes, HTTPException


class AgentOSRoutes:
    """AgentOS's answers for one database registered under `db_id`, as parsed JSON."""

    _QUERY_NAMES = {"type": "session_type"}

    def __init__(self, db: PostgresDb, db_id: str = "db1"):
        module, self._http_error = load_agentos_session_routes()
        from agno.os import schema
        router = _RecordingRouter()
        module.attach_routes(router=router, dbs={db_id: [db]})
        self.routes = router.routes
        self.schema = schema

    def _convert(self, name, value):
        from agno.os.schema import SortOrder
        if name == "session_type":
            return SessionType(value)
        if name == "sort_order":
            return SortOrder(value)
        if name in ("limit", "page", "created_after", "created_before"):
            return int(value)
        if name == "status":  # the one repeatable query parameter
            return list(value) if isinstance(value, (list, tuple)) else [value]
        return value

    def request(self, method: str, path: str, query: dict | None = None, body: Any = None, **path_params):
        """(status, parsed body or None) for `method path` with python-level query values."""
        fn, options = self.routes[(method, path)]
        kwargs = {self._QUERY_NAMES.get(k, k): self._convert(self._QUERY_NAMES.get(k, k), v)
                  for k, v in (query or {}).items()}
        kwargs.update(path_params)
        if body is not None:
            kwargs.update(self._body_kwargs(method, path, body))
        for name, param in list(inspect.signature(fn).parameters.items())[1:]:
            # With the real FastAPI installed, a default is a `Query(...)` marker holding the value.
            if name not in kwargs and isinstance(param.default, FieldInfo):
                kwargs[name] = param.default.default
        request = types.SimpleNamespace(state=types.SimpleNamespace(), headers={}, query_params={})
        try:
            with warnings.catch_warnings():
                # AgentOS runs with default warning filters; agno's SqliteDb LIKE on a JSON column
                # warns (SADeprecationWarning) and must not become an error under the suite's
                # `filterwarnings = error`.
                warnings.simplefilter("ignore", SADeprecationWarning)
                result = asyncio.run(fn(request, **kwargs))
        except self._http_error as exc:
            return exc.status_code, {"detail": exc.detail}
        except Exception as exc:  # agno's app answers unhandled errors like this (contract §1.2)
            return 500, {"detail": f"Internal server error ({type(exc).__name__})"}
        status = options.get("status_code", 200)
        if status == 204:
            return status, None
        return status, self._serialise(result, options)

    def _body_kwargs(self, method, path, body):
        s = self.schema
        if (method, path) == ("POST", "/sessions"):
            return {"create_session_request": s.CreateSessionRequest(**body)}
        if (method, path) == ("PATCH", "/sessions/{session_id}"):
            return {"update_data": s.UpdateSessionRequest(**body)}
        if (method, path) == ("POST", "/sessions/{session_id}/rename"):
            return {"session_name": body["session_name"]}
        if (method, path) == ("DELETE", "/sessions"):
            return {"request": s.DeleteSessionRequest(**body)}
        raise ValueError(f"no body for {method} {path}")

    @staticmethod
    def _serialise(result, options):
        """FastAPI's response path: dump, validate as the response model, dump as JSON."""
        drop_nulls = bool(options.get("response_model_exclude_none"))

        def prepare(value):
            if isinstance(value, BaseModel):
                return value.model_dump(by_alias=True, exclude_none=drop_nulls)
            if isinstance(value, list):
                return [prepare(v) for v in value]
            return value

        adapter = TypeAdapter(options["response_model"])
        validated = adapter.validate_python(prepare(result))
        return json.loads(adapter.dump_json(validated, by_alias=True, exclude_none=drop_nulls))
