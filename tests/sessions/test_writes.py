"""Create, PATCH, rename and delete: responses and the rows they leave (contract §2.3, §2.8-§2.11, §3)."""

import pytest
from tests.factories import add_run, agent_run, make_session, stored, stored_runs


def row(conn, session_id):
    return stored(conn, session_id)


def test_create_without_body(client, conn):
    resp = client.post("/sessions")
    assert resp.status_code == 201
    body = resp.get_json()
    assert list(body) == ["agent_session_id", "session_id", "session_name", "chat_history", "created_at", "updated_at"]
    assert body["session_name"] == "" and body["chat_history"] == []
    stored = row(conn, body["session_id"])
    # JSON null (not SQL NULL) in the columns agno writes; SQL NULL in the other types' columns.
    assert stored["session_data"] is None and not stored["session_data_sql_null"]
    assert not stored["agent_data_sql_null"] and not stored["metadata_sql_null"] and not stored["summary_sql_null"]
    assert stored["team_data_sql_null"] and stored["workflow_data_sql_null"]
    assert stored["created_at"] == stored["updated_at"]


def test_create_agent_full(client, conn, layout):
    resp = client.post("/sessions?type=agent", json={
        "session_id": "c1", "session_name": "N", "session_state": {"a": 1}, "user_id": "u1",
        "agent_id": "ag", "team_id": "ignored", "metadata": {"z": 1, "a": {"nested": None},
                                                            "agno_dispatch_depth": 2}})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["metadata"] == {"a": {"nested": None}, "z": 1}
    # from RETURNING: JSONB orders keys, SQLite keeps the JSON text as written
    assert list(body["metadata"]) == (["z", "a"] if layout == "sqlite" else ["a", "z"])
    assert body["session_state"] == {"a": 1} and body["agent_id"] == "ag" and body["user_id"] == "u1"
    assert body["metrics"] == {}
    stored = row(conn, "c1")
    assert stored["team_id"] is None and stored["session_data"] == {"session_state": {"a": 1}, "session_name": "N"}


def test_create_workflow_defaults(client, conn):
    body = client.post("/sessions?type=workflow", json={"session_id": "w"}).get_json()
    assert body == {"session_id": "w", "session_name": "", "session_data": {}, "workflow_data": {}, "metadata": {},
                    "created_at": body["created_at"], "updated_at": body["updated_at"]}
    stored = row(conn, "w")
    assert stored["session_data"] == {} and stored["workflow_data"] == {} and stored["metadata"] == {}
    assert not stored["summary_sql_null"] and stored["summary"] is None and stored["agent_data_sql_null"]


def test_create_reserved_only_metadata_is_null(client, conn):
    client.post("/sessions", json={"session_id": "r", "metadata": {"agno_component_version": 1}})
    assert row(conn, "r")["metadata"] is None


def test_create_conflict_never_overwrites(client, conn):
    make_session(conn, "dup", "team", user_id="other")
    resp = client.post("/sessions", json={"session_id": "dup", "user_id": "me"})
    assert resp.status_code == 409
    assert resp.get_json() == {"detail": "Session with id 'dup' already exists. Use PATCH /sessions/dup to update it."}
    assert row(conn, "dup")["user_id"] == "other"


def test_create_empty_session_id_gets_uuid(client):
    assert len(client.post("/sessions", json={"session_id": ""}).get_json()["session_id"]) == 36


@pytest.mark.parametrize("kwargs, item", [
    ({"data": "null", "content_type": "application/json"},
     {"type": "model_attributes_type", "loc": ["body"],
      "msg": "Input should be a valid dictionary or object to extract fields from", "input": None}),
    ({"data": "session_id=x", "content_type": "application/x-www-form-urlencoded"},
     {"type": "model_attributes_type", "loc": ["body"],
      "msg": "Input should be a valid dictionary or object to extract fields from", "input": "session_id=x"}),
    ({"data": '{"session_id": "a",', "content_type": "application/json"},
     {"type": "json_invalid", "loc": ["body", 19], "msg": "JSON decode error", "input": {},
      "ctx": {"error": "Expecting property name enclosed in double quotes"}}),
    ({"json": {"session_state": "x"}},
     {"type": "dict_type", "loc": ["body", "session_state"], "msg": "Input should be a valid dictionary", "input": "x"}),
    ({"json": {"user_id": 5}},
     {"type": "string_type", "loc": ["body", "user_id"], "msg": "Input should be a valid string", "input": 5}),
    ({"json": {"session_id": "a\x00b"}},
     {"type": "string_no_nul", "loc": ["body", "session_id"],
      "msg": "String should not contain NUL (\\u0000) characters", "input": "a\x00b"}),
])
def test_create_bad_bodies(client, kwargs, item):
    resp = client.post("/sessions", **kwargs)
    assert resp.status_code == 422
    assert resp.get_json() == {"detail": [item]}


