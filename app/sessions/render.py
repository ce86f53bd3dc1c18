"""Response shapes derived from agno's rows, field by field (contract §2 and §4).

Pure functions over plain dicts: a session row (the columns of `agno_sessions`) and its run
dicts (`agno_runs.run_data`, merged with a legacy blob). Key order follows AgentOS's schemas;
`prune` drops top-level nulls on the routes where AgentOS excludes them.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, UTC

SESSION_TYPES = ("agent", "team", "workflow")
RUN_STATUSES = ("PENDING", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED", "ERROR", "REGENERATED")


def prune(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None}


# ---------------------------------------------------------------------------------------------
# Timestamps (§4.1)

def format_datetime(dt: datetime) -> str:
    if dt.tzinfo is not None and dt.utcoffset().total_seconds() == 0:
        base = dt.replace(tzinfo=None).isoformat()
        return base + "Z"
    return dt.isoformat()


# The last second of year 9999: whole seconds up to it print as time.strftime prints them.
_LAST_EPOCH_SECOND = 253402300799


def epoch_iso(value) -> str | None:
    """An epoch number as AgentOS prints a UTC datetime (`...Z`, microseconds only if any)."""
    if type(value) is int and 0 <= value <= _LAST_EPOCH_SECOND:
        # The common case (agno stores whole seconds), without building a datetime.
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return format_datetime(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def run_created_iso(value) -> str | None:
    """A run's `created_at` (epoch number or ISO string) as AgentOS prints it."""
    if isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value))
        except ValueError:
            return None
    return epoch_iso(value)


def run_created_epoch(value) -> float | None:
    """A run's `created_at` as epoch seconds, for the created_after/before filters."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    return None


# ---------------------------------------------------------------------------------------------
# Text helpers (§4.10.1)

def content_text(content) -> str:
    """A message content as text; multi-part contents keep their text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        if parts:
            return "\n".join(parts)
    return stringify(content)


