"""Where the requests to replay come from: a requests file or an access log.

Requests file (``--requests``), one request per line, blank lines and ``#`` comments skipped:

* ``GET /sessions?type=agent&limit=5`` (method and target), or
* a JSON object ``{"method": "PATCH", "target": "/sessions/s1?type=agent",
  "headers": [["X-A", "1"]], "json": {...}}`` (``path`` + ``query`` may stand for ``target``:
  ``query`` a string, an object, or a list of pairs; ``body`` a string sent as is, ``json`` a
  value sent as JSON).

Access log (``--access-log``): each line that holds a request is used, in order. Understood are
the request line of the common/combined log format that nginx, Apache, gunicorn and uvicorn write
(``"GET /sessions?x=1 HTTP/1.1"``) and JSON lines with ``method`` and ``path``/``url``/``uri``/
``request_uri``/``target`` (plus ``query``/``query_string`` when the path has none), such as this
service's own access log. Bodies are not in access logs, so only body-less requests come from
them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from .core import Request

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REQUEST_LINE_RE = re.compile(r'"(' + "|".join(METHODS) + r') (\S+) HTTP/[0-9.]+"')
PLAIN_LINE_RE = re.compile(r"^(" + "|".join(METHODS) + r")\s+(\S+)\s*$")


class SourceError(ValueError):
    """A requests file line that cannot be understood (names the line)."""


def _target(path: str, query: Any = None) -> str:
    if path.startswith(("http://", "https://")):
        parts = urlsplit(path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/"):
        raise ValueError(f"not a path: {path!r}")
    if query in (None, "", [], {}):
        return path
    if isinstance(query, str):
        q = query.lstrip("?")
    elif isinstance(query, dict):
        q = urlencode(query, doseq=True)
    else:
        q = urlencode([tuple(p) for p in query])
    return f"{path}{'&' if '?' in path else '?'}{q}"


def request_from_json(obj: dict[str, Any]) -> Request:
    method = str(obj.get("method", "GET")).upper()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    target = obj.get("target") or _target(str(obj.get("path") or obj.get("url") or ""), obj.get("query"))
    headers = tuple((str(k), str(v)) for k, v in (obj.get("headers") or []))
    if "json" in obj:
        return Request.json(method, target, obj["json"], headers)
    body = obj.get("body")
    return Request(method, target, headers, body.encode() if isinstance(body, str) else None)


def read_requests(path: str) -> Iterator[Request]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("{"):
                    yield request_from_json(json.loads(line))
                    continue
                m = PLAIN_LINE_RE.match(line)
                if not m:
                    raise ValueError("expected 'METHOD /path?query' or a JSON object")
                yield Request(m.group(1), _target(m.group(2)))
            except ValueError as exc:
                raise SourceError(f"{path}:{n}: {exc}") from None


def read_access_log(path: str) -> Iterator[Request]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            req = request_from_log_line(line)
            if req is not None:
                yield req


def request_from_log_line(line: str) -> Request | None:
    line = line.strip()
    if line.startswith("{"):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict) and isinstance(rec.get("method"), str):
            path = next((rec[k] for k in ("target", "request_uri", "uri", "url", "path") if isinstance(rec.get(k), str)),
                        None)
            if path:
                query = rec.get("query") if "?" not in path else None
                if query is None and "?" not in path:
                    query = rec.get("query_string")
                try:
                    return Request(rec["method"].upper(), _target(path, query))
                except ValueError:
                    return None
        return None
    m = REQUEST_LINE_RE.search(line)
    if m:
        try:
            return Request(m.group(1), _target(m.group(2)))
        except ValueError:
            return None
    return None
