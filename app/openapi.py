"""`/openapi.json`, generated from our marshmallow schemas with apispec, and `/docs` (Swagger UI).

The document describes every rule of the app's URL map (a rule without a description here is
left out, logged, and fails tests/test_openapi.py): parameters from the request schemas
(app/sessions/schemas.py, whose custom fields are mapped below), bodies, and for each route every
status it can answer with the body it really has (app/sessions/responses_schema.py). It is built
once per app, at its first request, and served from memory.

The document is OpenAPI 3.1.0 (JSON Schema 2020-12: nullable values have a `null` type). The
Swagger UI that swagger-ui-bundle ships (4.15) renders 3.0.x documents only, so
`/openapi.json?version=3.0` serves the same document generated as OpenAPI 3.0.3 (`nullable: true`),
and /docs reads that one.
"""

from __future__ import annotations

import html
import logging
import re
import threading

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Blueprint, Flask, Response, abort, current_app, send_from_directory, url_for
from marshmallow import EXCLUDE, RAISE, Schema, fields
from swagger_ui_bundle import swagger_ui_path

from . import __version__
from .responses import dumps
from .sessions import responses_schema as out
from .sessions.render import RUN_STATUSES
from .sessions.schemas import (BulkDeleteBodySchema, DeleteQuerySchema, RenameBodySchema, RunsQuerySchema,
                               SessionCreateBodySchema, SessionCreateQuerySchema, SessionListQuerySchema,
                               SessionQuerySchema, SessionUpdateBodySchema, SummarySchema)
from .validation import (BaseSchema, BodyDict, BodyList, BodyString, Choice, LaxBoolean, LaxInteger, QueryString,
                         load_request)

log = logging.getLogger(__name__)

bp = Blueprint("openapi", __name__)

# `?version=` of /openapi.json -> the OpenAPI version generated; the first is the default.
OPENAPI_VERSIONS = {"3.1": "3.1.0", "3.0": "3.0.3"}
TITLE = "agno-session-service"
SECURITY_SCHEME = "HTTPBearer"
REQUEST_ID = "X-Request-ID"

# Strings the service refuses with 422 when they hold U+0000 (PostgreSQL text cannot); a path
# segment also cannot hold '/' (a decoded %2F routes elsewhere: 404).
NO_NUL = "^[^\\u0000]*$"
PATH_SEGMENT = "^[^/\\u0000]+$"
# A JSON value stored as jsonb (OpenAPI 3.1 only: 3.0 has no `propertyNames`).
JSON_VALUE = "JsonValue"


def is_30(openapi_version) -> bool:
    return (openapi_version.major, openapi_version.minor) == (3, 0)


def null_schema(openapi_version) -> dict:
    """A schema that only null satisfies (OpenAPI 3.0 has no `type: null`)."""
    return {"type": "object", "nullable": True, "enum": [None]} if is_30(openapi_version) else {"type": "null"}


# ---------------------------------------------------------------------------------------------
# marshmallow -> OpenAPI


class ServiceConverter(OpenAPIConverter):
    def __init__(self, *args, **kwargs):
        # map_to_openapi_type writes into this table; a copy keeps apispec's class-level one as it is.
        self.field_mapping = dict(self.field_mapping)
        super().__init__(*args, **kwargs)

    def field2default(self, field, **kwargs) -> dict:
        """A `load_default=None` means "absent", not a null default: none is shown unless the
        field is nullable."""
        ret = super().field2default(field, **kwargs)
        if ret.get("default", ...) is None and not field.allow_none:
            del ret["default"]
        return ret

    def field2nullable(self, field, ret) -> dict:
        """A nullable alternative (`anyOf`) or, in 3.0, reference gets a null branch (apispec's 3.0
        form of a nullable reference admits any object; it leaves `anyOf` without one)."""
        if field.allow_none:
            if "anyOf" in ret:
                return {"anyOf": [*ret.pop("anyOf"), null_schema(self.openapi_version)]}
            if is_30(self.openapi_version):
                if "$ref" in ret:
                    return {"anyOf": [{"$ref": ret.pop("$ref")}, null_schema(self.openapi_version)]}
                if "allOf" in ret:
                    return {"anyOf": [*ret.pop("allOf"), null_schema(self.openapi_version)]}
        return super().field2nullable(field, ret)


