"""JSON documents from PostgreSQL decoded with orjson where it gives Python's own result.

psycopg hands every json/jsonb value to this function. orjson parses three to five times faster
than the standard library, and gives the same values for all JSON except integers outside 64 bits
(from -2**63 to 2**64 - 1), which it turns into floats where Python keeps them exact. A document
that may hold one (an integer literal of 19 digits or more) goes to `json.loads`; strings and
the fractions of decimals with long digit runs only cost the slower parser, never a different
value. PostgreSQL writes numbers without exponents, so the digit run is always there to be seen.
"""

from __future__ import annotations

import json

import orjson

# Every byte mapped to one of three classes: digit "0", decimal point ".", anything else "x".
_CLASSES = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E if b == 0x2E else 0x78 for b in range(256))
_LONG_RUN = b"0" * 19


def may_hold_big_integer(data: bytes) -> bool:
    """True when `data` has a run of 19+ digits that is not the fraction of a decimal."""
    classes = data.translate(_CLASSES)
    at = classes.find(_LONG_RUN)
    while at >= 0:
        if at == 0 or classes[at - 1] != 0x2E:
            return True
        end = classes.find(b"x", at)  # a fraction: go on after its digits
        if end < 0:
            return False
        at = classes.find(_LONG_RUN, end)
    return False


def loads(data):
    """`json.loads(data)`, faster."""
    if type(data) is not bytes:
        if not isinstance(data, memoryview):
            return json.loads(data)
        data = bytes(data)
    if len(data) < len(_LONG_RUN) or not may_hold_big_integer(data):
        return orjson.loads(data)
    return json.loads(data)
