"""Rows as agno 3.1.10 writes them (contract §3.4, §3.5)."""

from __future__ import annotations

import itertools
import time

from sqlalchemy import func, select

from app.db import tables

_clock = itertools.count(1_795_000_000, 10)


def make_session(conn, session_id, session_type="agent", **overrides):
    now = overrides.pop("created_at", None) or next(_clock)
    values = {
        "session_id": session_id,
        "session_type": session_type,
        "user_id": None,
        "session_data": None,
        f"{session_type}_data": None,
        "metadata": None,
        "summary": None,
        "created_at": now,
        "updated_at": now,
    }
    values[f"{session_type}_id"] = f"ref-{session_type}"
    values.update(overrides)
    table = tables.legacy_sessions if "runs" in values else tables.sessions
    conn.execute(table.insert().values(**values))
    return values


def user_message(content, **extra):
    return {"id": f"m-{time.monotonic_ns()}", "role": "user", "content": content, "from_history": False,
            "stop_after_tool_call": False, "created_at": 1795000000, **extra}


def assistant_message(content, **extra):
    return {"id": f"m-{time.monotonic_ns()}", "role": "assistant", "content": content, "from_history": False,
            "stop_after_tool_call": False, "created_at": 1795000001,
            "metrics": {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}, **extra}


def agent_run(run_id, session_id, text="Hello there", answer="Hi!", **extra):
    run = {
        "run_id": run_id, "agent_id": "ref-agent", "agent_name": "Ref", "session_id": session_id,
        "user_id": extra.pop("user_id", "u1"), "input": {"input_content": text}, "content": answer,
        "content_type": "str", "model": "scripted-1", "model_provider": "Scripted",
        "messages": [user_message(text), assistant_message(answer)], "metrics": {"total_tokens": 18},
        "tools": [], "created_at": extra.pop("created_at", 1795000000), "status": "COMPLETED",
    }
    run.update(extra)
    return run


def add_run(conn, session_id, run_data, run_index=None, run_type=None):
    if run_index is None:
        run_index = conn.execute(select(func.coalesce(func.max(tables.runs.c.run_index) + 1, 0))
                                 .where(tables.runs.c.session_id == session_id)).scalar_one()
    if run_type is None:
        run_type = "agent" if run_data.get("agent_id") else "team" if run_data.get("team_id") else "workflow"
    created = run_data.get("created_at") if isinstance(run_data.get("created_at"), int) else 1795000000
    conn.execute(tables.runs.insert().values(
        run_id=run_data["run_id"], session_id=session_id, run_type=run_type, agent_id=run_data.get("agent_id"),
        team_id=run_data.get("team_id"), workflow_id=run_data.get("workflow_id"), user_id=run_data.get("user_id"),
        parent_run_id=run_data.get("parent_run_id"), status=run_data.get("status"), run_index=run_index,
        run_data=run_data, created_at=created, updated_at=created))
    return run_data
