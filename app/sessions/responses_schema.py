"""What the session routes answer, as marshmallow schemas for the OpenAPI document (app/openapi.py).

They are never used to dump a response: app/sessions/render.py builds the bodies. They describe
its output field by field, so that a response can be checked against the document (issue 6 runs
schemathesis against it):

* every object has a fixed key set (`Meta.unknown = RAISE` becomes `additionalProperties: false`);
* a field is `required` only where render.py always emits it. Routes that drop top-level nulls
  (list, create, detail, /runs, previews) omit the others; routes that emit nulls (PATCH, rename,
  single run) emit every key, which app/openapi.py states as `<Name>AllFields` variants;
* `allow_none` marks the keys whose value can be null where nulls are emitted;
* values copied from agno's stored JSON (state, metadata, metrics, run payloads) are typed as agno
  writes them (agno's own response models declare the same types), with their contents free-form.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

from . import render
from .render import RUN_STATUSES, SESSION_TYPES

def _string(description: str, **kwargs) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


def _object(description: str, **kwargs) -> fields.Dict:
    """A JSON object whose keys and values are free-form."""
    return fields.Dict(metadata={"description": description}, **kwargs)


def _objects(description: str, **kwargs) -> fields.List:
    """An array of free-form JSON objects."""
    return fields.List(fields.Dict(), metadata={"description": description}, **kwargs)


def _nonempty_objects(description: str) -> fields.List:
    """A list that render.py turns into null when it is empty."""
    return fields.List(fields.Dict(), allow_none=True,
                       metadata={"description": f"{description}; null (left out) when there are none", "minItems": 1})


def _integer(description: str, **kwargs) -> fields.Integer:
    return fields.Integer(metadata={"description": description}, **kwargs)


def _any(description: str, **kwargs) -> fields.Raw:
    """Any JSON value (null included)."""
    return fields.Raw(metadata={"description": description}, **kwargs)


def _epoch_time(description: str, **kwargs) -> fields.String:
    """A session timestamp: epoch seconds of a column, printed as UTC (`2026-11-21T08:47:58Z`)."""
    return fields.String(metadata={"description": description, "format": "date-time"}, **kwargs)


def _content(description: str) -> fields.Raw:
    """Run `content`: a string, an object (structured output), or null. Stored lists, numbers and
    booleans are served as their JSON text (agno answers 500 to them), so nothing else appears."""
    return fields.Raw(allow_none=True, metadata={"description": description,
                                                 "anyOf": [{"type": "string"}, {"type": "object"}]})


class _Strict(Schema):
    class Meta:
        unknown = RAISE


# ---------------------------------------------------------------------------------------------
# Errors


class ErrorSchema(_Strict):
    """An error as AgentOS reports it: one human-readable `detail`."""

    detail = _string("What went wrong", required=True)


class ValidationErrorItemSchema(_Strict):
    """One failed check, as FastAPI reports it."""

    type = _string("Error type (`missing`, `int_parsing`, `enum`, `greater_than_equal`, `json_invalid`, ...)",
                   required=True)
    loc = fields.List(fields.Raw(metadata={"anyOf": [{"type": "string"}, {"type": "integer"}]}), required=True,
                      metadata={"description": "Where: `query`, `path` or `body`, then the parameter or field name, "
                                               "list indexes, or the character offset of a JSON syntax error"})
    msg = _string("Message", required=True)
    input = _any("The value that failed (query values as the raw strings sent; null when missing)", required=True)
    ctx = _object("Context of the error type, e.g. `{\"ge\": 1}` or `{\"expected\": \"'asc' or 'desc'\"}`")


class ValidationErrorSchema(_Strict):
    """422: every failed check of the request in one list (query first, then body fields)."""

    detail = fields.List(fields.Nested(ValidationErrorItemSchema), required=True)


# ---------------------------------------------------------------------------------------------
# GET /sessions


class SessionListItemSchema(_Strict):
    """A session in a list page. Null fields are left out."""

    session_id = _string("Session id", required=True)
    session_name = _string("The stored name; else one derived from the first run (its first user message or "
                           "its input); else an empty string", required=True)
    session_state = _object("`session_data.session_state`")
    created_at = _epoch_time("Creation time (UTC)", required=True)
    updated_at = _epoch_time("Last update (UTC); left out when the column is NULL")
    session_type = fields.String(required=True, metadata={"description": "Session type", "enum": list(SESSION_TYPES)})
    user_id = _string("User id")
    agent_id = _string("Agent id (agent sessions)")
    team_id = _string("Team id (team sessions)")
    workflow_id = _string("Workflow id (workflow sessions)")
    session_summary = _object("The `summary` column exactly as stored")
    metrics = _object("`session_data.session_metrics`: token counts and model details")
    total_tokens = _integer("`metrics.total_tokens`")
    metadata = _object("Session metadata; agent sessions of an external SDK also get `sdk` from `agent_data`")


class PageMetaSchema(_Strict):
    page = _integer("The requested page (1-based)", required=True)
    limit = _integer("The requested page size", required=True)
    total_pages = _integer("ceil(total_count / limit)", required=True)
    total_count = _integer("Sessions matching the filters", required=True)
    search_time_ms = fields.Float(required=True, metadata={"description": "Always 0.0, as AgentOS"})


class SessionListSchema(_Strict):
    """A page of sessions."""

    data = fields.List(fields.Nested(SessionListItemSchema), required=True)
    meta = fields.Nested(PageMetaSchema, required=True)


# ---------------------------------------------------------------------------------------------
# Session detail (GET, POST, PATCH, rename)


class SessionSummarySchema(_Strict):
    """The stored summary as agno re-emits it; null parts are left out."""

    summary = _any("The summary (usually text)")
    topics = _any("Topics (usually a list of strings)")
    updated_at = _string("When the summary was written, ISO 8601 (Python `isoformat()`)")


class ChatMessageSchema(_Strict):
    """A message of `chat_history`: user and assistant messages of the session's top-level runs.

    Null and empty values are left out, except `id`, `from_history`, `stop_after_tool_call` and
    `created_at`."""

    id = _string("Message id (stable, derived from run and position, when none was stored)", required=True)
    content = _any("The content as stored: text, or a list of content parts (agno); left out when empty")
    reasoning_content = _string("Reasoning text")
    from_history = fields.Boolean(required=True, metadata={"description": "Replayed from an earlier run"})
    compressed_content = _string("Compressed content")
    stop_after_tool_call = fields.Boolean(required=True, metadata={"description": "Stop after this tool call"})
    role = _string("`user` or `assistant`")
    name = _string("Name of the speaker")
    tool_call_id = _string("Tool call id")
    tool_name = _string("Tool name")
    tool_args = _any("Tool arguments")
    tool_call_error = fields.Boolean(metadata={"description": "The tool call failed"})
    tool_calls = _objects("Tool calls requested by the model")
    redacted_reasoning_content = _string("Redacted reasoning")
    provider_data = _object("Provider-specific data")
    checkpoint_status = _string("Checkpoint status")
    checkpoint_created_at = _integer("Checkpoint time, epoch seconds")
    images = _objects("Images")
    audio = _objects("Audio")
    videos = _objects("Videos")
    files = _objects("Files")
    audio_output = _object("Audio produced by the model")
    references = _any("References attached to the message")
    metrics = _object("Token counts, cost and timings (zero counters left out)")
    created_at = _integer("Epoch seconds", required=True)


class _ChatSessionDetail(_Strict):
    """What agent and team session details share."""

    session_id = _string("Session id", required=True)
    user_id = _string("User id", allow_none=True)
    session_summary = fields.Nested(SessionSummarySchema, allow_none=True)
    session_state = _object("`session_data.session_state`", allow_none=True)
    metrics = _object("`session_data.session_metrics`", allow_none=True)
    total_tokens = _integer("`metrics.total_tokens`", allow_none=True)
    chat_history = fields.List(fields.Nested(ChatMessageSchema), required=True)
    created_at = _epoch_time("Creation time (UTC)", allow_none=True)
    updated_at = _epoch_time("Last update (UTC); the creation time when the column is NULL", allow_none=True)


class AgentSessionDetailSchema(_ChatSessionDetail):
    """An agent session. `agent_session_id` equals `session_id`."""

    agent_session_id = _string("Session id", required=True)
    session_name = _string("The stored name, else derived from the runs, else empty", required=True)
    agent_id = _string("Agent id", allow_none=True)
    agent_data = _object("The `agent_data` column (name, model, ...)", allow_none=True)
    metadata = _object("Metadata; external-SDK agents also get `sdk` from `agent_data`", allow_none=True)


class TeamSessionDetailSchema(_ChatSessionDetail):
    """A team session (`chat_history` leaves out member runs)."""

    session_name = _string("The stored name, else derived from the team runs, else empty", required=True)
    team_id = _string("Team id", allow_none=True)
    team_data = _object("The `team_data` column", allow_none=True)
    metadata = _object("Metadata", allow_none=True)


class WorkflowSessionDetailSchema(_Strict):
    """A workflow session (no chat history, no metrics)."""

    user_id = _string("User id", allow_none=True)
    workflow_id = _string("Workflow id", allow_none=True)
    workflow_name = _string("Always null (no column holds it); left out where nulls are", allow_none=True)
    session_id = _string("Session id", required=True)
    session_name = _string("The stored name, else the first run's input, else `New <workflow name> Session`, "
                           "else empty", required=True)
    session_data = _object("The `session_data` column (`{}` when null)", required=True)
    session_state = _object("`session_data.session_state`", allow_none=True)
    workflow_data = _object("The `workflow_data` column (`{}` when null)", required=True)
    metadata = _object("The `metadata` column (`{}` when null)", required=True)
    created_at = _epoch_time("Creation time (UTC)", allow_none=True)
    updated_at = _epoch_time("Last update (UTC); the creation time when the column is NULL", allow_none=True)


# ---------------------------------------------------------------------------------------------
# Runs


def _run_time():
    return _string("`created_at` of the run: UTC (`...Z`) from epoch seconds, as stored from an ISO string "
                   "(without offset: no `Z`); null when missing or unreadable", allow_none=True)


def _status():
    return _string(f"Run status as stored: {', '.join(RUN_STATUSES)}", allow_none=True)


class InputMediaSchema(_Strict):
    """Media attached to the run's input (empty lists when none)."""

    images = _objects("Images", required=True)
    videos = _objects("Videos", required=True)
    audios = _objects("Audio", required=True)
    files = _objects("Files", required=True)


