"""The request suite of the ADK references (``adk-pg``, ``adk-sqlite``): Google ADK's session routes.

Every route is sent with and without the ``/api`` prefix: reads twice (once each way), writes
alternately one way and the other, so each write route is exercised under both (the suite sends
each write once: a create repeated would be a 409). Phases, in order: read (the seed, before any
write), create, deprecated (``POST .../sessions/{id}``), patch (each followed by the reads that
see it, including the sibling sessions ``app:``/``user:`` keys reach), delete, final (every
list and every session left). ``divergent`` requests, where ADK fails (docs/compatibility.md's
ADK section), run last so that the rows they leave different are read by nothing after them.

A create without ``sessionId`` captures each server's generated id as ``@name`` for later steps.
"""

from __future__ import annotations

from typing import Any

from steps import Builder, Features, Step, path_id

ADK_PG = Features(name="adk-pg")
ADK_SQLITE = Features(name="adk-sqlite", sqlite=True)
APP = "dummy_agent"
LONG_ID = "x" * 129        # one past the columns' varchar(128)
VERY_LONG_ID = "y" * 300


def sessions_path(app: str, user: str, sid: str | None = None) -> str:
    p = f"/apps/{path_id(app)}/users/{path_id(user)}/sessions"
    if sid is None:
        return p
    return f"{p}/{sid if sid.startswith('@') else path_id(sid)}"  # @name: an id captured during the run


class AdkBuilder(Builder):
    """A Builder that sends reads with and without ``/api`` and alternates the prefix of writes."""

    def __init__(self, steps: list[Step], phase: str, features: Features, toggle: list[int]):
        super().__init__(steps, phase, features=features)
        self.toggle = toggle  # shared by the phases: the alternation runs through the whole suite

    def add(self, method: str, path: str, params=None, **kw) -> Step:
        if method == "GET":
            super().add(method, "/api" + path, params, **kw)
            return super().add(method, path, params, **kw)
        self.toggle[0] += 1
        return super().add(method, ("/api" if self.toggle[0] % 2 else "") + path, params, **kw)

    def both(self, method: str, path: str, params=None, **kw) -> None:
        """A write that answers the same twice (an error, or an idempotent DELETE): once each way."""
        Builder.add(self, method, "/api" + path, params, **kw)
        Builder.add(self, method, path, params, **kw)

    def read_session(self, app: str, user: str, sid: str) -> None:
        self.get(sessions_path(app, user, sid))

    def read_list(self, app: str, user: str) -> None:
        self.get(sessions_path(app, user))


def build(manifest: dict[str, Any], features: Features) -> list[Step]:
    steps: list[Step] = []
    toggle = [0]

    def builder(phase: str) -> AdkBuilder:
        return AdkBuilder(steps, phase, features, toggle)

    reads(builder("read"), manifest)
    creates(builder("create"), manifest)
    deprecated(builder("deprecated"))
    patches(builder("patch"))
    deletes(builder("delete"))
    final(builder("final"), manifest)
    divergent(builder("divergent"), features)
    return steps


# ----------------------------------------------------------------------------------------------
def reads(b: AdkBuilder, m: dict[str, Any]) -> None:
    for s in m["sessions"]:
        b.read_session(s["app"], s["user"], s["id"])
    for app, users in m["apps"].items():
        for user in users:
            b.read_list(app, user)
    b.read_list(APP, "nobody")                      # no sessions: []
    b.read_list("no_such_app", "u1")                # an app no agent folder has: [] (ADK does not check)
    b.read_list(APP, "U1")                          # ids are case-sensitive
    b.read_session(APP, "u2", "s-hello")            # another user's session: 404
    b.read_session("travel_planner", "u1", "s-hello")  # another app's: 404
    b.read_session(APP, "u1", "no-such-session")
    b.read_session(APP, "u1", "S-HELLO")
    b.get(sessions_path(APP, "u1") + "/folder%2Fsub")   # %2F is decoded before routing: no route matches
    b.get(sessions_path(APP, "u1") + "/folder/sub")
    b.get(sessions_path(APP, "u1") + "/s-hello?extra=1")
    b.get(sessions_path(APP, "u1") + "?limit=1&page=2")  # the list route has no paging: ignored
    b.get(f"/apps/{APP}/users/u1")                     # no such route
    b.get(sessions_path(APP, "u1") + "/")
    b.get(sessions_path(APP, "u1", "s-hello") + "/")


