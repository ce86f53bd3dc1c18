"""Building blocks of the request suite: a step builder and the seed manifest's queries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from app.compare.core import Request


@dataclass
class Step:
    """One request of the suite, sent to both servers of ``role``.

    ``target`` and ``body`` may hold placeholders ``@name`` bound by an earlier step's
    ``capture`` (a create without ``session_id``: each server generates its own id).
    ``known``: lines of docs/compatibility.md that explain a difference in this answer.
    ``taints``: sessions whose stored rows may differ from here on, with the line that says why.
    """

    phase: str
    role: str
    method: str
    target: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    known: frozenset[int] = frozenset()
    capture: str | None = None
    taints: dict[str, int] = field(default_factory=dict)
    compare_headers: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")

    def request(self, bindings: dict[str, str]) -> Request:
        target, body = self.target, self.body
        for name in sorted(bindings, key=len, reverse=True):
            target = target.replace(name, bindings[name])
            if body is not None:
                body = body.replace(name.encode(), bindings[name].encode())
        return Request(self.method, target, self.headers, body, self.phase)



@dataclass(frozen=True)
class Features:
    """What the reference AgentOS serves. agno 2.9.0 has no ``/run-previews`` and no ``/media``
    route and no ``status`` filter on runs (an unknown query parameter it ignores); this service
    serves them on every layout (docs/compatibility.md line 29), so they stay in its suite unless
    a reference is built without them. ``agno2`` also selects the requests about 2.9.0's own
    failures (agno2 contract §8), ``sqlite`` those of AgentOS over a ``SqliteDb``."""

    name: str = "agno3-pg"
    run_previews: bool = True
    status_filter: bool = True
    media: bool = True
    agno2: bool = False
    sqlite: bool = False

    def allows(self, target: str) -> bool:
        parts = urlsplit(target)
        if not self.run_previews and parts.path.endswith("/run-previews"):
            return False
        if not self.media and "/media" in parts.path:
            return False
        if not self.status_filter and "/runs" in parts.path and any(
                kv.split("=", 1)[0] == "status" for kv in parts.query.split("&")):
            return False
        return True


AGNO3 = Features()
AGNO2 = Features(name="agno2-pg", agno2=True)
AGNO3_SQLITE = Features(name="agno3-sqlite", sqlite=True)


def path_id(session_id: str) -> str:
    return quote(session_id, safe="")


def query(params: dict[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    if not params:
        return ""
    pairs = params.items() if isinstance(params, dict) else params
    flat: list[tuple[str, str]] = []
    for k, v in pairs:
        if v is None:
            continue
        for item in v if isinstance(v, list | tuple) else [v]:
            flat.append((k, str(item)))
    return "?" + urlencode(flat, quote_via=quote) if flat else ""


class Builder:
    """Appends steps of one phase and role to a list."""

    def __init__(self, steps: list[Step], phase: str, role: str = "single", headers: tuple = (),
                 features: Features = AGNO3):
        self.steps, self.phase, self.role, self.headers = steps, phase, role, tuple(headers)
        self.features = features

    def add(self, method: str, path: str, params=None, *, body: Any = ..., raw: bytes | None = None,
            headers: tuple = (), content_type: str | None = "application/json", **kw) -> Step:
        hdrs = self.headers + tuple(headers)
        data = raw
        if body is not ...:
            data = json.dumps(body, ensure_ascii=False).encode()
        if data is not None and content_type:
            hdrs = (("Content-Type", content_type), *hdrs)
        step = Step(self.phase, self.role, method, path + query(params), data, hdrs, **kw)
        if self.features.allows(step.target):  # else a request the reference has no route or parameter for
            self.steps.append(step)
        return step

    def get(self, path: str, params=None, **kw) -> Step:
        return self.add("GET", path, params, **kw)


class Manifest:
    """What the seed wrote (seed.py's manifest), with the queries the suite needs."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.sessions: dict[str, dict[str, Any]] = data["sessions"]
        self.users: list[str] = [u for u in data.get("users", []) if u]
        self.components: dict[str, list[str]] = data.get("components", {})

    def of_type(self, session_type: str) -> list[str]:
        return [s for s, info in self.sessions.items() if info["type"] == session_type]

    def tagged(self, fragment: str) -> list[str]:
        return [s for s, info in self.sessions.items() if any(fragment in t for t in info.get("tags", []))]

    def with_runs(self, session_type: str | None = None, minimum: int = 1) -> list[str]:
        return [s for s, info in self.sessions.items() if len(info.get("runs") or []) >= minimum
                and (session_type is None or info["type"] == session_type)]

    def first(self, candidates: list[str], exclude: Iterable[str] = ()) -> str:
        excluded = set(exclude)
        for s in candidates:
            if s not in excluded:
                return s
        raise LookupError("the seed has no session for this case")

    def info(self, session_id: str) -> dict[str, Any]:
        return self.sessions[session_id]

    def names(self) -> list[str]:
        return [info["name"] for info in self.sessions.values() if info.get("name")]
