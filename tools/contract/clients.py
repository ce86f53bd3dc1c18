#!/usr/bin/env python3
"""Real-client checks for `make contract-test`: agno's own clients and the agent-ui's requests.

Run the same checks against a real agno 3.1.10 AgentOS and against this service (two clones of one
seeded database): a check that passes on AgentOS and fails on the service is a service bug; one
that fails on both is a bug in the check.

* ``run_client_checks``: agno's ``AgentOSClient`` calls every session method (create, list with
  each filter, detail, runs with status and time filters, run previews sync and async, single run,
  rename, update, single and bulk delete). Each call must succeed, and the client parses every
  response with agno's pydantic models (``agno.os.schema``); list items are also validated
  strictly with ``SessionSchema.model_validate`` on the raw JSON (the client's ``from_dict`` is
  lenient). Then ``RemoteDb`` (``agno.remote.base``), hand-built as ``RemoteDb(id=db_id,
  client=AgentOSClient(url))``, calls each of its session methods (``create_session``,
  ``get_sessions``, ``get_session``, ``get_session_runs``, ``get_session_run``, ``rename_session``,
  ``update_session``, ``delete_session``, ``delete_sessions``; it has no upsert). ``RemoteDb``
  forwards ``**kwargs`` to the client, so it sends ``db_id`` and the bearer token the way AgentOS's
  own routers do (``headers=...``); its checks therefore also run with a token.
* ``run_agent_ui_checks``: the plain HTTP requests of agno-agi/agent-ui (``Origin:
  https://os.agno.com``, ``Content-Type: application/json`` and, with a token, ``Authorization:
  Bearer``): health, the sidebar lists, bare-array run lists, delete, CORS preflights and simple
  CORS responses, and 401 with a ``detail`` when the token is missing or wrong.

Sessions the checks create are named ``<prefix>-...`` (one auto-generated id comes from the
"create without session_id" call) and are all deleted by the checks themselves; leftovers from a
failed run are deleted on the way out. agno's client uses process-global httpx clients, and an
``httpx.AsyncClient`` is bound to its first event loop, so ``run_client_checks`` installs a fresh
async client, runs every async call inside one ``asyncio.run(...)`` and closes it afterwards. It
must therefore be called from synchronous code (no running event loop).

CLI::

    python tools/contract/clients.py URL [--db-id X] [--token T] --seeded-json '{"agent": ..., \
"team": ..., "workflow": ..., "user_id": ...}' --prefix p

prints a table (client | call | result) and exits 1 on any failure. The agent-ui checks need a
``db_id`` (the UI sends nothing without one) and are skipped without ``--db-id``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")

import httpx  # noqa: E402
from agno.client import AgentOSClient  # noqa: E402
from agno.db.base import SessionType  # noqa: E402
from agno.os.schema import (  # noqa: E402
    AgentSessionDetailSchema,
    PaginatedResponse,
    PaginationInfo,
    RunSchema,
    SessionRunPreviewSchema,
    SessionSchema,
    TeamRunSchema,
    TeamSessionDetailSchema,
    WorkflowRunSchema,
    WorkflowSessionDetailSchema,
)
from agno.remote.base import RemoteDb  # noqa: E402
from agno.utils.http import set_default_async_client  # noqa: E402
from pydantic import ValidationError  # noqa: E402

AGENT_UI_ORIGIN = "https://os.agno.com"
ALL_RUN_STATUSES = ["PENDING", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED", "ERROR", "REGENERATED"]
DETAIL_SCHEMAS = {
    SessionType.AGENT: AgentSessionDetailSchema,
    SessionType.TEAM: TeamSessionDetailSchema,
    SessionType.WORKFLOW: WorkflowSessionDetailSchema,
}
RUN_SCHEMAS = {SessionType.AGENT: RunSchema, SessionType.TEAM: TeamRunSchema, SessionType.WORKFLOW: WorkflowRunSchema}


# ---------------------------------------------------------------------------------------------
# Result bookkeeping


class CheckFailed(Exception):
    """A response that arrived but is not what the client needs."""


def _expect(condition: Any, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        req = exc.request
        target = req.url.raw_path.decode("ascii", "replace")
        return _short(f"HTTP {exc.response.status_code} on {req.method} {target}: {exc.response.text}")
    if isinstance(exc, ValidationError):
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        return _short(f"{exc.title} ValidationError ({exc.error_count()}): {errors}")
    if isinstance(exc, CheckFailed):
        return _short(str(exc))
    return _short(f"{type(exc).__name__}: {exc}")


class _Results:
    def __init__(self, client: str):
        self.client = client
        self.items: list[dict] = []

    def record(self, call: str, ok: bool, detail: str, client: str | None = None) -> None:
        self.items.append({"client": client or self.client, "call": call, "ok": bool(ok), "detail": detail})

    async def arun(self, call: str, fn: Callable[[], Awaitable[str | None]], client: str | None = None) -> bool:
        try:
            detail = await fn()
        except Exception as exc:  # every failure becomes a result row
            self.record(call, False, _describe(exc), client)
            return False
        self.record(call, True, detail or "ok", client)
        return True

    def run(self, call: str, fn: Callable[[], str | None], client: str | None = None) -> bool:
        try:
            detail = fn()
        except Exception as exc:
            self.record(call, False, _describe(exc), client)
            return False
        self.record(call, True, detail or "ok", client)
        return True


def _epoch(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _ids(items: list[Any]) -> list[str]:
    return [item.session_id if hasattr(item, "session_id") else item.run_id for item in items]


def _items_text(items: list[Any]) -> str:
    return f"{len(items)} item{'s' if len(items) != 1 else ''}"


# ---------------------------------------------------------------------------------------------
# AgentOSClient and RemoteDb


class _Capture:
    """httpx response hook: keeps the last response (body read) so raw JSON can be validated too."""

    def __init__(self) -> None:
        self.last: httpx.Response | None = None

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        self.last = response

    def status(self) -> str:
        return f"HTTP {self.last.status_code}" if self.last is not None else "HTTP ?"


class _ClientSuite:
    def __init__(self, base_url: str, db_id: str | None, token: str | None, seeded: dict, prefix: str):
        self.base_url = base_url.rstrip("/")
        self.db_id = db_id
        self.seeded = seeded
        self.prefix = prefix
        self.seeded_user = seeded.get("user_id")
        self.headers = {"Authorization": f"Bearer {token}"} if token else None
        self.client = AgentOSClient(self.base_url, timeout=30.0)
        self.res = _Results("AgentOSClient")
        self.capture = _Capture()
        self.created: dict[str, SessionType] = {}
        self.components: dict[SessionType, str | None] = {}
        self.runs: dict[SessionType, list[Any]] = {}
        self.user = f"{prefix}-user"
        self.ids = {
            SessionType.AGENT: f"{prefix}-create-agent",
            SessionType.TEAM: f"{prefix}-create-team",
            SessionType.WORKFLOW: f"{prefix}-create-workflow",
        }
        self.bare_id = f"{prefix}-create-bare"
        self.auto_id: str | None = None

    # keyword arguments every call takes
    @property
    def kw(self) -> dict[str, Any]:
        out: dict[str, Any] = {"headers": self.headers}
        if self.db_id:
            out["db_id"] = self.db_id
        return out

    def _user_kw(self) -> dict[str, Any]:
        return {"user_id": self.seeded_user} if self.seeded_user else {}

    def _q(self, **params: Any) -> str:
        shown = dict(params)
        if self.db_id:
            shown.setdefault("db_id", self.db_id)
        return ", ".join(f"{k}={v.value if isinstance(v, SessionType) else v}" for k, v in shown.items())

    async def main(self) -> list[dict]:
        async_client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            timeout=httpx.Timeout(60.0),
            http2=True,
            follow_redirects=True,
            event_hooks={"response": [self.capture.hook]},
        )
        set_default_async_client(async_client)
        try:
            await self.check_create()
            await self.check_get_session()
            await self.check_get_sessions()
            await self.check_runs()
            await self.check_previews()
            await self.check_single_run()
            await self.check_rename()
            await self.check_update()
            await self.check_delete()
            await self.check_remote_db()
        finally:
            await self.cleanup()
            await async_client.aclose()
        return self.res.items

    # -- create ---------------------------------------------------------------------------------

    async def check_create(self) -> None:
        async def auto() -> str:
            out = await self.client.create_session(session_type=SessionType.AGENT, **self.kw)
            _expect(isinstance(out, AgentSessionDetailSchema), f"got {type(out).__name__}")
            _expect(out.session_id, "no session_id generated")
            self.auto_id = out.session_id
            self.created[out.session_id] = SessionType.AGENT
            _expect(isinstance(out.session_name, str), "session_name is not a string")
            return f"{self.capture.status()}, generated id"

        await self.res.arun(f"create_session({self._q(type=SessionType.AGENT)}) without session_id/name/state", auto)

        specs = {
            SessionType.AGENT: {"session_name": f"{self.prefix} Agent Session", "session_state": {"step": 1, "tags": ["a", "b"]},
                                "metadata": {"source": "contract", "n": 1}, "agent_id": "contract-agent"},
            SessionType.TEAM: {"session_name": f"{self.prefix} Team Session", "metadata": {"source": "contract"},
                               "team_id": "contract-team"},
            SessionType.WORKFLOW: {"session_state": {"topic": "cats"}, "workflow_id": "contract-workflow"},
        }
        for stype, extra in specs.items():
            sid = self.ids[stype]

            async def create(stype: SessionType = stype, sid: str = sid, extra: dict = extra) -> str:
                out = await self.client.create_session(session_type=stype, session_id=sid, user_id=self.user, **extra,
                                                       **self.kw)
                self.created[sid] = stype
                _expect(isinstance(out, DETAIL_SCHEMAS[stype]), f"got {type(out).__name__}")
                _expect(out.session_id == sid, f"session_id {out.session_id!r}")
                _expect(out.user_id == self.user, f"user_id {out.user_id!r}")
                if "session_name" in extra:
                    _expect(out.session_name == extra["session_name"], f"session_name {out.session_name!r}")
                if "session_state" in extra:
                    _expect(out.session_state == extra["session_state"], f"session_state {out.session_state!r}")
                for key, value in (extra.get("metadata") or {}).items():
                    _expect((out.metadata or {}).get(key) == value, f"metadata {out.metadata!r}")
                for id_field in ("agent_id", "team_id", "workflow_id"):
                    if id_field in extra:
                        _expect(getattr(out, id_field) == extra[id_field], f"{id_field} {getattr(out, id_field)!r}")
                return f"{self.capture.status()}, {type(out).__name__}"

            fields = ", ".join(["session_id", "user_id", *extra])
            await self.res.arun(f"create_session({self._q(type=stype)}; {fields})", create)

        async def bare() -> str:
            out = await self.client.create_session(session_type=SessionType.AGENT, session_id=self.bare_id,
                                                   user_id=self.user, **self.kw)
            self.created[self.bare_id] = SessionType.AGENT
            _expect(isinstance(out, AgentSessionDetailSchema) and out.session_id == self.bare_id, f"got {out!r}")
            return f"{self.capture.status()}, no name/state/metadata"

        await self.res.arun(f"create_session({self._q(type=SessionType.AGENT)}; session_id, user_id only)", bare)

        async def duplicate() -> str:
            try:
                await self.client.create_session(session_type=SessionType.TEAM, session_id=self.ids[SessionType.AGENT],
                                                 **self.kw)
            except httpx.HTTPStatusError as exc:
                _expect(exc.response.status_code == 409, f"HTTP {exc.response.status_code}: {exc.response.text}")
                return "HTTPStatusError 409 (existing id is not overwritten)"
            raise CheckFailed("an existing session_id was accepted")

        await self.res.arun(f"create_session({self._q(type=SessionType.TEAM)}; existing session_id) -> 409", duplicate)

    # -- detail -----------------------------------------------------------------------------------

    async def check_get_session(self) -> None:
        for stype in SessionType:
            sid = self.seeded[stype.value]

            async def plain(stype: SessionType = stype, sid: str = sid) -> str:
                out = await self.client.get_session(sid, **self.kw)
                _expect(isinstance(out, DETAIL_SCHEMAS[stype]), f"detected {type(out).__name__}")
                _expect(out.session_id == sid, f"session_id {out.session_id!r}")
                component = {SessionType.AGENT: "agent_id", SessionType.TEAM: "team_id",
                             SessionType.WORKFLOW: "workflow_id"}[stype]
                self.components[stype] = getattr(out, component)
                return f"{type(out).__name__}, {component}={self.components[stype]}"

            await self.res.arun(f"get_session({stype.value} session; {self._q()})", plain)

            async def typed(stype: SessionType = stype, sid: str = sid) -> str:
                out = await self.client.get_session(sid, session_type=stype, **self._user_kw(), **self.kw)
                _expect(isinstance(out, DETAIL_SCHEMAS[stype]) and out.session_id == sid, f"got {out!r}")
                if self.seeded_user:
                    _expect(out.user_id == self.seeded_user, f"user_id {out.user_id!r}")
                return type(out).__name__

            await self.res.arun(f"get_session({stype.value} session; {self._q(type=stype, **self._user_kw())})", typed)

        async def created() -> str:
            sid = self.ids[SessionType.AGENT]
            out = await self.client.get_session(sid, user_id=self.user, **self.kw)
            _expect(isinstance(out, AgentSessionDetailSchema), f"detected {type(out).__name__}")
            _expect(out.session_name == f"{self.prefix} Agent Session", f"session_name {out.session_name!r}")
            _expect(out.session_state == {"step": 1, "tags": ["a", "b"]}, f"session_state {out.session_state!r}")
            _expect(out.chat_history == [] or out.chat_history is None, "chat_history of a new session is not empty")
            return "stored name, state and metadata read back"

        await self.res.arun(f"get_session(created agent session; {self._q(user_id=self.user)})", created)

        async def missing() -> str:
            try:
                await self.client.get_session(f"{self.prefix}-does-not-exist", **self.kw)
            except httpx.HTTPStatusError as exc:
                _expect(exc.response.status_code == 404, f"HTTP {exc.response.status_code}")
                return "HTTPStatusError 404"
            raise CheckFailed("an unknown session was returned")

        await self.res.arun(f"get_session(unknown id; {self._q()}) -> 404", missing)

    # -- list -------------------------------------------------------------------------------------

    def _raw_page(self) -> dict:
        """The JSON of the last response, validated strictly with agno's list models."""
        _expect(self.capture.last is not None, "no response captured")
        body = self.capture.last.json()
        _expect(isinstance(body, dict) and isinstance(body.get("data"), list), "body is not {data: [...], meta}")
        PaginationInfo.model_validate(body.get("meta"))
        for item in body["data"]:
            SessionSchema.model_validate(item)
        return body

    async def _list(self, **params: Any) -> PaginatedResponse:
        page = await self.client.get_sessions(**params, **self.kw)
        _expect(isinstance(page, PaginatedResponse), f"got {type(page).__name__}")
        self._raw_page()
        return page

    async def check_get_sessions(self) -> None:
        async def default() -> str:
            page = await self._list()
            _expect(page.meta.page == 1 and page.meta.limit == 20, f"meta {page.meta}")
            _expect(page.meta.total_count >= 1 and page.data, "no sessions listed")
            _expect(len(page.data) <= 20, f"{len(page.data)} items for limit 20")
            return f"{_items_text(page.data)}, total_count={page.meta.total_count}"

        await self.res.arun(f"get_sessions({self._q()})", default)

        for stype in SessionType:
            async def by_type(stype: SessionType = stype) -> str:
                page = await self._list(session_type=stype, limit=100)
                _expect(page.data, "no sessions listed")
                wrong = [s.session_id for s in page.data if s.session_type != stype.value]
                _expect(not wrong, f"other types listed: {wrong[:3]}")
                return _items_text(page.data)

            await self.res.arun(f"get_sessions({self._q(type=stype, limit=100)})", by_type)

        for stype, field in ((SessionType.AGENT, "agent_id"), (SessionType.TEAM, "team_id")):
            async def by_component(stype: SessionType = stype, field: str = field) -> str:
                component = self.components.get(stype)
                _expect(component, f"seeded {stype.value} session has no {field}")
                page = await self._list(session_type=stype, component_id=component, limit=100)
                ids = _ids(page.data)
                _expect(page.data, "no sessions listed")
                wrong = [s.session_id for s in page.data if getattr(s, field) != component]
                _expect(not wrong, f"other components listed: {wrong[:3]}")
                if page.meta.total_count <= 100:
                    _expect(self.seeded[stype.value] in ids, "seeded session missing")
                return _items_text(page.data)

            await self.res.arun(f"get_sessions({self._q(type=stype, component_id='<seeded>')})", by_component)

        async def component_any_type() -> str:
            component = self.components.get(SessionType.WORKFLOW)
            _expect(component, "seeded workflow session has no workflow_id")
            page = await self._list(component_id=component, limit=100)
            _expect(page.data, "no sessions listed")
            wrong = [s.session_id for s in page.data if component not in (s.agent_id, s.team_id, s.workflow_id)]
            _expect(not wrong, f"other components listed: {wrong[:3]}")
            return _items_text(page.data)

        await self.res.arun(f"get_sessions({self._q(component_id='<seeded workflow>')}) without type", component_any_type)

        async def by_user() -> str:
            page = await self._list(user_id=self.user, limit=100)
            expected = {*self.ids.values(), self.bare_id}
            _expect(set(_ids(page.data)) == expected, f"ids {sorted(_ids(page.data))}")
            _expect(page.meta.total_count == len(expected), f"total_count {page.meta.total_count}")
            return _items_text(page.data)

        await self.res.arun(f"get_sessions({self._q(user_id=self.user, limit=100)})", by_user)

        if self.seeded_user:
            async def by_seeded_user() -> str:
                page = await self._list(user_id=self.seeded_user, limit=100)
                wrong = [s.session_id for s in page.data if s.user_id != self.seeded_user]
                _expect(not wrong, f"other users listed: {wrong[:3]}")
                if page.meta.total_count <= 100:
                    missing = [self.seeded[t.value] for t in SessionType if self.seeded[t.value] not in _ids(page.data)]
                    _expect(not missing, f"seeded sessions missing: {missing}")
                return _items_text(page.data)

            await self.res.arun(f"get_sessions({self._q(user_id=self.seeded_user, limit=100)})", by_seeded_user)

        async def by_name() -> str:
            needle = f"{self.prefix} AGENT session".upper()
            page = await self._list(session_name=needle, user_id=self.user)
            _expect(_ids(page.data) == [self.ids[SessionType.AGENT]], f"ids {_ids(page.data)}")
            return "case-insensitive substring: 1 item"

        await self.res.arun(f"get_sessions({self._q(session_name='<PREFIX AGENT SESSION>', user_id=self.user)})", by_name)

        async def paging() -> str:
            expected = sorted([*self.ids.values(), self.bare_id])
            pages = []
            for number in (1, 2, 3):
                page = await self._list(user_id=self.user, limit=2, page=number, sort_by="session_id", sort_order="asc")
                _expect(page.meta.page == number and page.meta.limit == 2, f"meta {page.meta}")
                _expect(page.meta.total_count == 4 and page.meta.total_pages == 2, f"meta {page.meta}")
                pages.append(_ids(page.data))
            _expect(pages[0] + pages[1] == expected, f"pages {pages[:2]}")
            _expect(pages[2] == [], f"page past the end has {pages[2]}")
            return "pages 1-2 hold 2+2 items in session_id order, page 3 empty with total_count=4"

        shown = self._q(user_id=self.user, limit=2, page="1..3", sort_by="session_id", sort_order="asc")
        await self.res.arun(f"get_sessions({shown})", paging)

        for sort_by, order in (("created_at", "asc"), ("created_at", "desc"), ("updated_at", "desc")):
            async def sorting(sort_by: str = sort_by, order: str = order) -> str:
                page = await self._list(limit=100, sort_by=sort_by, sort_order=order)
                keys = [_epoch(getattr(s, sort_by) or s.created_at) or 0 for s in page.data]
                _expect(keys == sorted(keys, reverse=order == "desc"), f"{sort_by} not {order}: {keys[:6]}")
                return f"{_items_text(page.data)} in {sort_by} {order} order"

            await self.res.arun(f"get_sessions({self._q(limit=100, sort_by=sort_by, sort_order=order)})", sorting)

        if self.db_id:
            async def with_table() -> str:
                plain = await self._list(limit=1)
                page = await self._list(limit=1, table="agno_sessions")
                _expect(page.meta.total_count == plain.meta.total_count, f"total_count {page.meta.total_count}")
                return f"total_count={page.meta.total_count}"

            await self.res.arun(f"get_sessions({self._q(table='agno_sessions', limit=1)})", with_table)

    # -- runs -------------------------------------------------------------------------------------

    async def check_runs(self) -> None:
        for stype in SessionType:
            sid = self.seeded[stype.value]

            async def plain(stype: SessionType = stype, sid: str = sid) -> str:
                runs = await self.client.get_session_runs(sid, **self.kw)
                _expect(isinstance(runs, list) and runs, "no runs")
                self.runs[stype] = runs
                _expect(any(isinstance(r, RUN_SCHEMAS[stype]) for r in runs), f"no {RUN_SCHEMAS[stype].__name__}")
                kinds = sorted({type(r).__name__ for r in runs})
                return f"{_items_text(runs)} ({', '.join(kinds)})"

            await self.res.arun(f"get_session_runs({stype.value} session; {self._q()})", plain)

            async def typed(stype: SessionType = stype, sid: str = sid) -> str:
                runs = await self.client.get_session_runs(sid, session_type=stype, **self._user_kw(), **self.kw)
                _expect(_ids(runs) == _ids(self.runs.get(stype, [])), f"run ids {_ids(runs)}")
                return _items_text(runs)

            await self.res.arun(f"get_session_runs({stype.value} session; {self._q(type=stype, **self._user_kw())})", typed)

        sid = self.seeded["agent"]
        for statuses in (["COMPLETED"], ["COMPLETED", "ERROR", "CANCELLED"], ["error", "running", "paused"],
                         ALL_RUN_STATUSES):
            async def by_status(statuses: list[str] = statuses) -> str:
                base = self.runs.get(SessionType.AGENT)
                _expect(base is not None, "plain run list unavailable")
                wanted = {s.upper() for s in statuses}
                expected = [r.run_id for r in base if (r.status or "").upper() in wanted]
                runs = await self.client.get_session_runs(sid, status=statuses, **self.kw)
                _expect(_ids(runs) == expected, f"run ids {_ids(runs)}, expected {expected}")
                wrong = [r.status for r in runs if (r.status or "").upper() not in wanted]
                _expect(not wrong, f"statuses {wrong}")
                return _items_text(runs)

            await self.res.arun(f"get_session_runs(agent session; {self._q(status='&status='.join(statuses))})", by_status)

        for stype in (SessionType.AGENT, SessionType.TEAM):
            for label in ("after=min", "after=max+1", "before=min-1", "after=min,before=max"):
                async def by_time(stype: SessionType = stype, label: str = label) -> str:
                    base = self.runs.get(stype)
                    _expect(base, "plain run list unavailable")
                    stamps = [_epoch(r.created_at) for r in base if r.created_at is not None]
                    _expect(stamps, "runs have no created_at")
                    lo, hi = min(stamps), max(stamps)
                    after, before = {"after=min": (lo, None), "after=max+1": (hi + 1, None),
                                     "before=min-1": (None, lo - 1), "after=min,before=max": (lo, hi)}[label]
                    expected = [r.run_id for r in base
                                if r.created_at is None or ((after is None or _epoch(r.created_at) >= after)
                                                            and (before is None or _epoch(r.created_at) <= before))]
                    runs = await self.client.get_session_runs(self.seeded[stype.value], session_type=stype,
                                                              created_after=after, created_before=before, **self.kw)
                    _expect(_ids(runs) == expected, f"run ids {_ids(runs)}, expected {expected}")
                    return f"{_items_text(runs)} (created_after={after}, created_before={before})"

                await self.res.arun(f"get_session_runs({stype.value} session; {self._q(type=stype)}, created_{label})", by_time)

    async def check_previews(self) -> None:
        sid = self.seeded["agent"]

        async def sync_previews() -> str:
            previews = self.client.get_session_run_previews(sid, **self.kw)  # the sync variant (blocking call)
            _expect(all(isinstance(p, SessionRunPreviewSchema) for p in previews), "not SessionRunPreviewSchema")
            _expect(_ids(previews) == _ids(self.runs.get(SessionType.AGENT, [])), f"run ids {_ids(previews)}")
            return _items_text(previews)

        await self.res.arun(f"get_session_run_previews(agent session; {self._q()}) [sync]", sync_previews)

        for stype in SessionType:
            async def async_previews(stype: SessionType = stype) -> str:
                previews = await self.client.aget_session_run_previews(self.seeded[stype.value], session_type=stype,
                                                                       **self._user_kw(), **self.kw)
                _expect(all(isinstance(p, SessionRunPreviewSchema) for p in previews), "not SessionRunPreviewSchema")
                _expect(_ids(previews) == _ids(self.runs.get(stype, [])), f"run ids {_ids(previews)}")
                too_long = [p.run_id for p in previews if len(p.run_input or "") > 280 or len(p.content_preview or "") > 280]
                _expect(not too_long, f"previews longer than 280 characters: {too_long}")
                return _items_text(previews)

            await self.res.arun(f"aget_session_run_previews({stype.value} session; {self._q(type=stype, **self._user_kw())})",
                                async_previews)

        async def filtered() -> str:
            base = self.runs.get(SessionType.AGENT)
            _expect(base, "plain run list unavailable")
            stamps = [_epoch(r.created_at) for r in base if r.created_at is not None]
            lo = min(stamps) if stamps else 0
            expected = [r.run_id for r in base if (r.status or "").upper() == "COMPLETED"
                        and (r.created_at is None or _epoch(r.created_at) >= lo)]
            previews = await self.client.aget_session_run_previews(sid, status=["completed"], created_after=lo,
                                                                   created_before=2**31, **self.kw)
            _expect(_ids(previews) == expected, f"run ids {_ids(previews)}, expected {expected}")
            return _items_text(previews)

        await self.res.arun(f"aget_session_run_previews(agent session; {self._q(status='completed')}, created_after/before)",
                            filtered)

    async def check_single_run(self) -> None:
        for stype in SessionType:
            async def single(stype: SessionType = stype) -> str:
                runs = self.runs.get(stype)
                _expect(runs, "plain run list unavailable")
                target = next((r for r in runs if isinstance(r, RUN_SCHEMAS[stype])), runs[0])
                out = await self.client.get_session_run(self.seeded[stype.value], target.run_id, session_type=stype,
                                                        **self._user_kw(), **self.kw)
                _expect(isinstance(out, RUN_SCHEMAS[stype]), f"got {type(out).__name__}")
                _expect(out.run_id == target.run_id, f"run_id {out.run_id!r}")
                return type(out).__name__

            await self.res.arun(f"get_session_run({stype.value} session, run; {self._q(type=stype, **self._user_kw())})",
                                single)

        async def untyped() -> str:
            runs = self.runs.get(SessionType.AGENT)
            _expect(runs, "plain run list unavailable")
            out = await self.client.get_session_run(self.seeded["agent"], runs[-1].run_id, **self.kw)
            _expect(out.run_id == runs[-1].run_id, f"run_id {out.run_id!r}")
            return type(out).__name__

        await self.res.arun(f"get_session_run(agent session, last run; {self._q()})", untyped)

    # -- writes -----------------------------------------------------------------------------------

    async def check_rename(self) -> None:
        cases = ((SessionType.AGENT, True), (SessionType.TEAM, False), (SessionType.WORKFLOW, True))
        for stype, with_type in cases:
            async def rename(stype: SessionType = stype, with_type: bool = with_type) -> str:
                sid = self.ids[stype]
                name = f"{self.prefix} renamed {stype.value}"
                extra = {"session_type": stype} if with_type else {}
                out = await self.client.rename_session(sid, name, user_id=self.user, **extra, **self.kw)
                _expect(isinstance(out, DETAIL_SCHEMAS[stype]), f"got {type(out).__name__}")
                _expect(out.session_id == sid and out.session_name == name, f"session_name {out.session_name!r}")
                again = await self.client.get_session(sid, **self.kw)
                _expect(again.session_name == name, f"read back {again.session_name!r}")
                return f"{type(out).__name__}, read back"

            shown = self._q(type=stype, user_id=self.user) if with_type else self._q(user_id=self.user)
            await self.res.arun(f"rename_session(created {stype.value}; {shown})", rename)

    async def check_update(self) -> None:
        agent = self.ids[SessionType.AGENT]
        state = {"step": 2, "nested": {"ok": True}}
        metadata = {"source": "contract", "patched": True}
        summary_text = "The user asked about contracts."
        cases: list[tuple[str, str, SessionType | None, dict]] = [
            ("session_name", agent, SessionType.AGENT, {"session_name": f"{self.prefix} patched agent"}),
            ("session_state", agent, None, {"session_state": state}),
            ("metadata", agent, SessionType.AGENT, {"metadata": metadata}),
            ("summary", agent, SessionType.AGENT, {"summary": {"summary": summary_text, "topics": ["contracts"]}}),
            ("name+state+metadata", self.ids[SessionType.TEAM], SessionType.TEAM,
             {"session_name": f"{self.prefix} patched team", "session_state": state, "metadata": metadata}),
            ("session_state", self.ids[SessionType.WORKFLOW], SessionType.WORKFLOW, {"session_state": state}),
            # no agent_id stored: the client needs the type to pick the schema
            ("session_name", self.bare_id, SessionType.AGENT, {"session_name": f"{self.prefix} patched bare"}),
        ]
        kinds = {sid: stype for stype, sid in self.ids.items()} | {self.bare_id: SessionType.AGENT}
        for label, sid, stype, changes in cases:
            async def update(sid: str = sid, stype: SessionType | None = stype, changes: dict = changes) -> str:
                extra = {"session_type": stype} if stype else {}
                out = await self.client.update_session(sid, **extra, **changes, **self.kw)
                _expect(isinstance(out, DETAIL_SCHEMAS[kinds[sid]]), f"got {type(out).__name__}")
                _expect(out.session_id == sid, f"session_id {out.session_id!r}")
                if "session_name" in changes:
                    _expect(out.session_name == changes["session_name"], f"session_name {out.session_name!r}")
                if "session_state" in changes:
                    _expect(out.session_state == changes["session_state"], f"session_state {out.session_state!r}")
                if "metadata" in changes:
                    got = out.metadata or {}
                    _expect(all(got.get(k) == v for k, v in changes["metadata"].items()), f"metadata {out.metadata!r}")
                if "summary" in changes:
                    got = out.session_summary or {}
                    _expect(got.get("summary") == summary_text, f"session_summary {out.session_summary!r}")
                    _expect(got.get("topics") == ["contracts"], f"session_summary {out.session_summary!r}")
                return type(out).__name__

            who = "bare agent" if sid == self.bare_id else kinds[sid].value
            shown = self._q(type=stype) if stype else self._q()
            await self.res.arun(f"update_session(created {who}; {shown}; {label})", update)

    async def _gone(self, sid: str) -> None:
        try:
            await self.client.get_session(sid, **self.kw)
        except httpx.HTTPStatusError as exc:
            _expect(exc.response.status_code == 404, f"after delete: HTTP {exc.response.status_code}")
            return
        raise CheckFailed(f"session {sid} still readable after delete")

    async def check_delete(self) -> None:
        async def single(sid: str | None, user: str | None) -> str:
            _expect(sid, "session was not created")
            extra = {"user_id": user} if user else {}
            out = await self.client.delete_session(sid, **extra, **self.kw)
            status = self.capture.status()
            _expect(out is None, f"returned {out!r}")
            self.created.pop(sid, None)
            await self._gone(sid)
            return f"{status}, then get_session -> 404"

        await self.res.arun(f"delete_session(generated id; {self._q()})", lambda: single(self.auto_id, None))
        await self.res.arun(f"delete_session(bare agent; {self._q(user_id=self.user)})",
                            lambda: single(self.bare_id, self.user))

        async def bulk() -> str:
            ids = list(self.ids.values())
            types = list(self.ids.keys())
            out = await self.client.delete_sessions(ids, types, **self.kw)
            status = self.capture.status()
            _expect(out is None, f"returned {out!r}")
            for sid in ids:
                self.created.pop(sid, None)
            left = await self.client.get_sessions(user_id=self.user, **self.kw)
            _expect(left.meta.total_count == 0, f"still listed: {_ids(left.data)}")
            return f"{status}, 3 sessions gone"

        await self.res.arun(f"delete_sessions([agent, team, workflow]; {self._q()})", bulk)

    # -- RemoteDb ---------------------------------------------------------------------------------

    async def check_remote_db(self) -> None:
        rdb = RemoteDb(id=self.db_id or "default", client=AgentOSClient(self.base_url, timeout=30.0))
        user = f"{self.prefix}-remotedb-user"
        agent_sid = f"{self.prefix}-remotedb-agent"
        team_sid = f"{self.prefix}-remotedb-team"
        kw = self.kw
        run = self.res.arun

        def q(**params: Any) -> str:
            return self._q(**params)

        async def create_agent() -> str:
            out = await rdb.create_session(session_type=SessionType.AGENT, session_id=agent_sid, user_id=user,
                                           session_name="RemoteDb agent", session_state={"k": "v"},
                                           agent_id="contract-agent", **kw)
            self.created[agent_sid] = SessionType.AGENT
            _expect(isinstance(out, AgentSessionDetailSchema) and out.session_id == agent_sid, f"got {out!r}")
            _expect(out.session_state == {"k": "v"}, f"session_state {out.session_state!r}")
            return type(out).__name__

        async def create_team() -> str:
            out = await rdb.create_session(session_type=SessionType.TEAM, session_id=team_sid, user_id=user,
                                           session_name="RemoteDb team", team_id="contract-team", **kw)
            self.created[team_sid] = SessionType.TEAM
            _expect(isinstance(out, TeamSessionDetailSchema) and out.session_id == team_sid, f"got {out!r}")
            return type(out).__name__

        async def get_sessions() -> str:
            page = await rdb.get_sessions(session_type=SessionType.AGENT, user_id=user, limit=20, page=1,
                                          sort_by="created_at", sort_order="desc", **kw)
            _expect(isinstance(page, PaginatedResponse), f"got {type(page).__name__}")
            self._raw_page()
            _expect(_ids(page.data) == [agent_sid], f"ids {_ids(page.data)}")
            _expect(all(isinstance(s, SessionSchema) for s in page.data), "items are not SessionSchema")
            return _items_text(page.data)

        async def get_session() -> str:
            out = await rdb.get_session(agent_sid, session_type=SessionType.AGENT, user_id=user, **kw)
            _expect(isinstance(out, AgentSessionDetailSchema) and out.session_name == "RemoteDb agent", f"got {out!r}")
            seeded = await rdb.get_session(self.seeded["team"], **kw)
            _expect(isinstance(seeded, TeamSessionDetailSchema), f"seeded team detected as {type(seeded).__name__}")
            return "AgentSessionDetailSchema; seeded team -> TeamSessionDetailSchema"

        async def get_session_runs() -> str:
            runs = await rdb.get_session_runs(self.seeded["agent"], session_type=SessionType.AGENT, **self._user_kw(), **kw)
            _expect(runs and all(isinstance(r, (RunSchema, TeamRunSchema, WorkflowRunSchema)) for r in runs), "no runs")
            self.runs.setdefault(SessionType.AGENT, runs)
            return _items_text(runs)

        async def get_session_run() -> str:
            runs = self.runs.get(SessionType.AGENT)
            _expect(runs, "run list unavailable")
            out = await rdb.get_session_run(self.seeded["agent"], runs[0].run_id, session_type=SessionType.AGENT, **kw)
            _expect(isinstance(out, RunSchema) and out.run_id == runs[0].run_id, f"got {out!r}")
            return type(out).__name__

        async def rename() -> str:
            out = await rdb.rename_session(agent_sid, "RemoteDb renamed", session_type=SessionType.AGENT, user_id=user, **kw)
            _expect(isinstance(out, AgentSessionDetailSchema) and out.session_name == "RemoteDb renamed", f"got {out!r}")
            return type(out).__name__

        async def update() -> str:
            out = await rdb.update_session(agent_sid, session_type=SessionType.AGENT,
                                           session_state={"k": "w"}, metadata={"via": "RemoteDb"}, user_id=user, **kw)
            _expect(isinstance(out, AgentSessionDetailSchema), f"got {type(out).__name__}")
            _expect(out.session_state == {"k": "w"} and (out.metadata or {}).get("via") == "RemoteDb", f"got {out!r}")
            return type(out).__name__

        async def delete_one() -> str:
            out = await rdb.delete_session(agent_sid, user_id=user, **kw)
            _expect(out is None, f"returned {out!r}")
            self.created.pop(agent_sid, None)
            await self._gone(agent_sid)
            return "then get_session -> 404"

        async def delete_many() -> str:
            out = await rdb.delete_sessions([team_sid], [SessionType.TEAM], **kw)
            _expect(out is None, f"returned {out!r}")
            self.created.pop(team_sid, None)
            left = await rdb.get_sessions(user_id=user, **kw)
            _expect(left.meta.total_count == 0, f"still listed: {_ids(left.data)}")
            return "then get_sessions(user_id) -> 0"

        steps = [
            (f"create_session({q(session_type=SessionType.AGENT)}; session_id, user_id, name, state, agent_id)", create_agent),
            (f"create_session({q(session_type=SessionType.TEAM)}; session_id, user_id, name, team_id)", create_team),
            (f"get_sessions({q(session_type=SessionType.AGENT, user_id=user)})", get_sessions),
            (f"get_session(created agent; {q(session_type=SessionType.AGENT, user_id=user)}) + seeded team untyped",
             get_session),
            (f"get_session_runs(seeded agent; {q(session_type=SessionType.AGENT, **self._user_kw())})", get_session_runs),
            (f"get_session_run(seeded agent, run; {q(session_type=SessionType.AGENT)})", get_session_run),
            (f"rename_session(created agent; {q(session_type=SessionType.AGENT, user_id=user)})", rename),
            (f"update_session(created agent; {q(session_type=SessionType.AGENT, user_id=user)}; state, metadata)", update),
            (f"delete_session(created agent; {q(user_id=user)})", delete_one),
            (f"delete_sessions([created team], [team]; {q()})", delete_many),
        ]
        for call, fn in steps:
            await run(call, fn, client="RemoteDb")

    async def cleanup(self) -> None:
        """Delete whatever a failed check left behind (not a check, errors ignored)."""
        if not self.created:
            return
        try:
            await self.client.delete_sessions(list(self.created), list(self.created.values()), **self.kw)
        except Exception:
            for sid in list(self.created):
                try:
                    await self.client.delete_session(sid, **self.kw)
                except Exception:
                    pass


