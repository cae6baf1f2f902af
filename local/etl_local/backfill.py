"""Change-aware backfill: which published partitions other SQL computed, and what to restate.

Every partition Publish writes records the hashes of what computed it (Glue partition
parameters, etl_lambdas.fingerprints). A model is *changed* where a published partition's
model hash differs from the SQL and declaration in sql/ now (or records none: published
before the hashes were recorded); a partition whose own hash is current but whose
fingerprint is not was computed from an upstream model's older rows. A model downstream of
a changed one is affected on the days both have published: its rows there were computed
from rows that are about to change. `etl changes` lists them; `etl run --changed` restates
them, one execution with `{"start_date", "end_date", "models": [...]}`, the input Step
Functions takes on AWS too (docs/contracts.md).

`published_partitions` reads the catalogue through the Glue API (GetPartitions), so the same
code reads the local lake and a deployed one; the rest is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code
from etl_lambdas.catalog import Catalog, Model
from etl_lambdas.fingerprints import FINGERPRINT, MODEL_HASH, Fingerprints, fingerprints
from etl_lambdas.planning import DateRange, ranges_of_days

CHANGED = "its SQL or declaration changed"
UNRECORDED = "published before lakepipe recorded what computed a partition"
INPUTS_CHANGED = "computed from upstream rows that other SQL has replaced since"


@dataclass(frozen=True)
class PublishedPartition:
    values: tuple[str, ...]
    model_hash: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class ModelChange:
    """A model with published days that the SQL in sql/ would compute differently."""

    model: str
    tier: str
    reasons: tuple[str, ...]
    # Its own partitions whose recorded fingerprint is not the current one.
    stale_partitions: int
    days: tuple[date, ...]

    @property
    def ranges(self) -> list[DateRange]:
        return ranges_of_days(self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "tier": self.tier,
            "reasons": list(self.reasons),
            "stale_partitions": self.stale_partitions,
            "days": [r.as_dict() for r in self.ranges],
        }


def published_partitions(glue: Any, database: str, table: str) -> list[PublishedPartition]:
    """The table's partitions with what computed them; none when the table does not exist."""
    try:
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        )
        found = [partition for page in pages for partition in page["Partitions"]]
    except ClientError as error:
        if error_code(error) == "EntityNotFoundException":
            return []
        raise
    return [
        PublishedPartition(
            values=tuple(p["Values"]),
            model_hash=p.get("Parameters", {}).get(MODEL_HASH),
            fingerprint=p.get("Parameters", {}).get(FINGERPRINT),
        )
        for p in found
    ]


def read_published(
    glue: Any, catalog: Catalog, database_of: Any
) -> dict[str, list[PublishedPartition]]:
    """Every model's published partitions (`database_of(tier)` names the tier's database)."""
    return {
        model.name: published_partitions(glue, database_of(model.tier), model.name)
        for model in catalog.models
    }


def partition_days(values: Sequence[str], granularity: str) -> list[date]:
    """The local days a partition holds: its day, or every day of its month."""
    year, month = int(values[0]), int(values[1])
    if granularity == "month":
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return [first + timedelta(days=n) for n in range((following - first).days)]
    return [date(year, month, int(values[2]))]


def model_changes(
    catalog: Catalog,
    published: Mapping[str, Sequence[PublishedPartition]],
    current: Mapping[str, Fingerprints] | None = None,
) -> list[ModelChange]:
    """The changed models and those downstream of them, in tier order, with their days."""
    current = current or fingerprints(catalog)
    affected: dict[str, set[date]] = {}
    changes = []
    for model in catalog.in_tier_order():
        partitions = published.get(model.name, ())
        reasons, stale_days, stale = _own_staleness(model, partitions, current[model.name])
        published_days = {
            d for p in partitions for d in partition_days(p.values, model.granularity)
        }
        upstream = [
            name
            for source in model.sources
            if (name := source.partition(".")[2]) in affected and source.split(".")[0] != "ods"
        ]
        inherited = set().union(*(affected[name] for name in upstream)) & published_days
        days = stale_days | inherited
        if inherited:
            # Says which upstream model, and that it is not restated yet.
            reasons = [r for r in reasons if r != INPUTS_CHANGED]
            reasons.append(f"reads {', '.join(upstream)}, changed on these days")
        if days:
            affected[model.name] = days
            changes.append(
                ModelChange(model.name, model.tier, tuple(reasons), stale, tuple(sorted(days)))
            )
    return changes


def _own_staleness(
    model: Model, partitions: Iterable[PublishedPartition], now: Fingerprints
) -> tuple[list[str], set[date], int]:
    reasons: dict[str, None] = {}
    days: set[date] = set()
    stale = 0
    for partition in partitions:
        if partition.model_hash is None:
            reasons[UNRECORDED] = None
        elif partition.model_hash != now.model_hash:
            reasons[CHANGED] = None
        elif partition.fingerprint != now.fingerprint:
            reasons[INPUTS_CHANGED] = None
        else:
            continue
        stale += 1
        days.update(partition_days(partition.values, model.granularity))
    return list(reasons), days, stale


def within(
    changes: Sequence[ModelChange], start: date | None, end: date | None
) -> list[ModelChange]:
    """The changes restricted to the days start..end (either bound optional)."""
    result = []
    for change in changes:
        days = tuple(
            d for d in change.days if (start is None or d >= start) and (end is None or d <= end)
        )
        if days:
            result.append(
                ModelChange(
                    change.model, change.tier, change.reasons, change.stale_partitions, days
                )
            )
    return result


def restatement_input(changes: Sequence[ModelChange]) -> dict[str, Any] | None:
    """The execution input that restates `changes` (see `within`): their models, in tier
    order, over the span of their days. None: nothing to restate."""
    if not changes:
        return None
    days = [day for change in changes for day in change.days]
    return {
        "start_date": min(days).isoformat(),
        "end_date": max(days).isoformat(),
        "models": [change.model for change in changes],
    }
