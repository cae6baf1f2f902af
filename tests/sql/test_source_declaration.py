"""sql/sources.yaml and its loader: the repository's declaration, and one clear error per
kind of mistake (no side effect: the loader only reads)."""

from __future__ import annotations

import base64
import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from etl_lambdas.catalog import CatalogError, default_sql_root, load_catalog
from etl_lambdas.sources import (
    SOURCES_FILE,
    Column,
    SourceError,
    job_argument,
    load_sources,
    parse_sources,
    read_document,
)

DECLARATION = default_sql_root() / SOURCES_FILE


def test_the_traffic_feed_keeps_its_ods_table_and_columns() -> None:
    traffic = load_sources(DECLARATION).get("traffic")

    # docs/contracts.md, "Raw events and the ODS table"
    assert (traffic.raw_prefix, traffic.arrival, traffic.format.type) == (
        "raw/traffic/", "hourly", "json"
    )  # fmt: skip
    assert (traffic.ods_prefix, traffic.table) == ("ods/traffic/", "traffic")
    assert [(c.name, c.type) for c in traffic.columns] == [
        ("sensor_id", "string"), ("record_timestamp", "string"), ("current_speed", "int"),
        ("previous_speed", "int"), ("occupancy", "int"), ("intensity_class2", "int"),
        ("intensity_class3", "int"), ("intensity_class4", "int"), ("intensity_class5", "int"),
        ("segment", "string"),
    ]  # fmt: skip
    assert traffic.columns[4] == Column("occupancy", "int", "bezettingsgraad")
    assert traffic.partition_keys == ("year", "month", "day", "hour")
    assert traffic.event_time.column == "record_timestamp"
    # the ODS table also holds the event time typed: the UTC instant, beside the raw string
    assert traffic.ods_columns[-1] == Column(
        "record_timestamp_utc", "timestamp", "record_timestamp_utc"
    )
    assert traffic.ods_columns[:-1] == traffic.columns


def test_each_sources_time_zone_is_a_placeholder_models_can_read() -> None:
    doc = document()
    doc["sources"][1]["columns"].append({"name": "sent_at", "type": "bigint"})
    doc["sources"][1]["event_time"] = {"column": "sent_at", "format": "epoch_millis"}

    assert parse_sources(doc).time_zone_placeholders() == {
        "traffic_time_zone": "Europe/Brussels",
        "app_activity_time_zone": "UTC",  # epoch times are instants
    }


def test_the_app_activity_source_is_daily_csv() -> None:
    activity = load_sources(DECLARATION).get("app_activity")

    assert (activity.arrival, activity.partition_keys) == ("daily", ("year", "month", "day"))
    assert (activity.format.type, activity.format.delimiter, activity.format.header) == (
        "csv", ",", True
    )  # fmt: skip
    assert all(column.field == column.name for column in activity.columns)


def test_the_job_argument_is_the_declarations_json_in_base64() -> None:
    document = read_document(DECLARATION)

    argument = job_argument(document)

    assert set(argument) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    assert json.loads(base64.b64decode(argument)) == document


def test_the_job_argument_terraform_renders_reads_as_the_file() -> None:
    # Terraform's optional() attributes left out are null in jsonencode's output: the Glue
    # job receives `"field": null` where the file has no `field`.
    rendered = document()
    for source in rendered["sources"]:
        source.setdefault("description", None)
        source["format"].setdefault("delimiter", None)
        for column in source["columns"]:
            column.setdefault("field", None)

    assert parse_sources(rendered, DECLARATION) == load_sources(DECLARATION)


def document() -> dict[str, Any]:
    return copy.deepcopy(read_document(DECLARATION))


