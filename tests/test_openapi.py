"""/openapi.json and /docs: a valid document that names every route, and real responses that
conform to it.

Responses are checked the way a contract tester (schemathesis, issue 6) checks them: the status
must be documented for the operation, the media type must be one it documents, and the body must
validate against the documented schema, with jsonschema's Draft 2020-12 validator, formats
included. Both renditions are checked: OpenAPI 3.1.0 (its schemas are JSON Schema 2020-12) and
the 3.0.3 one of `?version=3.0` (turned into JSON Schema: `nullable` becomes a `null` type).
"""

from __future__ import annotations

import json
import re
import uuid
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from flask import Blueprint
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import create_engine, text

import app as app_package
from app import create_app, openapi
from app.config import DatabaseConfig
from tests.conftest import LAYOUT_SCHEMAS, ConnectionRegistry, make_settings, new_database
from tests.factories import add_run, agent_run, assistant_message, make_session, user_message

KEY = "s3cret"
AUTH = {"Authorization": f"Bearer {KEY}"}


# ---------------------------------------------------------------------------------------------
# OpenAPI 3.0 -> JSON Schema, and the check of one response


def to_json_schema(schema):
    """An OpenAPI 3.0 schema object as JSON Schema 2020-12 (refs point into `$defs`)."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "nullable":
            continue
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    """Checks responses against a document and records which operations were exercised."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.defs = {name: to_json_schema(s) for name, s in doc["components"]["schemas"].items()}
        self.seen: set[tuple[str, str]] = set()
        self.statuses: set[tuple[str, str, str]] = set()

    def operation(self, method: str, template: str) -> dict:
        assert template in self.doc["paths"], f"{template} is not documented"
        ops = self.doc["paths"][template]
        assert method.lower() in ops, f"{method} {template} is not documented"
        return ops[method.lower()]

    def check(self, resp, method: str, template: str):
        resp.get_data()   # buffered, so the file a static response streams can be closed at once
        resp.close()
        op = self.operation(method, template)
        status = str(resp.status_code)
        assert status in op["responses"], f"{method} {template} answered {status}, not documented: {resp.data[:300]}"
        documented = op["responses"][status]
        assert resp.headers.get("X-Request-ID"), "every response carries X-Request-ID"
        content = documented.get("content")
        if content is None:
            assert resp.data == b"", f"{method} {template} {status}: a body where none is documented"
        else:
            media = resp.mimetype
            assert media in content or "*/*" in content, f"{method} {template} {status}: {media} not in {list(content)}"
            if media == "application/json":
                schema = content[media]["schema"]
                body = json.loads(resp.data)
                validator = Draft202012Validator({"$defs": self.defs, **to_json_schema(schema)},
                                                 format_checker=Draft202012Validator.FORMAT_CHECKER)
                errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
                assert not errors, f"{method} {template} {status}: " + "; ".join(_explain(errors))
        self.seen.add((method.upper(), template))
        self.statuses.add((method.upper(), template, status))
        return resp

    def all_operations(self) -> set[tuple[str, str]]:
        return {(m.upper(), p) for p, ops in self.doc["paths"].items() for m in ops}


def _explain(errors, depth=0) -> list[str]:
    """The failures, with the reasons each alternative of a oneOf/anyOf failed."""
    lines = []
    for e in errors[:5]:
        lines.append(f"{'  ' * depth}{list(e.absolute_path)} ({'/'.join(map(str, e.relative_schema_path))}): "
                     f"{e.message[:200]}")
        lines += _explain(sorted(e.context, key=lambda c: list(c.relative_schema_path)), depth + 1)
    return lines


def path_of(template: str, **params) -> str:
    return template.format(**{k: quote(v, safe="") for k, v in params.items()})


class Caller:
    """client + contracts: `call("GET", "/sessions/{session_id}", session_id="x", query=...)`
    checks the response against each contract."""

    def __init__(self, client, contracts: list[Contract], headers: dict | None = None):
        self.client, self.contracts, self.headers = client, contracts, headers or {}

    def __call__(self, method, template, *, query=None, json_body=None, data=None, content_type=None,
                 headers=None, **params):
        kwargs = {"query_string": query or {}, "headers": {**self.headers, **(headers or {})}}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = content_type or "application/json"
        resp = self.client.open(path_of(template, **params), method=method, **kwargs)
        for contract in self.contracts:
            contract.check(resp, method, template)
        return resp


# ---------------------------------------------------------------------------------------------
# The document itself