def event(text: str, author: str = "user", **extra: Any) -> dict[str, Any]:
    return {"author": author, "content": {"role": "user" if author == "user" else "model", "parts": [{"text": text}]},
            **extra}


def creates(b: AdkBuilder, m: dict[str, Any]) -> None:
    p = sessions_path(APP, "u5")
    b.add("POST", p, capture="@gen_none", content_type=None)                  # no body
    b.add("POST", p, body={}, capture="@gen_empty")
    b.add("POST", p, raw=b"null", capture="@gen_null")
    b.add("POST", p, body={"state": {"only": "state"}}, capture="@gen_state")
    b.read_list(APP, "u5")
    b.read_session(APP, "u5", "@gen_none")
    b.read_session(APP, "u5", "@gen_state")
    b.add("POST", p, body={"sessionId": "c-id"})
    b.add("POST", p, body={"session_id": "c-snake"})
    b.add("POST", p, body={"sessionId": "c-both", "session_id": "c-both-snake"})
    b.add("POST", p, body={"sessionId": "c-state", "state": {
        "k": 1, "nested": {"list": [1, "two", None, {"three": 3.5}], "empty": {}}, "unicode": "ünïcödé 🧩",
        "app:c_app": {"mode": "A"}, "user:c_user": "U", "temp:scratch": "dropped"}})
    b.read_session(APP, "u5", "c-state")
    # ADK strips credential secrets from its answers (the stored state keeps them)
    b.add("POST", p, body={"sessionId": "c-cred", "state": {
        "cred": {"authType": "apiKey", "apiKey": "k-123"}, "oauth": {"auth_type": "oauth2", "oauth2": {
            "client_id": "cid", "client_secret": "cs", "access_token": "at", "refresh_token": "rt"}}}})
    b.read_session(APP, "u5", "c-cred")
    b.add("PATCH", p + "/c-cred", body={"stateDelta": {"user:cred": {"authType": "http", "http": {
        "scheme": "bearer", "credentials": {"token": "t0k"}}}}})
    b.read_session(APP, "u1", "s-hello")       # app:c_app is visible to every user's sessions
    b.read_list(APP, "u5")
    b.read_list(APP, "u1")
    b.add("POST", p, body={"sessionId": "c-events", "state": {"topic": "restore"}, "events": [
        event("Hello again", id="ce-1", invocationId="inv-c1", timestamp=1767700000.123456),
        event("Welcome back!", author=APP, id="ce-2", invocationId="inv-c1", timestamp=1767700001.5),
        {"author": APP, "invocationId": "inv-c2", "id": "ce-3", "timestamp": 1767700002.25, "content": {
            "role": "model", "parts": [{"text": "Checking."}, {"functionCall": {
                "id": "fc-c1", "name": "lookup", "args": {"q": "status", "opts": {"deep": True, "n": [1, 2]}}}}]}},
        {"author": APP, "invocationId": "inv-c2", "id": "ce-4", "timestamp": 1767700003.0, "content": {
            "role": "user", "parts": [{"functionResponse": {"id": "fc-c1", "name": "lookup",
                                                            "response": {"ok": True, "items": []}}}]}},
        {"author": APP, "invocation_id": "inv-c3", "id": "ce-5", "timestamp": 1767700004.0,
         "error_code": "INTERNAL", "error_message": "tool timed out", "custom_metadata": {"retry": 2}},
    ]})
    b.read_session(APP, "u5", "c-events")
    b.add("POST", p, body={"sessionId": "c-events-gen", "events": [event("no id, no timestamp"),
                                                                  event("second", author=APP)]})
    b.read_session(APP, "u5", "c-events-gen")
    b.add("POST", p, body={"sessionId": "c-events-empty", "events": []})
    b.add("POST", p, body={"sessionId": "c-options", "options": {}})
    b.read_list(APP, "u5")
    # errors: each sent both ways, nothing written
    b.both("POST", sessions_path(APP, "u1"), body={"sessionId": "s-hello"})           # 409
    b.both("POST", p, body={"sessionId": "c-id", "state": {"x": 1}})                  # 409, state not written
    b.both("POST", p, body={"sessionId": "c-bad-actions", "events": [
        event("ok"), {**event("with a delta"), "actions": {"stateDelta": {"k": 1}}}]})  # 400, event 1
    b.both("POST", p, body={"sessionId": "c-bad-lrt", "events": [{**event("x"), "longRunningToolIds": ["t1"]}]})
    b.both("POST", p, body={"sessionId": "c-bad-fc", "events": [{"author": APP, "content": {"role": "model", "parts": [
        {"functionCall": {"name": "adk_request_credential", "args": {}}}]}}]})
    for options in ({"user_id": "x"}, {"app_name": "a", "state": {}}, {"session_id": "s"}, {"foo": 1}):
        b.both("POST", p, body={"sessionId": "c-bad-options", "options": options})
    for raw in (b"{", b'{"sessionId": "c-bad-json",}', b"[]", b'"text"', b"42", b"\xff\xfe"):
        b.both("POST", p, raw=raw)
    for body in ({"state": "notadict"}, {"sessionId": 123}, {"sessionId": None, "state": None},
                 {"events": {"not": "a list"}}, {"events": [{"author": 5}]}, {"events": [{"timestamp": "yesterday"}]},
                 {"options": []}, {"state": {"k": 1}, "unknown_field": True}):
        b.both("POST", p, body=body, capture="@gen_lenient" if "unknown_field" in body else None)
    b.both("POST", p, raw=b'{"sessionId": "c-text-ct"}', content_type="text/plain")
    b.both("POST", p, raw=b"", capture="@gen_empty_body")            # an empty JSON body: no body
    b.read_list(APP, "u5")
    # ids the path must carry: unicode, reserved characters, a slash (body only), 128 characters
    for sid in ("c-ünï-😀", "c pct%20sp", "c/slash", "c?q#h", "c-" + "m" * 126):
        b.add("POST", p, body={"sessionId": sid})
        b.read_session(APP, "u5", sid)
    b.add("POST", sessions_path("no_such_app", "u1"), body={"sessionId": "c-unknown-app", "state": {"app:k": 1}})
    b.read_list("no_such_app", "u1")
    b.add("POST", sessions_path("ÄppÜnï", "用户"), body={"sessionId": "c-uni-app"})
    b.read_list("ÄppÜnï", "用户")
    b.add("POST", p, body={"sessionId": "adk-eval-session-c1"})
    b.add("POST", p, body={"sessionId": "___eval___session___c2"})
    b.read_list(APP, "u5")                      # both eval sessions hidden
    b.read_session(APP, "u5", "adk-eval-session-c1")


