"""Whether a model has anything to read: its sources' partitions in its windows.

A declared source may have no data yet (a new deployment, a source declared before its first
file), or none in a run's days. A model all of whose sources have no partition in the days it
would read has no rows to write: it is skipped, and the run says so, instead of failing its
audit's `min_rows` check. The catalogue answers without a query: an ODS partition is
registered only when the Glue job wrote rows into it, and a model's partition only when its
CTAS wrote rows into it. A model that reads some rows and writes none is not skipped: its
audit says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.catalog import Model
from etl_lambdas.planning import DateRange, day_partition_filter, merge_ranges


@dataclass(frozen=True)
class SourceRead:
    """A table a model reads, and the days it reads of it (partition values: arrival days
    of an ODS table, event days of a model's)."""

    database: str
    table: str
    days: tuple[DateRange, ...]


def reads(
    model: Model, chunk_values: Iterable[Mapping[str, str]], databases: Mapping[str, str]
) -> list[SourceRead]:
    """What the model's chunks read of each of its sources (their template values)."""
    values = list(chunk_values)
    result = []
    for source in model.sources:
        tier, _, table = source.partition(".")
        start, end = ("arrival_start_date", "arrival_end_date") if tier == "ods" else (
            "start_date", "end_date"
        )  # fmt: skip
        days = merge_ranges(
            DateRange(date.fromisoformat(v[start]), date.fromisoformat(v[end])) for v in values
        )
        result.append(SourceRead(databases[f"{tier}_database"], table, tuple(days)))
    return result


def partition_predicate(days: DateRange, keys: Iterable[str]) -> str:
    """A Glue partition expression selecting the days, on the table's own keys."""
    if "day" in keys:
        return day_partition_filter(days.start, days.end)
    months = []
    month = days.start.replace(day=1)
    while month <= days.end:
        months.append(f"(year = '{month:%Y}' AND month = '{month:%m}')")
        month = (month + timedelta(days=32)).replace(day=1)
    return months[0] if len(months) == 1 else "(" + " OR ".join(months) + ")"


def has_rows(glue: Any, read: SourceRead) -> bool:
    """Whether the table has a partition in the days read (a missing table has none)."""
    try:
        with throttling_as_retryable():
            table = glue.get_table(DatabaseName=read.database, Name=read.table)["Table"]
    except ClientError as error:
        if error_code(error) == "EntityNotFoundException":
            return False
        raise
    keys = [key["Name"] for key in table.get("PartitionKeys", [])]
    if not keys:
        return True  # not partitioned: not ours to judge
    for days in read.days:
        with throttling_as_retryable():
            found = glue.get_partitions(
                DatabaseName=read.database,
                TableName=read.table,
                Expression=partition_predicate(days, keys),
                MaxResults=1,
            ).get("Partitions", [])
        if found:
            return True
    return False


def skip_reason(glue: Any, reads_of_model: list[SourceRead]) -> str | None:
    """Why the model is skipped (every source empty in the days read), or None."""
    if any(has_rows(glue, read) for read in reads_of_model):
        return None
    described = "; ".join(
        f"{read.database}.{read.table} "
        + ", ".join(f"{r.start.isoformat()}..{r.end.isoformat()}" for r in read.days)
        for read in reads_of_model
    )
    return f"no rows in its sources: {described}"