def stringify(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and value[0].get("role") == "user":
            return content_text(value[0].get("content"))
        return str(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Session type, session data, metadata

def detect_type(row: dict) -> str:
    stored = row.get("session_type")
    if stored in SESSION_TYPES:
        return stored
    if row.get("agent_id"):
        return "agent"
    if row.get("team_id"):
        return "team"
    if row.get("workflow_id"):
        return "workflow"
    return "agent"


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def sdk_of(agent_data) -> str | None:
    if not isinstance(agent_data, dict):
        return None
    sdk = agent_data.get("sdk") or agent_data.get("framework")
    return sdk if isinstance(sdk, str) and sdk else None


def with_sdk(metadata, sdk: str | None):
    if not sdk:
        return metadata
    out = dict(metadata) if isinstance(metadata, dict) else {}
    out["sdk"] = sdk
    return out


# ---------------------------------------------------------------------------------------------
# Runs as agno decodes them for the detail views (§4.3, §4.7)

def decoded_runs(runs: list[dict], schema_type: str, legacy: bool = False) -> list[dict]:
    if schema_type == "workflow":
        if legacy:
            return runs  # agno 2.9.0 loads every run of a workflow session as a workflow run
        return [r for r in runs if not any(r.get(k) for k in ("agent_id", "agent_name", "team_id", "team_name"))]
    return [r for r in runs if "agent_id" in r or "team_id" in r]


def _decoded_input(run: dict):
    value = run.get("input")
    if not isinstance(value, dict):
        return value
    out = {"input_content": value.get("input_content")}
    for key in ("images", "videos", "audios", "files"):
        if value.get(key) is not None:
            out[key] = value[key]
    return out


def derive_name(session_data, runs: list[dict], schema_type: str, workflow_data=None, *, decoded=False) -> str:
    """`session_name`: the stored name, else one derived from the runs (§4.3)."""
    sd = session_data if isinstance(session_data, dict) else None
    if sd is not None and sd.get("session_name") is not None:
        name = sd["session_name"]
        return name if isinstance(name, str) else stringify(name)
    if schema_type == "workflow":
        if not runs:
            return ""
        first_input = runs[0].get("input")
        if isinstance(first_input, str):
            return first_input
        if isinstance(first_input, dict):
            return json.dumps(first_input)
        wf_name = _dict(workflow_data).get("name")
        return f"New {wf_name} Session" if wf_name else ""
    for run in runs:
        if schema_type == "team" and run.get("agent_id"):
            continue
        found = first_user_content(run.get("messages"))
        if found is not None:
            return content_text(found)
        run_input = _decoded_input(run) if decoded else run.get("input")
        if run_input is not None:
            return stringify(run_input)
    return ""


def first_user_content(messages):
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict) and message.get("role") == "user" and message.get("content"):
                return message["content"]
    return None


def name_from_candidates(row: dict) -> str:
    """The list's `session_name` from the SQL projection of the first qualifying run."""
    if row["name_set"]:
        name = row["stored_name"]
        return name if isinstance(name, str) else stringify(name)
    stype = row["session_type"]
    if stype == "workflow":
        if not row["run_found"]:
            return ""
        first_input = row["run_input"]
        if isinstance(first_input, str):
            return first_input
        if isinstance(first_input, dict):
            return json.dumps(first_input)
        wf_name = row["workflow_name"]
        return f"New {wf_name} Session" if wf_name else ""
    if row["run_message"] is not None:
        return content_text(row["run_message"])
    if row["run_input"] is not None:
        return stringify(row["run_input"])
    return ""


# ---------------------------------------------------------------------------------------------
# List item (§4.2)

def list_item(row: dict, *, legacy: bool = False) -> dict:
    stype = row["session_type"] if row["session_type"] in SESSION_TYPES else detect_type(row)
    metrics = row["metrics"]
    metadata = row["metadata"]
    if stype == "agent" and not legacy:
        metadata = with_sdk(metadata, sdk_of({"sdk": row["sdk"], "framework": row["framework"]}))
    return prune({
        "session_id": row["session_id"],
        "session_name": row["session_name"],
        "session_state": row["session_state"],
        "created_at": epoch_iso(row["created_at"]) or epoch_iso(0),
        "updated_at": epoch_iso(row["updated_at"]),
        "session_type": stype,
        "user_id": row["user_id"],
        "agent_id": row["agent_id"],
        "team_id": row["team_id"],
        "workflow_id": row["workflow_id"],
        "session_summary": row["summary"],
        "metrics": metrics,
        "total_tokens": metrics.get("total_tokens") if isinstance(metrics, dict) and metrics else None,
        "metadata": metadata,
    })


# ---------------------------------------------------------------------------------------------
# Detail (§2.4, §4.5, §4.6, §4.7)

def summary_out(summary):
    """The stored summary as agno re-emits it: `summary, topics, updated_at`, nulls dropped."""
    if not isinstance(summary, dict):
        return None
    out = {}
    for key in ("summary", "topics"):
        if summary.get(key) is not None:
            out[key] = summary[key]
    updated = summary.get("updated_at")
    if updated:
        out["updated_at"] = normalise_iso(updated)
    return out or None


def normalise_iso(value):
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value


MESSAGE_KEYS = ("id", "content", "reasoning_content", "from_history", "compressed_content",
                "stop_after_tool_call", "role", "name", "tool_call_id", "tool_name", "tool_args",
                "tool_call_error", "tool_calls", "redacted_reasoning_content", "provider_data",
                "checkpoint_status", "checkpoint_created_at")
MEDIA_KEYS = ("images", "audio", "videos", "files", "audio_output")
METRIC_KEYS = ("input_tokens", "output_tokens", "total_tokens", "audio_input_tokens", "audio_output_tokens",
               "audio_total_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost",
               "duration", "time_to_first_token", "provider_metrics")


def message_metrics(stored) -> dict | None:
    if not isinstance(stored, dict):
        return None
    out = {}
    for key in METRIC_KEYS:
        value = stored.get(key)
        if value is None or (type(value) is int and value == 0) or (isinstance(value, dict) and not value):
            continue
        out[key] = value
    return out or None


# How chat_message copies each key: the id (or the fallback), a flag (always there, as a bool), or
# a value kept only when set (not None, not an empty list or object).
_ID, _FLAG, _SET = 0, 1, 2
_MESSAGE_FIELDS = tuple((key, _ID if key == "id" else _FLAG if key in ("from_history", "stop_after_tool_call") else _SET)
                        for key in MESSAGE_KEYS)


def chat_message(message: dict, fallback_id: str | None, fallback_created) -> dict:
    get = message.get
    out = {}
    for key, kind in _MESSAGE_FIELDS:
        value = get(key)
        if kind == _SET:
            if value is not None and (value or not isinstance(value, (list, dict))):
                out[key] = value
        elif kind == _FLAG:
            out[key] = bool(value)
        else:
            out[key] = value if value is not None else fallback_id
    for key in MEDIA_KEYS:
        value = get(key)
        if value is not None and (value or not isinstance(value, (list, dict))):
            out[key] = value
    if get("references") is not None:
        out["references"] = message["references"]
    metrics = message_metrics(get("metrics"))
    if metrics:
        out["metrics"] = metrics
    created = get("created_at")
    out["created_at"] = created if created is not None else fallback_created
    return out


def chat_history(session_id: str, runs: list[dict]) -> list[dict]:
    history = []
    for run in decoded_runs(runs, "agent"):
        if run.get("parent_run_id") is not None:
            continue
        messages = run.get("messages")
        if not isinstance(messages, list):
            continue
        run_created = run.get("created_at") if isinstance(run.get("created_at"), int) else int(time.time())
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("from_history") is True:
                continue
            if message.get("role") in ("system", "tool"):
                continue
            # agno invents a random id on every read for messages stored without one; a stable
            # id derived from the run and position serves clients better (docs/compatibility.md).
            fallback_id = None if message.get("id") is not None else str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"agno:{session_id}:{run.get('run_id')}:{index}"))
            history.append(chat_message(message, fallback_id, run_created))
    return history


