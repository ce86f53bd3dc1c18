"""GET /sessions: filters, paging, sorting, derived names, and SQL that never reads run payloads."""

import pytest
from sqlalchemy import event, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import JSONB

from app.sessions.render import first_user_content
from app.sessions.store import FIRST_USER_CONTENT
from app.db import tables
from tests.factories import add_run, agent_run, make_session, user_message


@pytest.fixture
def seeded(conn):
    make_session(conn, "s-agent", user_id="u1", session_data={"session_state": {"k": 1},
                 "session_metrics": {"total_tokens": 36}}, agent_data={"name": "A", "framework": "claude-agent-sdk"},
                 metadata={"origin": "import"})
    add_run(conn, "s-agent", agent_run("r1", "s-agent", "Hello there"))
    add_run(conn, "s-agent", agent_run("r2", "s-agent", "Second question"))
    make_session(conn, "s-named", user_id="u2", session_data={"session_name": "Colour chat"},
                 summary={"summary": "s", "topics": ["a"], "updated_at": "2026-01-02T03:04:05.678901"})
    make_session(conn, "s-team", "team", user_id="u1")
    add_run(conn, "s-team", agent_run("m1", "s-team", "Member question", parent_run_id="t1", agent_id="member"))
    add_run(conn, "s-team", {"run_id": "t1", "team_id": "ref-team", "input": {"input_content": "Team question"},
                             "messages": [user_message("Team question")], "status": "COMPLETED"})
    make_session(conn, "s-wf", "workflow", session_data={}, workflow_data={"name": "Flow"}, metadata={})
    add_run(conn, "s-wf", {"run_id": "w1", "workflow_id": "ref-workflow", "input": {"topic": "dogs", "depth": 2}})
    make_session(conn, "s-wf-empty", "workflow", session_data={}, workflow_data={"name": "Flow"}, metadata={})
    make_session(conn, "s-bare")


def ids(resp):
    return [item["session_id"] for item in resp.get_json()["data"]]


def test_default_list_newest_first_with_derived_fields(client, seeded, layout):
    resp = client.get("/sessions")
    assert resp.status_code == 200
    assert resp.content_type == "application/json"
    body = resp.get_json()
    assert ids(resp) == ["s-bare", "s-wf-empty", "s-wf", "s-team", "s-named", "s-agent"]
    assert body["meta"] == {"page": 1, "limit": 20, "total_pages": 1, "total_count": 6, "search_time_ms": 0.0}
    items = {i["session_id"]: i for i in body["data"]}
    agent = items["s-agent"]
    assert agent["session_name"] == "Hello there"
    assert agent["session_state"] == {"k": 1}
    assert agent["total_tokens"] == 36
    # agno 3.x adds the external agent's sdk to the metadata; agno 2.9.0 does not (agno2-contract §7)
    assert agent["metadata"] == ({"origin": "import"} if layout == "pg-agno2" else
                                 {"origin": "import", "sdk": "claude-agent-sdk"})
    assert list(agent) == ["session_id", "session_name", "session_state", "created_at", "updated_at",
                           "session_type", "user_id", "agent_id", "metrics", "total_tokens", "metadata"]
    assert items["s-named"]["session_name"] == "Colour chat"
    assert items["s-named"]["session_summary"] == {"summary": "s", "topics": ["a"],
                                                   "updated_at": "2026-01-02T03:04:05.678901"}
    assert items["s-team"]["session_name"] == "Team question"
    assert items["s-wf"]["session_name"] == ('{"topic": "dogs", "depth": 2}' if layout == "sqlite" else
                                             '{"depth": 2, "topic": "dogs"}')  # JSONB orders keys
    assert items["s-wf-empty"]["session_name"] == ""
    assert items["s-bare"] == {"session_id": "s-bare", "session_name": "", "created_at": items["s-bare"]["created_at"],
                               "updated_at": items["s-bare"]["updated_at"], "session_type": "agent",
                               "agent_id": "ref-agent"}


