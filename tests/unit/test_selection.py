"""Selectors as dbt writes them, expanded over the model catalogue's graph."""

from __future__ import annotations

import pytest

from etl_lambdas.catalog import load_catalog
from etl_lambdas.selection import SelectionError, parse_selector, select

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        (["sensor_hourly"], ["sensor_hourly"]),
        (["traffic_events+"], [
            "traffic_events", "daily_active_sensors", "sensor_hourly", "segment_congestion_daily",
        ]),
        (["+segment_congestion_daily"], [
            "traffic_events", "daily_active_sensors", "segment_congestion_daily",
        ]),
        (["+daily_active_sensors+"], [
            "traffic_events", "daily_active_sensors", "segment_congestion_daily",
        ]),
        # several selectors: their union, in tier order
        (["app_version_adoption_daily", "app_events"], [
            "app_events", "app_version_adoption_daily",
        ]),
        (["sensor_hourly", "+sensor_hourly"], ["traffic_events", "sensor_hourly"]),
    ],
)  # fmt: skip
def test_selectors_expand_over_the_models_sources(
    selectors: list[str], expected: list[str]
) -> None:
    assert select(selectors, CATALOG) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sensor_hourli", "no model 'sensor_hourli'; known: traffic_events"),
        ("++sensor_hourly", "must be <model>"),
        ("dws.sensor_hourly", "must be <model>"),
        ("", "must be <model>"),
    ],
)
def test_a_bad_selector_names_itself(text: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message):
        parse_selector(text, CATALOG.names())
