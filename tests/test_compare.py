"""The shadow comparator (`agno-session-service compare`, `app.compare`).

The end-to-end tests start two small HTTP servers on loopback that answer the same requests; the
candidate can be told to alter one field of one response, which the comparator must report.
"""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request as WRequest
from werkzeug.wrappers import Response as WResponse

from app.cli import main as cli_main
from app.compare import Request, Response, Rules, compare_responses, diff
from app.compare.core import MISSING, Client, substitute
from app.compare.sources import read_access_log, read_requests, request_from_log_line

SESSIONS = {
    "data": [
        {"session_id": "s1", "session_name": "Café ☕", "created_at": "2026-01-02T03:04:05Z", "total_tokens": 18,
         "metadata": {"tags": ["a", "b"], "n": None}},
        {"session_id": "s2", "session_name": "Two", "created_at": "2026-01-01T00:00:00Z", "total_tokens": 0,
         "metadata": None},
    ],
    "meta": {"page": 1, "limit": 20, "total_pages": 1, "total_count": 2, "search_time_ms": 1.2},
}
RUNS = [{"run_id": "r1", "content": "hi", "created_at": 1767323045}]


def _resp(status: int, body, ctype: str = "application/json") -> Response:
    raw = b"" if body is MISSING else json.dumps(body).encode()
    return Response(status, {"content-type": ctype} if body is not MISSING else {}, raw, 0.001)


# ---------------------------------------------------------------------------------------------
# diff and rules


def test_identical_bodies_have_no_difference():
    assert compare_responses(_resp(200, SESSIONS), _resp(200, copy.deepcopy(SESSIONS))) == []


@pytest.mark.parametrize("path, value, expected", [
    (("data", 0, "session_name"), "Cafe ☕", "body.data[0].session_name"),
    (("data", 1, "total_tokens"), 0.0, "body.data[1].total_tokens"),  # a type change is a difference
    (("data", 0, "metadata", "n"), "null", "body.data[0].metadata.n"),
    (("meta", "total_count"), 3, "body.meta.total_count"),
    (("data", 0, "created_at"), "2026-01-02T03:04:06Z", "body.data[0].created_at"),
])
def test_a_single_altered_field_is_reported_at_its_path(path, value, expected):
    altered = copy.deepcopy(SESSIONS)
    node = altered
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    diffs = compare_responses(_resp(200, SESSIONS), _resp(200, altered))
    assert [d.path for d in diffs] == [expected]


def test_missing_key_extra_key_and_list_length():
    a = {"x": 1, "items": [1, 2, 3]}
    b = {"y": 1, "items": [1, 2]}
    paths = {d.path: (d.primary, d.candidate) for d in diff(a, b)}
    assert paths["x"] == (1, MISSING)
    assert paths["y"] == (MISSING, 1)
    assert paths["items.length"] == (3, 2)


def test_status_content_type_and_selected_headers():
    a = Response(200, {"content-type": "application/json", "access-control-allow-origin": "https://os.agno.com"},
                 b"[]", 0)
    b = Response(404, {"content-type": "text/plain"}, b"[]", 0)
    paths = [d.path for d in compare_responses(a, b, Rules(compare_headers=("Access-Control-Allow-Origin",)))]
    assert paths[:3] == ["status", "content-type", "header access-control-allow-origin"]


def test_search_time_ms_is_volatile_but_must_stay_a_number():
    other = copy.deepcopy(SESSIONS)
    other["meta"]["search_time_ms"] = 97.4
    assert compare_responses(_resp(200, SESSIONS), _resp(200, other)) == []
    other["meta"]["search_time_ms"] = "fast"
    assert [d.path for d in compare_responses(_resp(200, SESSIONS), _resp(200, other))] == ["body.meta.search_time_ms"]


def test_time_tolerance_only_inside_the_window():
    now = time.time()
    rules = Rules(time_tolerance=2, time_window=(now - 10, now + 10))
    recent = {"created_at": int(now), "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
    later = {"created_at": int(now) + 1, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 1))}
    assert diff(recent, later, rules) == []
    assert [d.path for d in diff(recent, later)] == ["created_at", "updated_at"]  # no rules: exact
    old = {"created_at": 1767323045}
    assert [d.path for d in diff(old, {"created_at": 1767323046}, rules)] == ["created_at"]
    # an epoch under a non-timestamp key, or a changed shape, is never tolerated
    assert diff({"total_tokens": int(now)}, {"total_tokens": int(now) + 1}, rules)
    assert diff({"t": "2026-01-01T00:00:00Z"}, {"t": "2026-01-01T00:00:00+00:00"}, rules)


