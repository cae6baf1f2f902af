"""One query's DuckDB session, in a process of its own, on the DuckDB release Athena runs.

Started by etl_local.athena.duckdb_process with the Python of `.venv-duckdb` (duckdb as
requirements-duckdb.txt pins it; the project's own environment keeps another release), so this
file imports nothing but the standard library and duckdb. It reads requests from stdin and
answers on stdout, each a length-prefixed pickle: ("execute", sql, params) or
("executemany", sql, rows) -> ("ok", [(name, type), ...], rows) | ("error", message);
("version",) -> ("ok", version). The session is one in-memory database in UTC, as Athena's
DuckDB sessions are ("The session time zone is fixed to UTC", "Built-in extensions").
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


def serve(requests: BinaryIO, answers: BinaryIO, config: dict[str, Any]) -> None:
    connection = duckdb.connect(config=config)
    connection.execute("SET TimeZone = 'UTC'")
    while True:
        try:
            request = read_message(requests)
        except EOFError:
            return
        operation = request[0]
        try:
            if operation == "version":
                write_message(answers, ("ok", duckdb.__version__))
                continue
            if operation == "executemany":
                connection.executemany(request[1], request[2])
                write_message(answers, ("ok", [], []))
                continue
            relation = connection.execute(request[1], request[2] or None)
            description = [(d[0], str(d[1])) for d in (relation.description or [])]
            rows = relation.fetchall() if description else []
            write_message(answers, ("ok", description, rows))
        except duckdb.Error as error:
            write_message(answers, ("error", str(error)))


if __name__ == "__main__":
    settings = pickle.loads(bytes.fromhex(sys.argv[1])) if len(sys.argv) > 1 else {}
    serve(sys.stdin.buffer, sys.stdout.buffer, settings)
