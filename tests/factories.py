"""Rows as agno writes them, in the test's layout (contract §3.4, §3.5; agno2-contract §3.2-§3.4).

The layout comes from the connection (`conn.info["test_layout"]`, set by the `conn` fixture):
on agno 2.x databases runs are appended to the session's `runs` array, elsewhere they are rows
of `agno_runs`.
"""

from __future__ import annotations

import itertools
import time

from sqlalchemy import func, select

from app.db import tables

_clock = itertools.count(1_795_000_000, 10)


def layout_of(conn) -> str:
    return conn.info.get("test_layout", "pg-agno3")


def is_legacy(conn) -> bool:
    """Runs live in the session's array (agno 2.x)."""
    return layout_of(conn) == "pg-agno2"


def session_table(conn):
    return tables.legacy_sessions if layout_of(conn) in ("pg-agno2", "pg-mixed") else tables.sessions


def stored(conn, session_id):
    """The session row, with `<col>_sql_null` flags telling SQL NULL from JSON null."""
    st = session_table(conn)
    flags = [st.c[c].is_(None).label(f"{c}_sql_null") for c in
             ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")]
    if "runs" in st.c:
        flags.append(st.c.runs.is_(None).label("runs_sql_null"))
    row = conn.execute(select(st, *flags).where(st.c.session_id == session_id)).mappings().first()
    return dict(row) if row is not None else None


def stored_runs(conn, session_id) -> list[dict]:
    """The session's runs where this layout keeps them (array order, or run_index order)."""
    if is_legacy(conn):
        row = stored(conn, session_id)
        return list(row["runs"] or []) if row else []
    rt = tables.runs
    return list(conn.execute(select(rt.c.run_data).where(rt.c.session_id == session_id)
                             .order_by(rt.c.run_index)).scalars())


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
    if is_legacy(conn):
        values["runs"] = None  # agno 2.x writes "no runs" as JSON null
    values.update(overrides)
    conn.execute(session_table(conn).insert().values(**values))
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
    if is_legacy(conn):
        st = tables.legacy_sessions
        runs = stored_runs(conn, session_id)
        runs.append(run_data)
        conn.execute(st.update().where(st.c.session_id == session_id).values(runs=runs))
        return run_data
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