def run_client_checks(base_url: str, *, db_id: str | None, token: str | None, seeded: dict, prefix: str) -> list[dict]:
    """agno's AgentOSClient and RemoteDb against ``base_url``; one result dict per call."""
    suite = _ClientSuite(base_url, db_id, token, seeded, prefix)
    return asyncio.run(suite.main())


# ---------------------------------------------------------------------------------------------
# agent-ui (plain HTTP, as src/api/os.ts sends it)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CheckFailed(f"HTTP {response.status_code}, body is not JSON: {response.text[:120]!r}") from exc


def _status(response: httpx.Response, expected: int) -> None:
    _expect(response.status_code == expected,
            f"HTTP {response.status_code} (expected {expected}) on {response.request.method} "
            f"{response.request.url.raw_path.decode('ascii', 'replace')}: {response.text}")


def _iso(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_run_items(runs: Any) -> str:
    _expect(isinstance(runs, list), f"not a bare JSON array: {type(runs).__name__} {str(runs)[:80]}")
    _expect(runs, "empty run list")
    shapes = {"tools": list, "images": list, "videos": list, "audio": list, "response_audio": dict,
              "extra_data": dict, "reasoning_messages": list}
    complete = 0
    for run in runs:
        _expect(isinstance(run, dict), f"run is {type(run).__name__}")
        rid = run.get("run_id")
        _expect(_iso(run.get("created_at")), f"run {rid}: created_at {run.get('created_at')!r} is not an ISO string")
        if (run.get("status") or "COMPLETED") == "COMPLETED":
            _expect("run_input" in run and "content" in run, f"run {rid}: run_input/content missing")
        if "run_input" in run:
            _expect(isinstance(run["run_input"], str), f"run {rid}: run_input {type(run['run_input']).__name__}")
        if "content" in run:
            _expect(isinstance(run["content"], (str, dict)), f"run {rid}: content {type(run['content']).__name__}")
        for key, kind in shapes.items():
            value = run.get(key)
            _expect(value is None or isinstance(value, kind), f"run {rid}: {key} is {type(value).__name__}")
        extra = run.get("extra_data") or {}
        _expect(extra.get("reasoning_messages") is None or isinstance(extra["reasoning_messages"], list),
                f"run {rid}: extra_data.reasoning_messages")
        complete += "run_input" in run and "content" in run
    _expect(complete, "no run carries both run_input and content")
    return f"bare array, {_items_text(runs)}"


def _cors(response: httpx.Response) -> None:
    acao = response.headers.get("access-control-allow-origin")
    _expect(acao == AGENT_UI_ORIGIN, f"HTTP {response.status_code}, access-control-allow-origin {acao!r}")
    acac = response.headers.get("access-control-allow-credentials")
    _expect(acac == "true", f"HTTP {response.status_code}, access-control-allow-credentials {acac!r}")


def run_agent_ui_checks(base_url: str, *, db_id: str, token: str | None, seeded: dict, prefix: str) -> list[dict]:
    """The agent-ui's requests against ``base_url``; one result dict per UI action."""
    base = base_url.rstrip("/")
    res = _Results("agent-ui")
    headers = {"Origin": AGENT_UI_ORIGIN, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    components: dict[str, str] = {}
    delete_id = f"{prefix}-ui-delete"

    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as http:
        def health() -> str:
            response = http.get("/health")
            _status(response, 200)
            return "HTTP 200"

        res.run("GET /health", health)

        for kind, field in (("agent", "agent_id"), ("team", "team_id")):
            def sidebar(kind: str = kind, field: str = field) -> str:
                detail = http.get(f"/sessions/{seeded[kind]}", params={"db_id": db_id})
                _status(detail, 200)
                component = _json(detail).get(field)
                _expect(isinstance(component, str) and component, f"seeded {kind} session has no {field}")
                components[kind] = component
                response = http.get("/sessions", params={"type": kind, "component_id": component, "db_id": db_id})
                _status(response, 200)
                body = _json(response)
                _expect(isinstance(body, dict) and isinstance(body.get("data"), list) and isinstance(body.get("meta"), dict),
                        f"not {{data, meta}}: {str(body)[:80]}")
                _expect(body["data"], "no sessions for the seeded component")
                for item in body["data"]:
                    _expect(isinstance(item.get("session_id"), str), f"session_id {item.get('session_id')!r}")
                    _expect(isinstance(item.get("session_name"), str), f"{item.get('session_id')}: session_name "
                                                                       f"{item.get('session_name')!r}")
                    _expect(_iso(item.get("created_at")), f"{item.get('session_id')}: created_at {item.get('created_at')!r}")
                _expect(len(body["data"]) <= 20, f"{len(body['data'])} items without a limit (default is 20)")
                _cors(response)
                return f"{{data, meta}}, {_items_text(body['data'])}"

            res.run(f"GET /sessions?type={kind}&component_id=<seeded {kind}>&db_id={db_id} (sidebar)", sidebar)

        for kind in ("agent", "team"):
            def runs(kind: str = kind) -> str:
                response = http.get(f"/sessions/{seeded[kind]}/runs", params={"type": kind, "db_id": db_id})
                _status(response, 200)
                out = _check_run_items(_json(response))
                _cors(response)
                return out

            res.run(f"GET /sessions/<seeded {kind}>/runs?type={kind}&db_id={db_id} (open session)", runs)

        def delete() -> str:
            body = {"session_id": delete_id, "session_name": "agent-ui delete", "user_id": f"{prefix}-ui-user",
                    "agent_id": components.get("agent") or "contract-agent"}
            created = http.post("/sessions", params={"type": "agent", "db_id": db_id}, content=json.dumps(body))
            _status(created, 201)
            response = http.delete(f"/sessions/{delete_id}", params={"db_id": db_id})
            _expect(response.is_success, f"HTTP {response.status_code}: {response.text}")
            _cors(response)
            gone = http.get(f"/sessions/{delete_id}", params={"db_id": db_id})
            _status(gone, 404)
            return f"HTTP {response.status_code} (response.ok), then GET -> 404"

        if not res.run(f"DELETE /sessions/<created>?db_id={db_id}", delete):
            try:  # leave nothing behind for the next run (not a check)
                http.delete(f"/sessions/{delete_id}", params={"db_id": db_id})
            except httpx.HTTPError:
                pass

        preflights = (
            ("GET", "/sessions", {"type": "agent", "component_id": components.get("agent", "x"), "db_id": db_id}),
            ("GET", f"/sessions/{seeded['agent']}/runs", {"type": "agent", "db_id": db_id}),
            ("DELETE", f"/sessions/{delete_id}", {"db_id": db_id}),
        )
        for method, path, params in preflights:
            def preflight(method: str = method, path: str = path, params: dict = params) -> str:
                response = httpx.options(f"{base}{path}", params=params, timeout=30.0, headers={
                    "Origin": AGENT_UI_ORIGIN, "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "authorization,content-type"})
                _status(response, 200)
                _cors(response)
                methods = {m.strip().upper() for m in response.headers.get("access-control-allow-methods", "").split(",")}
                _expect(method in methods or "*" in methods, f"access-control-allow-methods {methods}")
                allowed = {h.strip().lower() for h in response.headers.get("access-control-allow-headers", "").split(",")}
                _expect({"authorization", "content-type"} <= allowed, f"access-control-allow-headers {sorted(allowed)}")
                return f"HTTP 200, allows {method} with authorization,content-type"

            shown = path if not path.startswith("/sessions/") else path.replace(seeded["agent"], "<seeded agent>")
            res.run(f"OPTIONS {shown}?{'&'.join(f'{k}=...' for k in params)} (preflight {method})", preflight)

        def simple() -> str:
            response = http.get("/sessions", params={"type": "agent", "db_id": db_id, "limit": "1"})
            _status(response, 200)
            _cors(response)
            return "access-control-allow-origin and -allow-credentials present"

        res.run(f"GET /sessions?type=agent&db_id={db_id} with Origin (CORS headers)", simple)

        if token:
            for label, auth in (("without token", None), ("with a wrong token", f"Bearer {token}-wrong")):
                def unauthorized(auth: str | None = auth) -> str:
                    plain = {"Origin": AGENT_UI_ORIGIN, "Content-Type": "application/json"}
                    if auth:
                        plain["Authorization"] = auth
                    response = httpx.get(f"{base}/sessions", params={"type": "agent", "db_id": db_id}, headers=plain,
                                         timeout=30.0)
                    _status(response, 401)
                    body = _json(response)
                    _expect(isinstance(body, dict) and isinstance(body.get("detail"), str), f"body {body!r}")
                    _cors(response)
                    return f"HTTP 401 {body['detail']!r}, CORS headers present"

                res.run(f"GET /sessions?type=agent&db_id={db_id} {label} -> 401", unauthorized)
    return res.items


# ---------------------------------------------------------------------------------------------
# CLI


def _print_table(results: list[dict]) -> None:
    rows = [(r["client"], r["call"], ("ok" if r["ok"] else "FAIL") + (f": {r['detail']}" if r["detail"] else ""))
            for r in results]
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(("client", "call"))]
    print(f"{'client':<{widths[0]}} | {'call':<{widths[1]}} | result")
    print(f"{'-' * widths[0]}-+-{'-' * widths[1]}-+-{'-' * 6}")
    for client, call, result in rows:
        print(f"{client:<{widths[0]}} | {call:<{widths[1]}} | {result}")
    failed = sum(not r["ok"] for r in results)
    print(f"\n{len(results) - failed} passed, {failed} failed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Real-client checks (AgentOSClient, RemoteDb, agent-ui) against a URL.")
    ap.add_argument("url")
    ap.add_argument("--db-id")
    ap.add_argument("--token")
    ap.add_argument("--seeded-json", required=True,
                    help='{"agent": id, "team": id, "workflow": id, "user_id": user or null}')
    ap.add_argument("--prefix", required=True, help="prefix of the session ids the checks create")
    args = ap.parse_args(argv)
    seeded = json.loads(args.seeded_json)
    missing = [k for k in ("agent", "team", "workflow") if not seeded.get(k)]
    if missing:
        ap.error(f"--seeded-json lacks {', '.join(missing)}")
    seeded.setdefault("user_id", None)
    results = run_client_checks(args.url, db_id=args.db_id, token=args.token, seeded=seeded, prefix=args.prefix)
    if args.db_id:
        results += run_agent_ui_checks(args.url, db_id=args.db_id, token=args.token, seeded=seeded, prefix=args.prefix)
    else:
        print("agent-ui checks skipped: they need --db-id (the agent-ui sends nothing without one)\n")
    _print_table(results)
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