class ServicePlugin(MarshmallowPlugin):
    Converter = ServiceConverter


def _request_field_properties(self, field, ret) -> dict:
    """Constraints of the custom request fields of app/validation.py, as they validate."""
    props: dict = {}
    if isinstance(field, LaxInteger) and field.ge is not None:
        props["minimum"] = field.ge
    if isinstance(field, Choice):
        props["enum"] = [*field.choices, *([None] if field.allow_none else [])]
    if isinstance(field, BodyList):
        props["items"] = self.field2property(field.inner)
        if field.min_length:
            props["minItems"] = field.min_length
    if isinstance(field, QueryString) or (isinstance(field, BodyString) and not field.strip_nul):
        props["pattern"] = NO_NUL
    if isinstance(field, BodyDict) and not is_30(self.openapi_version):
        props.update(json_object())
    return props


def json_object() -> dict:
    """The keywords of an object whose keys, at any depth, hold no U+0000 (BodyDict refuses them)."""
    return {"propertyNames": {"pattern": NO_NUL}, "additionalProperties": ref(JSON_VALUE)}


def any_case(words) -> str:
    """A pattern matching exactly the strings whose Python `upper()` is one of `words` (upper-case
    ASCII): JSON Schema patterns have no case-insensitive flag. Beside each letter's two cases,
    U+0131 (dotless i) upper-cases to I and U+017F (long s) to S; no other character upper-cases
    to one ASCII letter (ß and the ligatures U+FB00-FB06 become two letters, none of which
    follow each other in a run status)."""
    extra = {"I": "\u0131", "S": "\u017f"}
    return "^(?:" + "|".join("".join(f"[{c}{c.lower()}{extra.get(c, '')}]" for c in w) for w in words) + ")$"


def _configure(plugin: ServicePlugin) -> None:
    plugin.map_to_openapi_type(LaxInteger, "integer", None)      # '2', ' 2 ', '+2', '2.0', '1_0'
    plugin.map_to_openapi_type(LaxBoolean, "boolean", None)      # true/false/1/0/yes/no/on/off/t/f/y/n
    plugin.map_to_openapi_type(Choice, "string", None)           # exact, case-sensitive values
    plugin.map_to_openapi_type(QueryString, "string", None)
    plugin.map_to_openapi_type(BodyString, "string", None)
    plugin.map_to_openapi_type(BodyDict, "object", None)         # any JSON object
    plugin.map_to_openapi_type(BodyList, "array", None)
    plugin.converter.add_attribute_function(_request_field_properties)


# ---------------------------------------------------------------------------------------------
# Probe bodies


class HealthSchema(Schema):
    """AgentOS's liveness answer."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, metadata={"enum": ["ok"]})
    instantiated_at = fields.String(required=True, metadata={"format": "date-time",
                                                             "description": "When the app was built (UTC)"})


class HealthzSchema(Schema):
    """Liveness."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, metadata={"enum": ["ok"]})


class DatabaseReadinessSchema(Schema):
    """One database: `unreachable`, or `ok` with its layout."""

    class Meta:
        unknown = EXCLUDE   # an operational report: more keys may be added

    status = fields.String(required=True, metadata={"enum": ["ok", "unreachable"]})
    layout = fields.String(metadata={"description": "`agno3`, `agno3-mixed`, `agno2`, `adk` (only Google ADK's "
                                                    "tables) or `empty`"})
    generation = fields.String(metadata={"description": "Storage rules applied: `agno2` or `agno3`"})
    dialect = fields.String(metadata={"description": "`postgresql` or `sqlite`"})
    runs_table = fields.Boolean(metadata={"description": "`agno_runs` exists"})
    legacy_runs_column = fields.Boolean(metadata={"description": "`agno_sessions.runs` (agno 2.x) exists"})
    sessions_version = fields.String(allow_none=True, metadata={"description": "agno_schema_versions entry"})
    source = fields.String(metadata={"enum": ["configured", "detected"], "description": "Where the layout came from"})
    adk_schema_version = fields.String(metadata={"description": "Google ADK's schema version (`adk_internal_metadata`), "
                                                                "when its tables are there"})


