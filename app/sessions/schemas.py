"""Query and body schemas of the session routes, in AgentOS's parameter order (contract §1.2)."""

from marshmallow import fields

from ..validation import (REQUIRED, BaseSchema, BodyDict, BodyList, BodyString, Choice, LaxBoolean,
                          LaxInteger, QueryString)
from .render import SESSION_TYPES

SORT_ORDERS = ("asc", "desc")


def _type(**kwargs):
    return Choice(SESSION_TYPES, metadata={"description": "Session type: agent, team or workflow"}, **kwargs)


def _db_id():
    return fields.String(load_default=None, metadata={"description": "Database id (see GET /config of AgentOS)"})


def _table():
    return fields.String(load_default=None, metadata={"description": "Table name; only validated, never switched"})


def _null_is(type_, msg):
    return {"type": type_, "msg": msg}


class SessionListQuerySchema(BaseSchema):
    type = _type(load_default=None)
    component_id = QueryString(load_default=None,
                               metadata={"description": "Agent, team or workflow id (the one of `type` when given)"})
    user_id = QueryString(load_default=None, metadata={"description": "Only sessions of this user"})
    session_name = QueryString(load_default=None,
                               metadata={"description": "Case-insensitive substring of the stored name (a LIKE pattern)"})
    limit = LaxInteger(ge=1, load_default=20, metadata={"description": "Sessions per page"})
    page = LaxInteger(ge=0, load_default=1, metadata={"description": "Page number, from 1"})
    sort_by = fields.String(load_default="created_at",
                            metadata={"description": "Column to sort by; another value leaves the order unspecified"})
    sort_order = Choice(SORT_ORDERS, load_default="desc", metadata={"description": "`asc` or `desc`"})
    db_id = _db_id()
    table = _table()


class SessionCreateQuerySchema(BaseSchema):
    type = _type(load_default="agent")
    db_id = _db_id()


class SessionCreateBodySchema(BaseSchema):
    session_id = BodyString(load_default=None, allow_none=True,
                            metadata={"description": "Id of the new session; a new UUID when absent or empty"})
    session_name = BodyString(strip_nul=True, load_default=None, allow_none=True, metadata={"description": "Session name"})
    session_state = BodyDict(load_default=None, allow_none=True, metadata={"description": "Initial session state"})
    metadata = BodyDict(load_default=None, allow_none=True,
                        metadata={"description": "Metadata (agno's reserved keys are removed)"})
    user_id = BodyString(load_default=None, allow_none=True, metadata={"description": "Owner"})
    agent_id = BodyString(load_default=None, allow_none=True, metadata={"description": "Agent id (agent sessions)"})
    team_id = BodyString(load_default=None, allow_none=True, metadata={"description": "Team id (team sessions)"})
    workflow_id = BodyString(load_default=None, allow_none=True, metadata={"description": "Workflow id (workflow sessions)"})


class SessionQuerySchema(BaseSchema):
    """`type`, `user_id`, `db_id`, `table`: detail, rename and PATCH."""

    type = _type(load_default=None)
    user_id = QueryString(load_default=None, metadata={"description": "Only a session of this user"})
    db_id = _db_id()
    table = _table()


class RunsQuerySchema(BaseSchema):
    type = _type(load_default=None)
    user_id = QueryString(load_default=None, metadata={"description": "Only a session of this user"})
    created_after = LaxInteger(load_default=None,
                               metadata={"description": "Only runs created at or after this time (epoch seconds)"})
    created_before = LaxInteger(load_default=None,
                                metadata={"description": "Only runs created at or before this time (epoch seconds)"})
    db_id = _db_id()
    table = _table()


class DeleteQuerySchema(BaseSchema):
    user_id = QueryString(load_default=None, metadata={"description": "Only sessions of this user"})
    db_id = _db_id()
    table = _table()
    delete_media = LaxBoolean(load_default=False,
                              metadata={"description": "Also delete offloaded media (no media storage here: 503)"})


class RenameBodySchema(BaseSchema):
    # Rename strips NUL from the name, as AgentOS does (contract §2.8, #252).
    session_name = BodyString(strip_nul=True, required=True, metadata={"description": "The new name"}, error_messages={
        **REQUIRED, "null": [_null_is("string_type", "Input should be a valid string")]})


class SummarySchema(BaseSchema):
    # agno builds its SessionSummary without checking types: `summary` and `topics` are stored
    # as given; only `updated_at` is parsed (a non-string one is its 500, our 422).
    summary = fields.Raw(required=True, allow_none=True, error_messages=REQUIRED, metadata={"description": "The summary"})
    topics = fields.Raw(load_default=None, allow_none=True, metadata={"description": "Topics"})
    updated_at = BodyString(load_default=None, allow_none=True, metadata={"description": "When it was written (ISO 8601)"})


class SessionUpdateBodySchema(BaseSchema):
    session_name = BodyString(strip_nul=True, load_default=None, allow_none=True, metadata={"description": "New name"})
    session_state = BodyDict(load_default=None, allow_none=True, metadata={"description": "New session state (replaces it)"})
    metadata = BodyDict(load_default=None, allow_none=True, metadata={"description": "New metadata (replaces it)"})
    summary = BodyDict(load_default=None, allow_none=True,
                       metadata={"description": "New summary: `summary`, optional `topics` and `updated_at`"})


LIST_REQUIRED = {**REQUIRED, "null": [_null_is("list_type", "Input should be a valid list")]}


class BulkDeleteBodySchema(BaseSchema):
    session_ids = BodyList(BodyString(), min_length=1, required=True, error_messages=LIST_REQUIRED,
                           metadata={"description": "Ids of the sessions to delete"})
    session_types = BodyList(Choice(SESSION_TYPES), min_length=1, required=True, error_messages=LIST_REQUIRED,
                             metadata={"description": "One type per id (validated, not used)"})