def deprecated(b: AdkBuilder) -> None:
    p = sessions_path(APP, "u6")
    b.add("POST", p + "/d-state", body={"x": 1, "app:d_app": True, "user:d_user": [1], "temp:t": 0})
    b.read_session(APP, "u6", "d-state")
    b.add("POST", p + "/d-nobody", content_type=None)
    b.add("POST", p + "/d-null", raw=b"null")
    b.add("POST", p + "/d-sessionid", body={"sessionId": "ignored", "state": {"y": 2}})  # the whole body is state
    b.read_session(APP, "u6", "d-sessionid")
    b.add("POST", p + "/" + path_id("d-ünï 😀"), body={})
    b.read_list(APP, "u6")
    b.both("POST", p + "/d-state", body={"x": 2})                    # 409
    for raw in (b"[]", b"{", b'"x"', b"\xff\xfe"):
        b.both("POST", p + "/d-bad", raw=raw)                        # 422
    b.both("POST", p + "/d-ct", raw=b'{"x": 1}', content_type="text/plain")
    b.read_list(APP, "u6")


def patches(b: AdkBuilder) -> None:
    p = sessions_path(APP, "u5")
    b.add("PATCH", p + "/c-state", body={"stateDelta": {"k": 2, "added": [1, 2, 3], "nested": {"replaced": True}}})
    b.read_session(APP, "u5", "c-state")
    b.add("PATCH", p + "/c-state", body={"stateDelta": {"app:c_app": "changed", "app:new_app_key": 1,
                                                        "user:c_user": None, "temp:t": "echoed once"}})
    b.read_session(APP, "u5", "c-state")       # temp: gone, app:/user: kept
    b.read_session(APP, "u5", "c-id")          # sibling: same user, app: and user: changed
    b.read_session(APP, "u1", "s-hello")       # other user: app: changed only
    b.read_session("travel_planner", "u1", "t-plan")  # other app: unchanged
    b.read_list(APP, "u5")
    b.read_list(APP, "u1")
    b.add("PATCH", p + "/c-events", body={"state_delta": {"snake": "case"}})
    b.read_session(APP, "u5", "c-events")
    b.add("PATCH", p + "/c-id", body={"stateDelta": {}})
    b.add("PATCH", sessions_path(APP, "u1", "s-long"), body={"stateDelta": {"counter": 1000, "user:tier": "platinum"}})
    b.read_session(APP, "u1", "s-long")
    b.read_session(APP, "u1", "s-tools")
    b.add("PATCH", sessions_path(APP, "u1", "séance-☕"), body={"stateDelta": {"emoji": "☕", "ключ": "значение"}})
    b.read_session(APP, "u1", "séance-☕")
    b.add("PATCH", sessions_path(APP, "u5", "@gen_none"), body={"stateDelta": {"from": "patch"}})
    b.read_session(APP, "u5", "@gen_none")
    b.add("PATCH", sessions_path(APP, "u1", "100%done"), body={"stateDelta": {"done": 1.0}})
    b.read_session(APP, "u1", "100%done")
    # errors
    b.both("PATCH", p + "/c-state", body={})                                      # 422 missing
    b.both("PATCH", p + "/c-state", body={"stateDelta": "x"})                     # 422 dict_type
    b.both("PATCH", p + "/c-state", body={"stateDelta": None})
    b.both("PATCH", p + "/c-state", raw=b"{")
    b.both("PATCH", p + "/c-state", content_type=None)                           # no body
    b.both("PATCH", p + "/c-state", raw=b"")
    b.both("PATCH", p + "/c-state", raw=b"\xff\xfe")                            # not UTF-8
    b.both("PATCH", p + "/no-such-session", body={"stateDelta": {"k": 1}})       # 404
    b.both("PATCH", sessions_path(APP, "u2", "s-hello"), body={"stateDelta": {"k": 1}})  # another user's: 404
    b.read_session(APP, "u5", "c-state")