def test_create_nan_is_rejected_not_500(client):
    resp = client.post("/sessions", data='{"session_state": {"x": NaN}}', content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["detail"][0]["type"] == "json_invalid"


def test_body_over_the_limit_is_413(conn):
    from app import create_app
    from tests.conftest import ConnectionRegistry, make_settings
    settings = make_settings(max_body_bytes=100)
    app = create_app({"TESTING": True, "SETTINGS": settings})
    app.extensions["engines"] = ConnectionRegistry(settings, conn)
    resp = app.test_client().post("/sessions", json={"session_state": {"x": "y" * 200}})
    assert resp.status_code == 413
    assert resp.get_json() == {"detail": "Request body too large"}


def test_create_invalid_utf8(client):
    resp = client.post("/sessions", data=b'{"session_id": "\xff"}', content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json() == {"detail": "There was an error parsing the body"}


def test_create_nul_in_state_is_422_and_nothing_written(client, conn):
    resp = client.post("/sessions", json={"session_id": "n", "session_state": {"k\x00": 1}})
    assert resp.status_code == 422
    assert row(conn, "n") is None


def test_create_charset_and_suffix_json_types(client):
    assert client.post("/sessions", data='{"session_id":"cs"}', content_type="application/json; charset=utf-8").status_code == 201
    assert client.post("/sessions", data='{"session_id":"vnd"}', content_type="application/vnd.api+json").status_code == 201


def test_combined_query_and_body_errors(client):
    resp = client.post("/sessions?type=bogus", json={"session_state": 1, "user_id": 2})
    assert [e["loc"] for e in resp.get_json()["detail"]] == [["query", "type"], ["body", "session_state"],
                                                             ["body", "user_id"]]


# PATCH --------------------------------------------------------------------------------------

@pytest.fixture
def agent_session(conn):
    make_session(conn, "p1", user_id="u5", session_data=None, metadata=None, agent_data=None)
    add_run(conn, "p1", agent_run("r", "p1", "Hi"))


def test_patch_updates_and_emits_nulls(client, conn, agent_session):
    before = row(conn, "p1")
    resp = client.patch("/sessions/p1", json={"session_name": "Patched", "session_state": {"b": [1, 2]},
                                              "metadata": {"z": 1, "agno_dispatch_chain": []},
                                              "summary": {"summary": "S", "topics": None, "updated_at": "2025-10-21T14:30:00Z"}})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["session_name"] == "Patched" and body["session_state"] == {"b": [1, 2]}
    assert body["metadata"] == {"z": 1}
    assert body["session_summary"] == {"summary": "S", "updated_at": "2025-10-21T14:30:00+00:00"}
    assert body["agent_data"] is None and "total_tokens" in body  # nulls emitted
    stored = row(conn, "p1")
    assert stored["summary"] == {"summary": "S", "updated_at": "2025-10-21T14:30:00+00:00"}
    assert stored["updated_at"] >= before["updated_at"]
    assert stored["agent_id"] == before["agent_id"]


def test_patch_empty_body_only_bumps_updated_at(client, conn, agent_session):
    before = row(conn, "p1")
    assert client.patch("/sessions/p1", json={}).status_code == 200
    after = row(conn, "p1")
    assert after["session_data"] == before["session_data"] and after["metadata"] == before["metadata"]


def test_patch_wrong_type_does_not_corrupt(client, conn, agent_session):
    resp = client.patch("/sessions/p1?type=workflow", json={"session_name": "x"})
    assert resp.status_code == 200 and "agent_session_id" in resp.get_json()
    stored = row(conn, "p1")
    assert stored["workflow_data_sql_null"] and stored["metadata"] is None


@pytest.mark.parametrize("summary, loc", [
    ({"topics": []}, ["body", "summary", "summary"]),
    ({"summary": "s", "extra": 1}, ["body", "summary", "extra"]),
    ({"summary": "s", "updated_at": "yesterday"}, ["body", "summary", "updated_at"]),
])
def test_patch_bad_summary_is_422(client, conn, agent_session, summary, loc):
    resp = client.patch("/sessions/p1", json={"summary": summary})
    assert resp.status_code == 422
    assert resp.get_json()["detail"][0]["loc"] == loc


def test_patch_errors(client, agent_session):
    assert client.patch("/sessions/p1").get_json() == {"detail": [{"type": "missing", "loc": ["body"],
                                                                   "msg": "Field required", "input": None}]}
    assert client.patch("/sessions/nope", json={}).get_json() == {"detail": "Session with id 'nope' not found"}
    assert client.patch("/sessions/p1?user_id=other", json={}).status_code == 404


def test_patch_workflow_keeps_object_defaults(client, conn):
    make_session(conn, "wf", "workflow", session_data=None, workflow_data=None, metadata=None)
    body = client.patch("/sessions/wf", json={"session_name": "W"}).get_json()
    assert body["workflow_name"] is None and body["session_name"] == "W"
    stored = row(conn, "wf")
    assert stored["workflow_data"] == {} and stored["metadata"] == {}


# Rename -------------------------------------------------------------------------------------

def test_rename(client, conn, agent_session):
    client.post("/sessions", json={"session_id": "fresh"})
    before = row(conn, "fresh")
    resp = client.post("/sessions/fresh/rename", json={"session_name": "a\x00b"})
    assert resp.status_code == 200  # agno answers 500 for sessions it created itself (contract §5.5)
    body = resp.get_json()
    assert body["session_name"] == "ab" and body["session_summary"] is None
    after = row(conn, "fresh")
    assert after["session_data"] == {"session_name": "ab"}
    assert after["updated_at"] == before["updated_at"]


def test_rename_type_filter_and_errors(client, conn, agent_session):
    assert client.post("/sessions/p1/rename?type=team", json={"session_name": "x"}).status_code == 404
    assert client.post("/sessions/p1/rename?user_id=u5", json={"session_name": "x"}).status_code == 200
    missing = {"type": "missing", "loc": ["body", "session_name"], "msg": "Field required", "input": None}
    assert client.post("/sessions/p1/rename").get_json() == {"detail": [missing]}
    assert client.post("/sessions/p1/rename", data="just a string").get_json() == {"detail": [missing]}
    assert client.post("/sessions/p1/rename", json={"session_name": None}).get_json()["detail"][0]["type"] == "string_type"


# Delete -------------------------------------------------------------------------------------

def test_delete_removes_runs_and_answers_204(client, conn, agent_session):
    resp = client.delete("/sessions/p1?user_id=other")
    assert resp.status_code == 204 and resp.data == b"" and resp.content_type == "application/json"
    assert row(conn, "p1") is not None
    assert client.delete("/sessions/p1").status_code == 204
    assert row(conn, "p1") is None
    assert stored_runs(conn, "p1") == []
    assert client.delete("/sessions/never").status_code == 204


def test_delete_media_without_storage(client, agent_session):
    resp = client.delete("/sessions/p1?delete_media=TRUE")
    assert resp.status_code == 503
    assert resp.get_json() == {"detail": "Media storage is not configured on AgentOS"}
    assert client.delete("/sessions/p1?delete_media=off").status_code == 204
    assert client.delete("/sessions/p1?delete_media=maybe").status_code == 422


def test_bulk_delete(client, conn):
    for sid, user in (("b1", "u1"), ("b2", "u2"), ("b3", "u1")):
        make_session(conn, sid, user_id=user)
        add_run(conn, sid, agent_run(f"r-{sid}", sid, user_id="u1"))
    resp = client.delete("/sessions?user_id=u1", json={"session_ids": ["b1", "b2"], "session_types": ["agent", "team"]})
    assert resp.status_code == 204
    assert row(conn, "b1") is None and row(conn, "b2") is not None
    # the runs of a session the caller does not own stay, whatever their user column says
    assert len(stored_runs(conn, "b2")) == 1


@pytest.mark.parametrize("body, status", [
    ({"session_ids": ["a"], "session_types": ["agent", "team"]}, 400),
    ({"session_ids": [], "session_types": []}, 422),
    ({"session_ids": None, "session_types": None}, 422),
    ({"session_ids": ["a"]}, 422),
    ({"session_ids": ["a"], "session_types": ["bogus"]}, 422),
])
def test_bulk_delete_errors(client, body, status):
    assert client.delete("/sessions", json=body).status_code == status


def test_bulk_delete_error_items(client):
    detail = client.delete("/sessions", json={"session_ids": ["a"], "session_types": ["bogus"]}).get_json()["detail"]
    assert detail == [{"type": "enum", "loc": ["body", "session_types", 0],
                       "msg": "Input should be 'agent', 'team' or 'workflow'", "input": "bogus",
                       "ctx": {"expected": "'agent', 'team' or 'workflow'"}}]
    # a null item is the item type's own error, as pydantic reports it (was a 500)
    resp = client.delete("/sessions", json={"session_ids": [None], "session_types": [None]})
    assert resp.status_code == 422
    assert resp.get_json()["detail"] == [
        {"type": "string_type", "loc": ["body", "session_ids", 0], "msg": "Input should be a valid string",
         "input": None},
        {"type": "enum", "loc": ["body", "session_types", 0], "msg": "Input should be 'agent', 'team' or 'workflow'",
         "input": None, "ctx": {"expected": "'agent', 'team' or 'workflow'"}}]
    assert client.delete("/sessions").get_json() == {"detail": [{"type": "missing", "loc": ["body"],
                                                                 "msg": "Field required", "input": None}]}


def test_nul_in_json_keys_is_refused_and_in_values_removed(client, conn, agent_session):
    # AgentOS removes NUL from string values before it writes JSON, and fails (500) on a key with
    # NUL, which jsonb cannot hold (observed live by make contract-test).
    before = row(conn, "p1")
    resp = client.patch("/sessions/p1", json={"summary": {"summary\x00": "a"}, "metadata": {"k\x00": 1}})
    assert resp.status_code == 422
    assert [(e["type"], e["loc"]) for e in resp.get_json()["detail"]] == [
        ("json_no_nul", ["body", "metadata"]), ("json_no_nul", ["body", "summary"])]
    assert row(conn, "p1") == before
    resp = client.patch("/sessions/p1", json={"summary": {"summary": "a\x00b"}, "metadata": {"k": ["\x00", "x\x00y"]},
                                              "session_name": "n\x00m", "session_state": {"s": {"t": "\x00"}}})
    assert resp.status_code == 200, resp.get_json()
    stored = row(conn, "p1")
    assert stored["summary"] == {"summary": "ab"} and stored["metadata"] == {"k": ["", "xy"]}
    assert stored["session_data"]["session_name"] == "nm" and stored["session_data"]["session_state"] == {"s": {"t": ""}}
    resp = client.delete("/sessions", json={"session_ids": ["p1", "x\x00"], "session_types": ["agent", "agent"]})
    assert resp.status_code == 422
    assert resp.get_json()["detail"][0]["loc"] == ["body", "session_ids", 1]
    assert row(conn, "p1") is not None


def test_body_nested_too_deeply_to_decode_is_400(client, conn, agent_session):
    # FastAPI answers any body-decoding failure other than a JSON syntax error with this 400
    deep = "[" * 100_000 + "]" * 100_000
    for method, path in (("post", "/sessions"), ("patch", "/sessions/p1")):
        resp = getattr(client, method)(path, data=deep, content_type="application/json")
        assert resp.status_code == 400
        assert resp.get_json() == {"detail": "There was an error parsing the body"}


def test_empty_metadata_is_kept_and_summary_values_are_stored_as_given(client, conn, agent_session):
    # agno strips reserved keys and nulls metadata only when that left it empty; it builds the
    # summary without type checks (observed live by make contract-test)
    resp = client.post("/sessions", json={"session_id": "m0", "metadata": {}})
    assert resp.status_code == 201 and resp.get_json()["metadata"] == {}
    assert row(conn, "m0")["metadata"] == {}
    resp = client.patch("/sessions/p1", json={"metadata": {}, "summary": {"summary": 1, "topics": "t"}})
    assert resp.status_code == 200
    assert resp.get_json()["metadata"] == {} and resp.get_json()["session_summary"] == {"summary": 1, "topics": "t"}
    stored = row(conn, "p1")
    assert stored["metadata"] == {} and stored["summary"] == {"summary": 1, "topics": "t"}
    resp = client.patch("/sessions/p1", json={"summary": {"summary": "s", "updated_at": 5}})
    assert resp.status_code == 422 and resp.get_json()["detail"][0]["loc"] == ["body", "summary", "updated_at"]


@pytest.mark.parametrize("depth, status", [(250, 200), (251, 422), (900, 422), (930, 422), (5000, 400)])
def test_json_nesting_limit(client, conn, agent_session, depth, status):
    # AgentOS's serialiser stops at 255 levels (500 at once or on every later read); past what
    # Python's decoder takes, FastAPI's 400. Never a 500, and a refused body writes nothing.
    nested = '{"a": ' * depth + "1" + "}" * depth
    for body in ('{"session_state": ' + nested + "}", '{"metadata": ' + "[" * depth + "1" + "]" * depth + "}",
                 "[" * depth + "]" * depth):
        before = row(conn, "p1")
        resp = client.patch("/sessions/p1", data=body, content_type="application/json")
        if body.startswith("{\"metadata\"") and status == 200:
            assert resp.status_code == 422  # a list is not an object, however deep
        elif body.startswith("[") and status != 400:
            assert resp.status_code == 422
        else:
            assert resp.status_code == status, resp.get_data()[:200]
        if resp.status_code == 422:
            assert all(len(item["input"]) < 1000 for item in resp.get_json()["detail"])
        if resp.status_code != 200:
            assert row(conn, "p1") == before


# Where the runs live: agno 2.x's array is written as 2.9.0 writes it, and never rewritten -------

def test_create_writes_the_runs_column_as_each_generation_does(client, conn, layout):
    assert client.post("/sessions", json={"session_id": "g1"}).status_code == 201
    created = row(conn, "g1")
    if layout == "pg-agno2":
        # agno 2.9.0 stores "no runs" as JSON null (agno2-contract §3.2)
        assert created["runs"] is None and not created["runs_sql_null"]
    elif layout == "pg-mixed":
        # agno 3.x never writes the legacy column: new sessions leave it SQL NULL (§6.3)
        assert created["runs_sql_null"]
    else:
        assert "runs" not in created


def test_patch_and_rename_never_rewrite_the_runs_array(client, conn, layout):
    """agno 2.9.0's PATCH rewrites the array (adds `events: []`, drops runs and keys it does not
    model, invents message ids); here the runs stay exactly as stored (docs/compatibility.md)."""
    if layout in ("pg-agno3", "sqlite"):
        pytest.skip("no legacy column in this layout")
    runs = [agent_run("r1", "g2", messages=[{"role": "user", "content": "no id"}]),
            {"run_id": "wf-in-agent", "workflow_id": "w", "input": "x", "unknown_key": 1}]
    make_session(conn, "g2", runs=runs)
    before = row(conn, "g2")
    resp = client.patch("/sessions/g2", json={"session_name": "P", "session_state": {"a": 1}, "metadata": {"m": 1},
                                              "summary": {"summary": "s"}})
    assert resp.status_code == 200
    assert client.post("/sessions/g2/rename", json={"session_name": "R"}).status_code == 200
    after = row(conn, "g2")
    assert after["runs"] == before["runs"] == runs
    assert after["session_data"] == {"session_name": "R", "session_state": {"a": 1}}
    assert after["metadata"] == {"m": 1} and after["summary"] == {"summary": "s"}


def test_legacy_runs_are_served_and_deleted_with_the_session(client, conn, layout):
    make_session(conn, "g3", "team")
    add_run(conn, "g3", {"run_id": "t1", "team_id": "ref-team", "input": {"input_content": "Plan"},
                         "messages": [{"id": "m1", "role": "user", "content": "Plan my trip"}], "status": "COMPLETED"})
    add_run(conn, "g3", agent_run("t1-m1", "g3", parent_run_id="t1", agent_id="member"))
    detail = client.get("/sessions/g3").get_json()
    assert detail["session_name"] == "Plan my trip"
    assert [m["id"] for m in detail["chat_history"]] == ["m1"]
    team_run = client.get("/sessions/g3/runs/t1").get_json()
    assert ("user_id" in team_run) is (layout != "pg-agno2")  # 2.9.0's TeamRunSchema has no user_id
    assert client.delete("/sessions/g3").status_code == 204
    assert row(conn, "g3") is None and stored_runs(conn, "g3") == []


def test_readyz_reports_the_layout(client, layout):
    expected = {"pg-agno3": "agno3", "pg-agno2": "agno2", "pg-mixed": "agno3-mixed", "sqlite": "agno3"}[layout]
    assert client.get("/readyz").get_json()["databases"]["db1"]["layout"] == expected
