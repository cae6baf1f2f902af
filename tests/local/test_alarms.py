"""The alarm evaluator against the examples of CloudWatch's guide ("How alarm state is
evaluated when data is missing": 3 evaluation periods, 5 data points retrieved)."""

from __future__ import annotations

import pytest

from etl_local.alarms import ALARM, INSUFFICIENT_DATA, OK, UnsupportedAlarm, state


def _alarm(datapoints_to_alarm: int, treat: str) -> dict[str, object]:
    return {
        "alarm_name": "a",
        "evaluation_periods": 3,
        "datapoints_to_alarm": datapoints_to_alarm,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 0,
        "treat_missing_data": treat,
        "metric_query": [{"id": "m", "return_data": True, "expression": None}],
    }


def _series(points: str) -> dict[int, float]:
    """The guide's notation, oldest first: 0 not breaching, X breaching, - missing."""
    return {i: {"0": 0.0, "X": 1.0}[c] for i, c in enumerate(points.split()) if c != "-"}


@pytest.mark.parametrize(
    ("points", "missing", "breaching", "not_breaching"),
    [
        # 3 out of 3
        ("0 - X - X", OK, OK, OK),
        ("0 - - - -", OK, OK, OK),
        ("- - - - -", INSUFFICIENT_DATA, ALARM, OK),
        ("0 X X - X", ALARM, ALARM, ALARM),
        ("- - - - X", None, ALARM, OK),
    ],
)
def test_three_out_of_three(
    points: str, missing: str | None, breaching: str, not_breaching: str
) -> None:
    metrics = {"m": _series(points)}
    assert state(_alarm(3, "breaching"), metrics, now=4) == breaching
    assert state(_alarm(3, "notBreaching"), metrics, now=4) == not_breaching
    if missing is not None:
        assert state(_alarm(3, "missing"), metrics, now=4) == missing


@pytest.mark.parametrize(
    ("points", "breaching", "not_breaching"),
    [
        # 2 out of 3
        ("0 - X - X", ALARM, ALARM),
        ("0 0 X 0 X", ALARM, ALARM),
        ("0 - X - -", ALARM, OK),
        ("- - - - 0", ALARM, OK),
        ("- - - - X", ALARM, OK),
    ],
)
def test_two_out_of_three(points: str, breaching: str, not_breaching: str) -> None:
    metrics = {"m": _series(points)}
    assert state(_alarm(2, "breaching"), metrics, now=4) == breaching
    assert state(_alarm(2, "notBreaching"), metrics, now=4) == not_breaching


def test_ignore_keeps_the_state_without_data_and_unknown_math_is_refused() -> None:
    assert state(_alarm(3, "ignore"), {}, now=4, previous=ALARM) == ALARM
    with pytest.raises(UnsupportedAlarm, match="partial data"):
        state(_alarm(3, "missing"), {"m": _series("X - - - -")}, now=4)
    alarm = _alarm(3, "breaching")
    alarm["metric_query"] = [{"id": "e", "return_data": True, "expression": "RATE(m)"}]
    with pytest.raises(UnsupportedAlarm, match="RATE"):
        state(alarm, {}, now=4)