def test_substitutions_map_generated_ids_in_the_candidate():
    a = {"session_id": "aaaa", "chat_history": [{"id": "aaaa-0"}]}
    b = {"session_id": "bbbb", "chat_history": [{"id": "bbbb-0"}]}
    assert diff(a, substitute(b, {"bbbb": "aaaa"})) == []


def test_empty_and_text_bodies():
    assert compare_responses(_resp(204, MISSING), _resp(204, MISSING)) == []
    text = Response(500, {"content-type": "text/plain"}, b"Internal Server Error", 0)
    assert [d.path for d in compare_responses(text, _resp(204, MISSING))] == ["status", "content-type", "body"]


# ---------------------------------------------------------------------------------------------
# request sources


def test_requests_file_formats(tmp_path):
    f = tmp_path / "reqs.txt"
    f.write_text("\n".join([
        "# comment",
        "GET /sessions?type=agent",
        json.dumps({"method": "patch", "path": "/sessions/s1", "query": {"type": "agent"}, "json": {"session_name": "n"}}),
        json.dumps({"method": "GET", "path": "/sessions/s1/runs", "query": [["status", "ERROR"], ["status", "COMPLETED"]]}),
        "",
    ]))
    reqs = list(read_requests(str(f)))
    assert [(r.method, r.target) for r in reqs] == [
        ("GET", "/sessions?type=agent"), ("PATCH", "/sessions/s1?type=agent"),
        ("GET", "/sessions/s1/runs?status=ERROR&status=COMPLETED")]
    assert json.loads(reqs[1].body) == {"session_name": "n"}
    assert ("Content-Type", "application/json") in reqs[1].headers


def test_access_log_formats(tmp_path):
    lines = [
        '10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET /sessions?type=team&limit=5 HTTP/1.1" 200 512 "-" "curl/8"',
        'INFO:     127.0.0.1:51234 - "GET /sessions/s1/runs HTTP/1.1" 200 OK',
        json.dumps({"message": "request", "method": "GET", "path": "/sessions/s2", "query": "type=agent", "status": 200}),
        json.dumps({"method": "DELETE", "url": "http://svc:8080/sessions/s3?db_id=x"}),
        "worker booted",
    ]
    f = tmp_path / "access.log"
    f.write_text("\n".join(lines))
    assert [(r.method, r.target) for r in read_access_log(str(f))] == [
        ("GET", "/sessions?type=team&limit=5"), ("GET", "/sessions/s1/runs"), ("GET", "/sessions/s2?type=agent"),
        ("DELETE", "/sessions/s3?db_id=x")]
    assert request_from_log_line("not a request") is None


# ---------------------------------------------------------------------------------------------
# the command, end to end over HTTP


class FakeServer:
    """A tiny /sessions server; `alter` changes one field of one response."""

    def __init__(self, alter: dict | None = None):
        self.alter = alter or {}
        self.seen: list[tuple[str, str]] = []
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def wsgi(self, environ, start_response):
        req = WRequest(environ)
        self.seen.append((req.method, req.full_path.rstrip("?")))
        if req.path == "/sessions" and req.method == "GET":
            body = copy.deepcopy(SESSIONS)
            body["meta"]["search_time_ms"] = round(time.perf_counter() % 5, 3)
        elif req.path == "/sessions/s1/runs":
            body = copy.deepcopy(RUNS)
        elif req.method == "DELETE":
            return WResponse(status=204)(environ, start_response)
        else:
            body = {"detail": "Session not found"}
            return WResponse(json.dumps(body), status=404, content_type="application/json")(environ, start_response)
        if req.path in self.alter:
            self.alter[req.path](body)
        return WResponse(json.dumps(body), content_type="application/json")(environ, start_response)

    def close(self):
        self.server.shutdown()


@pytest.fixture
def servers():
    made = []

    def make(alter=None):
        s = FakeServer(alter)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def _requests_file(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text("GET /sessions\nGET /sessions/s1/runs\nGET /sessions/nope\nDELETE /sessions/s1\nGET /health\n")
    return str(f)


def test_cli_identical_servers_exit_0(tmp_path, servers, capsys):
    a, b = servers(), servers()
    report = tmp_path / "report.json"
    code = cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", _requests_file(tmp_path),
                     "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "compared 3 requests" in out and "3 identical, 0 different" in out
    assert "1 write (needs --allow-writes)" in out and "1 other path" in out
    assert ("DELETE", "/sessions/s1") not in a.seen + b.seen  # writes are not replayed by default
    assert json.loads(report.read_text())["counts"] == {"compared": 3, "identical": 3, "different": 0, "error": 0}


def test_cli_reports_one_altered_field_and_exits_1(tmp_path, servers, capsys):
    def alter(runs):
        runs[0]["content"] = "hi!"

    a, b = servers(), servers({"/sessions/s1/runs": alter})
    code = cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", _requests_file(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "2 identical, 1 different" in out
    assert "DIFFERENT  GET /sessions/s1/runs" in out
    assert 'body[0].content: "hi" | "hi!"' in out


def test_cli_writes_only_with_the_flag(tmp_path, servers, capsys):
    a, b = servers(), servers()
    code = cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", _requests_file(tmp_path),
                     "--allow-writes", "--path-prefix", "", "-q"])
    assert code == 0  # the DELETE and /health are replayed too, and answered alike
    out = capsys.readouterr().out
    assert ("DELETE", "/sessions/s1") in a.seen and ("DELETE", "/sessions/s1") in b.seen
    assert "compared 5 requests" in out