def detail(row: dict, runs: list[dict], schema_type: str | None = None, *, emit_nulls=False,
           legacy: bool = False) -> dict:
    """The `<Type>SessionDetailSchema` of a row, in the requested or detected type.

    `legacy`: shaped as agno 2.9.0 shapes it (no `sdk` in the metadata, agno2-contract §7)."""
    stype = schema_type or detect_type(row)
    sd_raw = row.get("session_data")
    sd = sd_raw if isinstance(sd_raw, dict) and sd_raw else None
    decoded = decoded_runs(runs, stype, legacy)
    name = derive_name(sd_raw, decoded, stype, row.get("workflow_data"), decoded=True)
    created = row.get("created_at") or None
    updated = row.get("updated_at") or created
    created_iso, updated_iso = epoch_iso(created), epoch_iso(updated)
    state = sd.get("session_state") if sd else None
    if stype == "workflow":
        out = {
            "user_id": row.get("user_id"),
            "workflow_id": row.get("workflow_id"),
            "workflow_name": None,
            "session_id": row["session_id"],
            "session_name": name,
            "session_data": sd_raw if sd_raw is not None else {},
            "session_state": state,
            "workflow_data": row.get("workflow_data") if row.get("workflow_data") is not None else {},
            "metadata": row.get("metadata") if row.get("metadata") is not None else {},
            "created_at": created_iso,
            "updated_at": updated_iso,
        }
        return out if emit_nulls else prune(out)
    metrics = (sd.get("session_metrics", {}) if sd else None)
    total_tokens = metrics.get("total_tokens") if isinstance(metrics, dict) else None
    history = chat_history(row["session_id"], runs)
    summary = summary_out(row.get("summary"))
    if stype == "agent":
        out = {
            "user_id": row.get("user_id"),
            "agent_session_id": row["session_id"],
            "session_id": row["session_id"],
            "session_name": name,
            "session_summary": summary,
            "session_state": state,
            "agent_id": row.get("agent_id") or None,
            "total_tokens": total_tokens,
            "agent_data": row.get("agent_data"),
            "metrics": metrics,
            "metadata": row.get("metadata") if legacy else with_sdk(row.get("metadata"), sdk_of(row.get("agent_data"))),
            "chat_history": history,
            "created_at": created_iso,
            "updated_at": updated_iso,
        }
    else:
        out = {
            "session_id": row["session_id"],
            "session_name": name,
            "user_id": row.get("user_id"),
            "team_id": row.get("team_id"),
            "session_summary": summary,
            "session_state": state,
            "metrics": metrics,
            "team_data": row.get("team_data"),
            "metadata": row.get("metadata"),
            "chat_history": history,
            "created_at": created_iso,
            "updated_at": updated_iso,
            "total_tokens": total_tokens,
        }
    return out if emit_nulls else prune(out)


