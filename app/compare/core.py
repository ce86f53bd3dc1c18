"""Sending one request to two servers and comparing the answers.

Standard library only, so the comparison runs wherever the service is installed.

What is compared: the status code, the Content-Type header (case-insensitively), selected other
headers on request, and the body: parsed as JSON when it is JSON, else as text. Values are equal
when they are equal JSON (``1`` and ``1.0`` are not: a type change is a difference), except for
what :class:`Rules` declares volatile:

* keys whose value is a measurement of the request itself (``search_time_ms``): both sides must
  carry a number, the values are not compared;
* timestamps written *during* the comparison (two servers stamp the same write a few
  milliseconds apart): epoch numbers under a timestamp key, and ISO-8601 strings anywhere, are
  equal when both fall inside ``time_window`` and differ by at most ``time_tolerance`` seconds,
  and have the same type (and, for strings, the same shape); outside the window they must be
  identical, so seeded data and stored timestamps are still compared exactly;
* ids that each server generated for the same write (``substitutions``: the candidate's id →
  the primary's), replaced inside every string of the candidate's body before comparing.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()

ISO_RE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?$")
TIME_KEYS = frozenset({"created_at", "updated_at", "instantiated_at", "start_time", "end_time", "timestamp"})
VOLATILE_KEYS = frozenset({"search_time_ms"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Request:
    """One HTTP request; ``target`` is the path with its query string, as sent."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    label: str = ""

    @classmethod
    def json(cls, method: str, target: str, payload: Any, headers: Iterable[tuple[str, str]] = (),
             label: str = "") -> Request:
        data = json.dumps(payload, ensure_ascii=False).encode()
        return cls(method, target, (("Content-Type", "application/json"), *headers), data, label)

    @property
    def is_write(self) -> bool:
        return self.method.upper() in WRITE_METHODS

    def describe(self, limit: int = 160) -> str:
        target = self.target if len(self.target) <= 120 else f"{self.target[:100]}...({len(self.target)} chars)"
        line = f"{self.method} {target}"
        if self.body:
            text = self.body.decode("utf-8", "replace")
            line += " " + (text if len(text) <= 80 else text[:77] + "...")
        return line if len(line) <= limit else line[: limit - 3] + "..."

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "target": self.target}
        if self.headers:
            out["headers"] = [list(h) for h in self.headers]
        if self.body is not None:
            out["body"] = self.body.decode("utf-8", "replace")
        if self.label:
            out["label"] = self.label
        return out


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    elapsed: float
    error: str | None = None  # set when no HTTP response was received

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.lower().replace(" ", "") if value is not None else None

    def parsed(self) -> Any:
        """The JSON value of a JSON body; else the text; ``MISSING`` for an empty body."""
        if not self.body:
            return MISSING
        text = self.body.decode("utf-8", "replace")
        if "json" in (self.content_type or ""):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text