@pytest.mark.parametrize("query, expected", [
    ("type=agent", ["s-bare", "s-named", "s-agent"]),
    ("type=team", ["s-team"]),
    ("component_id=ref-team", ["s-team"]),
    ("component_id=ref-team&type=agent", []),
    ("user_id=u1", ["s-team", "s-agent"]),
    ("user_id=", []),
    ("session_name=cOLOUR", ["s-named"]),
    ("session_name=Hello", []),
    ("session_name=%25", ["s-bare", "s-wf-empty", "s-wf", "s-team", "s-named", "s-agent"]),
    ("session_name=_", ["s-named"]),
    ("session_name=%25%27+OR+1%3D1+--", []),
    ("sort_by=session_id&sort_order=asc", ["s-agent", "s-bare", "s-named", "s-team", "s-wf", "s-wf-empty"]),
    ("sort_order=asc&limit=2&page=2", ["s-team", "s-wf"]),
    ("type=agent&type=team", ["s-team"]),
    ("limit=%2B2", ["s-bare", "s-wf-empty"]),
    ("limit=+2+", ["s-bare", "s-wf-empty"]),
    ("limit=1_0&page=1", ["s-bare", "s-wf-empty", "s-wf", "s-team", "s-named", "s-agent"]),
    ("foo=bar&limit=1", ["s-bare"]),
    ("db_id=&table=", ["s-bare", "s-wf-empty", "s-wf", "s-team", "s-named", "s-agent"]),
])
def test_filters_and_params(client, seeded, query, expected):
    resp = client.get(f"/sessions?{query}")
    assert resp.status_code == 200, resp.get_json()
    assert ids(resp) == expected


def test_page_past_the_end_keeps_the_real_total(client, seeded):
    body = client.get("/sessions?limit=3&page=99").get_json()
    assert body["data"] == []
    assert body["meta"] == {"page": 99, "limit": 3, "total_pages": 2, "total_count": 6, "search_time_ms": 0.0}


def test_huge_limit_and_offset_answer_instead_of_500(client, seeded):
    assert len(client.get("/sessions?limit=100000000000000000000").get_json()["data"]) == 6
    body = client.get("/sessions?page=1000000000000000000&limit=20").get_json()
    assert body["data"] == [] and body["meta"]["total_count"] == 6