# ---------------------------------------------------------------------------------------------
# Run schemas (§4.9, §4.10)

def _nonempty_list(value):
    return value if isinstance(value, list) and value else None


def _content(run: dict, default):
    content = run.get("content", default)
    if content is None or isinstance(content, (str, dict)):
        return content
    # agno answers 500 for list, number and boolean contents; they are served as JSON text.
    return json.dumps(content, ensure_ascii=False)


def _last_user_content(messages):
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return message.get("content", "")
    return None


def run_input(run: dict) -> str:
    value = run.get("input")
    if isinstance(value, dict) and value.get("input_content") is not None:
        return stringify(value["input_content"])
    found = _last_user_content(run.get("messages"))
    return stringify(found) if found is not None else ""


def workflow_run_input(run: dict) -> str:
    value = run.get("input")
    if value is not None:
        return stringify(value)
    executors = run.get("step_executor_runs")
    if isinstance(executors, list) and executors and isinstance(executors[0], dict):
        found = _last_user_content(executors[0].get("messages"))
        if found is not None:
            return stringify(found)
    found = _last_user_content(run.get("messages"))
    return stringify(found) if found is not None else ""


def _input_media(run: dict) -> dict:
    value = run.get("input")
    value = value if isinstance(value, dict) else {}
    return {key: value.get(key) or [] for key in ("images", "videos", "audios", "files")}


def _response_format(run: dict) -> str:
    return "text" if run.get("content_type", "str") == "str" else "json"


_TAIL = ("followups", "forked_from_run_id", "forked_from_message_index", "forked_from_session_id",
         "regenerated_from", "last_checkpoint_at_message_index")


def agent_run(run: dict, sdk: str | None = None, session_agent_id=None) -> dict:
    metadata = run.get("metadata")
    if sdk and (run.get("agent_id") is None or run.get("agent_id") == session_agent_id):
        metadata = with_sdk(metadata, sdk)
    out = {
        "run_id": run.get("run_id", ""),
        "parent_run_id": run.get("parent_run_id", ""),
        "agent_id": run.get("agent_id", ""),
        "user_id": run.get("user_id", ""),
        "status": run.get("status"),
        "cancellation_stage": run.get("cancellation_stage"),
        "run_input": run_input(run),
        "content": _content(run, ""),
        "run_response_format": _response_format(run),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "metrics": run.get("metrics", {}),
        "metadata": metadata,
        "messages": _nonempty_list(run.get("messages")),
        "tools": _nonempty_list(run.get("tools")),
        "events": _nonempty_list(run.get("events")),
        "created_at": run_created_iso(run.get("created_at")),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "session_state": run.get("session_state"),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
        "input_media": _input_media(run),
    }
    for key in _TAIL:
        out[key] = run.get(key)
    return out


def team_run(run: dict) -> dict:
    out = {
        "run_id": run.get("run_id", ""),
        "parent_run_id": run.get("parent_run_id", ""),
        "team_id": run.get("team_id", ""),
        "user_id": run.get("user_id"),
        "status": run.get("status"),
        "cancellation_stage": run.get("cancellation_stage"),
        "content": _content(run, ""),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "run_input": run_input(run),
        "run_response_format": _response_format(run),
        "metrics": run.get("metrics", {}),
        "tools": _nonempty_list(run.get("tools")),
        "messages": _nonempty_list(run.get("messages")),
        "events": _nonempty_list(run.get("events")),
        "created_at": run_created_iso(run.get("created_at")),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "session_state": run.get("session_state"),
        "input_media": _input_media(run),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
    }
    for key in _TAIL:
        out[key] = run.get(key)
    return out


