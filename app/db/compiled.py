"""Read statements compiled once per shape and run on the driver's cursor.

Building a Core statement, computing its cache key, processing its parameters and wrapping its
cursor in a result object cost more than the database needs to answer the hot read routes (a
list page is built from about a hundred expression objects and returns twenty-odd columns). Their
statements depend only on a few choices (the layout, which filters are given, the sort): each
shape is built and compiled once per process, for the connection's dialect and schema
translation, and executed on a plain DBAPI cursor with a dict of parameters. Execution still goes
through SQLAlchemy's cursor hook (`Connection._cursor_execute`), so cursor events run and a
database error is raised, and a lost connection invalidated, exactly as for any statement.
psycopg prepares a statement it has run a few times on a connection, so the server skips parsing
and planning too.

Parameters go through the same bind processors as in Core (a JSON value is wrapped for psycopg);
result columns get none, which is right for what these statements return (strings, integers,
JSON that psycopg decodes itself). Named parameters only, no expanding `IN` lists; every named
`bindparam` must be given at execution.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

# A handful of shapes per route; a bound keeps a stream of odd requests from growing it forever.
MAX_SHAPES = 512


@dataclass
class _Compiled:
    sql: str
    defaults: dict
    processors: dict  # SQLAlchemy's bind processors by parameter name (JSON values: psycopg's Jsonb)
    names: tuple[str, ...] | None = None  # the result's column names, from the first execution


_cache: dict[Hashable, _Compiled] = {}
_lock = threading.Lock()


def _compile(conn: Connection, statement: ClauseElement, schema_map: dict | None) -> _Compiled:
    compiled = statement.compile(dialect=conn.dialect, schema_translate_map=schema_map,
                                 render_schema_translate=bool(schema_map))
    if compiled.positiontup is not None or any(b.expanding for b in compiled.binds.values()):
        raise TypeError("only named, non-expanding parameters")
    return _Compiled(compiled.string, dict(compiled.params), dict(compiled._bind_processors))


def fetch(conn: Connection, shape: Hashable, build: Callable[[], ClauseElement],
          params: dict) -> tuple[tuple[str, ...], list[tuple]]:
    """(column names, rows) of the statement `build()` returns for `shape`, run with `params`."""
    schema_map = conn.get_execution_options().get("schema_translate_map")
    key = (shape, conn.dialect.name, tuple(sorted(schema_map.items(), key=str)) if schema_map else None)
    entry = _cache.get(key)
    if entry is None:
        entry = _compile(conn, build(), schema_map)
        with _lock:
            if len(_cache) >= MAX_SHAPES:
                _cache.clear()
            _cache[key] = entry
    values = {**entry.defaults, **params}
    for name, process in entry.processors.items():
        values[name] = process(values[name])
    cursor = conn.connection.cursor()
    try:
        conn._cursor_execute(cursor, entry.sql, values)
        try:
            rows = cursor.fetchall()
        except Exception as error:
            conn._handle_dbapi_exception(error, entry.sql, params, cursor, None)
            raise
        if entry.names is None:
            entry.names = tuple(column.name for column in cursor.description)
    finally:
        cursor.close()
    return entry.names, rows


def mappings(conn: Connection, shape: Hashable, build: Callable[[], ClauseElement], params: dict) -> list[dict]:
    """The rows of `fetch` as dicts keyed by column name."""
    names, rows = fetch(conn, shape, build, params)
    return [dict(zip(names, row, strict=True)) for row in rows]
