#!/usr/bin/env python3
"""Start a real agno AgentOS, as the reference for `make contract-test`.

    python tools/contract/agentos.py --port 18301 --db main=postgresql+psycopg://...  [--db second=...]
    python tools/contract/agentos.py --port 18302 --db main=sqlite:////tmp/copy.db
    .venv-agno2/bin/python tools/contract/agentos.py --port 18303 --db main=postgresql+psycopg://...

The interpreter decides the agno version: the main virtualenv has agno 3.1.10, ``.venv-agno2``
agno 2.9.0 (whose AgentOS serves the legacy layout). Each ``--db ID=URL`` becomes one
``PostgresDb(id=ID)``, or ``SqliteDb(db_file=…, id=ID)`` for a ``sqlite:///`` URL. AgentOS
provisions its databases at start-up as by default (``auto_provision_dbs``: missing tables are
created, existing ones are left as they are). The first database also backs one Agent, one Team
and one Workflow (ids ``contract-agent``, ``contract-team``, ``contract-workflow``), further ones
an Agent each, which is how AgentOS discovers databases. Their model is an offline stand-in that
the ``/sessions`` routes never call. ``OS_SECURITY_KEY`` in the environment turns on AgentOS's
bearer check, as in production. Served by uvicorn with one process.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

import uvicorn  # noqa: E402
from agno.agent import Agent  # noqa: E402
from agno.db.postgres import PostgresDb  # noqa: E402
from agno.db.sqlite import SqliteDb  # noqa: E402
from agno.os import AgentOS  # noqa: E402
from agno.team import Team  # noqa: E402
from agno.workflow import Step, Workflow  # noqa: E402
from agno_seed import ScriptedModel  # noqa: E402


def open_db(db_id: str, url: str):
    if url.startswith("sqlite"):
        return SqliteDb(id=db_id, db_file=url.split(":///", 1)[1])
    return PostgresDb(id=db_id, db_url=url)


def build_app(dbs: list[tuple[str, str]]):
    databases = [open_db(db_id, url) for db_id, url in dbs]
    first = databases[0]
    agents = [Agent(id="contract-agent", name="Contract Agent", model=ScriptedModel(), db=first, telemetry=False)]
    for n, extra in enumerate(databases[1:], start=2):
        agents.append(Agent(id=f"contract-agent-{n}", name=f"Contract Agent {n}", model=ScriptedModel(), db=extra,
                            telemetry=False))
    member = Agent(id="contract-member", name="Contract Member", model=ScriptedModel(), telemetry=False)
    team = Team(id="contract-team", name="Contract Team", members=[member], model=ScriptedModel(), db=first,
                telemetry=False)
    step_agent = Agent(id="contract-step-agent", name="Step Agent", model=ScriptedModel(), telemetry=False)
    workflow = Workflow(id="contract-workflow", name="Contract Workflow", db=first, telemetry=False,
                        steps=[Step(name="research", agent=step_agent)])
    agent_os = AgentOS(id="contract-reference", agents=agents, teams=[team], workflows=[workflow], db=first,
                       telemetry=False)
    return agent_os.get_app()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", action="append", required=True, metavar="ID=URL", help="repeatable")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args(argv)
    dbs = []
    for item in args.db:
        db_id, sep, url = item.partition("=")
        if not sep or not db_id or not url:
            ap.error(f"--db expects ID=URL, got {item!r}")
        dbs.append((db_id, url))
    uvicorn.run(build_app(dbs), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