def set_path(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set `sources.0.format.type`-style paths; value None deletes the key."""
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("sources.1.format.type", "xml", "source 'app_activity': unknown format 'xml'"),
        ("sources.0.format.delimiter", ";", "format 'json' takes no ['delimiter'] (CSV only)"),
        ("sources.1.format.delimiter", ";;", "CSV delimiter ';;' must be one character"),
        (
            "sources.0.columns.2.type",
            "integer",
            "column 'current_speed': Athena tables have no type 'integer'; write int",
        ),
        ("sources.0.columns.2.type", "number", "Athena has no column type 'number'"),
        ("sources.0.columns.9.type", "varchar(20)", "no type 'varchar(20)'; write string"),
        ("sources.0.columns.2.type", "decimal(40,2)", "needs 1 <= precision <= 38"),
        ("sources.0.event_time", None, "event_time must be a mapping"),
        (
            "sources.0.event_time.column",
            "recorded_at",
            "event_time column 'recorded_at' is not one of the columns",
        ),
        (
            "sources.0.event_time.column",
            "current_speed",
            "event_time format 'iso8601' reads a column of type string, not 'int'",
        ),
        ("sources.0.event_time.format", "rfc2822", "event_time format 'rfc2822' must be one of"),
        ("sources.0.event_time.time_zone", "Europe/Gent", "time_zone 'Europe/Gent' must be"),
        ("sources.1.name", "traffic", "source 'traffic' is declared twice"),
        (
            "sources.1.raw_prefix",
            "raw/traffic/app/",
            "sources 'traffic' and 'app_activity' have overlapping raw prefixes",
        ),
        ("sources.1.raw_prefix", "raw/", "overlapping raw prefixes 'raw/traffic/' and 'raw/'"),
        ("sources.1.raw_prefix", "raw/app", "raw_prefix 'raw/app' must be a key prefix ending"),
        ("sources.1.raw_prefix", "raw/year=2026/", "has an invalid folder 'year=2026'"),
        ("sources.1.arrival", "weekly", "arrival 'weekly' must be one of ['hourly', 'daily']"),
        ("sources.1.name", "App-Activity", "source name 'App-Activity' must match"),
        ("sources.1.columns.0.name", "day", "column 'day' is also an arrival partition key"),
        ("sources.1.columns.1.name", "user_id", "column 'user_id' is declared twice"),
        ("sources.0.columns.9.field", "uniqueId", "'sensor_id' and 'segment' both read field"),
        ("sources.1.columns.1.size", 3, "column 'action': unknown field(s) ['size']"),
        (
            "sources.1.columns.5.name",
            "event_time_utc",
            "column 'event_time_utc' is the typed event time the Glue job writes",
        ),
        ("sources.1.owner", "web team", "source 'app_activity': unknown field(s) ['owner']"),
        ("sources.1.format.header", "yes", "CSV header 'yes' must be true or false"),
        ("sources.1.format.null_values", "NA", "null_values 'NA' must be a list of strings"),
        ("sources.1.format.null_values", ["NA", 0], "must be a list of strings"),
        ("sources.1.format.null_values", ["NA", "NA"], "at most 10 distinct strings"),
        ("sources.1.format.null_values", ["N,A"], "'N,A' must be at most 32 characters, without"),
        ("sources.0.format.null_values", ["NA"], "(CSV only) (JSON has null; Parquet types"),
        ("sources.0.arrives_by", "24:00", "arrives_by '24:00' must be a UTC time of day"),
        # YAML 1.1 (PyYAML) reads an unquoted 02:00 as the sexagesimal 120.
        ("sources.0.arrives_by", 120, 'arrives_by 120 must be a UTC time of day "HH:MM"'),
    ],
)
def test_a_bad_declaration_fails_with_one_error_naming_the_problem(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(SourceError) as error:
        parse_sources(set_path(document(), path, value))

    assert message in str(error.value)


def test_a_source_may_say_by_when_its_day_has_arrived() -> None:
    doc = set_path(document(), "sources.1.arrives_by", "06:30")
    assert parse_sources(doc).get("app_activity").arrives_by == "06:30"
    assert parse_sources(doc).get("traffic").arrives_by is None


def test_epoch_event_times_are_utc_and_take_no_time_zone() -> None:
    doc = document()
    doc["sources"][1]["columns"].append({"name": "sent_at", "type": "bigint"})
    doc["sources"][1]["event_time"] = {"column": "sent_at", "format": "epoch_millis"}
    assert parse_sources(doc).get("app_activity").event_time.time_zone is None

    doc["sources"][1]["event_time"]["time_zone"] = "UTC"
    with pytest.raises(SourceError, match="epoch_millis times are UTC instants"):
        parse_sources(doc)


def test_a_csv_without_header_maps_by_position_so_fields_cannot_be_renamed() -> None:
    doc = set_path(document(), "sources.1.format.header", False)
    assert parse_sources(doc).get("app_activity").format.header is False

    doc["sources"][1]["columns"][0]["field"] = "uid"
    with pytest.raises(SourceError, match="maps columns by position; remove 'field'"):
        parse_sources(doc)


def test_a_file_that_is_not_yaml_or_missing_is_named(tmp_path: Path) -> None:
    broken = tmp_path / SOURCES_FILE
    broken.write_text("sources: [\n", encoding="utf-8")
    with pytest.raises(SourceError, match=f"{broken}: not valid YAML"):
        load_sources(broken)
    with pytest.raises(SourceError, match="no such file"):
        load_sources(tmp_path / "absent.yaml")
    broken.write_text("sources: []\n", encoding="utf-8")
    with pytest.raises(SourceError, match="'sources' must be a non-empty list"):
        load_sources(broken)


def copied_sql_root(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(default_sql_root(), root)
    return root


def test_a_model_reading_an_undeclared_source_fails_the_catalog(tmp_path: Path) -> None:
    root = copied_sql_root(tmp_path)
    doc = document()
    doc["sources"] = [s for s in doc["sources"] if s["name"] != "app_activity"]
    (root / SOURCES_FILE).write_text(yaml.safe_dump(doc), encoding="utf-8")

    with pytest.raises(CatalogError) as error:
        load_catalog(root)

    assert "source 'ods.app_activity' is not a declared source" in str(error.value)
    assert "declares traffic" in str(error.value)


def test_a_bad_source_declaration_is_a_catalog_error(tmp_path: Path) -> None:
    # The steps load both at cold start; the state machine never retries a CatalogError.
    root = copied_sql_root(tmp_path)
    (root / SOURCES_FILE).write_text(
        yaml.safe_dump(set_path(document(), "sources.0.format.type", "xml")), encoding="utf-8"
    )

    with pytest.raises(CatalogError, match="unknown format 'xml'"):
        load_catalog(root)


def test_every_declared_source_is_read_by_a_model() -> None:
    catalog = load_catalog()
    read = {source for model in catalog.models for source in model.sources}

    assert {f"ods.{name}" for name in catalog.sources.names()} <= read


def test_declared_null_values_are_kept_and_the_empty_value_is_the_default() -> None:
    declared = set_path(document(), "sources.1.format.null_values", ["NA", ""])
    assert parse_sources(declared).get("app_activity").format.null_values == ("NA", "")
    assert parse_sources(document()).get("app_activity").format.null_values == ("",)
