"""Detail, runs, previews and single-run routes (contract §2.4-§2.7, §4)."""

import pytest

from tests.factories import add_run, agent_run, assistant_message, make_session, user_message


@pytest.fixture
def agent(conn):
    make_session(conn, "s1", user_id="u1", session_data={"session_state": {"k": 1}, "session_metrics": {"total_tokens": 36}},
                 agent_data={"name": "A", "agent_id": "ref-agent"},
                 summary={"topics": ["t"], "summary": "S", "updated_at": "2026-01-02T03:04:05Z"})
    add_run(conn, "s1", agent_run("r1", "s1", "Hello there", created_at=1795000100))
    add_run(conn, "s1", agent_run("r2", "s1", "Again", created_at=1795000200, status="ERROR"))
    add_run(conn, "s1", agent_run("r3", "s1", "Child", created_at=1795000300, parent_run_id="r2", agent_id="sub"))


def test_agent_detail(client, agent):
    resp = client.get("/sessions/s1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert list(body) == ["user_id", "agent_session_id", "session_id", "session_name", "session_summary",
                          "session_state", "agent_id", "total_tokens", "agent_data", "metrics", "chat_history",
                          "created_at", "updated_at"]
    assert body["session_name"] == "Hello there"
    assert body["session_summary"] == {"summary": "S", "topics": ["t"], "updated_at": "2026-01-02T03:04:05+00:00"}
    assert body["total_tokens"] == 36
    history = body["chat_history"]
    assert [m["content"] for m in history] == ["Hello there", "Hi!", "Again", "Hi!"]
    assert list(history[1]) == ["id", "content", "from_history", "stop_after_tool_call", "role", "metrics",
                                "created_at"]
    assert history[1]["metrics"] == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
    assert client.get("/sessions/s1?type=agent").get_json() == body


def test_detail_not_found_messages(client, agent):
    assert client.get("/sessions/nope").get_json() == {"detail": "Session with id 'nope' not found"}
    resp = client.get("/sessions/nope?type=workflow")
    assert resp.status_code == 404
    assert resp.get_json() == {"detail": "Workflow Session with id 'nope' not found"}
    assert client.get("/sessions/s1?user_id=u2").status_code == 404
    assert client.get("/sessions/s1?user_id=u1").status_code == 200
    assert client.get("/sessions/a%2Fb").get_json() == {"detail": "Not Found"}


def test_detail_rendered_as_other_type(client, agent, layout):
    body = client.get("/sessions/s1?type=workflow").get_json()
    assert body["workflow_data"] == {} and body["metadata"] == {}
    # agno 3.x names a workflow from workflow runs only; agno 2.9.0 loads every run as one
    expected = '{"input_content": "Hello there"}' if layout == "pg-agno2" else ""
    assert body["session_name"] == expected


def test_chat_history_drops_system_tool_history_and_member_runs(client, conn):
    make_session(conn, "s2")
    run = agent_run("r1", "s2", "Q")
    run["messages"] = [{"role": "system", "content": "sys"}, user_message("old", from_history=True),
                       user_message("Q"), {"role": "assistant", "tool_calls": [{"id": "c1"}], "content": None},
                       {"role": "tool", "content": "42"}, assistant_message("A")]
    add_run(conn, "s2", run)
    history = client.get("/sessions/s2").get_json()["chat_history"]
    assert [m["role"] for m in history] == ["user", "assistant", "assistant"]
    assert history[1]["tool_calls"] == [{"id": "c1"}]
    # messages stored without id/created_at get stable values, not new random ones per read
    assert client.get("/sessions/s2").get_json()["chat_history"] == history


def test_runs_bare_array(client, agent):
    runs = client.get("/sessions/s1/runs").get_json()
    assert [r["run_id"] for r in runs] == ["r1", "r2", "r3"]
    first = runs[0]
    assert first["parent_run_id"] == "" and first["run_input"] == "Hello there"
    assert first["run_response_format"] == "text"
    assert "tools" not in first and "events" not in first
    assert first["input_media"] == {"images": [], "videos": [], "audios": [], "files": []}
    assert first["created_at"] == "2026-11-18T11:08:20Z"  # 1795000100


@pytest.mark.parametrize("query, expected", [
    ("status=error", ["r2"]),
    ("status=ERROR&status=completed", ["r1", "r2", "r3"]),
    ("created_after=1795000200", ["r2", "r3"]),
    ("created_before=1795000200", ["r1", "r2"]),
    ("created_after=1795000150&created_before=1795000250", ["r2"]),
])
def test_runs_filters(client, agent, query, expected):
    assert [r["run_id"] for r in client.get(f"/sessions/s1/runs?{query}").get_json()] == expected
    assert [r["run_id"] for r in client.get(f"/sessions/s1/run-previews?{query}").get_json()] == expected