def workflow_run(run: dict) -> dict:
    return {
        "run_id": run.get("run_id", ""),
        "run_input": workflow_run_input(run),
        "events": run.get("events", []),
        "workflow_id": run.get("workflow_id", ""),
        "user_id": run.get("user_id", ""),
        "content": _content(run, ""),
        "content_type": run.get("content_type", ""),
        "status": run.get("status", ""),
        "cancellation_stage": run.get("cancellation_stage"),
        "step_results": run.get("step_results", []),
        "step_executor_runs": run.get("step_executor_runs", []),
        "step_requirements": run.get("step_requirements"),
        "pause_kind": run.get("pause_kind"),
        "paused_step_name": run.get("paused_step_name"),
        "paused_step_index": run.get("paused_step_index"),
        "metrics": run.get("metrics", {}),
        "created_at": run_created_iso(run.get("created_at")),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
    }


# Fields agno 3.x added to the run schemas; agno 2.9.0 has none of them (agno2-contract §7).
_NEWER_FIELDS = {agent_run: ("cancellation_stage", "metadata"), team_run: ("user_id", "cancellation_stage"),
                 workflow_run: ("cancellation_stage",)}


def as_agno2(schema: dict, shaper) -> dict:
    for key in _NEWER_FIELDS[shaper]:
        schema.pop(key, None)
    return schema


def runs_for_session(row: dict, runs: list[dict], effective_type: str, *, legacy: bool = False) -> list[dict]:
    """`/runs`: each run classified by the effective session type (§4.9), nulls still present."""
    out = _classified(row, runs, effective_type, legacy)
    if legacy:
        return [as_agno2(schema, shaper) for shaper, schema in out]
    return [schema for _, schema in out]


def _classified(row: dict, runs: list[dict], effective_type: str, legacy: bool) -> list[tuple]:
    out = []
    sdk = None
    if effective_type == "agent" and row.get("session_type") == "agent" and not legacy:
        sdk = sdk_of(row.get("agent_data"))
    for run in runs:
        if effective_type == "agent":
            out.append((agent_run, agent_run(run, sdk, row.get("agent_id"))))
        elif effective_type == "team":
            if run.get("agent_id") is not None:
                out.append((agent_run, agent_run(run)))
            elif run.get("team_id") is not None:
                out.append((team_run, team_run(run)))
        else:
            if run.get("workflow_id") is not None:
                out.append((workflow_run, workflow_run(run)))
            elif run.get("team_id") is not None:
                out.append((team_run, team_run(run)))
            else:
                out.append((agent_run, agent_run(run)))
    return out


def single_run(row: dict, run: dict, *, legacy: bool = False) -> dict:
    """The single-run route classifies the run alone (§2.7); every field is emitted."""
    if run.get("workflow_id") is not None:
        shaper, schema = workflow_run, workflow_run(run)
    elif run.get("team_id") is not None:
        shaper, schema = team_run, team_run(run)
    else:
        sdk = sdk_of(row.get("agent_data")) if row.get("session_type") == "agent" and not legacy else None
        shaper, schema = agent_run, agent_run(run, sdk, row.get("agent_id"))
    return as_agno2(schema, shaper) if legacy else schema


def preview(schema: dict) -> dict:
    content = schema.get("content")
    if isinstance(content, dict):
        content = json.dumps(content, default=str)
    return prune({
        "run_id": schema.get("run_id"),
        "parent_run_id": schema.get("parent_run_id"),
        "agent_id": schema.get("agent_id"),
        "team_id": schema.get("team_id"),
        "workflow_id": schema.get("workflow_id"),
        "user_id": schema.get("user_id"),
        "status": schema.get("status"),
        "run_input": schema["run_input"][:280] if isinstance(schema.get("run_input"), str) else None,
        "content_preview": content[:280] if isinstance(content, str) else None,
        "created_at": schema.get("created_at"),
    })
