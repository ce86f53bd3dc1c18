"""The OpenAPI description of ADK's session routes (used by app/openapi.py)."""

from __future__ import annotations

ROUTES = ("create_session", "create_session_with_id", "get_session", "list_sessions", "update_session",
          "delete_session")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_: str, v30: bool, **rest) -> dict:
    """A schema of `type_` or null, in OpenAPI 3.1 (`type` list) or 3.0 (`nullable`)."""
    return {"type": type_, "nullable": True, **rest} if v30 else {"type": [type_, "null"], **rest}


def register_schemas(spec, v30: bool) -> None:
    spec.components.schema("AdkEvent", {
        "description": "An ADK event as ADK's api_server shows it: its fields in camelCase (the keys of free-form "
                       "objects such as `stateDelta`, function call `args` or `response` as stored), null fields "
                       "left out, ADK's internal `customMetadata` keys removed. Events are stored in "
                       "`events.event_data` as ADK stores them (snake_case).",
        "type": "object", "additionalProperties": True,
        "required": ["id", "invocationId", "author", "actions", "timestamp"],
        "properties": {
            "id": {"type": "string"}, "invocationId": {"type": "string"}, "author": {"type": "string"},
            "timestamp": {"type": "number", "description": "Epoch seconds"},
            "content": {"type": "object", "additionalProperties": True,
                        "description": "`{role, parts: [{text} | {functionCall} | {functionResponse} | …]}`"},
            "actions": {"type": "object", "additionalProperties": True,
                        "description": "`stateDelta`, `artifactDelta`, `requestedAuthConfigs`, "
                                       "`requestedToolConfirmations`, and the optional others"},
            "branch": {"type": "string"}, "partial": {"type": "boolean"}, "turnComplete": {"type": "boolean"},
            "errorCode": {"type": "string"}, "errorMessage": {"type": "string"},
            "longRunningToolIds": {"type": "array", "items": {"type": "string"}},
            "customMetadata": {"type": "object", "additionalProperties": True},
        }})
    spec.components.schema("AdkSession", {
        "description": "An ADK session: `state` merges the session's own keys with its app's (`app:` prefix) and "
                       "user's (`user:` prefix) state.",
        "type": "object", "additionalProperties": False,
        "required": ["id", "appName", "userId", "state", "events", "lastUpdateTime"],
        "properties": {
            "id": {"type": "string"}, "appName": {"type": "string"}, "userId": {"type": "string"},
            "state": {"type": "object", "additionalProperties": True},
            "events": {"type": "array", "items": ref("AdkEvent"),
                       "description": "Oldest first; always empty in the list"},
            "lastUpdateTime": {"type": "number", "description": "Epoch seconds of the last change"},
        }})
    spec.components.schema("AdkCreateSessionRequest", {
        "description": "Every field optional, in camelCase or snake_case (`sessionId` or `session_id`).",
        "type": "object", "additionalProperties": True,
        "properties": {
            "sessionId": nullable("string", v30, description="The id; a new uuid4 when absent"),
            "state": nullable("object", v30, additionalProperties=True,
                              description="Initial state: `app:` and `user:` keys go to the app's and user's "
                                          "state, `temp:` keys are dropped"),
            "events": nullable("array", v30, items={"type": "object", "additionalProperties": True},
                               description="Events appended in order after creation; ADK-generated ones "
                                           "(actions, long-running tool ids, ADK's own function calls) are "
                                           "refused with 400"),
            "options": nullable("object", v30, additionalProperties=True,
                                description="Session service options: none is supported (400 when given)"),
        }})
    spec.components.schema("AdkUpdateSessionRequest", {
        "description": "`stateDelta` (or `state_delta`) is required.",
        "type": "object", "additionalProperties": True, "required": ["stateDelta"],
        "properties": {"stateDelta": {"type": "object", "additionalProperties": True}}})


def operations(json_response, error, db_errors, path_param, null_schema, secured: bool,
               v30: bool) -> dict[str, tuple[str, dict]]:
    """`endpoint -> (method, operation)` for the routes without and with the `/api` prefix."""
    app_name = path_param("app_name", "ADK app name", None)
    user_id = path_param("user_id", "User id", None)
    session_id = path_param("session_id", "Session id", None)
    db_id = {"in": "query", "name": "db_id", "required": False, "schema": {"type": "string"},
             "description": "The configured database to use (required when several are configured and none is "
                            "the explicit default)"}
    family = "the database holds agno's tables, not ADK's (`Database '…' holds agno sessions, not Google ADK " \
             "sessions: …`)"
    session = json_response("The session", ref("AdkSession"))
    not_found = "No such session for this app and user (`Session not found`); or " + family
    create_errors = db_errors(secured, bad_request="an initialization event ADK would generate itself (`Session "
                                                   "initialization event N cannot include …`) or `options`",
                              not_found=family)
    create_errors["409"] = error("The session exists (`Session already exists: …`)")

    def op(summary, params, responses, body=None, description="") -> dict:
        out = {"tags": ["adk"], "summary": summary, "parameters": [*params, db_id, "RequestId"],
               "responses": dict(sorted(responses.items()))}
        if description:
            out["description"] = description
        if body is not None:
            out["requestBody"] = body
        return out

    def body(name, description, required):
        return {"required": required, "description": description,
                "content": {"application/json": {"schema": ref(name)}}}

    ops = {
        "create_session": ("post", op(
            "Create an ADK session", [app_name, user_id], {"200": session, **create_errors},
            {"required": False, "description": "Optional: an absent or `null` body creates an empty session",
             "content": {"application/json": {"schema": {"anyOf": [ref("AdkCreateSessionRequest"), null_schema]}}}},
            "Creates ADK's tables in an empty database.")),
        "create_session_with_id": ("post", op(
            "Create an ADK session with this id (deprecated by ADK)", [app_name, user_id, session_id],
            {"200": session, **create_errors},
            {"required": False, "description": "The whole body is the initial state",
             "content": {"application/json": {"schema": nullable("object", v30, additionalProperties=True)}}})),
        "get_session": ("get", op(
            "Get an ADK session with its events", [app_name, user_id, session_id],
            {"200": session, **db_errors(secured, not_found=not_found)})),
        "list_sessions": ("get", op(
            "List a user's ADK sessions of an app", [app_name, user_id],
            {"200": json_response("The sessions, least recently updated first, without events (ADK's evaluation "
                                  "sessions left out)", {"type": "array", "items": ref("AdkSession")}),
             **db_errors(secured, not_found=family)})),
        "update_session": ("patch", op(
            "Change an ADK session's state", [app_name, user_id, session_id],
            {"200": json_response("The session with the state event appended; `temp:` keys show in this "
                                  "answer only", ref("AdkSession")),
             **db_errors(secured, not_found=not_found)},
            body("AdkUpdateSessionRequest", "The keys to set", True),
            "Recorded as an event by `user` with invocation id `p-<uuid4>`, as ADK records it.")),
        "delete_session": ("delete", op(
            "Delete an ADK session and its events", [app_name, user_id, session_id],
            {"200": json_response("Always `null`, also when there was no such session", null_schema),
             **db_errors(secured, not_found=family)})),
    }
    out = {}
    for name, (method, operation) in ops.items():
        out[f"adk.{name}"] = (method, {**operation, "operationId": f"adk_{name}"})
        out[f"adk_api.{name}"] = (method, {**operation, "operationId": f"adk_api_{name}"})
    return out
