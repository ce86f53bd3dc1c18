"""marshmallow fields and loaders that validate like AgentOS (FastAPI + pydantic, lax mode).

Every field error is one FastAPI-style item (`type`, `msg`, optional `ctx`); `load_request`
adds `loc` and `input` and gathers query and body errors into a single 422 (contract §1.2).
"""

from __future__ import annotations

import json
import math
import re

from flask import request
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import BadRequest, RequestValidationError

NUL = "\x00"


def item(type_: str, msg: str, ctx: dict | None = None, loc: tuple = ()) -> dict:
    out = {"type": type_, "msg": msg}
    if ctx is not None:
        out["ctx"] = ctx
    if loc:
        out["_loc"] = list(loc)
    return out


def fail(type_: str, msg: str, ctx: dict | None = None, loc: tuple = ()):
    raise ValidationError([item(type_, msg, ctx, loc)])


def enum_words(choices) -> str:
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_no_nul(value: str):
    # PostgreSQL text cannot hold U+0000; agno answers 500 DataError here (contract §5.4).
    if NUL in value:
        fail("string_no_nul", "String should not contain NUL (\\u0000) characters")


# ASCII digits only ('１２' is not a number to pydantic), surrounded by the whitespace pydantic
# strips: Unicode White_Space, which, unlike Python's str.isspace, excludes U+001C..U+001F.
_INT_RE = re.compile(r"^[^\S\x1c-\x1f]*([+-]?)([0-9]+(?:_[0-9]+)*)(?:\.0+)?[^\S\x1c-\x1f]*$")
# pydantic refuses integers of more than 4300 significant digits (Python's own conversion
# limit, which would otherwise raise ValueError here): `int_parsing_size`, or `int_parsing`
# when leading zeros or underscores send it down its slower path.
MAX_INT_DIGITS = 4300


