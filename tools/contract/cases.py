"""The hand-written part of the request suite: every route, parameter and error class of the contract.

Phases run in this order on the ``single`` pair unless named otherwise: read (before any write),
create, rename, patch (each followed by the reads that see it), delete, multi (two databases),
auth (``OS_SECURITY_KEY`` and CORS). ``build_divergent`` holds the requests where AgentOS fails
(each tied to its line of docs/compatibility.md); it runs last, after the generated part, so the
sessions it leaves different are read only by requests that know it.
"""

from __future__ import annotations

from steps import AGNO3, Builder, Features, Manifest, Step, path_id

ORIGIN = "https://os.agno.com"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-max-age", "access-control-expose-headers", "vary")
EPOCHS = (1767225600, 1772000000, 1780000000, 1800000000)  # 2026-01-01 .. 2027-01-15


def build(manifest_data: dict, manifest2_data: dict | None, token: str | None, features: Features = AGNO3) -> list[Step]:
    """The hand-written suite; the ``multi`` phase needs ``manifest2_data``, the ``auth`` phase ``token``.
    Requests the reference has no route or parameter for (``features``) are left out."""
    m = Manifest(manifest_data)
    steps: list[Step] = []
    f = features
    reads(Builder(steps, "read", features=f), m)
    creates(Builder(steps, "create", features=f), m)
    renames(Builder(steps, "rename", features=f), m)
    patches(Builder(steps, "patch", features=f), m)
    deletes(Builder(steps, "delete", features=f), m)
    if manifest2_data is not None:
        multi(Builder(steps, "multi", "multi", features=f), m, Manifest(manifest2_data))
    if token is not None:
        auth(Builder(steps, "auth", "auth", features=f), m, token)
    return steps


