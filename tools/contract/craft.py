"""Stored data that makes AgentOS 3.1.10 fail, written identically into both clones.

The seed holds only data that AgentOS serves; the divergent phase adds, through SQL (PostgreSQL in
either layout, or a SQLite file), copies of a seeded agent session altered the way the contract's
bugs section describes (each line of docs/compatibility.md it shows is named), reads them on both
servers, and deletes them again:

* ``ct-x-list-content``: run ``content`` that is a list, and a number (line 10);
* ``ct-x-multipart``: a first user message whose content is a list of parts (line 11);
* ``ct-x-iso-created``: runs whose ``created_at`` inside ``run_data`` is an ISO string (line 12);
* ``ct-x-no-msg-ids``: chat messages stored without ``id`` and ``created_at`` (line 13);
* ``ct-x-null-metrics``: ``session_metrics`` stored as JSON null (line 19).

Their ``created_at`` lies before every seeded session, so the default list page never holds them.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

SOURCE = "c-agent-two-turns"
USER = "u-crafted"
CREATED_AT = 1735689600  # 2025-01-01


def _list_content(i: int, run: dict) -> dict:
    run["content"] = ["part one", {"k": 1}] if i == 0 else 7
    return run


def _multipart(i: int, run: dict) -> dict:
    for msg in run.get("messages") or []:
        if msg.get("role") == "user":
            msg["content"] = [{"type": "text", "text": "first part"}, {"type": "text", "text": "second part"}]
            break
    if isinstance(run.get("input"), dict):
        run["input"]["input_content"] = [{"type": "text", "text": "first part"}]
    return run


def _iso_created(i: int, run: dict) -> dict:
    run["created_at"] = f"2026-02-0{i + 1}T10:00:00"
    return run


def _no_message_ids(i: int, run: dict) -> dict:
    for msg in run.get("messages") or []:
        msg.pop("id", None)
        msg.pop("created_at", None)
    return run


CRAFTED: dict[str, tuple[Callable[[int, dict], dict] | None, Callable[[dict], dict] | None]] = {
    "ct-x-list-content": (_list_content, None),
    "ct-x-multipart": (_multipart, None),
    "ct-x-iso-created": (_iso_created, None),
    "ct-x-no-msg-ids": (_no_message_ids, None),
    "ct-x-null-metrics": (None, lambda data: {**(data or {}), "session_metrics": None}),
}


def apply(target: str) -> None:
    """Insert the crafted sessions: ``target`` is a libpq URL (3.x or legacy layout) or a SQLite file."""
    if target.startswith("postgresql"):
        _apply_pg(target)
    else:
        _apply_sqlite(target)


def _crafted(session: dict[str, Any], runs: list[dict[str, Any]], legacy: bool):
    """(session row, run rows) per crafted session; ``runs`` are run rows (3.x) or run dicts (legacy)."""
    for offset, (sid, (alter_run, alter_data)) in enumerate(CRAFTED.items()):
        row = {k: v for k, v in session.items() if k != "runs"}
        row.update(session_id=sid, user_id=USER, created_at=CREATED_AT + offset, updated_at=CREATED_AT + offset)
        data = copy.deepcopy(row["session_data"]) if isinstance(row["session_data"], dict) else {}
        data.pop("session_name", None)  # the name is derived from the runs (the suite may have named the source)
        row["session_data"] = alter_data(data) if alter_data is not None else data
        run_rows, run_dicts = [], []
        for i, run in enumerate(runs):
            data = copy.deepcopy(run if legacy else run["run_data"])
            data.update(run_id=f"{sid}-run-{i}", session_id=sid, user_id=USER)
            if alter_run is not None:
                data = alter_run(i, data)
            run_dicts.append(data)
            if not legacy:
                run_rows.append({**run, "run_id": f"{sid}-run-{i}", "session_id": sid, "user_id": USER, "run_data": data})
        if legacy:
            row["runs"] = run_dicts
        yield row, run_rows


def _apply_pg(url: str) -> None:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        legacy = cur.execute("SELECT to_regclass('ai.agno_runs') IS NULL AS legacy").fetchone()["legacy"]
        session = cur.execute("SELECT * FROM ai.agno_sessions WHERE session_id = %s", (SOURCE,)).fetchone()
        if legacy:
            runs = [r for r in session["runs"] or [] if isinstance(r, dict)]
        else:
            runs = cur.execute("SELECT * FROM ai.agno_runs WHERE session_id = %s ORDER BY run_index", (SOURCE,)).fetchall()
        for row, run_rows in _crafted(session, runs, legacy):
            _insert(cur, "ai.agno_sessions", row)
            for run in run_rows:
                _insert(cur, "ai.agno_runs", run)
        conn.commit()


def _insert(cur, table: str, row: dict[str, Any]) -> None:
    cols = list(row)
    values = [Jsonb(v) if isinstance(v, dict | list) else v for v in row.values()]
    cur.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})", values)


def _apply_sqlite(path: str) -> None:
    """SqliteDb keeps JSON as text; the session's and the runs' JSON is parsed, altered, written back."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        session = dict(conn.execute("SELECT * FROM agno_sessions WHERE session_id = ?", (SOURCE,)).fetchone())
        session["session_data"] = json.loads(session["session_data"]) if session["session_data"] else None
        runs = [dict(r) for r in conn.execute("SELECT * FROM agno_runs WHERE session_id = ? ORDER BY run_index",
                                              (SOURCE,))]
        for run in runs:
            run["run_data"] = json.loads(run["run_data"])
        for row, run_rows in _crafted(session, runs, False):
            for table, item in [("agno_sessions", row)] + [("agno_runs", r) for r in run_rows]:
                values = [json.dumps(v) if isinstance(v, dict | list) else v for v in item.values()]
                conn.execute(f"INSERT INTO {table} ({', '.join(item)}) VALUES ({', '.join('?' * len(item))})", values)
        conn.commit()
    finally:
        conn.close()