def deletes(b: AdkBuilder) -> None:
    p = sessions_path(APP, "u5")
    b.add("DELETE", p + "/c-id")
    b.read_session(APP, "u5", "c-id")
    b.both("DELETE", p + "/c-id")                     # again: 200 null
    b.both("DELETE", p + "/never-existed")
    b.both("DELETE", sessions_path(APP, "u2", "s-hello"))  # another user's: 200 null, nothing deleted
    b.read_session(APP, "u1", "s-hello")
    b.add("DELETE", sessions_path(APP, "u1", "s-multipart"))   # a seeded session with events (cascade)
    b.read_session(APP, "u1", "s-multipart")
    b.add("DELETE", p + "/c-events")
    b.add("DELETE", p + "/" + path_id("c-ünï-😀"))
    b.add("DELETE", sessions_path(APP, "u1", "folder/sub"))    # %2F in a DELETE: no route
    b.add("DELETE", sessions_path(APP, "u5", "@gen_empty"))
    b.read_list(APP, "u5")
    b.read_list(APP, "u1")
    b.add("PUT", p + "/c-state", body={"stateDelta": {}})     # no such method


def final(b: AdkBuilder, m: dict[str, Any]) -> None:
    users = {(app, user) for app, us in m["apps"].items() for user in us}
    users |= {(APP, "u5"), (APP, "u6"), ("no_such_app", "u1"), ("ÄppÜnï", "用户")}
    for app, user in sorted(users):
        b.read_list(app, user)
    for s in m["sessions"]:
        b.read_session(s["app"], s["user"], s["id"])


