#!/usr/bin/env python3
"""agno 3.1.10 AgentOS under uvicorn with several worker processes, for `make bench`.

    AGNO_BENCH_DB_URL=postgresql+psycopg://... python tools/bench/agentos_app.py --port 8000 --workers 2 [--nagle]

uvicorn needs an import string to start several worker processes: each worker calls
``create_app()``, which builds the same AgentOS as ``tools/contract/agentos.py`` (one
``PostgresDb`` with id ``main`` backing an Agent, a Team and a Workflow driven by an offline
model the ``/sessions`` routes never call) on the database named by ``AGNO_BENCH_DB_URL``.

With ``--workers N`` uvicorn 0.54 binds the listening socket itself with ``proto`` 0, and asyncio
then leaves Nagle's algorithm on for every accepted connection (uvicorn issue #3149): on Linux each
keep-alive request after a connection's first waits ~40 ms for the client's delayed ACK. That is
an accident of the launcher, not AgentOS's cost, so the listening socket gets ``TCP_NODELAY``
(accepted sockets inherit it), as uvicorn's fix does; ``--nagle`` keeps uvicorn's behaviour.
uvicorn's logging is left at its defaults (access log on), as ``agent_os.serve()`` runs it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "contract")]


def create_app():
    from agentos import build_app  # tools/contract/agentos.py

    url = os.environ.get("AGNO_BENCH_DB_URL")
    if not url:
        raise RuntimeError("AGNO_BENCH_DB_URL is not set (a postgresql+psycopg:// URL)")
    return build_app([("main", url)])


def _no_delay(bind_socket):
    def bind_with_nodelay(self):
        sock = bind_socket(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    return bind_with_nodelay


def main(argv: list[str] | None = None, factory: str = "agentos_app:create_app", description: str = __doc__) -> None:
    """Serve `factory` (a `module:function` making the app) under uvicorn's worker processes."""
    import uvicorn
    from uvicorn.config import Config

    ap = argparse.ArgumentParser(description=description.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--nagle", action="store_true", help="keep uvicorn's listening socket as it binds it")
    args = ap.parse_args(argv)
    if not args.nagle:
        Config.bind_socket = _no_delay(Config.bind_socket)
    uvicorn.run(factory, factory=True, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
