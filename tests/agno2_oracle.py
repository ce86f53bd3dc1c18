"""agno 2.9.0 as a test oracle, run in its own virtualenv (`make agno2-venv`, `.venv-agno2`).

agno 2.9.0 and 3.1.10 cannot share an interpreter, so tests/test_agno2_roundtrip.py runs this
file under `.venv-agno2/bin/python` with one JSON document on stdin and reads one on stdout:

    seed   {"url": URL}                                   -> the manifest of tools/contract/seed.py
    answer {"url": URL, "requests": [[method, path, body]]} -> [[status, body], ...] from 2.9.0's AgentOS
    read   {"url": URL, "sessions": [[id, type]]}          -> what 2.9.0's PostgresDb loads for each

`seed` writes the legacy layout through agno 2.9.0's own Agent, Team and Workflow objects;
`answer` asks agno 2.9.0's AgentOS (in process, through Starlette's test client) over a
database; `read` loads sessions with `PostgresDb.get_session` (agno's models must accept every
row) and lists them with `get_sessions`.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tools", "contract"), HERE]


def seed(doc: dict) -> dict:
    import seed as contract_seed

    return contract_seed.seed(doc["url"])


def answer(doc: dict) -> list:
    import agentos
    from starlette.testclient import TestClient

    out = []
    with TestClient(agentos.build_app([("main", doc["url"])]), raise_server_exceptions=False) as client:
        for method, path, body in doc["requests"]:
            resp = client.request(method, path, json=body)
            out.append([resp.status_code, resp.json() if resp.content else None])
    return out


def read(doc: dict) -> dict:
    from agno.db.base import SessionType
    from agno.db.postgres import PostgresDb

    db = PostgresDb(db_url=doc["url"])
    out = {}
    for session_id, kind in doc["sessions"]:
        session = db.get_session(session_id=session_id, session_type=SessionType(kind))
        if session is None:
            out[session_id] = None
            continue
        data = session.session_data or {}
        out[session_id] = {
            "type": kind,
            "user_id": session.user_id,
            "session_name": data.get("session_name"),
            "session_state": data.get("session_state"),
            "metadata": session.metadata,
            "summary": getattr(session, "summary", None) and session.summary.to_dict(),
            "runs": [run.run_id for run in session.runs or []],
        }
    listed = {}
    for kind in ("agent", "team", "workflow"):
        sessions = db.get_sessions(session_type=SessionType(kind), deserialize=False)[0]
        listed[kind] = sorted(s["session_id"] for s in sessions)
    return {"sessions": out, "listed": listed}


def main() -> None:
    mode = sys.argv[1]
    doc = json.load(sys.stdin)
    out, sys.stdout = sys.stdout, sys.stderr  # whatever agno prints stays out of the answer
    result = {"seed": seed, "answer": answer, "read": read}[mode](doc)
    out.write(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
