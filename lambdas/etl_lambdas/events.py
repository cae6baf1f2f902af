"""The typed event of every step, parsed once, in one place.

Each step's handler turns its raw event into one of these before doing anything, so a
malformed event is one `InvalidRunRequest` naming the field, and no step touches tables or
data of another model or run, whatever it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from etl_lambdas.catalog import Catalog, Model
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.fingerprints import DIGEST_LENGTH, Fingerprints
from etl_lambdas.naming import staging_table_prefix
from etl_lambdas.planning import (
    RUN_ID,
    DateRange,
    parse_date,
    parse_timestamp,
    parse_windows,
)

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"
# Athena query execution ids are UUIDs.
_QUERY_ID = re.compile(r"^[0-9a-f-]{8,64}$")
_EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$")


def _mapping(value: object, label: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRunRequest(f"{label} {value!r} must be a JSON object")
    return value


def _run_id(value: object) -> str:
    if not isinstance(value, str) or not RUN_ID.match(value):
        raise InvalidRunRequest(f"run_id {value!r} is not a run id")
    return value


def _model(value: object, catalog: Catalog) -> Model:
    if not isinstance(value, str) or value not in catalog.names():
        raise InvalidRunRequest(f"unknown model {value!r}")
    return catalog.get(value)


def _strings(value: object, label: str) -> list[str]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not value
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise InvalidRunRequest(f"{label} {value!r} must be a non-empty list of strings")
    return list(value)


def _int(value: object, label: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRunRequest(f"{label} {value!r} must be an integer >= {minimum}")
    return value


@dataclass(frozen=True)
class BeginEvent:
    """{"input": <execution input>, "execution": {"name", "id", "start_time"}} (from the ASL)."""

    request: Mapping[str, Any]
    execution_name: str
    execution_arn: str
    execution_start: datetime

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> BeginEvent:
        request = _mapping(event.get("input"), "execution input")
        execution = _mapping(event.get("execution"), "execution context")
        name, arn = execution.get("name"), execution.get("id")
        if not isinstance(name, str) or not name:
            raise InvalidRunRequest(f"execution context {dict(execution)!r} must have a name")
        if not isinstance(arn, str) or not _EXECUTION_ARN.match(arn):
            raise InvalidRunRequest(f"execution id {arn!r} is not an execution ARN")
        start = parse_timestamp("execution start_time", execution.get("start_time"))
        return cls(request, name, arn, start)


@dataclass(frozen=True)
class Run:
    """The run as the begin step returned it; later steps receive it whole."""

    run_id: str
    window: DateRange
    today: date
    time_zone: str
    lookback_days: int
    arrival: DateRange
    models: list[str] | None

    @classmethod
    def parse(cls, value: object) -> Run:
        run = _mapping(value, "run")
        models = run.get("models")
        return cls(
            run_id=_run_id(run.get("run_id")),
            window=DateRange(
                parse_date("start_date", run.get("start_date")),
                parse_date("end_date", run.get("end_date")),
            ),
            today=parse_date("today", run.get("today")),
            time_zone=str(run.get("time_zone") or ""),
            lookback_days=_int(run.get("lookback_days"), "lookback_days"),
            arrival=DateRange(
                parse_date("arrival_start_date", run.get("arrival_start_date")),
                parse_date("arrival_end_date", run.get("arrival_end_date")),
            ),
            models=None if models is None else _strings(models, "models"),
        )


@dataclass(frozen=True)
class RegisterEvent:
    """{"run_id", "crawl_allowed": bool}: a second pass after a crawl may not crawl again."""

    run_id: str
    crawl_allowed: bool

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> RegisterEvent:
        allowed = event.get("crawl_allowed")
        if not isinstance(allowed, bool):
            raise InvalidRunRequest(f"crawl_allowed {allowed!r} must be true or false")
        return cls(_run_id(event.get("run_id")), allowed)


@dataclass(frozen=True)
class CrawlersEvent:
    """{"crawlers": [names]}: only crawlers of declared sources are accepted."""

    crawlers: list[str]

    @classmethod
    def parse(cls, event: Mapping[str, Any], known: Sequence[str]) -> CrawlersEvent:
        crawlers = _strings(event.get("crawlers"), "crawlers")
        unknown = sorted(set(crawlers) - set(known))
        if unknown:
            raise InvalidRunRequest(f"crawler(s) {unknown} are not crawlers of declared sources")
        return cls(list(dict.fromkeys(crawlers)))


@dataclass(frozen=True)
class ModelRun:
    """One model's work in a run: {"run_id", "model", "windows", "arrival_end_limit",
    "lookback_days"} (an item of the restate step's tiers; the model machine's input)."""

    run_id: str
    model: Model
    windows: list[DateRange]
    arrival_end_limit: date
    lookback_days: int

    @classmethod
    def parse(cls, event: Mapping[str, Any], catalog: Catalog) -> ModelRun:
        return cls(
            run_id=_run_id(event.get("run_id")),
            model=_model(event.get("model"), catalog),
            windows=parse_windows(event.get("windows")),
            arrival_end_limit=parse_date("arrival_end_limit", event.get("arrival_end_limit")),
            lookback_days=_int(event.get("lookback_days"), "lookback_days"),
        )


@dataclass(frozen=True)
class StagedRun:
    """One model's staging tables of one run: {"run_id", "model", "staging_tables"}."""

    run_id: str
    model: Model
    tables: list[str]

    @classmethod
    def parse(cls, event: Mapping[str, Any], catalog: Catalog) -> StagedRun:
        run = _run_id(event.get("run_id"))
        model = _model(event.get("model"), catalog)
        tables = _strings(event.get("staging_tables"), "staging_tables")
        own = staging_table_prefix(model.name, run)
        foreign = [table for table in tables if not table.startswith(own)]
        if foreign:
            raise InvalidRunRequest(
                f"staging table(s) {foreign} do not belong to {model.name} run {run}"
            )
        return cls(run, model, tables)