def test_runs_errors(client, agent):
    resp = client.get("/sessions/nope/runs?status=bogus&status=nope&status=completed")
    assert resp.status_code == 400
    assert resp.get_json() == {"detail": "Invalid status value(s) ['BOGUS', 'NOPE']; expected one of "
                                         "['CANCELLED', 'COMPLETED', 'ERROR', 'PAUSED', 'PENDING', 'REGENERATED', 'RUNNING']"}
    assert client.get("/sessions/s1/runs?status=").get_json()["detail"].startswith("Invalid status value(s) ['']")
    assert client.get("/sessions/nope/runs").get_json() == {"detail": "Session with ID nope not found"}
    assert client.get("/sessions/s1/runs?user_id=u2").status_code == 404
    assert client.get("/sessions/s1/runs?created_after=abc").status_code == 422


def test_runs_iso_string_created_at_is_filtered_not_500(client, conn):
    make_session(conn, "s3")
    add_run(conn, "s3", agent_run("a", "s3", created_at="2026-01-01T00:00:00Z"))
    add_run(conn, "s3", agent_run("b", "s3", created_at=1795000000))
    runs = client.get("/sessions/s3/runs?created_after=1780000000").get_json()
    assert [r["run_id"] for r in runs] == ["b"]
    assert client.get("/sessions/s3/runs").get_json()[0]["created_at"] == "2026-01-01T00:00:00Z"


def test_team_runs_classification(client, conn, layout):
    make_session(conn, "t", "team")
    add_run(conn, "t", agent_run("m", "t", parent_run_id="tr", agent_id="member"))
    add_run(conn, "t", {"run_id": "tr", "team_id": "ref-team", "input": {"input_content": "Q"}, "content": "A"})
    add_run(conn, "t", {"run_id": "orphan", "input": {"input_content": "x"}})
    runs = client.get("/sessions/t/runs").get_json()
    assert [(r["run_id"], "team_id" in r) for r in runs] == [("m", False), ("tr", True)]
    assert "user_id" not in runs[1]
    single = client.get("/sessions/t/runs/orphan").get_json()
    assert single["run_id"] == "orphan" and single["agent_id"] == "" and single.get("metadata") is None
    # agno 2.9.0's run schemas lack the fields 3.x added (agno2-contract §7)
    newer = {"metadata", "cancellation_stage"}
    assert not newer & set(single) if layout == "pg-agno2" else newer <= set(single)


def test_previews(client, conn, layout):
    make_session(conn, "p")
    add_run(conn, "p", agent_run("r", "p", "x" * 400, answer="y" * 400))
    add_run(conn, "p", agent_run("d", "p", "dict", answer={"city": "Rome", "n": "schön"}))
    previews = client.get("/sessions/p/run-previews").get_json()
    assert previews[0]["run_input"] == "x" * 280 and previews[0]["content_preview"] == "y" * 280
    assert list(previews[0]) == ["run_id", "parent_run_id", "agent_id", "user_id", "status", "run_input",
                                 "content_preview", "created_at"]
    # JSONB orders keys (shortest first); SQLite keeps them as written
    assert previews[1]["content_preview"] == ('{"city": "Rome", "n": "sch\\u00f6n"}' if layout == "sqlite" else
                                              '{"n": "sch\\u00f6n", "city": "Rome"}')


def test_single_run(client, agent):
    resp = client.get("/sessions/s1/runs/r1")
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["citations"] is None and body["followups"] is None  # nulls are emitted here
    assert client.get("/sessions/s1/runs/zz").get_json() == {"detail": "Run with ID zz not found in session s1"}
    assert client.get("/sessions/nope/runs/r1").get_json() == {"detail": "Session with ID nope not found"}


def test_single_run_no_runs(client, conn):
    make_session(conn, "empty")
    assert client.get("/sessions/empty/runs/x").get_json() == {"detail": "Session with ID empty has no runs"}


def test_list_content_is_served_not_500(client, conn):
    make_session(conn, "lc")
    add_run(conn, "lc", agent_run("r", "lc", answer=["a", "b"]))
    assert client.get("/sessions/lc/runs").get_json()[0]["content"] == '["a", "b"]'


def test_legacy_blob_is_merged(client, conn, layout):
    """A 2.x database migrated by 3.x: the legacy array first, agno_runs winning per run_id, then
    the table's other runs (agno2-contract §6.4). On a 2.x database only the array counts."""
    if layout in ("pg-agno3", "sqlite"):
        pytest.skip("no legacy column in this layout")
    make_session(conn, "leg", runs=[{"run_id": "legacy-run-1", "agent_id": "ref-agent", "content": "old",
                                     "messages": [user_message("From blob")]},
                                    {"run_id": "both", "agent_id": "ref-agent", "content": "blob version"}])
    if layout == "pg-mixed":
        add_run(conn, "leg", agent_run("both", "leg", answer="table version"))
        add_run(conn, "leg", agent_run("table-only", "leg"))
        expected = [("legacy-run-1", "old"), ("both", "table version"), ("table-only", "Hi!")]
    else:
        expected = [("legacy-run-1", "old"), ("both", "blob version")]
    runs = client.get("/sessions/leg/runs").get_json()
    assert [(r["run_id"], r["content"]) for r in runs] == expected
    assert runs[0]["user_id"] == ""
    item = client.get("/sessions?sort_by=runs").get_json()["data"][0]
    assert item["session_name"] == "From blob"