@pytest.mark.parametrize("query, item", [
    ("limit=0", {"type": "greater_than_equal", "loc": ["query", "limit"],
                 "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}}),
    ("page=0", {"type": "greater_than_equal", "loc": ["query", "page"],
                "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}}),
    ("limit=2.5", {"type": "int_parsing", "loc": ["query", "limit"],
                   "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "2.5"}),
    ("limit=1e1", {"type": "int_parsing", "loc": ["query", "limit"],
                   "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "1e1"}),
    ("type=Agent", {"type": "enum", "loc": ["query", "type"], "msg": "Input should be 'agent', 'team' or 'workflow'",
                    "input": "Agent", "ctx": {"expected": "'agent', 'team' or 'workflow'"}}),
    ("sort_order=ASC", {"type": "enum", "loc": ["query", "sort_order"], "msg": "Input should be 'asc' or 'desc'",
                        "input": "ASC", "ctx": {"expected": "'asc' or 'desc'"}}),
    ("user_id=a%00b", {"type": "string_no_nul", "loc": ["query", "user_id"],
                       "msg": "String should not contain NUL (\\u0000) characters", "input": "a\x00b"}),
])
def test_invalid_params_give_fastapi_422(client, seeded, query, item):
    resp = client.get(f"/sessions?{query}")
    assert resp.status_code == 422
    assert resp.get_json() == {"detail": [item]}


def test_all_query_errors_in_one_list_in_declaration_order(client):
    resp = client.get("/sessions?limit=0&page=-1&sort_order=x&type=y")
    assert [e["loc"][1] for e in resp.get_json()["detail"]] == ["type", "limit", "page", "sort_order"]


@pytest.mark.parametrize("sort_by", ["keys", "values", "__class__", "nope", ""])
def test_sort_by_non_columns_never_fails(client, seeded, sort_by):
    resp = client.get(f"/sessions?sort_by={sort_by}")
    assert resp.status_code == 200
    assert sorted(ids(resp)) == sorted(["s-agent", "s-named", "s-team", "s-wf", "s-wf-empty", "s-bare"])


def test_sort_by_json_column(client, seeded):
    assert client.get("/sessions?sort_by=session_data&sort_order=asc").status_code == 200


def test_list_sql_reads_no_run_payloads(client, seeded, conn, layout):
    statements = []

    def capture(conn_, cursor, statement, *args):
        statements.append(statement)

    event.listen(conn.engine, "before_cursor_execute", capture)
    try:
        assert client.get("/sessions").status_code == 200
        first = len([s for s in statements if "agno_sessions" in s and s.lstrip().upper().startswith("SELECT")])
        assert client.get("/sessions").status_code == 200
    finally:
        event.remove(conn.engine, "before_cursor_execute", capture)
    selects = [s for s in statements if "agno_sessions" in s and s.lstrip().upper().startswith("SELECT")]
    # PostgreSQL reads the page with its total count in one statement, SQLite in two. On agno 3.x
    # the names of unnamed sessions are found by a second statement the first time only (the
    # page's statement gives each one's runs' signature, the worker remembers the names).
    if layout == "pg-agno3":
        assert len(selects) == 3 and first == 2 and "sig_runs.xmin" in selects[0] and "run_data" not in selects[0]
    else:
        assert len(selects) == (4 if layout == "sqlite" else 2)
    for sql in selects:
        outer_columns = sql.split("FROM", 1)[0]
        assert "run_data" not in outer_columns and ".runs" not in outer_columns
        # run_data appears only inside the one-run name lookup: its runs in order (references to
        # the stored documents), the one copy it reads of each run it opens, JSON path expressions
        # (and, on a migrated database, where the legacy array is merged with agno_runs).
        for line in sql.splitlines():
            if "run_data" in line:
                assert ("run_data ->" in line or "run_data->" in line or "coalesce(replaced.run_data" in line
                        or "SELECT others.run_data" in line or ("AS run_data, " in line and "AS key_0" in line)
                        or "runs.run_data || '{}'::jsonb AS doc" in line), line
        assert "SELECT agno_runs.run_data \n" not in sql.replace("ai.", "")


def test_remembered_names_follow_every_change_of_the_runs(client, conn, layout):
    """The names of unnamed sessions, remembered by each worker on agno 3.x, change as soon as
    the runs they come from do: a run added before the first, the naming run changed in place
    (in the same transaction as the run was written, too), or deleted."""
    if layout not in ("pg-agno3", "sqlite"):
        pytest.skip("runs ordered by run_index in agno_runs alone (a SQLite database: the same, not remembered)")
    make_session(conn, "n-1")
    add_run(conn, "n-1", agent_run("a", "n-1", "First question"), run_index=5)

    def name():
        [item] = [i for i in client.get("/sessions").get_json()["data"] if i["session_id"] == "n-1"]
        return item["session_name"]

    assert name() == "First question" and name() == "First question"
    add_run(conn, "n-1", agent_run("b", "n-1", "Earlier question"), run_index=1)
    assert name() == "Earlier question"
    runs = tables.runs
    conn.execute(runs.update().where(runs.c.run_id == "b").values(run_data=agent_run("b", "n-1", "Edited question")))
    assert name() == "Edited question"
    conn.execute(runs.delete().where(runs.c.run_id == "b"))
    assert name() == "First question"
    conn.execute(runs.delete().where(runs.c.run_id == "a"))
    assert name() == ""
    add_run(conn, "n-1", {"run_id": "c", "agent_id": "ref-agent", "input": "Plain input"})
    assert name() == "Plain input"


def test_a_session_named_by_a_long_message_is_not_remembered(client, conn, layout):
    """A worker keeps small name candidates only: a first message of a pasted document names its
    session every time, from the runs."""
    from app.sessions import store

    if layout != "pg-agno3":
        pytest.skip("names are remembered on agno 3.x PostgreSQL databases only")
    long_text = "Long question " + "x" * 5000
    make_session(conn, "n-long")
    make_session(conn, "n-short")
    add_run(conn, "n-long", agent_run("l", "n-long", long_text))
    add_run(conn, "n-short", agent_run("s", "n-short", "Short question"))
    for _ in range(2):
        names = {i["session_id"]: i["session_name"] for i in client.get("/sessions").get_json()["data"]}
        assert names["n-long"] == long_text and names["n-short"] == "Short question"
    remembered = {key[1] for key in store._names}
    assert "n-short" in remembered and "n-long" not in remembered


def test_migrated_database_names_sessions_from_the_merged_runs(client, conn, layout):
    """On a migrated database the list names a session from the legacy array merged with agno_runs
    (agno2-contract §6.4), in SQL: the table's version of a run wins, table-only runs come last."""
    if layout != "pg-mixed":
        pytest.skip("only a migrated database has both")
    bare = {"run_id": "x", "agent_id": "ref-agent"}  # nothing to name the session from
    make_session(conn, "m-replaced", runs=[bare, agent_run("y", "m-replaced", "From the array")])
    add_run(conn, "m-replaced", agent_run("x", "m-replaced", "From the table's x"))
    make_session(conn, "m-appended", runs=[bare | {"run_id": "z"}, "not a run", {"no": "run_id"}])
    add_run(conn, "m-appended", agent_run("t", "m-appended", "From a table-only run"))
    make_session(conn, "m-array", runs=[bare | {"run_id": "w"}, agent_run("v", "m-array", "Array only")])
    names = {i["session_id"]: i["session_name"] for i in client.get("/sessions").get_json()["data"]}
    assert names == {"m-replaced": "From the table's x", "m-appended": "From a table-only run", "m-array": "Array only"}
    for sid, name in names.items():
        assert client.get(f"/sessions/{sid}").get_json()["session_name"] == name


FIRST_MESSAGE_CASES = [
    [], [{"role": "user"}], [{"role": "user", "content": None}, {"role": "user", "content": "second"}],
    [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
    *[[{"role": "user", "content": falsy}, {"role": "user", "content": "after"}]
      for falsy in ("", 0, 0.0, False, [], {})],
    [{"role": "user", "content": [{"type": "text", "text": "parts"}]}], [{"role": "user", "content": {"a": 1}}],
    [{"role": "user", "content": 7}], [{"role": "user", "content": True}], [{"role": "user", "content": "0"}],
    [{"role": "User", "content": "case"}, {"role": 5, "content": "n"}], [1, "user", None, [], {"role": "user", "content": "ok"}],
    {"role": "user", "content": "an object, not a list"}, "text", None,
]


@pytest.mark.parametrize("messages", FIRST_MESSAGE_CASES)
def test_list_name_lookup_finds_the_first_truthy_user_content(conn, layout, messages):
    """The SQL that names a session from its first run finds what agno's rule finds in Python."""
    if layout == "sqlite":
        pytest.skip("PostgreSQL's jsonpath")
    doc = {"messages": messages} if messages is not None else {}
    found = conn.execute(select(func.jsonb_path_query_first(
        literal(doc, JSONB), literal_column(f"'{FIRST_USER_CONTENT}'::jsonpath"), literal_column("'{}'::jsonb"), true(),
        type_=JSONB))).scalar_one()
    assert found == first_user_content(messages)