_DIGEST = re.compile(rf"^[0-9a-f]{{{DIGEST_LENGTH}}}$")


@dataclass(frozen=True)
class PublishEvent:
    """A staged run plus what computed it: {..., "fingerprints": {"model_hash", "fingerprint"}}
    (Write's result), recorded on every partition published."""

    staged: StagedRun
    fingerprints: Fingerprints

    @classmethod
    def parse(cls, event: Mapping[str, Any], catalog: Catalog) -> PublishEvent:
        value = _mapping(event.get("fingerprints"), "fingerprints")
        digests = [value.get("model_hash"), value.get("fingerprint")]
        if not all(isinstance(d, str) and _DIGEST.match(d) for d in digests):
            raise InvalidRunRequest(f"fingerprints {dict(value)!r} must be two hex digests")
        return cls(StagedRun.parse(event, catalog), Fingerprints(*map(str, digests)))


@dataclass(frozen=True)
class AuditStartEvent:
    """A staged run plus the audit attempt (a failed audit query is retried as a new query)
    and the model's windows (the days the history checks judge)."""

    staged: StagedRun
    attempt: int
    windows: list[DateRange]

    @classmethod
    def parse(cls, event: Mapping[str, Any], catalog: Catalog) -> AuditStartEvent:
        return cls(
            StagedRun.parse(event, catalog),
            _int(event.get("attempt"), "attempt", 1),
            parse_windows(event.get("windows")),
        )


@dataclass(frozen=True)
class AuditVerdictEvent:
    run_id: str
    model: Model
    query_execution_id: str

    @classmethod
    def parse(cls, event: Mapping[str, Any], catalog: Catalog) -> AuditVerdictEvent:
        query_id = event.get("query_execution_id")
        if not isinstance(query_id, str) or not _QUERY_ID.match(query_id):
            raise InvalidRunRequest(f"query_execution_id {query_id!r} is not a query id")
        return cls(_run_id(event.get("run_id")), _model(event.get("model"), catalog), query_id)


@dataclass(frozen=True)
class QueryStateEvent:
    """{"query_ids": [...], "settle_seconds"?: number, "stop_running"?: bool}: the queries,
    how long this poll may watch them while they run (0: one look), and whether the model
    gives up on them: those still queued or running are stopped."""

    query_ids: list[str]
    settle_seconds: float = 0.0
    stop_running: bool = False

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> QueryStateEvent:
        settle = event.get("settle_seconds", 0)
        if isinstance(settle, bool) or not isinstance(settle, int | float) or not settle >= 0:
            raise InvalidRunRequest(f"settle_seconds {settle!r} must be a number >= 0")
        stop = event.get("stop_running", False)
        if not isinstance(stop, bool):
            raise InvalidRunRequest(f"stop_running {stop!r} must be true or false")
        query_ids = list(dict.fromkeys(_strings(event.get("query_ids"), "query_ids")))
        return cls(query_ids, float(settle), stop)


@dataclass(frozen=True)
class Settlement:
    """What a successful run of every model settles: its window's days for every source, and
    per source the days it restated or reported ({"window": {...}, "days": {source: [...]}})."""

    window: DateRange
    days: dict[str, list[date]]

    @classmethod
    def parse(cls, value: object) -> Settlement:
        settle = _mapping(value, "settle")
        window = _mapping(settle.get("window"), "settle window")
        days = _mapping(settle.get("days"), "settle days")
        parsed = DateRange(
            parse_date("settle start_date", window.get("start_date")),
            parse_date("settle end_date", window.get("end_date")),
        )
        by_source: dict[str, list[date]] = {}
        for source, items in days.items():
            if not isinstance(items, list):
                raise InvalidRunRequest(f"settle days of {source!r} must be a list of dates")
            by_source[str(source)] = [parse_date(f"settle day of {source}", d) for d in items]
        return cls(parsed, by_source)


@dataclass(frozen=True)
class FinishEvent:
    """{"status", "execution", "run_id"?, "settle"?: {...}}: a run of every model that
    succeeded settles; any other gives the lease back only."""

    status: str
    execution_arn: str
    run_id: str | None
    settle: Settlement | None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> FinishEvent:
        status = event.get("status")
        if status not in (SUCCEEDED, FAILED):
            raise InvalidRunRequest(f"status {status!r} must be {SUCCEEDED} or {FAILED}")
        arn = event.get("execution")
        if not isinstance(arn, str) or not _EXECUTION_ARN.match(arn):
            raise InvalidRunRequest(f"execution {arn!r} is not an execution ARN")
        run = event.get("run_id")
        run_id = None if run is None else _run_id(run)
        settle = event.get("settle")
        if status == SUCCEEDED and settle is not None and run_id is None:
            raise InvalidRunRequest("a run that settles days needs its run_id")
        return cls(
            status=str(status),
            execution_arn=arn,
            run_id=run_id,
            settle=Settlement.parse(settle) if status == SUCCEEDED and settle is not None else None,
        )


@dataclass(frozen=True)
class RunCostEvent:
    """{"execution": <execution ARN>, "transitions_after": <states still to enter>}."""

    execution_arn: str
    transitions_after: int

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> RunCostEvent:
        arn = event.get("execution")
        if not isinstance(arn, str) or not _EXECUTION_ARN.match(arn):
            raise InvalidRunRequest(f"execution {arn!r} is not an execution ARN")
        after = _int(event.get("transitions_after", 0), "transitions_after")
        return cls(execution_arn=arn, transitions_after=after)
