"""The DuckDB processes of a local Athena on a DuckDB workgroup: started once, reused by the
following queries, each query in a database of its own; an interrupted query's process is
replaced; errors arrive as the project's duckdb errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import duckdb
import pytest

from etl_local.athena.duckdb_process import DuckDBWorkers

# requirements-duckdb.txt: the release Athena's DuckDB engine runs
ATHENA_DUCKDB = "2.0.1"


@pytest.fixture
def workers() -> Iterator[DuckDBWorkers]:
    pool = DuckDBWorkers(keep=1)
    yield pool
    pool.close()


def test_queries_share_a_process_not_a_database(workers: DuckDBWorkers) -> None:
    first = workers.session({"threads": 1})
    assert first.version() == ATHENA_DUCKDB
    first.execute("CREATE VIEW seen AS SELECT 42 AS answer")
    assert first.execute("SELECT answer FROM seen").fetchall() == [(42,)]
    first.close()

    second = workers.session({"threads": 1})
    with pytest.raises(duckdb.Error, match="seen"):
        second.execute("SELECT answer FROM seen")
    # the session is in UTC, as Athena's DuckDB sessions are
    assert second.execute("SELECT current_setting('TimeZone') AS tz").fetchall() == [("UTC",)]
    assert second.description == [("tz", "VARCHAR")]
    second.close()

    assert workers.started == 1


def test_an_error_leaves_the_process_serving(workers: DuckDBWorkers) -> None:
    session = workers.session()
    with pytest.raises(duckdb.Error, match="no_such_table"):
        session.execute("SELECT * FROM no_such_table")
    assert session.execute("SELECT 7 // 2 AS q").fetchall() == [(3,)]
    session.close()
    assert workers.started == 1


def test_an_interrupted_query_ends_its_process_and_the_next_query_gets_another(
    workers: DuckDBWorkers,
) -> None:
    session = workers.session({"threads": 1})
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            session.execute("SELECT count(*) FROM range(10000000000) a, range(1000) b")
        except BaseException as error:
            outcome.append(error)

    running = threading.Thread(target=run)
    running.start()
    session.interrupt()
    running.join(timeout=60)
    session.close()

    assert len(outcome) == 1 and isinstance(outcome[0], duckdb.InterruptException)
    after = workers.session()
    assert after.execute("SELECT 1 AS one").fetchall() == [(1,)]
    after.close()
    assert workers.started == 2


def test_concurrent_queries_get_a_process_each_and_surplus_ones_stop(
    workers: DuckDBWorkers,
) -> None:
    one, two = workers.session(), workers.session()
    one.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert two.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    one.close()
    two.close()  # keep=1: this process is stopped

    assert workers.started == 2
    again = workers.session()
    again.close()
    assert workers.started == 2