class LaxInteger(fields.Field):
    """pydantic's lax integer parsing of a query string: ' 2 ', '+2', '02', '2.0', '1_0'."""

    def __init__(self, *, ge: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ge = ge

    def _deserialize(self, value, attr, data, **kwargs):
        match = _INT_RE.match(str(value))
        if not match:
            fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
        sign, digits = match.groups()
        significant = digits.replace("_", "").lstrip("0")
        if len(significant) > MAX_INT_DIGITS:
            if "_" in digits or digits.startswith("0"):
                fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
            fail("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")
        number = int(sign + (significant or "0"))
        if self.ge is not None and number < self.ge:
            fail("greater_than_equal", f"Input should be greater than or equal to {self.ge}", {"ge": self.ge})
        return number


class LaxBoolean(fields.Field):
    TRUE = {"true", "1", "yes", "on", "t", "y"}
    FALSE = {"false", "0", "no", "off", "f", "n"}

    def _deserialize(self, value, attr, data, **kwargs):
        # pydantic neither strips whitespace nor folds non-ASCII case here
        text = str(value)
        text = text.lower() if text.isascii() else text
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        fail("bool_parsing", "Input should be a valid boolean, unable to interpret input")


class Choice(fields.Field):
    """An exact, case-sensitive enum value."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in self.choices:
            words = enum_words(self.choices)
            fail("enum", f"Input should be {words}", {"expected": words})
        return value


class QueryString(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        check_no_nul(value)
        return value


class BodyString(fields.Field):
    """`str` (or `str | None` with allow_none) in a JSON body.

    NUL is refused (a column value: AgentOS answers 500), or removed with `strip_nul` (a string
    that agno stores inside JSON, where it removes NUL itself before writing).
    """

    def __init__(self, *, strip_nul: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.strip_nul = strip_nul

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            fail("string_type", "Input should be a valid string")
        if self.strip_nul:
            return value.replace(NUL, "")
        check_no_nul(value)
        return value


MAX_JSON_DEPTH = 250


def clean_json(value):
    """Walk a decoded JSON value without recursion.

    Returns ``(copy with NUL removed from every string value, depth, a key holds NUL)``; depth
    counts nested objects and arrays (``{"a": [1]}`` is 2). The walk stops early, with the depth
    reached, once that passes ``MAX_JSON_DEPTH``.
    """
    root: list = [None]
    stack = [(value, root, 0, 1)]
    deepest, bad_key = 0, False
    while stack:
        node, parent, slot, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return None, depth, bad_key
            if isinstance(node, dict):
                copy: dict | list = dict.fromkeys(node)
                bad_key = bad_key or any(NUL in k for k in node)
                stack.extend((v, copy, k, depth + 1) for k, v in node.items())
            else:
                copy = [None] * len(node)
                stack.extend((v, copy, i, depth + 1) for i, v in enumerate(node))
            parent[slot] = copy
        elif isinstance(node, str) and NUL in node:
            parent[slot] = node.replace(NUL, "")
        else:
            parent[slot] = node
    return root[0], deepest, bad_key


class BodyDict(fields.Field):
    """A JSON object stored as jsonb: NUL is removed from string values as agno does before it
    writes; PostgreSQL's jsonb cannot hold it in a key either (AgentOS: 500, §5.6), so such a
    key is refused. Objects nested deeper than ``MAX_JSON_DEPTH`` are refused too: AgentOS's
    serialiser stops at 255 levels, so it answers 500 to them at once or on every later read."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            fail("dict_type", "Input should be a valid dictionary")
        cleaned, depth, bad_key = clean_json(value)
        if depth > MAX_JSON_DEPTH:
            fail("json_too_deep", f"JSON should be nested at most {MAX_JSON_DEPTH} levels deep",
                 {"max_depth": MAX_JSON_DEPTH})
        if bad_key:
            fail("json_no_nul", "JSON object keys should not contain NUL (\\u0000) characters")
        return cleaned


class BodyList(fields.Field):
    """A list of at least `min_length` items, each checked by `inner`."""

    def __init__(self, inner: fields.Field, *, min_length: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.min_length = min_length

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            fail("list_type", "Input should be a valid list")
        out, errors = [], []
        for index, element in enumerate(value):
            try:
                # The inner field's own check, null included (pydantic: `string_type`, `enum`);
                # marshmallow's deserialize() would answer a null with a bare message instead.
                out.append(self.inner._deserialize(element, None, None))
            except ValidationError as exc:
                for err in exc.messages:
                    err["_loc"] = [index] + err.get("_loc", [])
                    err["_input"] = element
                    errors.append(err)
        if errors:
            raise ValidationError(errors)
        if len(out) < self.min_length:
            fail("too_short", f"List should have at least {self.min_length} item after validation, not {len(out)}",
                 {"field_type": "List", "min_length": self.min_length, "actual_length": len(out)})
        return out


REQUIRED = {"required": [{"type": "missing", "msg": "Field required"}]}


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE


def _items(errors: dict, where: str, data, embedded: bool = False) -> list[dict]:
    out = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [messages]
        for msg in messages:
            if not isinstance(msg, dict):
                msg = {"type": "value_error", "msg": str(msg)}
            entry = {"type": msg["type"], "loc": [where, name] + msg.get("_loc", []), "msg": msg["msg"]}
            if "_input" in msg:
                entry["input"] = msg["_input"]
            elif msg["type"] == "missing":
                entry["input"] = data if where == "body" and not embedded else None
            else:
                entry["input"] = data.get(name) if isinstance(data, dict) else None
            if isinstance(entry["input"], dict | list) and clean_json(entry["input"])[1] > MAX_JSON_DEPTH:
                entry["input"] = {}  # not echoed: too deep to serialise safely
            if "ctx" in msg:
                entry["ctx"] = msg["ctx"]
            out.append(entry)
    return out


def query_args() -> dict:
    """Query parameters as pydantic sees them: the last of repeated values; '' kept."""
    return {key: values[-1] for key, values in request.args.lists()}


def _order(errors: dict, schema: Schema) -> dict:
    names = [f.data_key or n for n, f in schema.fields.items()]
    return {n: errors[n] for n in names if n in errors} | {k: v for k, v in errors.items() if k not in names}


def load_request(query_schema: Schema | None = None, body_schema: Schema | None = None, *,
                 body_required: bool = False, embed_field: str | None = None, query: dict | None = None):
    """Validate query and body together; raise one RequestValidationError with every item.

    `embed_field` mimics FastAPI's single embedded body field (rename): a body that is absent or
    not a JSON object reports that field as missing.
    """
    # A route without a body ignores one, unread, as FastAPI does (and a huge one costs nothing).
    body = read_json_body() if body_schema is not None else MISSING_BODY
    items: list[dict] = []
    args = query_args() if query is None else query
    loaded_query: dict = {}
    if query_schema is not None:
        try:
            loaded_query = query_schema.load(args)
        except ValidationError as exc:
            items += _items(_order(exc.messages, query_schema), "query", args)
    loaded_body = None
    if body_schema is not None:
        if embed_field and not isinstance(body, dict):
            body = {}
        if body is MISSING_BODY:
            if body_required:
                items.append({"type": "missing", "loc": ["body"], "msg": "Field required", "input": None})
        elif not isinstance(body, dict):
            too_deep = isinstance(body, list) and clean_json(body)[1] > MAX_JSON_DEPTH
            items.append({"type": "model_attributes_type", "loc": ["body"],
                          "msg": "Input should be a valid dictionary or object to extract fields from",
                          "input": {} if too_deep else body})
        else:
            try:
                loaded_body = body_schema.load(body)
            except ValidationError as exc:
                items += _items(_order(exc.messages, body_schema), "body", body, embedded=bool(embed_field))
    if items:
        raise RequestValidationError(items)
    return loaded_query, loaded_body


def _reject_constant(name: str):
    # Python accepts NaN and Infinity; JSON (and PostgreSQL's jsonb) do not.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _finite_float(text: str) -> float:
    # A number past a double's range (1e400) would become Infinity, which jsonb refuses.
    value = float(text)
    if math.isinf(value):
        raise json.JSONDecodeError("Number out of range", text, 0)
    return value


class _Missing:
    def __repr__(self):
        return "MISSING_BODY"


MISSING_BODY = _Missing()
_JSON_TYPE = re.compile(r"^application/(json|[^;/]*\+json)$", re.I)


def read_json_body():
    """The request body as FastAPI 0.165 sees it (contract §1.3).

    Empty body → MISSING_BODY. A non-JSON content type → the raw text (it then fails model
    validation). Invalid UTF-8, nesting too deep to decode or an integer too long to convert →
    400; invalid JSON (NaN, Infinity and numbers past a double's range included) → 422
    `json_invalid` before anything else.
    """
    cached = request.environ.get("agno.body")
    if cached is not None:
        return cached
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit \
            and request.environ["wsgi.input"].read(1):
        # A body without a length (chunked) is read up to the limit and no further, and werkzeug
        # stops there without a word: one more byte means it was longer, not that it ended.
        raise RequestEntityTooLarge()
    if not raw:
        body = MISSING_BODY
    else:
        mimetype = (request.mimetype or "").strip()
        is_json = _JSON_TYPE.match(mimetype)
        try:
            # FastAPI hands the bytes to `json.loads`, which reads UTF-16 and UTF-32 too, told
            # apart by their first bytes (a body starting with FF FE is UTF-16 to it). Invalid
            # text, lone surrogates included, stays the 400.
            text = raw.decode(json.detect_encoding(raw) if is_json else "utf-8")
        except UnicodeDecodeError:
            raise BadRequest("There was an error parsing the body") from None
        if not is_json:
            body = text
        else:
            try:
                body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
            except json.JSONDecodeError as exc:
                raise RequestValidationError([{"type": "json_invalid", "loc": ["body", exc.pos],
                                               "msg": "JSON decode error", "input": {},
                                               "ctx": {"error": exc.msg}}]) from None
            except (RecursionError, ValueError):
                # FastAPI turns any other decode failure into this 400: nesting too deep for the
                # decoder, an integer of more than 4300 digits (Python's conversion limit)
                raise BadRequest("There was an error parsing the body") from None
    request.environ["agno.body"] = body
    return body
