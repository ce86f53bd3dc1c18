"""JSON from the database decoded with orjson where it gives exactly json.loads's values."""

from __future__ import annotations

import json

import pytest

from app.db.decode import loads, may_hold_big_integer

CASES = [
    b'{"a": 1, "b": [1.5, -2, null, true], "c": {"d": "\\u00e9\\ud83d\\ude00"}}',
    b'{"duration": 0.0024040399998739304, "tokens": 36}',  # a long fraction: orjson is right
    b'[9223372036854775807, -9223372036854775808, 18446744073709551615]',
    b'[18446744073709551616]', b'[-9223372036854775809]', b'123456789012345678901234567890',
    b'{"n": 15000000000000000000.5}', b'[0.1234567890123456789012, 12345678901234567890]',
    b'{"id": "12345678901234567890"}', b'[1e-400, 1.5e19, -0, -0.0]', b'"' + b"9" * 40 + b'"',
    b'1' + b"0" * 400,  # 1e400 as jsonb prints it
]


@pytest.mark.parametrize("data", CASES)
def test_same_values_and_types_as_json_loads(data):
    got, want = loads(data), json.loads(data)
    assert json.dumps(got) == json.dumps(want)
    assert repr(got) == repr(want)
    assert loads(memoryview(data)) == want


def test_integers_outside_64_bits_are_seen():
    assert may_hold_big_integer(b"[18446744073709551616]")
    assert may_hold_big_integer(b"-9223372036854775809")
    assert not may_hold_big_integer(b'{"duration": 0.0024040399998739304, "n": 123456789012345678}')