def test_cli_unreachable_candidate_is_a_difference(tmp_path, servers, capsys):
    a = servers()
    code = cli_main(["compare", "--primary", a.url, "--candidate", "http://127.0.0.1:9", "--requests",
                     _requests_file(tmp_path), "-q"])
    assert code == 1
    assert "0 identical, 3 different" in capsys.readouterr().out


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    assert cli_main(["compare", "--primary", "ftp://x", "--candidate", "http://y", "--requests", "r"]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("FETCH everything\n")
    assert cli_main(["compare", "--primary", "http://127.0.0.1:9", "--candidate", "http://127.0.0.1:9",
                     "--requests", str(bad)]) == 2
    assert "bad.txt:1" in capsys.readouterr().err


def test_client_reconnects_after_the_server_closes(servers):
    a = servers()  # werkzeug answers "Connection: close" to every request
    client = Client(a.url)
    try:
        statuses = [client.send(Request("GET", "/sessions")).status for _ in range(3)]
        assert statuses == [200, 200, 200]
        assert client._conn is None
    finally:
        client.close()


class IdServer:
    """Creates sessions under ids of its own; lists and reads them back."""

    def __init__(self):
        self.ids: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def wsgi(self, environ, start_response):
        import uuid

        req = WRequest(environ)
        if req.method == "POST":
            self.ids.append(str(uuid.uuid4()))
            body, status = {"session_id": self.ids[-1], "agent_session_id": self.ids[-1]}, 201
        elif req.path == "/sessions":
            body, status = {"data": [{"session_id": i} for i in self.ids]}, 200
        elif req.path.rsplit("/", 1)[-1] in self.ids:
            body, status = {"session_id": req.path.rsplit("/", 1)[-1]}, 200
        else:
            body, status = {"detail": "Session not found"}, 404
        return WResponse(json.dumps(body), status=status, content_type="application/json")(environ, start_response)


def test_ids_generated_by_replayed_creates_are_mapped(tmp_path, capsys):
    a, b = IdServer(), IdServer()
    try:
        f = tmp_path / "w.txt"
        f.write_text('{"method": "POST", "path": "/sessions", "json": {}}\nGET /sessions\n')
        assert cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", str(f),
                         "--allow-writes", "-q"]) == 0
        # a session each side knows by its own id: mapped by --map-id, also in the request path
        g = tmp_path / "r.txt"
        g.write_text(f"GET /sessions/{a.ids[0]}\nGET /sessions\n")
        assert cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", str(g), "-q"]) == 1
        assert cli_main(["compare", "--primary", a.url, "--candidate", b.url, "--requests", str(g), "-q",
                         "--map-id", f"{b.ids[0]}={a.ids[0]}"]) == 0
        assert "2 identical, 0 different" in capsys.readouterr().out.splitlines()[-1]
    finally:
        a.server.shutdown()
        b.server.shutdown()


def test_client_reuses_a_connection_but_not_after_a_5xx_or_when_idle():
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self):
            status = 500 if self.path == "/fail" else 200
            body = b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = Client(f"http://127.0.0.1:{server.server_port}", idle_reconnect=0.3)
    try:
        assert client.send(Request("GET", "/ok")).status == 200
        first = client._conn
        assert client.send(Request("GET", "/ok")).status == 200
        assert first is not None and client._conn is first  # kept alive
        assert client.send(Request("GET", "/fail")).status == 500
        assert client._conn is None  # uvicorn may drop it after an error: not reused
        client.send(Request("GET", "/ok"))
        second = client._conn
        time.sleep(0.4)
        assert client.send(Request("GET", "/ok")).status == 200
        assert client._conn is not second  # idle longer than idle_reconnect: a new connection
    finally:
        client.close()
        server.shutdown()
        server.server_close()
