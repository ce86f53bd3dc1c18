"""The generated part of the request suite: seeded random sequences of reads and writes.

``build(manifest, rng, n)`` draws ``n`` requests on the ``single`` pair. A small model of the
database (which sessions exist, their type and owner, which were created empty) keeps the
sequence meaningful: writes target live sessions most of the time, reads follow writes, and
deleted or unknown ids come up too. Parameter values are drawn from pools of valid and invalid
values alike. Left out are only the inputs where AgentOS is known to fail or to corrupt a row
(the lines of docs/compatibility.md; ``cases.build_divergent`` has those on purpose), so that a
difference found here is always worth a look: page <= 0, sort keys that are not timestamps, huge
numbers, NUL characters, a PATCH whose ``type`` is not the session's own, renaming a session
created empty, a summary on a workflow session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from steps import AGNO3, Builder, Features, Manifest, Step, path_id

TYPES = ("agent", "team", "workflow")
STATUSES = ("COMPLETED", "ERROR", "CANCELLED", "PENDING", "RUNNING", "PAUSED", "completed", "BOGUS")
TEXT = ("a", "Ünïcødé ✓", "日本語のテキスト", "emoji 🚀🔥", "quote ' and \" and \\", "tab\tand newline\n", "", "x" * 300,
        "%_%", "مرحبا")


@dataclass
class Live:
    session_type: str
    user_id: str | None
    runs: list[str]
    empty: bool = False  # created without name or state: session_data is JSON null
    gone: bool = False


class Generator:
    def __init__(self, manifest: Manifest, rng: random.Random):
        self.m = manifest
        self.rng = rng
        self.live = {sid: Live(info["type"], info.get("user_id"), list(info.get("runs") or []),
                               empty=bool(info.get("null_data")))
                     for sid, info in manifest.sessions.items()}
        self.created = 0
        self.users = [*manifest.users, None]
        self.components = [c for ids in manifest.components.values() for c in ids]

    # pools ---------------------------------------------------------------------------------
    def pick(self, *, alive: bool = True) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return rng.choice(("does-not-exist", "gen-unknown", "ünknown"))
        pool = [s for s, v in self.live.items() if v.gone != alive]
        if not pool or roll < 0.08:
            pool = list(self.live)
        return rng.choice(sorted(pool))

    def user_for(self, sid: str) -> str | None:
        r = self.rng.random()
        owner = self.live[sid].user_id if sid in self.live else None
        if r < 0.6:
            return None
        if r < 0.85:
            return owner
        return self.rng.choice([u for u in self.users if u] + ["someone-else", ""])

    def text(self) -> str:
        return self.rng.choice(TEXT) + self.rng.choice(("", f" {self.rng.randint(0, 999)}"))

    def value(self, depth: int = 0):
        rng = self.rng
        kind = rng.randint(0, 7 if depth < 2 else 4)
        return [lambda: rng.randint(-5, 10**6), lambda: round(rng.uniform(-1, 1), 6), lambda: rng.choice((True, False)),
                lambda: None, self.text,
                lambda: [self.value(depth + 1) for _ in range(rng.randint(0, 3))],
                lambda: {self.text()[:12] or "k": self.value(depth + 1) for _ in range(rng.randint(0, 3))},
                lambda: {"nested": {"deeper": [self.value(depth + 1)]}}][kind]()

    def obj(self) -> dict:
        return {f"k{i}_{self.text()[:8]}": self.value() for i in range(self.rng.randint(0, 4))}

    # requests ------------------------------------------------------------------------------
    def list_params(self) -> dict:
        rng = self.rng
        params: dict = {}
        if rng.random() < 0.7:
            params["type"] = rng.choice((*TYPES, "agent", "bogus"))
        if rng.random() < 0.3 and self.components:
            params["component_id"] = rng.choice(self.components)
        if rng.random() < 0.3:
            params["user_id"] = rng.choice([u for u in self.users if u] + ["", "nobody"])
        if rng.random() < 0.2:
            names = self.m.names() or ["a"]
            name = rng.choice(names)
            i = rng.randint(0, max(0, len(name) - 2))
            params["session_name"] = rng.choice((name[i:i + 3], self.text()[:4], name.upper()))
        if rng.random() < 0.5:
            params["limit"] = rng.choice((1, 2, 3, 5, 10, 20, 50, 100, 0, -1, "abc", "7"))
        if rng.random() < 0.4:
            params["page"] = rng.choice((1, 2, 3, 7, 50, "x", "2"))
        if rng.random() < 0.4:
            params["sort_by"] = rng.choice(("created_at", "updated_at"))
        if rng.random() < 0.4:
            params["sort_order"] = rng.choice(("asc", "desc", "sideways"))
        if rng.random() < 0.1:
            params["db_id"] = rng.choice(("main", "nope"))
        return params

    def run_filters(self) -> dict:
        rng = self.rng
        params: dict = {}
        if rng.random() < 0.4:
            params["status"] = rng.sample(STATUSES, rng.randint(1, 3))
        if rng.random() < 0.3:
            params["created_after"] = rng.choice((1767225600, 1772000000, 1780000000, 1800000000, "soon"))
        if rng.random() < 0.3:
            params["created_before"] = rng.choice((1767225600, 1775000000, 1800000000))
        return params

    def step(self, b: Builder) -> None:
        rng = self.rng
        op = rng.choices(("list", "detail", "runs", "previews", "run", "create", "rename", "patch", "delete", "bulk"),
                         weights=(26, 14, 10, 6, 6, 12, 8, 11, 4, 3))[0]
        if op == "list":
            b.get("/sessions", self.list_params())
            return
        if op == "create":
            self.create(b)
            return
        if op == "bulk":
            self.bulk(b)
            return
        sid = self.pick(alive=op != "delete" or rng.random() < 0.9)
        live = self.live.get(sid)
        p = f"/sessions/{path_id(sid)}"
        user = self.user_for(sid)
        own_type = live.session_type if live else rng.choice(TYPES)
        if op == "detail":
            b.get(p, {"type": rng.choice((None, None, own_type, rng.choice(TYPES))), "user_id": user})
        elif op in ("runs", "previews"):
            suffix = "/runs" if op == "runs" else "/run-previews"
            b.get(p + suffix, {"type": rng.choice((None, own_type)), "user_id": user, **self.run_filters()})
        elif op == "run":
            runs = live.runs if live and live.runs else ["no-such-run"]
            b.get(f"{p}/runs/{path_id(rng.choice(runs))}", {"type": rng.choice((None, own_type)), "user_id": user})
        elif op == "rename":
            if live and live.empty:
                b.get(p)  # renaming a session created empty is line 5 of docs/compatibility.md
                return
            body = rng.choice(({"session_name": self.text()}, {"session_name": self.text()}, {}, {"session_name": None}))
            b.add("POST", p + "/rename", {"type": rng.choice((None, own_type)), "user_id": user}, body=body)
            b.get(p, {"user_id": user})
        elif op == "patch":
            body: dict = {}
            for key, gen in (("session_name", self.text), ("session_state", self.obj), ("metadata", self.obj)):
                if rng.random() < 0.45:
                    body[key] = gen()
            if own_type != "workflow" and rng.random() < 0.2:
                body["summary"] = {"summary": self.text(), "topics": [self.text()[:10]],
                                   "updated_at": f"2026-03-0{rng.randint(1, 9)}T10:00:00"}
            if rng.random() < 0.05:
                body = rng.choice(({"session_state": "x"}, {"metadata": 7}))
            b.add("PATCH", p, {"type": rng.choice((None, own_type)), "user_id": user}, body=body)
            b.get(p)
        elif op == "delete":
            b.add("DELETE", p, {"user_id": user}, content_type=None)
            if live and not live.gone and (user is None or user == live.user_id):
                live.gone = True
            b.get(p)

    def create(self, b: Builder) -> None:
        rng = self.rng
        self.created += 1
        sid = f"gen-{self.created}-{rng.choice(('a', 'ü', '日', 'x y'))}"
        session_type = rng.choice(TYPES)
        body: dict = {"session_id": sid}
        user = rng.choice(self.users)
        if user is not None:
            body["user_id"] = user
        if rng.random() < 0.5:
            body["session_name"] = self.text()
        if rng.random() < 0.4:
            body["session_state"] = self.obj()
        if rng.random() < 0.4:
            body["metadata"] = self.obj()
        if rng.random() < 0.5 and self.components:
            body[f"{session_type}_id"] = rng.choice(self.components)
        if rng.random() < 0.05:
            body["session_id"] = rng.choice(list(self.live))  # a conflict: 409
        b.add("POST", "/sessions", {"type": session_type}, body=body)
        if body["session_id"] == sid:
            self.live[sid] = Live(session_type, user, [], empty="session_name" not in body and "session_state" not in body)
            b.get(f"/sessions/{path_id(sid)}")

    def bulk(self, b: Builder) -> None:
        rng = self.rng
        ids = [self.pick() for _ in range(rng.randint(1, 3))]
        types = [self.live[s].session_type if s in self.live else "agent" for s in ids]
        user = rng.choice((None, None, rng.choice([u for u in self.users if u] or ["u1"])))
        b.add("DELETE", "/sessions", {"user_id": user}, body={"session_ids": ids, "session_types": types})
        for s in ids:
            live = self.live.get(s)
            if live and (user is None or live.user_id == user):
                live.gone = True
        b.get("/sessions", {"user_id": user})


def build(manifest_data: dict, rng: random.Random, n: int, features: Features = AGNO3) -> list[Step]:
    steps: list[Step] = []
    gen = Generator(Manifest(manifest_data), rng)
    b = Builder(steps, "generated", features=features)
    while len(steps) < n:
        gen.step(b)
    return steps
