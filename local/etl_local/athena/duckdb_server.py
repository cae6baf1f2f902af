"""A worker process of the DuckDB release Athena runs, serving one query's session at a time.

Started by etl_local.athena.duckdb_process with the Python of `.venv-duckdb` (duckdb as
requirements-duckdb.txt pins it; the project's own environment keeps another release), so this
file imports nothing but the standard library and duckdb. The process lives as long as the local
Athena that started it and serves its queries one after the other: each query opens a session
(a new in-memory database: nothing one query creates is seen by the next) and closes it.

It reads requests from stdin and answers on stdout, each a length-prefixed pickle:
("open", config) -> ("ok",); ("close",) -> ("ok",);
("execute", sql, params) or ("executemany", sql, rows) -> ("ok", [(name, type), ...], rows)
| ("error", message); ("version",) -> ("ok", version). A session is in UTC, as Athena's DuckDB
sessions are ("The session time zone is fixed to UTC", "Built-in extensions").
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import Any, BinaryIO

import duckdb

_HEADER = struct.Struct("!Q")


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def write_message(stream: BinaryIO, message: Any) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _open(config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(config=config)
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def _answer(connection: duckdb.DuckDBPyConnection | None, request: tuple[Any, ...]) -> Any:
    operation = request[0]
    if operation == "version":
        return ("ok", duckdb.__version__)
    if connection is None:
        return ("error", f"{operation} outside a session")
    if operation == "executemany":
        connection.executemany(request[1], request[2])
        return ("ok", [], [])
    relation = connection.execute(request[1], request[2] or None)
    description = [(d[0], str(d[1])) for d in (relation.description or [])]
    rows = relation.fetchall() if description else []
    return ("ok", description, rows)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    connection: duckdb.DuckDBPyConnection | None = None
    while True:
        try:
            request = read_message(requests)
        except EOFError:
            return
        try:
            if request[0] in ("open", "close"):
                if connection is not None:
                    connection.close()
                connection = _open(request[1]) if request[0] == "open" else None
                write_message(answers, ("ok",))
                continue
            write_message(answers, _answer(connection, request))
        except duckdb.Error as error:
            write_message(answers, ("error", str(error)))
        except Exception as error:  # e.g. a value Python cannot hold: the worker lives on
            write_message(answers, ("error", f"{type(error).__name__}: {error}"))


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