class _RunCommon(_Strict):
    # Fields shared by agent and team runs, in the order both emit them where they coincide.
    run_id = _string("Run id", required=True)
    parent_run_id = _string("The team or workflow run this run belongs to; empty when the key is missing",
                            allow_none=True)
    status = _status()
    cancellation_stage = _string("Where a cancelled run stopped", allow_none=True)
    run_input = _string("The run's input as text (its input content, else the last user message)", required=True)
    content = _content("Output: text, a structured-output object, or (stored list/number/boolean) its JSON text")
    run_response_format = fields.String(required=True, metadata={
        "description": "`text` for string output, `json` otherwise", "enum": ["text", "json"]})
    reasoning_content = _string("Reasoning text", allow_none=True)
    reasoning_steps = _objects("Reasoning steps", allow_none=True)
    metrics = _object("Token counts and timings of the run", allow_none=True)
    messages = _nonempty_objects("Messages of the run")
    tools = _nonempty_objects("Tool executions")
    events = _nonempty_objects("Stored events")
    created_at = _run_time()
    references = _objects("References", allow_none=True)
    citations = _object("Citations", allow_none=True)
    reasoning_messages = _objects("Reasoning messages", allow_none=True)
    session_state = _object("Session state at the end of the run", allow_none=True)
    images = _objects("Images produced", allow_none=True)
    videos = _objects("Videos produced", allow_none=True)
    audio = _objects("Audio produced", allow_none=True)
    files = _objects("Files produced", allow_none=True)
    response_audio = _object("Audio response", allow_none=True)
    input_media = fields.Nested(InputMediaSchema, required=True)
    followups = fields.List(fields.String(), allow_none=True, metadata={"description": "Follow-up suggestions"})
    forked_from_run_id = _string("Run this run was forked from", allow_none=True)
    forked_from_message_index = _integer("Message index of the fork", allow_none=True)
    forked_from_session_id = _string("Session this run was forked from", allow_none=True)
    regenerated_from = _string("Run this run regenerates", allow_none=True)
    last_checkpoint_at_message_index = _integer("Message index of the last checkpoint", allow_none=True)