class Client:
    """Keep-alive HTTP/1.1 connection to one base URL (``http://host:port[/prefix]``).

    A connection is not reused after a 5xx answer or after ``idle_reconnect`` seconds without
    use (servers drop idle keep-alive connections, and uvicorn drops one after an unhandled
    error without saying so), because a write sent on a connection the server has just closed
    could not be retried safely. A read that meets a closed kept-alive connection is retried once.
    """

    def __init__(self, base_url: str, timeout: float = 30.0, headers: Iterable[tuple[str, str]] = (),
                 idle_reconnect: float = 1.0):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.headers = tuple(headers)
        self.idle_reconnect = idle_reconnect
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        if self._conn is not None and time.monotonic() - self._last_used > self.idle_reconnect:
            self.close()
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
            return self._conn, True
        return self._conn, False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, req: Request) -> Response:
        headers = dict(self.headers)
        headers.update(dict(req.headers))
        start = time.perf_counter()
        for attempt in (1, 2):
            conn, fresh = self._connection()
            try:
                conn.request(req.method, self.prefix + req.target, body=req.body, headers=headers)
                raw = conn.getresponse()
                body = raw.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
                self.close()
                if attempt == 1 and not fresh and not req.is_write:
                    continue
                return Response(0, {}, b"", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return Response(0, {}, b"", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            merged: dict[str, str] = {}
            for name, value in raw.getheaders():
                key = name.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
            self._last_used = time.monotonic()
            if raw.status >= 500 or raw.getheader("connection", "").lower() == "close":
                self.close()
            return Response(raw.status, merged, body, time.perf_counter() - start)
        raise AssertionError("unreachable")


@dataclass
class Rules:
    """What may differ between two servers' answers to the same request (module docstring)."""

    volatile_keys: frozenset[str] = VOLATILE_KEYS
    time_tolerance: float = 0.0
    time_window: tuple[float, float] | None = None
    substitutions: dict[str, str] = field(default_factory=dict)
    compare_headers: tuple[str, ...] = ()

    def _recent(self, t: float | None) -> bool:
        return t is not None and self.time_window is not None and self.time_window[0] <= t <= self.time_window[1]

    def times_equal(self, key: str | None, a: Any, b: Any) -> bool:
        if self.time_tolerance <= 0 or self.time_window is None or type(a) is not type(b):
            return False
        if isinstance(a, str):
            if len(a) != len(b) or not (ISO_RE.match(a) and ISO_RE.match(b)):
                return False
            ta, tb = parse_iso(a), parse_iso(b)
        elif isinstance(a, int | float) and not isinstance(a, bool) and key in TIME_KEYS:
            ta, tb = float(a), float(b)
        else:
            return False
        return self._recent(ta) and self._recent(tb) and abs(ta - tb) <= self.time_tolerance

    def leaf_equal(self, key: str | None, a: Any, b: Any) -> bool:
        if key in self.volatile_keys:
            return type(a) is type(b) or (_is_number(a) and _is_number(b))
        return self.times_equal(key, a, b)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_iso(s: str) -> float | None:
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


@dataclass
class Difference:
    path: str
    primary: Any
    candidate: Any

    def render(self, limit: int = 100) -> str:
        return f"{self.path}: {short(self.primary, limit)} | {short(self.candidate, limit)}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "primary": _jsonable(self.primary), "candidate": _jsonable(self.candidate)}


def _jsonable(v: Any) -> Any:
    return "<missing>" if v is MISSING else v


def short(v: Any, limit: int = 100) -> str:
    s = "<missing>" if v is MISSING else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def diff(a: Any, b: Any, rules: Rules | None = None, path: str = "", key: str | None = None,
         out: list[Difference] | None = None, limit: int = 200) -> list[Difference]:
    """The paths where ``a`` (primary) and ``b`` (candidate) differ, at most ``limit`` of them."""
    rules = rules or Rules()
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(Difference(p, MISSING, b[k]))
            elif k not in b:
                out.append(Difference(p, a[k], MISSING))
            else:
                diff(a[k], b[k], rules, p, str(k), out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(Difference(f"{path}.length" if path else "length", len(a), len(b)))
        for i in range(min(len(a), len(b))):
            diff(a[i], b[i], rules, f"{path}[{i}]", key, out, limit)
    elif type(a) is type(b) and a == b:
        pass
    elif not rules.leaf_equal(key, a, b):
        out.append(Difference(path or "body", a, b))
    return out


def substitute(obj: Any, subs: Mapping[str, str]) -> Any:
    """``obj`` with every substring ``k`` of every string (and key) replaced by ``subs[k]``."""
    if not subs:
        return obj
    if isinstance(obj, dict):
        return {substitute(k, subs): substitute(v, subs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, subs) for v in obj]
    if isinstance(obj, str):
        for old, new in subs.items():
            if old in obj:
                obj = obj.replace(old, new)
    return obj


def compare_responses(primary: Response, candidate: Response, rules: Rules | None = None) -> list[Difference]:
    """Every difference between two answers to one request (empty: equivalent)."""
    rules = rules or Rules()
    out: list[Difference] = []
    if primary.error or candidate.error:
        if primary.error != candidate.error:
            out.append(Difference("transport", primary.error, candidate.error))
        return out
    if primary.status != candidate.status:
        out.append(Difference("status", primary.status, candidate.status))
    if primary.content_type != candidate.content_type:
        out.append(Difference("content-type", primary.content_type, candidate.content_type))
    for name in rules.compare_headers:
        a, b = primary.headers.get(name.lower(), MISSING), candidate.headers.get(name.lower(), MISSING)
        if a != b:
            out.append(Difference(f"header {name.lower()}", a, b))
    diff(primary.parsed(), substitute(candidate.parsed(), rules.substitutions), rules, "body", None, out)
    return out
