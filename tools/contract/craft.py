"""Stored data that makes AgentOS 3.1.10 fail, written identically into both clones.

The seed holds only data that AgentOS serves; the divergent phase adds, through SQL, copies of a
seeded agent session altered the way the contract's bugs section describes (each line of
docs/compatibility.md it shows is named), reads them on both servers, and deletes them again:

* ``ct-x-list-content``: run ``content`` that is a list, and a number (line 10);
* ``ct-x-multipart``: a first user message whose content is a list of parts (line 11);
* ``ct-x-iso-created``: runs whose ``created_at`` inside ``run_data`` is an ISO string (line 12);
* ``ct-x-no-msg-ids``: chat messages stored without ``id`` and ``created_at`` (line 13);
* ``ct-x-null-metrics``: ``session_metrics`` stored as JSON null (line 19).

Their ``created_at`` lies before every seeded session, so the default list page never holds them.
"""

from __future__ import annotations

import copy
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


def apply(url: str) -> None:
    """Insert the crafted sessions into the database at ``url`` (a libpq URL)."""
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        session = cur.execute("SELECT * FROM ai.agno_sessions WHERE session_id = %s", (SOURCE,)).fetchone()
        runs = cur.execute("SELECT * FROM ai.agno_runs WHERE session_id = %s ORDER BY run_index", (SOURCE,)).fetchall()
        for offset, (sid, (alter_run, alter_data)) in enumerate(CRAFTED.items()):
            row = {k: v for k, v in session.items() if k != "runs"}
            row.update(session_id=sid, user_id=USER, created_at=CREATED_AT + offset, updated_at=CREATED_AT + offset)
            data = copy.deepcopy(row["session_data"]) if isinstance(row["session_data"], dict) else {}
            data.pop("session_name", None)  # the name is derived from the runs (the suite may have named the source)
            row["session_data"] = alter_data(data) if alter_data is not None else data
            _insert(cur, "agno_sessions", row)
            for i, run in enumerate(runs):
                data = copy.deepcopy(run["run_data"])
                data.update(run_id=f"{sid}-run-{i}", session_id=sid, user_id=USER)
                if alter_run is not None:
                    data = alter_run(i, data)
                _insert(cur, "agno_runs", {**run, "run_id": f"{sid}-run-{i}", "session_id": sid, "user_id": USER,
                                           "run_data": data})
        conn.commit()


def _insert(cur, table: str, row: dict[str, Any]) -> None:
    cols = list(row)
    values = [Jsonb(v) if isinstance(v, dict | list) else v for v in row.values()]
    cur.execute(f"INSERT INTO ai.{table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})", values)