@pytest.fixture(scope="module")
def plain_app():
    return create_app({"TESTING": True, "SETTINGS": make_settings()})


@pytest.fixture(scope="module")
def secured_app():
    return create_app({"TESTING": True, "SETTINGS": make_settings(security_key=KEY)})


VERSIONS = {"3.1": "3.1.0", "3.0": "3.0.3"}


def served_document(application, headers=None, version: str | None = None) -> dict:
    query = {"version": version} if version else {}
    resp = application.test_client().get("/openapi.json", headers=headers or {}, query_string=query)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return json.loads(resp.data)


def contracts(application, headers=None) -> list[Contract]:
    return [Contract(served_document(application, headers, v)) for v in VERSIONS]


def keys_and_types(node):
    """Every key of the document's objects, and every `type` value."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from keys_and_types(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys_and_types(value)


def undocumented(application, doc) -> list[str]:
    """`METHOD rule` of every URL-map rule the document lacks, and
    every documented operation no rule has."""
    missing, rules = [], set()
    for rule in application.url_map.iter_rules():
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rules.add((method.lower(), template))
            op = doc["paths"].get(template, {}).get(method.lower())
            if op is None:
                missing.append(f"{method} {rule.rule}")
                continue
            in_path = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            if in_path != set(rule.arguments):
                missing.append(f"{method} {rule.rule}: path parameters {sorted(in_path)}")
    for template, ops in doc["paths"].items():
        missing += [f"{m.upper()} {template}: no such route" for m in ops if (m, template) not in rules]
    return missing


@pytest.mark.parametrize("version", [None, *VERSIONS])
@pytest.mark.parametrize("secured", [False, True])
def test_document_is_valid_openapi(plain_app, secured_app, secured, version):
    doc = served_document(secured_app, AUTH, version) if secured else served_document(plain_app, None, version)
    validate_openapi(doc)
    assert doc["openapi"] == VERSIONS[version or "3.1"]
    found = list(keys_and_types(doc))
    if doc["openapi"].startswith("3.1"):   # nullable as JSON Schema: a null type
        assert "nullable" not in {k for k, _ in found}
        assert any(k == "type" and isinstance(v, list) and "null" in v for k, v in found)
    else:                                  # 3.0: `nullable`, one type per schema
        assert not any(k == "type" and isinstance(v, list) for k, v in found)
        assert ("nullable", True) in found
    assert doc["info"]["title"] == "agno-session-service"
    assert doc["info"]["version"] == app_package.__version__
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_every_route_is_documented(plain_app, secured_app):
    for application, headers in ((plain_app, None), (secured_app, AUTH)):
        for version in VERSIONS:
            doc = served_document(application, headers, version)
            assert undocumented(application, doc) == []
    paths = served_document(plain_app)["paths"]
    for template in ("/health", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/{filename}",
                     "/sessions/{session_id}/media/{storage_key}"):
        assert "get" in paths[template]


def test_a_route_without_description_is_reported():
    """The coverage check above fails when a route is added without a description."""
    application = create_app({"TESTING": True, "SETTINGS": make_settings()})
    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/sessions/<session_id>/export", "export", lambda session_id: "", methods=["GET", "POST"])
    application.register_blueprint(extra)
    doc = served_document(application)
    assert undocumented(application, doc) == ["GET /sessions/<session_id>/export", "POST /sessions/<session_id>/export"]
    validate_openapi(doc)
    doc["paths"]["/nowhere"] = {"get": doc["paths"]["/healthz"]["get"]}
    assert undocumented(application, doc)[-1] == "GET /nowhere: no such route"


def _params(op) -> dict:
    return {p["name"]: p for p in op["parameters"] if "name" in p}


@pytest.mark.parametrize("version", VERSIONS)
def test_parameters(plain_app, version):
    paths = served_document(plain_app, version=version)["paths"]
    listing = paths["/sessions"]["get"]
    names = [p.get("name") for p in listing["parameters"]]
    assert names == ["type", "component_id", "user_id", "session_name", "limit", "page", "sort_by", "sort_order",
                     "db_id", "table", None]  # None: the shared X-Request-ID header parameter ($ref)
    assert listing["parameters"][-1] == {"$ref": "#/components/parameters/RequestId"}
    p = _params(listing)
    assert all(param["in"] == "query" and param["required"] is False for param in p.values())
    assert p["type"]["schema"] == {"type": "string", "enum": ["agent", "team", "workflow"]}
    assert p["limit"]["schema"] == {"type": "integer", "default": 20, "minimum": 1}
    assert p["page"]["schema"] == {"type": "integer", "default": 1, "minimum": 1}
    assert p["sort_order"]["schema"] == {"type": "string", "default": "desc", "enum": ["asc", "desc"]}
    assert p["sort_by"]["schema"] == {"type": "string", "default": "created_at"}
    assert p["user_id"]["schema"] == {"type": "string", "pattern": "^[^\\u0000]*$"}
    assert p["db_id"]["schema"] == {"type": "string"} and p["db_id"]["description"]
    assert _params(paths["/sessions"]["post"])["type"]["schema"]["default"] == "agent"
    assert _params(paths["/sessions"]["delete"])["delete_media"]["schema"] == {"type": "boolean", "default": False}

    runs = _params(paths["/sessions/{session_id}/runs"]["get"])
    assert runs["session_id"]["in"] == "path" and runs["session_id"]["required"] is True
    assert runs["created_after"]["schema"] == {"type": "integer"}
    assert runs["status"]["schema"]["type"] == "array"
    assert set(runs["status"]["schema"]["items"]) == {"type", "pattern"}
    # Statuses in any case: the pattern admits a string exactly when its upper() is a status
    status = re.compile(runs["status"]["schema"]["items"]["pattern"])
    statuses = ["PENDING", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED", "ERROR", "REGENERATED"]
    for word in statuses:
        assert status.search(word) and status.search(word.lower()) and status.search(word.title())
    assert status.search("Pau\u017fed") and status.search("runn\u0131ng")
    upper_to_letter = {chr(c) for c in range(0x110000) if len(chr(c).upper()) == 1 and chr(c).upper() in "".join(statuses)}
    for word in statuses:
        for i in range(len(word)):
            for char in upper_to_letter:
                assert bool(status.search(word[:i] + char + word[i + 1:])) is (char.upper() == word[i]), (word, i, char)
    for bad in ("", "BOGUS", "COMPLETE", "COMPLETEDX", " COMPLETED", "COMPLETED,ERROR"):
        assert not status.search(bad)
    assert runs["status"]["explode"] is True
    assert set(_params(paths["/sessions/{session_id}/runs/{run_id}"]["get"])) == {
        "session_id", "run_id", "type", "user_id", "db_id", "table"}
    # DELETE answers 204 to any id (nothing matches a NUL), so it documents no pattern for it
    assert "pattern" not in _params(paths["/sessions/{session_id}"]["delete"])["session_id"]["schema"]
    assert "pattern" in _params(paths["/sessions/{session_id}"]["get"])["session_id"]["schema"]


@pytest.mark.parametrize("version", VERSIONS)
def test_request_bodies(plain_app, version):
    doc = served_document(plain_app, version=version)
    paths, schemas = doc["paths"], doc["components"]["schemas"]

    def body(method, template):
        request_body = paths[template][method]["requestBody"]
        ref = request_body["content"]["application/json"]["schema"]["$ref"]
        return request_body["required"], schemas[ref.rsplit("/", 1)[1]]

    required, create = body("post", "/sessions")
    assert required is False and "required" not in create
    nullable_object = {"type": "object", "nullable": True} if version == "3.0" else {"type": ["object", "null"]}
    # 3.1 also states that no key, at any depth, holds U+0000 (3.0 has no `propertyNames`)
    json_keys = {} if version == "3.0" else {"propertyNames": {"pattern": "^[^\\u0000]*$"},
                                             "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}
    assert create["properties"]["session_state"] == {**nullable_object, "default": None,
                                                     "description": "Initial session state", **json_keys}
    if version != "3.0":
        assert schemas["JsonValue"]["items"] == schemas["JsonValue"]["additionalProperties"] == {
            "$ref": "#/components/schemas/JsonValue"}
    assert create["properties"]["user_id"]["nullable" if version == "3.0" else "type"] in (True, ["string", "null"])
    required, bulk = body("delete", "/sessions")
    assert required is True and bulk["required"] == ["session_ids", "session_types"]
    assert bulk["properties"]["session_types"]["items"] == {"type": "string", "enum": ["agent", "team", "workflow"]}
    assert bulk["properties"]["session_ids"]["minItems"] == 1
    required, rename = body("post", "/sessions/{session_id}/rename")
    assert required is True and rename["required"] == ["session_name"]
    assert rename["properties"]["session_name"]["type"] == "string"     # null is a 422
    assert "nullable" not in rename["properties"]["session_name"]
    required, update = body("patch", "/sessions/{session_id}")
    assert required is True
    summary, null = update["properties"]["summary"]["anyOf"]
    summary = schemas[summary["$ref"].rsplit("/", 1)[1]]
    assert summary["required"] == ["summary"] and summary["additionalProperties"] is False
    assert null == ({"type": "object", "nullable": True, "enum": [None]} if version == "3.0" else {"type": "null"})


@pytest.mark.parametrize("version", VERSIONS)
def test_security(plain_app, secured_app, version):
    plain, secured = served_document(plain_app, version=version), served_document(secured_app, AUTH, version)
    assert "security" not in plain and "securitySchemes" not in plain["components"]
    assert secured["security"] == [{"HTTPBearer": []}]
    assert secured["components"]["securitySchemes"]["HTTPBearer"]["type"] == "http"
    assert secured["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    public = {"/health", "/healthz", "/readyz"}
    for doc in (plain, secured):
        for template, ops in doc["paths"].items():
            for method, op in ops.items():
                if template in public:
                    assert op["security"] == [], template
                    assert "401" not in op["responses"]
                else:
                    assert "security" not in op, template   # the document-wide requirement applies
                    assert ("401" in op["responses"]) is (doc is secured), (method, template)
    # the document, the docs page and /metrics need the key like any other route, the probes do not
    client = secured_app.test_client()
    for path in ("/openapi.json", "/docs", "/docs/swagger-ui.css", "/metrics"):
        assert client.get(path).status_code == 401
    for path in ("/health", "/healthz"):
        assert client.get(path).status_code == 200


def test_error_and_probe_responses_are_described(plain_app):
    doc = served_document(plain_app)
    paths = doc["paths"]
    ref = {"$ref": "#/components/schemas/ValidationError"}
    for template, ops in paths.items():
        if not template.startswith("/sessions") or template.endswith("{storage_key}"):
            continue
        for op in ops.values():
            assert {"400", "404", "413", "422", "500", "503", "504"} <= set(op["responses"]), template
            assert op["responses"]["422"]["content"]["application/json"]["schema"] == ref
    assert set(paths["/sessions"]["post"]["responses"]) >= {"201", "409"}
    assert "204" in paths["/sessions"]["delete"]["responses"] and "204" in paths["/sessions/{session_id}"]["delete"][
        "responses"]
    assert set(paths["/sessions/{session_id}/media/{storage_key}"]["get"]["responses"]) == {"503"}
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    item = doc["components"]["schemas"]["ValidationErrorItem"]
    assert item["required"] == ["input", "loc", "msg", "type"] and "ctx" in item["properties"]


def test_document_is_built_once_per_app_and_version(monkeypatch):
    calls = []
    real = openapi.build_document
    monkeypatch.setattr(openapi, "build_document", lambda application, v: calls.append(v) or real(application, v))
    application = create_app({"TESTING": True, "SETTINGS": make_settings()})
    client = application.test_client()
    first, second = client.get("/openapi.json"), client.get("/openapi.json?version=3.1")
    assert first.data == second.data and calls == ["3.1.0"]
    assert client.get("/openapi.json?version=3.0").data == client.get("/openapi.json?version=3.0").data
    assert calls == ["3.1.0", "3.0.3"]
    assert create_app({"TESTING": True, "SETTINGS": make_settings()}).test_client().get("/openapi.json").data
    assert calls == ["3.1.0", "3.0.3", "3.1.0"]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.spec = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.refs.append(attrs[name])
        if attrs.get("data-spec-url"):
            self.spec = attrs["data-spec-url"]


def test_docs_page_uses_local_assets(plain_app):
    client = plain_app.test_client()
    contract = Contract(served_document(plain_app))
    page = contract.check(client.get("/docs"), "GET", "/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    parser = _Refs()
    parser.feed(page.get_data(as_text=True))
    # Swagger UI 4.15 reads OpenAPI 3.0.x only: the page loads the 3.0 rendition
    assert parser.spec == "/openapi.json?version=3.0"
    assert json.loads(client.get(parser.spec).data)["openapi"] == "3.0.3"
    assert len(parser.refs) == 4 and all(ref.startswith("/docs/") for ref in parser.refs)  # no CDN
    for ref in parser.refs:
        resp = client.get(ref, buffered=True)
        template = "/docs/swagger-initializer.js" if ref.endswith("swagger-initializer.js") else "/docs/{filename}"
        contract.check(resp, "GET", template)
        assert resp.status_code == 200 and len(resp.data) > 100, ref
    assert b"SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js", buffered=True).data
    assert b"data-spec-url" in client.get("/docs/swagger-initializer.js").data
    # only Swagger UI's own assets are served
    for name in ("index.html", "missing.js", "..%2F__init__.py", "vendor/x.js"):
        contract.check(client.get(f"/docs/{name}"), "GET", "/docs/{filename}")
        assert client.get(f"/docs/{name}").status_code == 404


# ---------------------------------------------------------------------------------------------
# Real responses conform: every layout, every operation


@pytest.fixture(params=list(LAYOUT_SCHEMAS))
def layout(request):
    return request.param


def seed_shapes(conn):
    """Sessions of every type, with the run shapes the render code branches on."""
    make_session(conn, "a1", user_id="u1",
                 session_data={"session_state": {"k": [1, None]}, "session_metrics": {"total_tokens": 36}},
                 agent_data={"name": "A", "agent_id": "ref-agent", "sdk": "ext-sdk"}, metadata={"m": {"n": None}},
                 summary={"topics": ["t"], "summary": "S", "updated_at": "2026-01-02T03:04:05Z"})
    add_run(conn, "a1", agent_run("r1", "a1", "Hello there", created_at=1795000100))
    add_run(conn, "a1", agent_run("r2", "a1", "Structured", answer={"city": "Rome"}, content_type="Answer",
                                  status="ERROR", created_at=1795000200,
                                  tools=[{"tool_name": "lookup", "tool_args": {"q": 1}, "result": None}],
                                  events=[{"event": "RunStarted"}], reasoning_steps=[{"title": "t"}],
                                  metadata={"turn": 2}, followups=["Next?"]))
    add_run(conn, "a1", agent_run("r3", "a1", "Child", parent_run_id="r2", agent_id="sub", created_at=1795000300))
    add_run(conn, "a1", agent_run("r4", "a1", "Naive time", answer=["a", 1], created_at="2026-01-01T00:00:00"))
    multipart = user_message([{"type": "text", "text": "part one"}, {"type": "image_url", "image_url": "u"}])
    add_run(conn, "a1", {"run_id": "r5", "agent_id": "ref-agent", "parent_run_id": None, "user_id": None,
                         "content": None, "reasoning_content": None, "metrics": None, "status": None,
                         "images": None, "citations": {"urls": [{"url": "https://example.com"}]},
                         "input": {"input_content": "with media", "images": [{"id": "img", "url": "u"}]},
                         "messages": [multipart, assistant_message("seen", reasoning_content="why")],
                         "created_at": 1795000400})
    make_session(conn, "t1", "team", user_id="u2", team_data={"name": "T", "team_id": "ref-team"},
                 session_data={"session_name": "Team chat"}, metadata={"ticket": 1})
    add_run(conn, "t1", agent_run("m1", "t1", "Member task", parent_run_id="tr1", agent_id="member"))
    add_run(conn, "t1", {"run_id": "tr1", "team_id": "ref-team", "input": {"input_content": "Q"}, "content": "A",
                         "messages": [user_message("Q"), assistant_message("A")], "created_at": 1795000500,
                         "status": "COMPLETED"})
    add_run(conn, "t1", {"run_id": "orphan", "input": {"input_content": "x"}})
    make_session(conn, "w1", "workflow", workflow_data={"name": "WF", "steps": [{"name": "s", "description": None}]},
                 session_data={}, metadata={})
    add_run(conn, "w1", {"run_id": "wr1", "workflow_id": "ref-workflow", "input": {"topic": "dogs"},
                         "content": "done", "content_type": "str", "status": "COMPLETED", "created_at": 1795000600,
                         "step_results": [{"content": "x", "step_name": "s"}], "images": None,
                         "step_executor_runs": [agent_run("sx", "w1", "step", parent_run_id="wr1")],
                         "metrics": {"duration": 1.5}})
    add_run(conn, "w1", {"run_id": "wr2", "workflow_id": "ref-workflow", "created_at": "not a time"})
    make_session(conn, "bare", updated_at=None, agent_id=None)
    make_session(conn, "wf-bare", "workflow")


def exercise(call, conn, secured: bool = False):
    """Every operation, with its success and error answers."""
    S, SID = "/sessions", "/sessions/{session_id}"
    seed_shapes(conn)
    call("GET", S)
    call("GET", S, query={"limit": 2, "page": 2, "sort_by": "updated_at", "sort_order": "asc"})
    for stype in ("agent", "team", "workflow"):
        call("GET", S, query={"type": stype, "user_id": "u1"})
    call("GET", S, query={"page": 99})
    call("GET", S, query={"limit": "0", "page": "x", "type": "bogus"})                    # 422
    call("GET", S, query={"table": "agno_sessions"})                                        # 400
    call("GET", S, query={"db_id": "nope"})                                                 # 404
    for sid in ("a1", "t1", "w1", "bare", "wf-bare"):
        call("GET", SID, session_id=sid)
        for stype in ("agent", "team", "workflow"):
            call("GET", SID, session_id=sid, query={"type": stype})
            call("GET", SID + "/runs", session_id=sid, query={"type": stype})
            call("GET", SID + "/run-previews", session_id=sid, query={"type": stype})
        call("GET", SID + "/runs", session_id=sid, query={"status": ["completed", "ERROR"]})
        call("GET", SID + "/runs", session_id=sid, query={"created_after": "1795000150", "created_before": "1795000450"})
    for sid, run_id in (("a1", "r1"), ("a1", "r2"), ("a1", "r3"), ("a1", "r4"), ("a1", "r5"), ("t1", "m1"),
                        ("t1", "tr1"), ("t1", "orphan"), ("w1", "wr1"), ("w1", "wr2")):
        call("GET", SID + "/runs/{run_id}", session_id=sid, run_id=run_id)
    call("GET", SID + "/runs/{run_id}", session_id="a1", run_id="zz")                       # 404
    call("GET", SID + "/runs/{run_id}", session_id="bare", run_id="zz")                     # 404, no runs
    call("GET", SID + "/runs/{run_id}", session_id="a\x00b", run_id="zz")                   # 422
    call("GET", SID, session_id="nope", query={"type": "team"})                             # 404
    call("GET", SID + "/runs", session_id="nope")                                           # 404
    call("GET", SID + "/runs", session_id="a1", query={"status": "bogus"})                  # 400
    call("GET", SID + "/run-previews", session_id="a1", query={"created_after": "soon"})    # 422

    for stype in ("agent", "team", "workflow"):
        call("POST", S, query={"type": stype})
        call("POST", S, query={"type": stype}, json_body={
            "session_id": f"new-{stype}", "session_name": "N", "session_state": {"a": [1]}, "user_id": "u9",
            f"{stype}_id": f"my-{stype}", "metadata": {"x": None}})
    call("POST", S, json_body={"session_id": "a1"})                                          # 409
    call("POST", S, data="{", content_type="application/json")                               # 422 json_invalid
    call("POST", S, data=b"\xff", content_type="application/json")                           # 400
    call("POST", S, json_body={"user_id": 5, "metadata": "x"})                               # 422

    call("PATCH", SID, session_id="a1", json_body={"session_name": "Renamed", "session_state": {"b": 2},
                                                      "summary": {"summary": "new", "topics": ["x"],
                                                                  "updated_at": "2026-03-04T05:06:07Z"}})
    call("PATCH", SID, session_id="bare", json_body={})
    call("PATCH", SID, session_id="t1", json_body={"metadata": {"k": "v"}})
    call("PATCH", SID, session_id="w1", json_body={"session_name": None})
    call("PATCH", SID, session_id="nope", json_body={})                                      # 404
    call("PATCH", SID, session_id="a1", json_body={"summary": {"topics": 1, "extra": 2}})    # 422
    call("PATCH", SID, session_id="a1")                                                      # 422 missing body
    for sid, stype in (("a1", None), ("t1", "team"), ("w1", None), ("new-workflow", "workflow")):
        call("POST", SID + "/rename", session_id=sid, query={"type": stype} if stype else {},
             json_body={"session_name": f"{sid} renamed"})
    call("POST", SID + "/rename", session_id="t1", query={"type": "agent"}, json_body={"session_name": "x"})  # 404
    call("POST", SID + "/rename", session_id="a1", json_body={"session_name": None})        # 422

    call("GET", SID + "/media/{storage_key}", session_id="a1", storage_key="dir/file.png")  # 503
    call("DELETE", SID, session_id="nope")
    call("DELETE", SID, session_id="a1", query={"delete_media": "true"})                     # 503
    call("DELETE", SID, session_id="a1", query={"delete_media": "maybe"})                    # 422
    call("DELETE", SID, session_id="a1")
    call("DELETE", S, json_body={"session_ids": ["t1", "w1"], "session_types": ["team", "workflow"]})
    call("DELETE", S, json_body={"session_ids": ["t1"], "session_types": ["team", "agent"]})          # 400
    call("DELETE", S, json_body={"session_ids": [], "session_types": ["bogus"]})                      # 422
    call("DELETE", S)                                                                                   # 422

    for path in ("/health", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                 "/docs/swagger-initializer.js"):
        call("GET", path)
    call("GET", "/docs/{filename}", filename="swagger-ui.css")
    call("GET", "/openapi.json", query={"version": "3.0"})
    call("GET", "/openapi.json", query={"version": "2.0"})                                            # 422
    if secured:
        call("GET", S, headers={"Authorization": "Bearer wrong"})                                     # 401
        call("GET", "/openapi.json", headers={"Authorization": ""})                                    # 401


def app_on(conn, settings):
    application = create_app({"TESTING": True, "SETTINGS": settings})
    application.extensions["engines"] = ConnectionRegistry(settings, conn)
    return application


def test_responses_conform_to_the_document(client, conn, app, layout):
    both = contracts(app)
    exercise(Caller(client, both), conn)
    contract = both[0]
    # ADK's routes answer on ADK databases only: test_adk_responses_conform exercises them.
    assert {op for op in contract.all_operations() if "/apps/" not in op[1]} - contract.seen == set()
    # every status the samples were meant to reach was reached (the samples test what they say)
    reached = {(m, t, s) for m, t, s in contract.statuses}
    for expected in [("GET", "/sessions", "422"), ("GET", "/sessions", "400"), ("GET", "/sessions", "404"),
                     ("POST", "/sessions", "201"), ("POST", "/sessions", "409"), ("POST", "/sessions", "400"),
                     ("PATCH", "/sessions/{session_id}", "200"), ("PATCH", "/sessions/{session_id}", "422"),
                     ("GET", "/sessions/{session_id}/runs/{run_id}", "200"),
                     ("GET", "/sessions/{session_id}/runs/{run_id}", "422"),
                     ("GET", "/sessions/{session_id}/runs", "400"), ("POST", "/sessions/{session_id}/rename", "404"),
                     ("DELETE", "/sessions/{session_id}", "503"), ("DELETE", "/sessions", "204"),
                     ("GET", "/sessions/{session_id}/media/{storage_key}", "503"), ("GET", "/readyz", "200")]:
        assert expected in reached, expected


def test_secured_responses_conform(conn, settings):
    settings = make_settings(databases=settings.databases, security_key=KEY)
    application = app_on(conn, settings)
    both = contracts(application, AUTH)
    exercise(Caller(application.test_client(), both, AUTH), conn, secured=True)
    contract = both[0]
    assert ("GET", "/sessions", "401") in contract.statuses
    assert ("GET", "/openapi.json", "401") in contract.statuses


def test_too_large_and_unavailable_conform(conn, settings):
    application = app_on(conn, make_settings(databases=settings.databases, max_body_bytes=64))
    call = Caller(application.test_client(), contracts(application))
    assert call("POST", "/sessions", json_body={"session_state": {"x": "y" * 100}}).status_code == 413
    unreachable = make_settings(databases={"db1": DatabaseConfig(
        "db1", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")})
    down = create_app({"TESTING": True, "SETTINGS": unreachable})
    try:
        call = Caller(down.test_client(), contracts(down))
        assert call("GET", "/readyz").status_code == 503
        assert call("GET", "/sessions").status_code == 503
    finally:
        down.extensions["engines"].dispose()


# ---------------------------------------------------------------------------------------------
# Sessions written by real agno 3.1.10 components conform too


@pytest.fixture(scope="module")
def agno_seeded(pg_server):
    from tests.agno_seed import agno_db, seed_sessions

    with new_database(pg_server, f"agno_openapi_{uuid.uuid4().hex[:12]}") as url:
        url_text = url.render_as_string(hide_password=False)
        db = agno_db(url_text)
        application = create_app({"TESTING": True, "SETTINGS": make_settings(url_text)})
        engine = create_engine(url)
        try:
            sessions = seed_sessions(db)["sessions"]
            runs: dict[str, list[str]] = {}
            with engine.connect() as conn:
                for sid, run_id in conn.execute(text("SELECT session_id, run_id FROM ai.agno_runs "
                                                     "ORDER BY session_id, run_index")):
                    runs.setdefault(sid, []).append(run_id)
            yield SimpleNamespace(app=application, sessions=sessions, runs=runs)
        finally:
            application.extensions["engines"].dispose()
            db.close()
            engine.dispose()


def test_agno_written_sessions_conform(agno_seeded):
    application = agno_seeded.app
    call = Caller(application.test_client(), contracts(application))
    assert len(agno_seeded.sessions) >= 9 and sum(map(len, agno_seeded.runs.values())) >= 9
    total = call("GET", "/sessions", query={"limit": 100}).get_json()["meta"]["total_count"]
    assert total == len(agno_seeded.sessions)
    for page in (1, 2, 3):
        call("GET", "/sessions", query={"limit": 4, "page": page})
    for sid, stype in agno_seeded.sessions.items():
        for query in ({}, {"type": "agent"}, {"type": "team"}, {"type": "workflow"}):
            call("GET", "/sessions/{session_id}", session_id=sid, query=query)
            call("GET", "/sessions/{session_id}/runs", session_id=sid, query=query)
            call("GET", "/sessions/{session_id}/run-previews", session_id=sid, query=query)
        for run_id in agno_seeded.runs.get(sid, []):
            body = call("GET", "/sessions/{session_id}/runs/{run_id}", session_id=sid, run_id=run_id).get_json()
            assert body["run_id"] == run_id
        call("POST", "/sessions/{session_id}/rename", session_id=sid, json_body={"session_name": f"{stype} ✓"})
        call("PATCH", "/sessions/{session_id}", session_id=sid, json_body={"metadata": {"checked": True}})
        assert call("GET", "/sessions/{session_id}", session_id=sid).status_code == 200


# ---------------------------------------------------------------------------------------------
# ADK's routes, on a database of ADK's (PostgreSQL and SQLite)


@pytest.mark.parametrize("kind", ["pg", "sqlite"])
def test_adk_responses_conform(kind, fresh_url, tmp_path):
    url = fresh_url.render_as_string(hide_password=False) if kind == "pg" else f"sqlite:///{tmp_path / 'adk.db'}"
    application = create_app({"TESTING": True, "SETTINGS": make_settings(url)})
    try:
        both = contracts(application)
        call = Caller(application.test_client(), both)
        sessions = "/apps/{app_name}/users/{user_id}/sessions"
        one = sessions + "/{session_id}"
        for prefix in ("", "/api"):
            ids = {"app_name": "a", "user_id": f"u{len(prefix)}"}
            call("GET", prefix + sessions, **ids)
            call("POST", prefix + sessions, **ids)
            call("POST", prefix + sessions, json_body={"sessionId": "s1", "state": {"k": 1, "app:t": "x"}, "events": [
                {"author": "user", "content": {"role": "user", "parts": [{"text": "hi"}]}}]}, **ids)
            call("POST", prefix + sessions, json_body={"sessionId": "s1"}, **ids)
            call("POST", prefix + sessions, json_body={"events": [{"author": "a", "actions": {"stateDelta": {"x": 1}}}]},
                 **ids)
            call("POST", prefix + sessions, data='{"state": 1}', **ids)
            call("POST", prefix + one, json_body={"x": 1}, session_id="s2", **ids)
            call("GET", prefix + one, session_id="s1", **ids)
            call("GET", prefix + one, session_id="none", **ids)
            call("GET", prefix + sessions, **ids)
            call("PATCH", prefix + one, json_body={"stateDelta": {"k": 2, "temp:x": 1}}, session_id="s1", **ids)
            call("PATCH", prefix + one, json_body={"stateDelta": {}}, session_id="none", **ids)
            call("PATCH", prefix + one, json_body={}, session_id="s1", **ids)
            call("DELETE", prefix + one, session_id="s1", **ids)
            call("DELETE", prefix + one, session_id="s1", **ids)
            call("GET", prefix + sessions, query={"db_id": "nope"}, **ids)
        contract = both[0]
        assert {op for op in contract.all_operations() if "/apps/" in op[1]} - contract.seen == set()
        for expected in [("POST", sessions, "200"), ("POST", sessions, "409"), ("POST", sessions, "400"),
                         ("POST", sessions, "422"), ("GET", one, "404"), ("PATCH", "/api" + one, "200"),
                         ("PATCH", one, "404"), ("PATCH", one, "422"), ("DELETE", one, "200"),
                         ("GET", sessions, "404")]:
            assert expected in contract.statuses, expected
    finally:
        application.extensions["engines"].dispose()