class ReadySchema(Schema):
    """Every configured database answers."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, metadata={"enum": ["ok"]})
    databases = fields.Dict(keys=fields.String(), values=fields.Nested(DatabaseReadinessSchema), required=True,
                            metadata={"description": "Each configured database by `db_id`"})


class NotReadySchema(Schema):
    """Some database does not answer, or none is configured."""

    class Meta:
        unknown = RAISE

    detail = fields.String(required=True, metadata={"description": "Which databases do not answer"})
    databases = fields.Dict(keys=fields.String(), values=fields.Nested(DatabaseReadinessSchema), required=True)


class DocumentQuerySchema(BaseSchema):
    version = Choice(tuple(OPENAPI_VERSIONS), load_default=next(iter(OPENAPI_VERSIONS)), metadata={
        "description": "`3.1`: OpenAPI 3.1.0; `3.0`: the same document as OpenAPI 3.0.3 (for tools that read "
                       "only 3.0, such as the Swagger UI of /docs)"})


_document_query = DocumentQuerySchema()


# Registered first, leaves before the schemas that nest them, so every $ref has its description.
COMPONENT_SCHEMAS = (
    out.ErrorSchema, out.ValidationErrorItemSchema, out.ValidationErrorSchema,
    out.SessionListItemSchema, out.PageMetaSchema, out.SessionListSchema,
    out.SessionSummarySchema, out.ChatMessageSchema,
    out.AgentSessionDetailSchema, out.TeamSessionDetailSchema, out.WorkflowSessionDetailSchema,
    out.InputMediaSchema, out.AgentRunSchema, out.TeamRunSchema, out.WorkflowRunSchema, out.RunPreviewSchema,
    HealthSchema, HealthzSchema, DatabaseReadinessSchema, ReadySchema, NotReadySchema,
)
DETAILS = (out.AgentSessionDetailSchema, out.TeamSessionDetailSchema, out.WorkflowSessionDetailSchema)
RUNS = (out.AgentRunSchema, out.TeamRunSchema, out.WorkflowRunSchema)
BODIES = (SessionCreateBodySchema, SessionUpdateBodySchema, RenameBodySchema, BulkDeleteBodySchema)


def component_name(schema_cls) -> str:
    name = schema_cls.__name__
    return name[:-len("Schema")] if name.endswith("Schema") else name


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _doc(obj) -> str:
    return " ".join((obj.__doc__ or "").split())


def _register_schemas(spec: APISpec) -> None:
    for cls in COMPONENT_SCHEMAS:
        spec.components.schema(component_name(cls), component={"description": _doc(cls)} if cls.__doc__ else None,
                               schema=cls)
    # The routes that emit nulls (PATCH, rename, single run) emit every key of their schema.
    for cls in (*DETAILS, *RUNS):
        name = component_name(cls)
        missing_in_agno2 = out.AGNO2_MISSING_RUN_KEYS.get(cls, ())
        keys = [k for k in cls().fields if k not in missing_in_agno2]
        note = (f" Left out on a legacy (agno 2.x) database, whose runs have no such fields: "
                f"{', '.join(f'`{k}`' for k in missing_in_agno2)}." if missing_in_agno2 else "")
        spec.components.schema(f"{name}AllFields", {
            "description": f"{name} with every key present, null values included.{note}",
            "allOf": [ref(name)], "required": keys})
    spec.components.schema("SessionDetail", {
        "description": "A session in the schema of its type: the `type` requested, else the stored one.",
        "oneOf": [ref(component_name(c)) for c in DETAILS]})
    spec.components.schema("SessionDetailAllFields", {
        "description": "SessionDetail with every key present, null values included.",
        "oneOf": [ref(f"{component_name(c)}AllFields") for c in DETAILS]})
    spec.components.schema("Run", {
        "description": "A run, in the schema its session's type gives it: workflow runs of workflow sessions "
                       "as WorkflowRun; team runs (`team_id`) as TeamRun; every other run as AgentRun.",
        "oneOf": [ref(component_name(c)) for c in RUNS]})
    spec.components.schema("RunAllFields", {
        "description": "One run in the schema its own ids give it (`workflow_id`: WorkflowRun; else `team_id`: "
                       "TeamRun; else AgentRun), every key present, null values included.",
        "oneOf": [ref(f"{component_name(c)}AllFields") for c in RUNS]})
    # Request bodies. The PATCH `summary` is checked by the route against SummarySchema: only its
    # keys (another one is a 422), `summary` required, `updated_at` ISO 8601.
    if not is_30(spec.openapi_version):
        spec.components.schema(JSON_VALUE, {
            "description": "Any JSON value, stored as jsonb: object keys, at any depth, must not contain U+0000 "
                           "(jsonb cannot hold it: 422 `json_no_nul`); U+0000 is removed from string values; "
                           "nesting deeper than 250 levels is refused (422 `json_too_deep`).",
            **json_object(), "items": ref(JSON_VALUE)})
    for cls in BODIES:
        spec.components.schema(component_name(cls), schema=cls)
    summary = plugin_converter(spec).schema2jsonschema(SummarySchema)
    summary["additionalProperties"] = False
    summary["properties"]["updated_at"]["format"] = "date-time"
    if not is_30(spec.openapi_version):
        for name in ("summary", "topics"):   # stored inside the summary's jsonb as given
            summary["properties"][name].update(ref(JSON_VALUE))
    summary["description"] = ("A session summary. `summary` is required; `updated_at` is parsed with Python's "
                              "`datetime.fromisoformat`; any other key is refused with 422.")
    spec.components.schema("SessionSummaryInput", summary)
    from .adk import openapi_doc as adk_doc

    adk_doc.register_schemas(spec, is_30(spec.openapi_version))
    update = spec.components.schemas[component_name(SessionUpdateBodySchema)]["properties"]
    update["summary"] = {"description": update["summary"].get("description", ""),
                         "anyOf": [ref("SessionSummaryInput"), null_schema(spec.openapi_version)]}


def plugin_converter(spec: APISpec) -> ServiceConverter:
    return next(p for p in spec.plugins if isinstance(p, ServicePlugin)).converter


# ---------------------------------------------------------------------------------------------
# Responses


def _headers() -> dict:
    return {REQUEST_ID: REQUEST_ID}


def _json(description: str, schema) -> dict:
    return {"description": description, "headers": _headers(), "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(description, out.ErrorSchema)


def _no_content(description: str) -> dict:
    return {"description": description, "headers": _headers()}


UNAUTHORIZED = ("`OS_SECURITY_KEY` is set and the request has no `Authorization` header (`Authorization header "
                "required`) or the wrong key (`Invalid authentication token`)")
DB_400 = ("`table` without `db_id`, or no `db_id` while several databases are configured (and none is the "
          "explicit default); or a body that is not UTF-8 (`There was an error parsing the body`)")
DB_404 = "No database with this `db_id` (`No database found with id '…'`), or it has no such `table`"
STATUS_422 = ("Validation failed: every failed check of the query, path and body, in FastAPI's list format")


def _db_errors(secured: bool, *, bad_request: str = "", not_found: str = "", unavailable: str = "") -> dict:
    """The statuses every database route can answer with, beside its own."""
    responses = {
        "400": _error(DB_400 + (f"; {bad_request}" if bad_request else "")),
        "404": _error((f"{not_found}; or: " if not_found else "") + DB_404),
        "413": _error("The body is larger than `AGNO_MAX_BODY_BYTES` (`Request body too large`)"),
        "422": _json(STATUS_422, out.ValidationErrorSchema),
        "500": _error("Unexpected failure (`Internal server error`; the cause is logged)"),
        "503": _error((f"{unavailable}; or: " if unavailable else "")
                      + "the database is unreachable or busy (`Database unavailable`, `Database is busy, try "
                        "again later`), or none is configured"),
        "504": _error("A statement ran longer than `AGNO_STATEMENT_TIMEOUT_MS` (`Database statement timed out`)"),
    }
    if secured:
        responses["401"] = _error(UNAUTHORIZED)
    return dict(sorted(responses.items()))


# ---------------------------------------------------------------------------------------------
# Operations, by endpoint


def _path_param(name: str, description: str, pattern: str | None = PATH_SEGMENT) -> dict:
    schema = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {"in": "path", "name": name, "required": True, "description": description, "schema": schema}


SESSION_ID = "Session id"
SESSION_ID_NO_CHECK = "Session id (a U+0000 is not refused here: nothing matches it, 204)"


def _json_body(schema, description: str, *, required: bool) -> dict:
    return {"required": required, "description": description, "content": {"application/json": {"schema": schema}}}


def _operations(spec: APISpec, secured: bool) -> dict[str, tuple[str, dict]]:
    """`endpoint -> (method, operation)` for every route this service has."""
    conv = plugin_converter(spec)

    def query(schema_cls) -> list[dict]:
        params = conv.schema2parameters(schema_cls, location="query")
        for param in params:
            # A query string cannot carry null: leaving the parameter out is how a client gives
            # no value (`load_default=None` makes marshmallow's field nullable).
            schema = param["schema"]
            schema.pop("nullable", None)
            if isinstance(schema.get("type"), list):
                types = [t for t in schema["type"] if t != "null"]
                schema["type"] = types[0] if len(types) == 1 else types
            if "default" in schema and schema["default"] is None:
                del schema["default"]
            if "enum" in schema:
                schema["enum"] = [v for v in schema["enum"] if v is not None]
            if param["name"] == "table":
                param["description"] += (". Requires `db_id`: without it the answer is 400 (`The db_id query "
                                         "parameter is required when passing a table`), as AgentOS")
        return params

    def session_op(summary_from, params, responses, *, body=None, description="") -> dict:
        op = {"tags": ["sessions"], "summary": summary_from, "parameters": [*params, "RequestId"],
              "responses": responses}
        if description:
            op["description"] = description
        if body is not None:
            op["requestBody"] = body
        return op

    list_params = query(SessionListQuerySchema)
    for param in list_params:
        if param["name"] == "page":
            # The schema admits 0 (AgentOS's declaration) but the route refuses it with 422, as
            # AgentOS answers it with a 500 (contract §5.1).
            param["schema"]["minimum"] = 1
    status_param = {
        "in": "query", "name": "status", "required": False, "style": "form", "explode": True,
        "description": f"Keep only runs with these statuses (repeatable): {', '.join(RUN_STATUSES)}, in any letter "
                       "case (compared upper-cased, as AgentOS). Another value is a 400.",
        "schema": {"type": "array", "items": {"type": "string", "pattern": any_case(RUN_STATUSES)}}}
    session_id = _path_param("session_id", SESSION_ID)

    ops = {
        "sessions.list_sessions": ("get", session_op(
            "List sessions", list_params,
            {"200": _json("A page of sessions, sorted and paged in SQL", out.SessionListSchema),
             **_db_errors(secured)},
            description="Filters combine with AND. `component_id` matches the agent, team or workflow id "
                        "(the one of `type` when given); `session_name` is a case-insensitive substring match "
                        "on stored names only. An unknown `sort_by` column leaves the order unspecified.")),
        "sessions.create_session": ("post", session_op(
            "Create a session", query(SessionCreateQuerySchema),
            {"201": _json("The new session, in the schema of `type`; null fields left out", ref("SessionDetail")),
             "409": _error("A session with this `session_id` exists, whatever its type or user (`Session with id "
                           "'…' already exists. Use PATCH /sessions/… to update it.`)"),
             **_db_errors(secured)},
            body=_json_body(SessionCreateBodySchema, "All fields optional; an absent body creates an empty session "
                            "with a new id. Only the id field of `type` is stored.", required=False),
            description="Never overwrites: an existing id is a 409. Creates agno's tables in an empty database.")),
        "sessions.delete_sessions": ("delete", session_op(
            "Delete several sessions", query(DeleteQuerySchema),
            {"204": _no_content("Deleted (also when some or all ids did not exist)"),
             **_db_errors(secured, bad_request="`session_ids` and `session_types` differ in length",
                          unavailable="`delete_media=true` (`Media storage is not configured on AgentOS`)")},
            body=_json_body(BulkDeleteBodySchema, "The ids, and one type per id (validated, not used): the two "
                            "lists must have the same length, else 400 (`Session IDs and session types must have "
                            "the same length`)", required=True))),
        "sessions.get_session": ("get", session_op(
            "Get a session", [session_id, *query(SessionQuerySchema)],
            {"200": _json("The session with its chat history, in the schema of `type` (else of its stored type); "
                          "null fields left out", ref("SessionDetail")),
             **_db_errors(secured, not_found="No such session (`Session with id '…' not found`, or `<Type> Session "
                                             "with id '…' not found` with `type`)")})),
        "sessions.update_session": ("patch", session_op(
            "Update a session", [session_id, *query(SessionQuerySchema)],
            {"200": _json("The updated session in the schema of its stored type, every key present",
                          ref("SessionDetailAllFields")),
             **_db_errors(secured, not_found="No such session (`Session with id '…' not found`)")},
            body=_json_body(SessionUpdateBodySchema, "The fields to change; null or absent ones stay as they are",
                            required=True))),
        "sessions.delete_session": ("delete", session_op(
            "Delete a session and its runs", [_path_param("session_id", SESSION_ID_NO_CHECK, None),
                                              *query(DeleteQuerySchema)],
            {"204": _no_content("Deleted (also when it did not exist or belongs to another user)"),
             **_db_errors(secured, unavailable="`delete_media=true` (`Media storage is not configured on "
                                               "AgentOS`)")})),
        "sessions.get_session_runs": ("get", session_op(
            "List a session's runs", [session_id, *query(RunsQuerySchema), status_param],
            {"200": _json("The runs, oldest first, as a bare array; null fields left out",
                          {"type": "array", "items": ref("Run")}),
             **_db_errors(secured, bad_request="an unknown `status` value (`Invalid status value(s) [...]; "
                                               "expected one of [...]`)",
                          not_found="No such session (`Session with ID … not found`)")},
            description="`created_after` and `created_before` (epoch seconds, inclusive) compare with each "
                        "run's own `created_at`; runs without one are kept.")),
        "sessions.get_session_run_previews": ("get", session_op(
            "Preview a session's runs", [session_id, *query(RunsQuerySchema), status_param],
            {"200": _json("One preview per run (first 280 characters of input and output)",
                          {"type": "array", "items": ref("RunPreview")}),
             **_db_errors(secured, bad_request="an unknown `status` value",
                          not_found="No such session (`Session with ID … not found`)")})),
        "sessions.get_session_run": ("get", session_op(
            "Get one run", [session_id, _path_param("run_id", "Run id"), *query(SessionQuerySchema)],
            {"200": _json("The run, every key present (`type` is validated, then ignored)", ref("RunAllFields")),
             **_db_errors(secured, not_found="No such session (`Session with ID … not found`), a session without "
                                             "runs (`… has no runs`) or no such run (`Run with ID … not found in "
                                             "session …`)")})),
        "sessions.rename_session": ("post", session_op(
            "Rename a session", [session_id, *query(SessionQuerySchema)],
            {"200": _json("The renamed session, in the schema of `type` (else of its stored type), every key "
                          "present", ref("SessionDetailAllFields")),
             **_db_errors(secured, not_found="No such session, or (with `type`) not of that type (`Session with "
                                             "id '…' not found`)")},
            body=_json_body(RenameBodySchema, "The new name (U+0000 characters are removed)", required=True))),
        "sessions.get_session_media": ("get", {
            "tags": ["sessions"], "summary": "Get offloaded media",
            "description": "This service has no media storage: always 503, as AgentOS without one.",
            "parameters": [_path_param("session_id", SESSION_ID, None),
                           _path_param("storage_key", "Storage key (may contain `/`)", None), "RequestId"],
            "responses": {"503": _error("`Media storage is not configured on AgentOS`"),
                          **({"401": _error(UNAUTHORIZED)} if secured else {})}}),
    }

    def public(summary, description, responses, tag="probes") -> dict:
        return {"tags": [tag], "summary": summary, "description": description, "security": [],
                "parameters": ["RequestId"], "responses": responses}

    def documentation(summary, responses, params=(), tag="documentation", description="") -> dict:
        op = {"tags": [tag], "summary": summary, "parameters": [*params, "RequestId"], "responses": responses}
        if description:
            op["description"] = description
        if secured:
            op["responses"]["401"] = _error(UNAUTHORIZED)
        return op

    ops.update({
        "health.health": ("get", public(
            "Liveness (AgentOS's probe)", "No database involved; no key needed.",
            {"200": _json("Alive", HealthSchema)})),
        "health.healthz": ("get", public(
            "Liveness", "No database involved; no key needed.", {"200": _json("Alive", HealthzSchema)})),
        "health.readyz": ("get", public(
            "Readiness", "Reaches every configured database and reports its layout; no key needed.",
            {"200": _json("Every database answers", ReadySchema),
             "503": _json("A database does not answer (the reason is logged), none is configured, or the "
                          "process is shutting down (the drain after SIGTERM: `Shutting down`)",
                          NotReadySchema)})),
        "metrics.metrics": ("get", documentation(
            "Prometheus metrics",
            {"200": {"description": "Metrics (`agno_session_*`)", "headers": _headers(),
                     "content": {"text/plain": {"schema": {"type": "string"}}}}}, tag="operations",
            description="Text exposition format, aggregated over every gunicorn worker. Needs the key when "
                        "`OS_SECURITY_KEY` is set (a Prometheus scrape job sends it with `authorization: "
                        "{credentials: <key>}`).")),
        "openapi.openapi_document": ("get", documentation(
            "This OpenAPI document",
            {"200": _json("The document", {"type": "object", "additionalProperties": True}),
             "400": _error("A body that is not UTF-8"),
             "413": _error("The body is larger than `AGNO_MAX_BODY_BYTES`"),
             "422": _json("Another `version`", out.ValidationErrorSchema)},
            params=query(DocumentQuerySchema))),
        "openapi.docs": ("get", documentation(
            "API documentation (Swagger UI)",
            {"200": {"description": "The page", "headers": _headers(),
                     "content": {"text/html": {"schema": {"type": "string"}}}}})),
        "openapi.docs_initializer": ("get", documentation(
            "Swagger UI start-up script of /docs",
            {"200": {"description": "The script", "headers": _headers(),
                     "content": {"text/javascript": {"schema": {"type": "string"}}}}})),
        "openapi.docs_asset": ("get", documentation(
            "Swagger UI files of /docs",
            {"200": {"description": "The file (script, style sheet, image or source map)", "headers": _headers(),
                     "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
             "404": _error("No such file (`Not Found`)")},
            params=[_path_param("filename", "File name", None)])),
    })
    from .adk import openapi_doc as adk_doc

    v30 = is_30(spec.openapi_version)
    ops.update(adk_doc.operations(_json, _error, _db_errors, _path_param, null_schema(spec.openapi_version),
                                  secured, v30))
    return ops


# ---------------------------------------------------------------------------------------------
# The document


_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by the CORS/HEAD handling in app/http.py


def openapi_path(rule: str) -> str:
    """`/sessions/<session_id>/media/<path:storage_key>` -> `/sessions/{session_id}/media/{storage_key}`."""
    return _CONVERTER.sub(r"{\1}", rule)


def build_document(app: Flask, openapi_version: str = OPENAPI_VERSIONS["3.1"]) -> dict:
    """The OpenAPI document of `app`: one operation per (rule, method) of its URL map."""
    secured = bool(app.config["SETTINGS"].security_key)
    options = {"info": {"description": "agno AgentOS's `/sessions` API served from agno's own tables, and Google "
                                       "ADK's session API from ADK's, with probes, metrics and this "
                                       "documentation."},
               "tags": [{"name": "sessions", "description": "AgentOS's session routes"},
                        {"name": "adk", "description": "Google ADK's session routes (also under `/api`), over "
                                                       "ADK's DatabaseSessionService tables"},
                        {"name": "probes", "description": "Liveness and readiness"},
                        {"name": "operations", "description": "Monitoring"},
                        {"name": "documentation", "description": "This document and its viewer"}]}
    if secured:
        options["security"] = [{SECURITY_SCHEME: []}]
    plugin = ServicePlugin()
    spec = APISpec(title=TITLE, version=__version__, openapi_version=openapi_version, plugins=[plugin], **options)
    _configure(plugin)
    if secured:
        spec.components.security_scheme(SECURITY_SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "`Authorization: Bearer <OS_SECURITY_KEY>` (the scheme word may be left out)"})
    spec.components.header(REQUEST_ID, {
        "description": "The request's id: the client's `X-Request-ID` when it is 1-128 characters of letters, "
                       "digits and `._:/+=@-`, else a generated one. Also on every log line of the request.",
        "required": True, "schema": {"type": "string"}})
    spec.components.parameter("RequestId", "header", {
        "name": REQUEST_ID, "required": False, "schema": {"type": "string"},
        "description": "An id to correlate logs with (1-128 characters of letters, digits and `._:/+=@-`); "
                       "another value is replaced by a generated id, not refused"})
    _register_schemas(spec)
    operations = _operations(spec, secured)

    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            described = operations.get(rule.endpoint)
            if described is None or described[0] != method.lower():
                log.warning("route without OpenAPI description", extra={"rule": rule.rule, "method": method})
                continue
            op = dict(described[1])
            op.setdefault("operationId", rule.endpoint.split(".")[-1])
            view = app.view_functions.get(rule.endpoint)
            if "description" not in op and view is not None and view.__doc__:
                op["description"] = _doc(view)
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = op
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


_build_lock = threading.Lock()


def _cached(app: Flask, version: str) -> tuple[dict, bytes]:
    """The document of `version` (a key of OPENAPI_VERSIONS), built at its first request and kept
    (the URL map is complete by then), with its JSON: it does not change while the app lives."""
    built = app.extensions.setdefault("openapi", {})
    if version not in built:
        with _build_lock:
            if version not in built:
                doc = build_document(app, OPENAPI_VERSIONS[version])
                built[version] = (doc, dumps(doc))
    return built[version]


def document(app: Flask, version: str = "3.1") -> dict:
    """The app's OpenAPI document (`version`: "3.1" or "3.0")."""
    return _cached(app, version)[0]


