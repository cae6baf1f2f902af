"""The oracle's comparison bites: a different value, type, row count or a failure on one side
only is a Difference naming the statement, the row and both values."""

from __future__ import annotations

import pytest
from oracle import AGREE, REFUSED, Answer, Difference, compare

from etl_local.trino import Column, TrinoResult


def _answer(columns: list[tuple[str, str]], rows: list[list[object]]) -> Answer:
    return Answer(TrinoResult([Column(n, t) for n, t in columns], rows))


TRINO = _answer([("sensor_id", "varchar"), ("avg_speed", "double")], [["s1", 3.0], ["s2", 4.5]])


def test_equal_answers_in_any_row_order_agree() -> None:
    local = _answer([("sensor_id", "varchar"), ("avg_speed", "double")], [["s2", 4.5], ["s1", 3.0]])
    assert compare("model m", TRINO, local, keys=["sensor_id"]) == AGREE


def test_a_value_differs_by_key_with_both_values() -> None:
    local = _answer([("sensor_id", "varchar"), ("avg_speed", "double")], [["s1", 3.5], ["s2", 4.5]])
    with pytest.raises(Difference, match=r"model m: row sensor_id='s1' differs: avg_speed: "
                       r"Trino 3.0, local 3.5"):  # fmt: skip
        compare("model m", TRINO, local, keys=["sensor_id"])


def test_a_type_differs() -> None:
    local = _answer([("sensor_id", "varchar"), ("avg_speed", "integer")], [["s1", 3], ["s2", 4]])
    with pytest.raises(Difference, match="columns differ"):
        compare("model m", TRINO, local)


def test_a_missing_row_differs() -> None:
    local = _answer([("sensor_id", "varchar"), ("avg_speed", "double")], [["s1", 3.0]])
    with pytest.raises(Difference, match="2 rows from Trino, 1 locally"):
        compare("model m", TRINO, local)


def test_an_answer_where_trino_fails_differs_and_a_refusal_is_told_apart() -> None:
    failed = Answer(None, "DIVISION_BY_ZERO: Division by zero")
    with pytest.raises(Difference, match="Trino fails"):
        compare("probe", failed, TRINO)
    assert compare("probe", failed, Answer(None, "DIVISION_BY_ZERO: Division by zero")) == AGREE
    assert compare("probe", TRINO, Answer(None, "NOT_SUPPORTED: function f()")) == REFUSED
    with pytest.raises(Difference, match="the local Athena fails"):
        compare("probe", TRINO, Answer(None, "Binder Error: no such column"))