# ----------------------------------------------------------------------------------------------
def reads(b: Builder, m: Manifest) -> None:
    b.get("/health")
    b.get("/sessions")
    for t in ("agent", "team", "workflow", "bogus", "Agent", "", "AGENT"):
        b.get("/sessions", {"type": t})
    for kind, ids in m.components.items():
        for cid in ids:
            b.get("/sessions", {"component_id": cid})
            b.get("/sessions", {"component_id": cid, "type": kind})
            b.get("/sessions", {"component_id": cid, "type": "agent" if kind != "agent" else "team"})
    b.get("/sessions", {"component_id": "no-such-component"})
    for user in [*m.users, "", "nobody", "u1 ", "U1"]:
        b.get("/sessions", {"user_id": user})
        b.get("/sessions", {"user_id": user, "type": "team"})
    for name in m.names()[:6]:
        middle = name[1:-1] if len(name) > 3 else name
        b.get("/sessions", {"session_name": middle.swapcase()})
        b.get("/sessions", {"session_name": name, "type": "team"})
    for pattern in ("%' OR 1=1 --", "%", "_", "", "\\", "a%b", "🙂", "[x]", "'", '"'):
        b.get("/sessions", {"session_name": pattern})
    for limit, page in ((3, 2), (3, 99), (1, 1), (100, 1), (7, 3), (0, 1), (-1, 1), ("abc", 1), ("2.5", 1),
                        ("3.0", 1), (" 4", 1), (5, -1), (5, "x"), (10**12, 1), (2, "1e2"), ("", "")):
        b.get("/sessions", {"limit": limit, "page": page})
    for sort_by in ("created_at", "updated_at", "session_id", "nope", "user_id"):
        for order in ("asc", "desc", "ASC", "up", None):
            b.get("/sessions", {"sort_by": sort_by, "sort_order": order, "limit": 50})
    b.get("/sessions", [("type", "agent"), ("type", "team")])
    b.get("/sessions", [("limit", "2"), ("limit", "3")])
    for db_id, table in (("main", None), ("nope", None), (None, "agno_sessions"), ("main", "agno_sessions"),
                         ("main", "agno_memories"), ("main", "bogus"), ("main", "agno_sessions; DROP TABLE x"),
                         ("", ""), ("main", "agno_runs")):
        b.get("/sessions", {"db_id": db_id, "table": table})
    user = m.users[0] if m.users else "u1"
    b.get("/sessions", {"type": "team", "user_id": user, "sort_by": "updated_at", "sort_order": "asc", "limit": 2,
                        "page": 2})
    # detail, runs and previews of every seeded session
    for sid, info in m.sessions.items():
        p = f"/sessions/{path_id(sid)}"
        b.get(p)
        b.get(p, {"type": info["type"]})
        b.get(p + "/runs")
        b.get(p + "/run-previews")
    for sid in (m.with_runs("agent")[:1] + m.with_runs("team")[:1] + m.with_runs("workflow")[:1]):
        info = m.info(sid)
        p = f"/sessions/{path_id(sid)}"
        other = "team" if info["type"] != "team" else "agent"
        b.get(p, {"type": other})
        b.get(p, {"type": "bogus"})
        b.get(p + "/runs", {"type": info["type"]})
        b.get(p + "/runs", {"type": other})
        for owner in (info.get("user_id"), "someone-else", ""):
            b.get(p, {"user_id": owner})
            b.get(p + "/runs", {"user_id": owner})
            b.get(p + "/run-previews", {"user_id": owner})
        for params in ({"db_id": "main"}, {"db_id": "nope"}, {"table": "agno_sessions"},
                       {"db_id": "main", "table": "agno_sessions"}, {"db_id": "main", "table": "nope"}):
            b.get(p, params)
            b.get(p + "/runs", params)
        for status in ("COMPLETED", ["ERROR", "CANCELLED"], "completed", "BOGUS", ["PENDING", "RUNNING", "PAUSED"], ""):
            b.get(p + "/runs", {"status": status})
            b.get(p + "/run-previews", {"status": status})
        for after, before in ((EPOCHS[0], None), (None, EPOCHS[2]), (EPOCHS[1], EPOCHS[2]), (EPOCHS[3], None),
                              ("abc", None), ("1.5", None), (-1, None), (None, 0)):
            b.get(p + "/runs", {"created_after": after, "created_before": before})
            b.get(p + "/run-previews", {"created_after": after, "created_before": before})
        b.get(p + "/runs", {"status": "COMPLETED", "created_after": EPOCHS[0], "type": info["type"]})
        # single runs: every top-level and member run of the session
        for run_id in (info.get("runs") or [])[:6] + (info.get("member_runs") or [])[:3]:
            b.get(f"{p}/runs/{path_id(run_id)}")
            b.get(f"{p}/runs/{path_id(run_id)}", {"type": info["type"]})
        first_run = (info.get("runs") or ["none"])[0]
        b.get(f"{p}/runs/{path_id(first_run)}", {"user_id": "someone-else"})
        b.get(f"{p}/runs/{path_id(first_run)}", {"db_id": "nope"})
        b.get(f"{p}/runs/no-such-run")
        b.get(f"{p}/media/images/a.png")
        b.get(f"{p}/media/")
    # a run asked for under another session
    two = m.with_runs()
    if len(two) >= 2:
        b.get(f"/sessions/{path_id(two[0])}/runs/{path_id(m.info(two[1])['runs'][0])}")
    for p in ("/sessions/does-not-exist", "/sessions/does-not-exist/runs", "/sessions/does-not-exist/run-previews",
              "/sessions/does-not-exist/runs/r", "/sessions/%20", "/sessions/a%2Fb", "/sessions/" + "x" * 3000,
              "/sessions/caf%C3%A9", "/sessions/'%20OR%20'1'='1"):
        b.get(p)
    # routing and methods
    b.add("PUT", "/sessions", body={})
    b.add("PATCH", "/sessions", body={})
    b.add("POST", "/sessions/x/runs", body={})
    b.add("PUT", "/sessions/x", body={})
    b.get("/sessions/")
    b.get("/sessions/x/unknown")
    b.get("/sessionz")
    b.add("OPTIONS", "/sessions", content_type=None)


