#!/usr/bin/env python3
"""Google ADK 2.13.0's `adk api_server` app under uvicorn with several worker processes, for `make bench`.

    ADK_BENCH_DB_URL=postgresql+psycopg://... python tools/bench/adk_app.py --port 8000 --workers 2 [--nagle]

``adk api_server`` runs one process (it hands an app object, not an import string, to uvicorn,
so uvicorn cannot start more workers). Each worker here calls ``create_app()``, which builds the
same app as the CLI does: ``google.adk.cli.fast_api.get_fast_api_app`` without the web UI, with
the session service at ``ADK_BENCH_DB_URL`` (ADK's ``DatabaseSessionService``, with its own
engine settings) and the placeholder agents folder of the contract test
(``tools/contract/adk_agents``: loaded, never run). Artifacts and memory are kept in memory
(``use_local_storage=False``), so nothing is written under the agents folder; the session routes
never use them. ADK's logger is set up at ``INFO`` as the CLI's default ``--log_level`` does, and
uvicorn's access log is on, as the CLI leaves it.

The listening socket gets ``TCP_NODELAY`` as in ``agentos_app.py`` (uvicorn issue #3149: with
``--workers`` uvicorn binds the socket itself and every keep-alive request after a connection's
first would wait ~40 ms); ``--nagle`` keeps uvicorn's behaviour.
"""

from __future__ import annotations

import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
AGENTS_DIR = os.path.normpath(os.path.join(HERE, "..", "contract", "adk_agents"))
sys.path[:0] = [HERE]


def create_app():
    from google.adk.cli.fast_api import get_fast_api_app
    from google.adk.cli.utils import logs

    url = os.environ.get("ADK_BENCH_DB_URL")
    if not url:
        raise RuntimeError("ADK_BENCH_DB_URL is not set (a postgresql+psycopg:// URL)")
    logs.setup_adk_logger(logging.INFO)
    return get_fast_api_app(agents_dir=AGENTS_DIR, session_service_uri=url, use_local_storage=False, web=False)


def main(argv: list[str] | None = None) -> None:
    import agentos_app

    agentos_app.main(argv, factory="adk_app:create_app", description=__doc__)


if __name__ == "__main__":
    main()
