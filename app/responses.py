"""JSON responses serialised once, with orjson (key order as built)."""

import json

import orjson
from flask import Response


def dumps(obj) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:
        # orjson stops at 64-bit integers; JSONB holds any integer.
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(obj, status: int = 200) -> Response:
    return Response(dumps(obj), status=status, mimetype="application/json")