# ----------------------------------------------------------------------------------------------
def creates(b: Builder, m: Manifest) -> None:
    agent = (m.components.get("agent") or ["contract-agent"])[0]
    team = (m.components.get("team") or ["contract-team"])[0]
    workflow = (m.components.get("workflow") or ["contract-workflow"])[0]
    b.add("POST", "/sessions", {"type": "agent"}, body={
        "session_id": "ct-agent-1", "session_name": "Contract agent ✓", "user_id": "u1", "agent_id": agent,
        "session_state": {"cart": ["tea", "milk"], "n": 2, "nested": {"ok": True, "none": None}},
        "metadata": {"source": "contract", "tags": ["x"]}})
    b.add("POST", "/sessions", {"type": "team"}, body={"session_id": "ct-team-1", "user_id": "u2", "team_id": team,
                                                      "session_name": "团队会话"})
    b.add("POST", "/sessions", {"type": "workflow"}, body={"session_id": "ct-workflow-1", "workflow_id": workflow,
                                                          "session_state": {"step": 0}})
    b.add("POST", "/sessions", body={"session_id": "ct-default-type", "user_id": "u3"})
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_name": "generated id", "user_id": "u1"},
          capture="@gen1")
    b.add("POST", "/sessions", {"type": "team"}, body={}, capture="@gen2")
    b.add("POST", "/sessions", {"type": "agent", "db_id": "main"}, body={
        "session_id": "ct-explicit-nulls", "session_name": "nulls", "session_state": None, "metadata": None,
        "user_id": None, "agent_id": None, "team_id": None, "workflow_id": None})
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-extra-field", "unknown": 1, "runs": [1]})
    deep: dict = {"leaf": ["ü", None, 1.5]}
    for _ in range(199):
        deep = {"n": deep}
    b.add("POST", "/sessions", {"type": "workflow"}, body={"session_id": "ct-deep-200", "session_state": deep,
                                                          "metadata": {"m": [[[[["x"]]]]]}})
    # conflicts and bad input
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-agent-1"})
    b.add("POST", "/sessions", {"type": "team"}, body={"session_id": "ct-agent-1"})
    seeded = next(iter(m.sessions))
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": seeded})
    b.add("POST", "/sessions", {"type": "bogus"}, body={"session_id": "ct-bad-type"})
    b.add("POST", "/sessions", {"db_id": "nope"}, body={"session_id": "ct-bad-db"})
    for bad in ([], "text", 1, None, {"session_state": "not an object"}, {"metadata": [1, 2]},
                {"session_name": 123}, {"session_id": 5}, {"user_id": ["u1"]}, {"session_state": {"a": 1}, "metadata": 3}):
        b.add("POST", "/sessions", {"type": "agent"}, body=bad)
    b.add("POST", "/sessions", raw=b'{"session_id": "ct-broken"', content_type="application/json")
    b.add("POST", "/sessions", raw=b'{"session_id": "ct-text-plain"}', content_type="text/plain", capture="@gen4")
    b.add("POST", "/sessions", raw=b"session_id=ct-form", content_type="application/x-www-form-urlencoded",
          capture="@gen5")
    b.add("POST", "/sessions", raw=b"", content_type="application/json", capture="@gen3")
    b.add("POST", "/sessions", raw=b"", content_type=None, capture="@gen6")
    deep = b"[" * 100_000 + b"]" * 100_000
    b.add("POST", "/sessions", raw=deep)
    b.add("POST", "/sessions", raw=b'{"session_state": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001)
    if b.features.sqlite:
        # AgentOS over SqliteDb stores the non-standard NaN (line 32); this service refuses it as
        # over PostgreSQL. The session exists on one side only, so it is removed again on both.
        b.add("POST", "/sessions", raw=b'{"session_id": "ct-nan", "session_state": {"x": NaN}}',
              known=frozenset({32}), taints={"ct-nan": 32})
        b.get("/sessions/ct-nan", known=frozenset({32}))
        b.add("DELETE", "/sessions/ct-nan", content_type=None)
    else:
        b.add("POST", "/sessions", raw=b'{"session_id": "ct-nan", "session_state": {"x": NaN}}')
    # what the writes look like now
    for sid in ("ct-agent-1", "ct-team-1", "ct-workflow-1", "ct-default-type", "@gen1", "@gen2", "ct-explicit-nulls",
                "ct-extra-field"):
        b.get(f"/sessions/{sid}")
        b.get(f"/sessions/{sid}/runs")
    b.get("/sessions/ct-team-1", {"type": "team"})
    b.get("/sessions")
    b.get("/sessions", {"type": "team"})
    b.get("/sessions", {"type": "workflow", "sort_by": "updated_at"})
    b.get("/sessions", {"user_id": "u1", "limit": 3})


# ----------------------------------------------------------------------------------------------
def renames(b: Builder, m: Manifest) -> None:
    targets = [m.first(m.with_runs(t)) for t in ("agent", "team", "workflow")]
    for sid in targets:
        info = m.info(sid)
        p = f"/sessions/{path_id(sid)}/rename"
        b.add("POST", p, {"type": info["type"]}, body={"session_name": f"Renamed {info['type']} ✨"})
        b.get(f"/sessions/{path_id(sid)}")
        b.add("POST", p, {"user_id": "someone-else"}, body={"session_name": "stolen"})
        b.add("POST", p, {"user_id": info.get("user_id")}, body={"session_name": "by its owner"})
    agent = targets[0]
    p = f"/sessions/{path_id(agent)}/rename"
    b.add("POST", p, body={"session_name": ""})
    b.get("/sessions", {"session_name": "owner"})
    b.add("POST", p, body={"session_name": "ن" * 700 + "名" * 700})
    b.add("POST", p, {"type": "team"}, body={"session_name": "typed as team"})
    b.add("POST", p, {"type": "workflow"}, body={"session_name": "typed as workflow"})
    for bad in ({}, {"session_name": None}, {"session_name": 5}, [], {"name": "x"}):
        b.add("POST", p, body=bad)
    b.add("POST", p, raw=b"not json")
    b.add("POST", "/sessions/does-not-exist/rename", body={"session_name": "x"})
    b.add("POST", "/sessions/ct-agent-1/rename", body={"session_name": "Contract agent, renamed"})
    b.add("POST", "/sessions/@gen1/rename", {"type": "agent"}, body={"session_name": "generated, renamed"})
    b.add("POST", "/sessions/ct-workflow-1/rename", {"type": "workflow"}, body={"session_name": "wf renamed"})
    for sid in ("ct-agent-1", "@gen1", "ct-workflow-1", agent):
        b.get(f"/sessions/{sid}")
    b.get("/sessions", {"session_name": "renamed"})
    b.get("/sessions", {"type": "workflow"})


# ----------------------------------------------------------------------------------------------
def patches(b: Builder, m: Manifest) -> None:
    targets = [m.first(m.with_runs(t, 2) or m.with_runs(t)) for t in ("agent", "team", "workflow")]
    for sid in targets:
        info = m.info(sid)
        p = f"/sessions/{path_id(sid)}"
        b.add("PATCH", p, {"type": info["type"]}, body={"session_name": f"patched {info['type']}"})
        b.add("PATCH", p, body={"session_state": {"patched": True, "list": [1, 2, 3], "text": "žluťoučký"}})
        b.add("PATCH", p, body={"metadata": {"reviewed": True, "by": "contract"}})
        b.add("PATCH", p, {"user_id": "someone-else"}, body={"session_name": "stolen"})
        b.add("PATCH", p, {"user_id": info.get("user_id")}, body={"session_state": {"owner": True}})
        b.get(p)
        b.get(p + "/runs")
    for sid in targets[:2]:
        p = f"/sessions/{path_id(sid)}"
        b.add("PATCH", p, body={"summary": {"summary": "A short summary.", "topics": ["a", "b"],
                                            "updated_at": "2026-02-03T04:05:06"}})
        b.add("PATCH", p, body={"summary": {"summary": "No topics."}})
        b.add("PATCH", p, body={"summary": None})
        b.get(p)
    agent = targets[0]
    p = f"/sessions/{path_id(agent)}"
    b.add("PATCH", p, body={})
    b.add("PATCH", p, body={"session_name": "all at once", "session_state": {}, "metadata": {}})
    b.add("PATCH", p, body={"metadata": None})
    b.add("PATCH", p, body={"session_state": None, "session_name": None})
    for bad in ({"session_state": "x"}, {"metadata": [1]}, {"session_name": 1}, [], "x",
                {"summary": "not an object"}, {"summary": {"summary": 1}}):
        b.add("PATCH", p, body=bad)
    b.add("PATCH", p, raw=b"{")
    b.add("PATCH", p, {"type": "bogus"}, body={"session_name": "x"})
    b.add("PATCH", "/sessions/does-not-exist", body={"session_name": "x"})
    b.add("PATCH", "/sessions/ct-team-1", {"type": "team"}, body={"session_state": {"members": 2}})
    b.add("PATCH", "/sessions/@gen2", {"type": "team"}, body={"session_name": "named by patch"})
    b.add("PATCH", "/sessions/ct-explicit-nulls", body={"metadata": {"now": "set"}})
    for sid in ("ct-team-1", "@gen2", "ct-explicit-nulls", agent):
        b.get(f"/sessions/{sid}")
    b.get("/sessions", {"sort_by": "updated_at"})
    b.get("/sessions", {"sort_by": "updated_at", "type": "team"})
    b.get("/sessions", {"session_name": "patched"})


# ----------------------------------------------------------------------------------------------
def deletes(b: Builder, m: Manifest) -> None:
    used = {m.first(m.with_runs(t)) for t in ("agent", "team", "workflow")}
    victims = [s for s in m.with_runs() if s not in used][:4]
    if len(victims) < 4:
        raise LookupError("the seed needs at least seven sessions with runs")
    one, two, three, four = victims
    info = m.info(one)
    p = f"/sessions/{path_id(one)}"
    b.add("DELETE", p, {"user_id": "someone-else"}, content_type=None)
    b.get(p)
    b.add("DELETE", p, {"db_id": "nope"}, content_type=None)
    b.add("DELETE", p, {"user_id": info.get("user_id"), "db_id": "main"}, content_type=None)
    b.get(p)
    b.get(p + "/runs")
    b.get(f"{p}/runs/{path_id(info['runs'][0])}")
    b.add("DELETE", p, content_type=None)
    b.add("DELETE", "/sessions/does-not-exist", content_type=None)
    # bulk
    b.add("DELETE", "/sessions", body={"session_ids": [two, three], "session_types": ["agent"]})
    b.add("DELETE", "/sessions", body={"session_ids": [two], "session_types": ["bogus"]})
    b.add("DELETE", "/sessions", body={"session_ids": "x", "session_types": []})
    b.add("DELETE", "/sessions", body={})
    b.add("DELETE", "/sessions", content_type=None)
    b.add("DELETE", "/sessions", raw=b"[")
    b.add("DELETE", "/sessions", {"user_id": "someone-else"},
          body={"session_ids": [two, three], "session_types": [m.info(two)["type"], m.info(three)["type"]]})
    b.get(f"/sessions/{path_id(two)}")
    b.add("DELETE", "/sessions", body={"session_ids": [two, three, "does-not-exist"],
                                        "session_types": [m.info(two)["type"], m.info(three)["type"], "agent"]})
    b.add("DELETE", "/sessions", body={"session_ids": [], "session_types": []})
    b.add("DELETE", "/sessions", {"user_id": m.info(four).get("user_id")},
          body={"session_ids": [four, "ct-default-type"], "session_types": [m.info(four)["type"], "agent"]})
    for sid in (two, three, four, "ct-default-type"):
        b.get(f"/sessions/{path_id(sid)}")
    b.get("/sessions")
    b.get("/sessions", {"type": "team"})
    b.get("/sessions", {"type": "workflow"})


# ----------------------------------------------------------------------------------------------
def multi(b: Builder, m: Manifest, m2: Manifest) -> None:
    for params in (None, {"db_id": "main"}, {"db_id": "second"}, {"db_id": "nope"}, {"type": "team", "db_id": "second"},
                   {"db_id": "second", "table": "agno_sessions"}, {"table": "agno_sessions"}):
        b.get("/sessions", params)
    sid2 = next(iter(m2.sessions))
    sid = next(iter(m.sessions))
    for params in (None, {"db_id": "second"}, {"db_id": "main"}):
        b.get(f"/sessions/{path_id(sid2)}", params)
        b.get(f"/sessions/{path_id(sid2)}/runs", params)
    b.get(f"/sessions/{path_id(sid)}", {"db_id": "main"})
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-second-1"})
    b.add("POST", "/sessions", {"type": "agent", "db_id": "second"}, body={"session_id": "ct-second-1",
                                                                          "session_name": "in the second db"})
    b.add("POST", "/sessions/ct-second-1/rename", {"db_id": "second"}, body={"session_name": "second, renamed"})
    b.add("PATCH", "/sessions/ct-second-1", {"db_id": "second"}, body={"metadata": {"db": 2}})
    b.get("/sessions/ct-second-1", {"db_id": "second"})
    b.get("/sessions/ct-second-1", {"db_id": "main"})
    b.add("DELETE", f"/sessions/{path_id(sid2)}", content_type=None)
    b.add("DELETE", f"/sessions/{path_id(sid2)}", {"db_id": "second"}, content_type=None)
    b.add("DELETE", "/sessions", {"db_id": "second"}, body={"session_ids": ["ct-second-1"], "session_types": ["agent"]})
    b.get("/sessions", {"db_id": "second"})


# ----------------------------------------------------------------------------------------------
def auth(b: Builder, m: Manifest, token: str) -> None:
    good = (("Authorization", f"Bearer {token}"),)
    sid = next(iter(m.sessions))
    b.get("/health")
    b.get("/sessions")
    for value in (f"Bearer {token}x", "Bearer", f"Basic {token}", f"bearer {token}", token, ""):
        b.get("/sessions", headers=(("Authorization", value),))
    b.get("/sessions", headers=good)
    b.get(f"/sessions/{path_id(sid)}", headers=good)
    b.get(f"/sessions/{path_id(sid)}/runs")
    b.add("DELETE", f"/sessions/{path_id(sid)}", content_type=None)
    b.add("POST", "/sessions", body={"session_id": "ct-auth-denied"})
    b.get("/sessions/ct-auth-denied", headers=good)
    # the agent-ui's preflights and simple requests from os.agno.com
    for method, path in (("GET", "/sessions"), ("DELETE", f"/sessions/{path_id(sid)}"), ("GET", "/sessions/x/runs")):
        b.add("OPTIONS", path, {"type": "agent", "db_id": "main"}, content_type=None, compare_headers=CORS_HEADERS,
              headers=(("Origin", ORIGIN), ("Access-Control-Request-Method", method),
                       ("Access-Control-Request-Headers", "authorization,content-type")))
    b.add("OPTIONS", "/sessions", content_type=None, compare_headers=CORS_HEADERS,
          headers=(("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")))
    b.add("OPTIONS", "/sessions", content_type=None, compare_headers=CORS_HEADERS,
          headers=(("Origin", ORIGIN), ("Access-Control-Request-Method", "PUT")))
    b.get("/sessions", {"type": "agent", "db_id": "main"}, compare_headers=CORS_HEADERS,
          headers=(("Origin", ORIGIN), *good))
    b.get("/sessions", compare_headers=CORS_HEADERS, headers=(("Origin", "https://evil.example"), *good))
    b.get("/sessions", compare_headers=CORS_HEADERS, headers=(("Origin", ORIGIN),))


# ----------------------------------------------------------------------------------------------
def divergent_agno2(b: Builder, m: Manifest) -> None:
    """Where agno 2.9.0 fails and 3.1.10 does not (agno2 contract §7, §8)."""
    # ?type=workflow on an agent or team session: 500 'steps'
    for sid in (m.with_runs("agent")[:1] + m.with_runs("team")[:1] + m.tagged("json-null-data")[:1]):
        b.get(f"/sessions/{path_id(sid)}", {"type": "workflow"})
    # rename of a session with runs whose session_data is JSON null: 500, nothing written (line 5)
    for sid in m.tagged("json-null-data")[:1]:
        p = f"/sessions/{path_id(sid)}"
        b.add("POST", p + "/rename", body={"session_name": "named at last"}, known=frozenset({5}), taints={sid: 5})
        b.get(p)
        b.get("/sessions", {"session_name": "named at last"}, known=frozenset({5}))
    # PATCH on a team session holding a workflow run: 2.9.0 drops the run from the stored array
    for sid in m.tagged("odd-team")[:1]:
        p = f"/sessions/{path_id(sid)}"
        b.add("PATCH", p, body={"metadata": {"patched": "odd"}})
        b.get(p)
        b.get(p + "/runs")
        b.get("/sessions", {"type": "team", "limit": 100})


# ----------------------------------------------------------------------------------------------
def build_divergent(manifest_data: dict, features: Features = AGNO3) -> list[Step]:
    """Requests where AgentOS fails; each names its line of docs/compatibility.md."""
    m = Manifest(manifest_data)
    steps: list[Step] = []
    b = Builder(steps, "divergent", features=features)
    if features.agno2:
        divergent_agno2(b, m)
    b.get("/sessions", {"page": 0})
    b.get("/sessions", {"page": -3, "limit": 5})
    for attr in ("keys", "values", "items", "__class__", "get"):
        b.get("/sessions", {"sort_by": attr})
    b.get("/sessions", {"limit": 2**63})
    b.get("/sessions", {"page": 10**18})
    b.get("/sessions", {"page": 2, "limit": 2**62})
    # NUL: AgentOS over PostgreSQL fails (line 4); over SqliteDb it stores and matches it (line 33).
    nul = {"known": frozenset({33})} if b.features.sqlite else {}
    b.get("/sessions", {"session_name": "a\x00b"}, **nul)
    b.get("/sessions", {"user_id": "u\x001"}, **nul)
    b.get("/sessions", {"component_id": "\x00"}, **nul)
    b.get("/sessions/a%00b", **nul)
    b.get("/sessions/a%00b/runs", **nul)
    b.add("DELETE", "/sessions/a%00b", content_type=None)
    nul_taint = (lambda sid: {**nul, "taints": {sid: 33}}) if b.features.sqlite else (lambda sid: {})
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-nul", "session_state": {"k\x00": 1}},
          **nul_taint("ct-nul"))
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-nul-meta", "metadata": {"k": "v\x00"}},
          **nul_taint("ct-nul-meta"))
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-nul\x00id"}, **nul_taint("ct-nul\x00id"))
    b.get("/sessions/ct-nul", **nul)
    if b.features.sqlite:
        # sessions that exist, or differ, on one side only: removed again on both
        for sid in ("ct-nul", "ct-nul-meta", "ct-nul%00id"):
            b.add("DELETE", f"/sessions/{sid}", content_type=None, known=frozenset({33}))
    agent = m.first(m.with_runs("agent", 2) or m.with_runs("agent"))
    p = f"/sessions/{path_id(agent)}"
    for summary in ({"topics": ["no summary key"]}, {"summary": "s", "extra": 1}, {"summary": "s", "updated_at": "soon"}):
        b.add("PATCH", p, body={"summary": summary})
    b.get(p)
    # rename of a session created empty: AgentOS answers 500 and writes nothing (line 5)
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-empty"})
    b.add("POST", "/sessions/ct-empty/rename", body={"session_name": "named at last"}, known=frozenset({5}),
          taints={"ct-empty": 5})
    b.get("/sessions/ct-empty")
    b.get("/sessions", {"session_name": "named at last"}, known=frozenset({5}))
    b.add("POST", "/sessions/@gen2/rename", {"type": "team"}, body={"session_name": "renamed"})
    # PATCH with another type's ?type= (line 9; 26 on agno 2.9.0)
    victim = m.first(m.with_runs("agent"), exclude=[agent])
    vp = f"/sessions/{path_id(victim)}"
    line = 26 if features.agno2 else 9  # 2.9.0 also answers with the other type's schema
    b.add("PATCH", vp, {"type": "workflow"}, body={"session_name": "typed as workflow"}, known=frozenset({line}),
          taints={victim: line})
    b.get(vp)
    b.get(vp, {"type": "agent"})
    b.get("/sessions")
    # PATCH summary on a workflow session (line 15)
    wf = m.first(m.with_runs("workflow"))
    wp = f"/sessions/{path_id(wf)}"
    b.add("PATCH", wp, body={"summary": {"summary": "kept", "topics": []}}, known=frozenset({15}), taints={wf: 15})
    b.get(wp)
    b.get("/sessions", {"type": "workflow"})
    # stored data that AgentOS cannot serve (craft.py), then removed again
    steps.append(Step("divergent", "single", "CRAFT", ""))
    b.get("/sessions/ct-x-list-content")
    for path in ("/runs", "/run-previews", "/runs/ct-x-list-content-run-0", "/runs/ct-x-list-content-run-1"):
        b.get("/sessions/ct-x-list-content" + path, known=frozenset({10}))
    b.get("/sessions/ct-x-multipart", known=frozenset({11}))
    b.get("/sessions", {"user_id": "u-crafted"}, known=frozenset({11}))
    b.get("/sessions/ct-x-multipart/runs")
    b.get("/sessions/ct-x-iso-created/runs", {"created_after": 1767225600}, known=frozenset({12}))
    b.get("/sessions/ct-x-iso-created/run-previews", {"created_before": 1800000000}, known=frozenset({12}))
    b.get("/sessions/ct-x-iso-created/runs", known=frozenset({12}))
    b.get("/sessions/ct-x-no-msg-ids", known=frozenset({13}))
    b.get("/sessions/ct-x-null-metrics", known=frozenset({19}))
    b.get("/sessions", {"user_id": "u-crafted", "session_name": "no match"})
    crafted = ["ct-x-list-content", "ct-x-multipart", "ct-x-iso-created", "ct-x-no-msg-ids", "ct-x-null-metrics"]
    b.add("DELETE", "/sessions", body={"session_ids": crafted, "session_types": ["agent"] * len(crafted)})
    b.get("/sessions", {"user_id": "u-crafted"})
    # nesting past AgentOS's serialiser (line 22): it writes the row, then cannot show it
    nested: dict = {"leaf": True}
    for _ in range(259):
        nested = {"n": nested}
    b.add("POST", "/sessions", {"type": "agent"}, body={"session_id": "ct-deep", "session_state": nested},
          known=frozenset({22}), taints={"ct-deep": 22})
    b.get("/sessions/ct-deep", known=frozenset({22}))
    b.add("DELETE", "/sessions/ct-deep", content_type=None)
    # a body over the configured limit (16 MiB by default): AgentOS has none (line 21); last,
    # because the session then exists on one side only
    huge = {"session_id": "ct-huge", "metadata": {"blob": "x" * (17 * 1024 * 1024)}}
    b.add("POST", "/sessions", {"type": "agent"}, body=huge, known=frozenset({21}), taints={"ct-huge": 21})
    b.get("/sessions/ct-huge", known=frozenset({21}))
    return steps