class AgentRunSchema(_RunCommon):
    """A run of an agent (also a team's member run, and any run of an agent session)."""

    agent_id = _string("Agent id; empty when the key is missing", allow_none=True)
    user_id = _string("User id of the run; empty when the key is missing", allow_none=True)
    metadata = _object("Run metadata; runs of an external-SDK agent session also get `sdk`", allow_none=True)


class TeamRunSchema(_RunCommon):
    """A team's own run (`team_id` set)."""

    team_id = _string("Team id", required=True)
    user_id = _string("User id of the run", allow_none=True)


class WorkflowRunSchema(_Strict):
    """A workflow run (`workflow_id` set)."""

    run_id = _string("Run id", required=True)
    run_input = _string("The workflow's input as text", required=True)
    events = _objects("Stored events", allow_none=True)
    workflow_id = _string("Workflow id", required=True)
    user_id = _string("User id of the run; empty when the key is missing", allow_none=True)
    content = _content("Output: text, a structured-output object, or (stored list/number/boolean) its JSON text")
    content_type = _string("Output type name (`str` for text); empty when the key is missing", allow_none=True)
    status = _status()
    cancellation_stage = _string("Where a cancelled run stopped", allow_none=True)
    step_results = _objects("Output of each step", allow_none=True)
    step_executor_runs = _objects("Agent and team runs made by the steps", allow_none=True)
    step_requirements = _objects("Requirements of a paused step", allow_none=True)
    pause_kind = _string("`step` or `executor` when paused", allow_none=True)
    paused_step_name = _string("Step that paused the run", allow_none=True)
    paused_step_index = _integer("Index of the step that paused the run", allow_none=True)
    metrics = _object("Per-step metrics and duration", allow_none=True)
    created_at = _run_time()
    reasoning_content = _string("Reasoning text", allow_none=True)
    reasoning_steps = _objects("Reasoning steps", allow_none=True)
    references = _objects("References", allow_none=True)
    citations = _object("Citations", allow_none=True)
    reasoning_messages = _objects("Reasoning messages", allow_none=True)
    images = _objects("Images produced", allow_none=True)
    videos = _objects("Videos produced", allow_none=True)
    audio = _objects("Audio produced", allow_none=True)
    files = _objects("Files produced", allow_none=True)
    response_audio = _object("Audio response", allow_none=True)


class RunPreviewSchema(_Strict):
    """A light view of a run. Null fields are left out."""

    run_id = _string("Run id", required=True)
    parent_run_id = _string("Parent run id (agent and team runs)")
    agent_id = _string("Agent id (agent runs)")
    team_id = _string("Team id (team runs)")
    workflow_id = _string("Workflow id (workflow runs)")
    user_id = _string("User id")
    status = _string("Run status")
    run_input = _string("The first 280 characters of the input", required=True)
    content_preview = _string("The first 280 characters of the output (an object as its JSON text)")
    created_at = _string("Run time, as in the run itself")


# Keys agno 2.x's run schemas do not have: runs of a legacy (agno 2.x) database come without them
# (render.as_agno2 removes them; its table is the one source of these names).
AGNO2_MISSING_RUN_KEYS = {schema: render._NEWER_FIELDS[shaper] for schema, shaper in
                          ((AgentRunSchema, render.agent_run), (TeamRunSchema, render.team_run),
                           (WorkflowRunSchema, render.workflow_run))}
