"""Compare replayed captures with the agno3 golden captures.

Used by ``replay.py`` (and importable on its own). Standard library and the service's ``app.compare``.

A capture file is ``{"request": {...}, "status": N, "response": <parsed>, "response_raw": "...",
"content_type": "..."}`` (see the contract's ``reference/agno3/capture.py``). Two captures are
compared on ``status``, ``content_type``, the parsed ``response`` and the request actually sent
(method, ``url_as_sent``, body), after normalising the values that cannot be reproduced:

* uuids (anywhere inside strings, also in the request URL) and tool-call ids ``call_<12 hex>``
  are replaced by ``<uuid:N>`` / ``<call:N>``, numbered per file in order of first appearance
  (dict keys visited in sorted order, request before response). So "the same id in two places"
  is still checked, and across files every golden id must keep mapping to the same replay id
  (checked in golden-number order over the files that otherwise compare equal). Configured
  literal ids (the golden db_id) are kept;
* timestamps: ISO-8601 strings anywhere, and epoch numbers under ``created_at`` /
  ``updated_at`` / ``instantiated_at`` / ``start_time`` / ``end_time``, are masked **only when
  they fall inside the capture session's time window** (golden: around the goldens' own capture
  time; replay: the replay's start..end). Fixed dates that come from the seed or from request
  bodies (``2026-01-02T03:04:05.678901``, ``2025-10-21T14:30:00+00:00``,
  ``2026-01-01T00:00:00Z``) are therefore still compared literally. A masked ISO string keeps
  its shape (digits become ``d``), so ``...:50Z`` vs ``...:50+00:00`` or a missing fraction is
  still a difference; a masked epoch keeps its type (``<epoch:int>`` / ``<epoch:float>``);
* numbers under ``duration``, ``time_to_first_token`` and ``search_time_ms`` become
  ``<duration>``;
* list responses (``{"data": [...], "meta": ...}``) that are sorted by a timestamp: sessions
  whose sort key is equal in the golden (same second) may come back in any order (PostgreSQL
  breaks ties arbitrarily); such a block is re-ordered to the golden order when it holds the
  same sessions (sessions with generated uuid ids count as interchangeable), and a note is
  recorded;
* inside strings: agno's tool-completion event text ``... completed in 0.0005s.`` keeps its
  shape (``completed in <duration>s.``), and 10-digit numbers inside the time window become
  ``<epoch>`` (the plan's ``?created_after=<a run's created_at>``, epochs quoted in the SQL
  that agno leaks into a 500 detail).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from typing import Any
from collections.abc import Iterable, Sequence

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))

from app.compare.core import parse_iso as _parse_iso, substitute  # noqa: E402

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CALL_RE = re.compile(r"\bcall_[0-9a-f]{12}\b")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?$")
COMPLETED_IN_RE = re.compile(r"(\bcompleted in )\d+(?:\.\d+)?s\.")  # agno ToolCallCompleted text
EMBEDDED_EPOCH_RE = re.compile(r"(?<![\d.])\d{10}(?![\d.])")  # e.g. ?created_after=1795250881
GOLDEN_NAME_RE = re.compile(r"^(\d+)_.+\.json$")
DOC_REF_RE = re.compile(r"#(\d+)\b(?:\s*[\u2013\u2014-]\s*#(\d+)\b)?")  # "#27", "#521–#524"

EPOCH_KEYS = {"created_at", "updated_at", "instantiated_at", "start_time", "end_time"}
DURATION_KEYS = {"duration", "time_to_first_token", "search_time_ms"}
EPOCH_MIN, EPOCH_MAX = 946684800, 4102444800  # 2000-01-01 .. 2100-01-01: plausibility bounds


# ----------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------
def golden_number(name: str) -> int | None:
    m = GOLDEN_NAME_RE.match(name)
    return int(m.group(1)) if m else None


def list_captures(folder: str) -> dict[str, str]:
    """{file name: path} of the NNN_*.json capture files in folder (sorted by number)."""
    if not os.path.isdir(folder):
        return {}
    names = [n for n in os.listdir(folder) if golden_number(n) is not None]
    names.sort(key=lambda n: (golden_number(n), n))
    return {n: os.path.join(folder, n) for n in names}


def load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def documented_numbers(compat_md: str | None) -> set[int]:
    """Every ``#NNN`` token on any line of docs/compatibility.md (missing file: none).

    A range written ``#521–#524`` (en dash, em dash or hyphen between two tokens) documents
    every number in it."""
    if not compat_md or not os.path.isfile(compat_md):
        return set()
    out: set[int] = set()
    with open(compat_md, encoding="utf-8") as fh:
        for line in fh:
            for a, b in DOC_REF_RE.findall(line):
                lo, hi = int(a), int(b or a)
                out.update(range(lo, hi + 1) if lo <= hi <= lo + 1000 else (lo, hi))
    return out


def parse_iso(s: str) -> float | None:
    return _parse_iso(s) if ISO_RE.match(s) else None


def _walk_times(obj: Any, key: str | None, out: list[float]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk_times(v, k, out)
    elif isinstance(obj, list):
        for v in obj:
            _walk_times(v, key, out)
    elif isinstance(obj, str) and key in EPOCH_KEYS:
        t = parse_iso(obj)
        if t is not None:
            out.append(t)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and key in EPOCH_KEYS:
        if EPOCH_MIN <= obj <= EPOCH_MAX:
            out.append(float(obj))


def golden_window(goldens: dict[str, Any], margin: float = 86400.0) -> tuple[float, float]:
    """Time window of the golden capture session: median of all timestamps +- margin.

    The goldens were captured within minutes; the few fixed dates that come from the seed or
    from request bodies are months away and stay outside the window."""
    times: list[float] = []
    for rec in goldens.values():
        _walk_times(rec.get("response"), None, times)
    if not times:
        return (0.0, 0.0)
    mid = statistics.median(times)
    return (mid - margin, mid + margin)


def anchors_from_goldens(goldens: dict[str, Any]) -> dict[int, float]:
    """{golden number: epoch second} for captures that created a session (201 + created_at).

    replay.py paces these requests so that sessions created in one phase get the same
    relative created_at seconds as in the goldens (list order depends on them)."""
    out: dict[int, float] = {}
    for name, rec in goldens.items():
        r = rec.get("response")
        if rec.get("status") == 201 and isinstance(r, dict) and isinstance(r.get("created_at"), str):
            t = parse_iso(r["created_at"])
            if t is not None:
                out[golden_number(name)] = t
    return out


# ----------------------------------------------------------------------------------------------
# normalisation
# ----------------------------------------------------------------------------------------------
class Ids:
    """Per-file numbering of uuids and call ids, in order of first appearance."""

    def __init__(self, literals: Iterable[str] = ()):
        self.literals = {x.lower() for x in literals}
        self.uuid: dict[str, int] = {}
        self.call: dict[str, int] = {}

    def _num(self, table: dict[str, int], value: str) -> int:
        if value not in table:
            table[value] = len(table) + 1
        return table[value]

    def sub(self, s: str) -> str:
        def u(m: re.Match[str]) -> str:
            v = m.group(0)
            if v.lower() in self.literals:
                return v
            return f"<uuid:{self._num(self.uuid, v.lower())}>"

        def c(m: re.Match[str]) -> str:
            return f"<call:{self._num(self.call, m.group(0))}>"

        return CALL_RE.sub(c, UUID_RE.sub(u, s))

    def by_number(self) -> dict[str, dict[int, str]]:
        return {"uuid": {n: v for v, n in self.uuid.items()}, "call": {n: v for v, n in self.call.items()}}


class Normaliser:
    def __init__(self, window: tuple[float, float], literals: Iterable[str] = ()):
        self.window = window
        self.ids = Ids(literals)

    def in_window(self, t: float) -> bool:
        return self.window[0] <= t <= self.window[1]

    def norm(self, obj: Any, key: str | None = None) -> Any:
        if isinstance(obj, dict):
            # visit keys in sorted order so that id numbering does not depend on key order
            return {k: self.norm(obj[k], k) for k in sorted(obj, key=str)}
        if isinstance(obj, list):
            return [self.norm(v, key) for v in obj]
        if isinstance(obj, bool) or obj is None:
            return obj
        if isinstance(obj, (int, float)):
            if key in DURATION_KEYS:
                return "<duration>"
            if key in EPOCH_KEYS and EPOCH_MIN <= obj <= EPOCH_MAX and self.in_window(float(obj)):
                return "<epoch:int>" if isinstance(obj, int) else "<epoch:float>"
            return obj
        if isinstance(obj, str):
            t = parse_iso(obj)
            if t is not None and self.in_window(t):
                return "<ts:" + re.sub(r"\d", "d", obj) + ">"
            obj = COMPLETED_IN_RE.sub(r"\1<duration>s.", obj)
            obj = EMBEDDED_EPOCH_RE.sub(lambda m: "<epoch>" if self.in_window(int(m.group(0))) else m.group(0), obj)
            return self.ids.sub(obj)
        return obj


def request_view(req: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = {"method": req.get("method"), "url": req.get("url_as_sent", req.get("path"))}
    if "body" in req:
        v["body"] = req["body"]
    if "raw_body" in req:
        v["raw_body"] = req["raw_body"]
    return v


def request_line(rec: dict[str, Any]) -> str:
    req = rec.get("request") or {}
    url = req.get("url_as_sent") or req.get("path") or "?"
    if len(url) > 120:
        url = url[:110] + "...(" + str(len(url)) + " chars)"
    line = f"{req.get('method', '?')} {url}"
    if "body" in req:
        body = json.dumps(req["body"], ensure_ascii=False)
        line += " " + (body if len(body) <= 80 else body[:77] + "...")
    elif "raw_body" in req:
        line += " raw=" + json.dumps(req["raw_body"][:60], ensure_ascii=False)
    return line


# ----------------------------------------------------------------------------------------------
# tie order in sorted list responses
# ----------------------------------------------------------------------------------------------
def _sort_key_field(items: list[Any]) -> str | None:
    """created_at or updated_at when the golden list is monotonic in it (sorted by it)."""
    if len(items) < 2 or not all(isinstance(x, dict) and "session_id" in x for x in items):
        return None
    for field in ("created_at", "updated_at"):
        vals = [x.get(field) for x in items]
        if any(not isinstance(v, str) for v in vals):
            continue
        ts = [parse_iso(v) for v in vals]
        if any(t is None for t in ts):
            continue
        pairs = list(zip(ts, ts[1:], strict=False))
        if all(a >= b for a, b in pairs) or all(a <= b for a, b in pairs):
            return field
    return None


def _tie_key(item: Any) -> str:
    sid = item.get("session_id") if isinstance(item, dict) else None
    return UUID_RE.sub("<uuid>", str(sid))


def align_ties(golden_resp: Any, ours_resp: Any) -> tuple[Any, list[str]]:
    """Re-order blocks of `ours_resp["data"]` that tie on the golden sort key (see module doc)."""
    notes: list[str] = []
    if not (isinstance(golden_resp, dict) and isinstance(ours_resp, dict)):
        return ours_resp, notes
    g, o = golden_resp.get("data"), ours_resp.get("data")
    if not (isinstance(g, list) and isinstance(o, list)):
        return ours_resp, notes
    field = _sort_key_field(g)
    if field is None:
        return ours_resp, notes
    o = list(o)
    i = 0
    while i < len(g):
        j = i + 1
        while j < len(g) and g[j].get(field) == g[i].get(field):
            j += 1
        if j - i > 1 and j <= len(o):
            gids = [_tie_key(x) for x in g[i:j]]
            block = o[i:j]
            oids = [_tie_key(x) for x in block]
            if oids != gids and sorted(oids) == sorted(gids):
                rest = list(block)
                ordered = []
                for key in gids:  # the golden order; sessions with uuid ids keep their own order
                    k = next(n for n, x in enumerate(rest) if _tie_key(x) == key)
                    ordered.append(rest.pop(k))
                o[i:j] = ordered
                notes.append(f"data[{i}:{j}] tie on {field}: order {oids} taken as {gids}")
        i = j
    if notes:
        ours_resp = dict(ours_resp)
        ours_resp["data"] = o
    return ours_resp, notes


# ----------------------------------------------------------------------------------------------
# structural diff
# ----------------------------------------------------------------------------------------------
MISSING = "<missing>"


def _short(v: Any, limit: int = 100) -> str:
    s = v if v is MISSING else json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def diff(a: Any, b: Any, path: str = "", out: list[tuple[str, Any, Any]] | None = None,
         limit: int = 200) -> list[tuple[str, Any, Any]]:
    """Differing paths between golden a and replay b: [(path, golden value, replay value)]."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append((p, MISSING, b[k]))
            elif k not in b:
                out.append((p, a[k], MISSING))
            else:
                diff(a[k], b[k], p, out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(a):
                out.append((p, MISSING, b[i]))
            elif i >= len(b):
                out.append((p, a[i], MISSING))
            else:
                diff(a[i], b[i], p, out, limit)
    elif type(a) is not type(b) or a != b:
        out.append((path or "<root>", a, b))
    return out


# ----------------------------------------------------------------------------------------------
# comparison of a whole run
# ----------------------------------------------------------------------------------------------
class Comparison:
    def __init__(self, golden_window_: tuple[float, float], ours_window: tuple[float, float],
                 substitutions: dict[str, str] | None = None, literals: Sequence[str] = (),
                 documented: set[int] | None = None):
        self.gw = golden_window_
        self.ow = ours_window
        self.subs = substitutions or {}
        self.literals = list(literals)
        self.documented = documented or set()
        self.g2o: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, golden id) -> (replay id, file)

    def compare(self, name: str, golden: dict[str, Any], ours: dict[str, Any] | None) -> dict[str, Any]:
        number = golden_number(name)
        res: dict[str, Any] = {"file": name, "number": number, "request": request_line(golden), "notes": []}
        diffs: list[tuple[str, Any, Any]] = []
        if ours is None:
            diffs.append(("<capture>", "present", "missing (not produced by the replay)"))
        else:
            ours = substitute(ours, self.subs)
            resp, notes = align_ties(golden.get("response"), ours.get("response"))
            res["notes"].extend(notes)
            gn, on = Normaliser(self.gw, self.literals), Normaliser(self.ow, self.literals)
            gv = {k: gn.norm(v) for k, v in (("request", request_view(golden.get("request") or {})),
                                              ("status", golden.get("status")),
                                              ("content_type", golden.get("content_type")),
                                              ("response", golden.get("response")))}
            ov = {k: on.norm(v) for k, v in (("request", request_view(ours.get("request") or {})),
                                              ("status", ours.get("status")),
                                              ("content_type", ours.get("content_type")),
                                              ("response", resp))}
            # status and content type first, then the body, then the request
            for key in ("status", "content_type", "response", "request"):
                diff(gv[key], ov[key], key, diffs)
            if not diffs:
                diffs.extend(self._check_id_consistency(name, gn.ids, on.ids))
        res["status"] = [golden.get("status"), ours.get("status") if ours else None]
        res["diffs"] = [{"path": p, "golden": g, "replay": o} for p, g, o in diffs]
        if not diffs:
            res["class"] = "identical"
        elif number in self.documented:
            res["class"] = "documented"
        else:
            res["class"] = "different"
        return res

    def _check_id_consistency(self, name: str, g: Ids, o: Ids) -> list[tuple[str, Any, Any]]:
        """A golden id seen in an earlier file must map to the same replay id here."""
        problems: list[tuple[str, Any, Any]] = []
        gb, ob = g.by_number(), o.by_number()
        pairs = []
        for kind in ("uuid", "call"):
            for n, gid in gb[kind].items():
                oid = ob[kind].get(n)
                prev = self.g2o.get((kind, gid))
                if prev is not None and prev[0] != oid:
                    problems.append((f"<{kind}:{n}> consistency", f"{gid} (was {prev[0]} in {prev[1]})", oid))
                pairs.append(((kind, gid), (oid, name)))
        if not problems:
            for k, v in pairs:
                self.g2o.setdefault(k, v)
        return problems


def summarise(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"identical": 0, "documented": 0, "different": 0}
    for r in results:
        counts[r["class"]] += 1
    return counts


def format_result(r: dict[str, Any], max_paths: int = 5) -> str:
    st = r.get("status") or [None, None]
    head = f"[{r['class']}] {r['file']}  {r['request']}  (status golden {st[0]}, replay {st[1]})"
    lines = [head]
    for d in r["diffs"][:max_paths]:
        lines.append(f"    {d['path']}: golden {_short(d['golden'])} | replay {_short(d['replay'])}")
    if len(r["diffs"]) > max_paths:
        lines.append(f"    ... {len(r['diffs']) - max_paths} more differing paths")
    return "\n".join(lines)