def divergent(b: AdkBuilder, f: Features) -> None:
    """Where ADK fails on PostgreSQL (docs/compatibility.md's ADK section): ids longer than the
    columns' varchar(128) (SQLite keeps them: there the same requests are plain parity), NUL
    characters and non-finite numbers (PostgreSQL only)."""
    p = sessions_path(APP, "u7")
    for body in ({"sessionId": LONG_ID}, {"sessionId": VERY_LONG_ID, "state": {"k": 1}}):
        b.add("POST", p, body=body)
    b.add("POST", p + "/" + LONG_ID + "d", body={"x": 1})
    b.add("POST", sessions_path(APP, "v" * 129), body={"sessionId": "long-user"})
    b.add("POST", sessions_path("a" * 129, "u7"), body={"sessionId": "long-app"})
    b.add("POST", p, body={"sessionId": "long-event-id", "events": [event("x", id="e" * 129)]})
    b.add("POST", p, body={"sessionId": "long-invocation-id", "events": [event("x", invocationId="i" * 257)]})
    b.read_list(APP, "u7")
    b.read_session(APP, "u7", LONG_ID)
    b.read_session(APP, "u7", "long-event-id")
    b.read_session(APP, "u7", "long-invocation-id")
    b.add("PATCH", p + "/" + LONG_ID, body={"stateDelta": {"k": 2}})
    b.add("DELETE", p + "/" + LONG_ID)
    b.read_list(APP, "u7")
    if f.sqlite:
        # SQLite stores NUL as given (parity); ADK also stores non-finite numbers, as text that is
        # not JSON, and serves them as null: this service refuses them (docs/compatibility.md).
        p = sessions_path(APP, "u9")
        b.add("POST", p, raw=b'{"sessionId": "nonfinite", "state": {"k": NaN}}')
        b.read_session(APP, "u9", "nonfinite")
        b.add("POST", p, body={"sessionId": "u9-ok", "state": {"k": "a\u0000b"}})
        b.read_list(APP, "u9")
        b.add("PATCH", p + "/u9-ok", raw=b'{"stateDelta": {"k": Infinity}}')
        b.add("DELETE", p + "/u9-ok")
        return
    p = sessions_path(APP, "u8")
    b.add("POST", p, body={"sessionId": "u8-ok", "state": {"k": "v"}})
    b.add("POST", p, body={"sessionId": "nul\u0000id"})
    b.add("POST", p, body={"sessionId": "nul-state", "state": {"k": "a\u0000b"}})
    b.add("POST", p, body={"sessionId": "nul-key", "state": {"k\u0000": 1}})
    b.add("POST", p + "/nul%00path", body={})
    b.add("POST", p, body={"sessionId": "nul-event", "events": [event("a\u0000b")]})
    for token in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        b.add("POST", p, raw=b'{"sessionId": "nonfinite", "state": {"k": ' + token + b"}}")
    b.add("PATCH", p + "/u8-ok", body={"stateDelta": {"k": "a\u0000b"}})
    b.add("PATCH", p + "/u8-ok", raw=b'{"stateDelta": {"k": NaN}}')
    b.add("PATCH", p + "/u8-ok", raw=b'{"stateDelta": {"user:k": 1e400}}')
    b.read_session(APP, "u8", "u8-ok")
    b.get(p + "/nul%00path")
    b.add("DELETE", p + "/nul%00path")
    b.get(sessions_path(APP, "u8\x00"))
    b.read_list(APP, "u8")
