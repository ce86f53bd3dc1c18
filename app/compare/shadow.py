"""Replay a stream of requests against a primary and a candidate server and report differences."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import IO, Any
from urllib.parse import quote

from .core import Client, Difference, Request, Response, Rules, compare_responses


@dataclass
class Outcome:
    request: Request
    primary: Response
    candidate: Response
    differences: list[Difference]

    @property
    def kind(self) -> str:
        if self.primary.error and self.candidate.error:
            return "error"
        return "different" if self.differences else "identical"

    def as_dict(self) -> dict[str, Any]:
        return {"request": self.request.as_dict(), "kind": self.kind,
                "status": [self.primary.status, self.candidate.status],
                "elapsed_ms": [round(self.primary.elapsed * 1000, 2), round(self.candidate.elapsed * 1000, 2)],
                "differences": [d.as_dict() for d in self.differences]}


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        c = Counter(o.kind for o in self.outcomes)
        return {"compared": len(self.outcomes), "identical": c["identical"], "different": c["different"],
                "error": c["error"]}

    @property
    def ok(self) -> bool:
        counts = self.counts()
        return counts["different"] == 0 and counts["error"] == 0

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(), "skipped": dict(self.skipped), "outcomes": [o.as_dict() for o in self.outcomes]}


def select(requests: Iterable[Request], *, path_prefix: str = "/sessions", allow_writes: bool = False,
           unique: bool = False, limit: int | None = None, skipped: Counter | None = None) -> Iterable[Request]:
    """The requests to replay: under ``path_prefix``, reads only unless ``allow_writes``."""
    seen: set[tuple[str, str, bytes | None]] = set()
    taken = 0
    skipped = skipped if skipped is not None else Counter()
    for req in requests:
        if limit is not None and taken >= limit:
            break
        path = req.target.split("?", 1)[0]
        if path_prefix and not (path == path_prefix or path.startswith(path_prefix.rstrip("/") + "/")):
            skipped["other path"] += 1
            continue
        if req.is_write and not allow_writes:
            skipped["write (needs --allow-writes)"] += 1
            continue
        key = (req.method, req.target, req.body)
        if unique and key in seen:
            skipped["repeated"] += 1
            continue
        seen.add(key)
        taken += 1
        yield req


def replay(requests: Iterable[Request], primary: Client, candidate: Client, rules: Rules,
           progress: IO[str] | None = None, max_diffs: int = 5) -> Summary:
    """Send each request to both servers and compare the answers.

    ``rules.substitutions`` maps candidate ids to primary ids; the candidate's requests get the
    candidate's ids. A create that each server answers with an id of its own (no ``session_id``
    in the body) adds its pair to the map, so later requests and answers about that session
    compare too.
    """
    summary = Summary()
    for req in requests:
        a = primary.send(req)
        b = candidate.send(_for_candidate(req, rules.substitutions))
        learn_generated_id(req, a, b, rules)
        outcome = Outcome(req, a, b, compare_responses(a, b, rules))
        summary.outcomes.append(outcome)
        if progress is not None and outcome.kind != "identical":
            progress.write(format_outcome(outcome, max_diffs) + "\n")
            progress.flush()
    return summary


def _for_candidate(req: Request, subs: dict[str, str]) -> Request:
    if not subs:
        return req
    target, body = req.target, req.body
    for cand_id, prim_id in subs.items():
        target = target.replace(quote(prim_id, safe=""), quote(cand_id, safe="")).replace(prim_id, cand_id)
        if body is not None:
            body = body.replace(prim_id.encode(), cand_id.encode())
    return replace(req, target=target, body=body)


def learn_generated_id(req: Request, a: Response, b: Response, rules: Rules) -> None:
    if req.method != "POST" or a.status != 201 or b.status != 201:
        return
    try:
        id_a, id_b = json.loads(a.body).get("session_id"), json.loads(b.body).get("session_id")
    except (ValueError, AttributeError):
        return
    if isinstance(id_a, str) and isinstance(id_b, str) and id_a and id_b and id_a != id_b:
        rules.substitutions[id_b] = id_a


def format_outcome(o: Outcome, max_diffs: int = 5) -> str:
    head = f"{o.kind.upper()}  {o.request.describe()}  (status {o.primary.status or '-'} | {o.candidate.status or '-'})"
    lines = [head]
    for d in o.differences[:max_diffs]:
        lines.append("    " + d.render())
    if len(o.differences) > max_diffs:
        lines.append(f"    ... {len(o.differences) - max_diffs} more differing paths")
    return "\n".join(lines)


def format_summary(summary: Summary, started: float) -> str:
    c = summary.counts()
    text = (f"compared {c['compared']} requests in {time.monotonic() - started:.1f} s: {c['identical']} identical, "
            f"{c['different']} different, {c['error']} unreachable on both")
    if summary.skipped:
        text += "; skipped " + ", ".join(f"{n} {why}" for why, n in sorted(summary.skipped.items()))
    return text


def write_report(path: str, summary: Summary, meta: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, **summary.as_dict()}, fh, ensure_ascii=False, indent=1, default=str)
