"""agno as a test oracle in a process of its own: agno 2.9.0 under `.venv-agno2/bin/python`
(`make agno2-venv`), agno 3.1.10 under the project's interpreter.

agno 2.9.0 and 3.1.10 cannot share an interpreter, so the round-trip tests on legacy and migrated
databases run this file with one JSON document on stdin and read one on stdout:

    seed     {"url": URL}                                     -> the manifest of tools/contract/seed.py
    answer   {"url": URL, "requests": [[method, path, body]]} -> [[status, body], ...] from AgentOS
    read     {"url": URL, "sessions": [[id, type]]}           -> what PostgresDb loads for each
    migrate  {"url": URL}                                     -> agno 3.x's migration of a 2.x database
    continue {"url": URL, "sessions": [[id, agent_id, user_id]]} -> run ids of one new agent turn each

`seed` writes the layout of the interpreter's agno (2.9.0: legacy) through its own Agent, Team
and Workflow objects; `answer` asks that agno's AgentOS (in process, through Starlette's test
client); `read` loads sessions with `PostgresDb.get_session` (agno's models must accept every
row) and lists them with `get_sessions`; `migrate` runs agno 3.1.10's `MigrationManager` as
its `/databases/all/migrate` route does; `continue` has an agno 3.1.10 Agent answer one more
turn in existing sessions (so a migrated session gains a run in `agno_runs`).
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


def migrate(doc: dict) -> dict:
    import asyncio

    from agno.db.migrations.manager import MigrationManager
    from agno.db.postgres import PostgresDb

    asyncio.run(MigrationManager(PostgresDb(db_url=doc["url"])).up())
    return {"migrated": True}


def continue_sessions(doc: dict) -> dict:
    from agno.agent import Agent
    from agno.db.postgres import PostgresDb
    from agno_seed import ScriptedModel

    db = PostgresDb(db_url=doc["url"])
    out = {}
    for session_id, agent_id, user_id in doc["sessions"]:
        agent = Agent(id=agent_id, db=db, telemetry=False, model=ScriptedModel(script=["A 3.x answer."]))
        out[session_id] = agent.run("A question asked after the upgrade", session_id=session_id,
                                    user_id=user_id).run_id
    return out


def main() -> None:
    mode = sys.argv[1]
    doc = json.load(sys.stdin)
    out, sys.stdout = sys.stdout, sys.stderr  # whatever agno prints stays out of the answer
    modes = {"seed": seed, "answer": answer, "read": read, "migrate": migrate, "continue": continue_sessions}
    result = modes[mode](doc)
    out.write(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