# ---------------------------------------------------------------------------------------------
# Routes


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document of this service, generated from its marshmallow schemas."""
    q, _ = load_request(_document_query)
    return Response(_cached(current_app, q["version"])[1], mimetype="application/json")


# Swagger UI's own files; its index.html and initializer are replaced by the two views below.
ASSET_SUFFIXES = (".js", ".css", ".png", ".map")
INITIALIZER = "swagger-initializer.js"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} {version}: API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

# Kept out of the page (no inline script), so a Content-Security-Policy of 'self' allows it.
_INITIALIZER_JS = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


@bp.get("/docs")
def docs():
    """Swagger UI over /openapi.json (its 3.0 form), from the swagger-ui-bundle package's files (no CDN)."""
    def asset(name):
        return html.escape(url_for("openapi.docs_asset", filename=name))

    page = _PAGE.format(title=html.escape(TITLE), version=html.escape(__version__),
                        css=asset("swagger-ui.css"), icon=asset("favicon-32x32.png"),
                        bundle=asset("swagger-ui-bundle.js"),
                        init=html.escape(url_for("openapi.docs_initializer")),
                        spec=html.escape(url_for("openapi.openapi_document", version="3.0")))
    return Response(page, mimetype="text/html")


@bp.get(f"/docs/{INITIALIZER}")
def docs_initializer():
    """Starts Swagger UI on the page's element, pointed at the document URL the page names."""
    return Response(_INITIALIZER_JS, mimetype="text/javascript")


@bp.get("/docs/<path:filename>")
def docs_asset(filename):
    """A file of Swagger UI's distribution."""
    if not filename.endswith(ASSET_SUFFIXES) or "/" in filename:
        abort(404)
    return send_from_directory(str(swagger_ui_path), filename)
