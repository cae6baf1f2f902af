"""`make bench`: a production-size day through the local runtime, against a DuckDB floor.

Generates BENCH_SENSORS sensors (default 4,600: a production day is 6.6 M events)
for the BENCH_DAYS days before today (default 3), runs the pipeline once per day through
the local runtime (the real ASL, Lambdas, SQL and Glue script), and measures:

- events, wall seconds per stage and in total, events per second, for the day-N run:
  a daily run in steady state (each raw object lands just before the first scheduled run
  that would find it: etl_local.bench.arrivals; the run restates the late days it finds, as
  in production; the first run also converts the arrival day before its own, and is
  reported beside it);
- peak RSS of the whole process tree (Spark's JVM included) during the history's runs;
- the floor: the same transformations over the same days (late ones included) straight from
  the raw files in DuckDB;
- both again BENCH_REPEATS times, alternating (the day-N run repeated on the same data: the
  hours it converted are made new again first), for medians on a shared machine;
- incremental flatness: bytes Athena read in the day-1 run and in the day-N run;
- the AWS cost of the day-N run, priced by etl_local.bench.cost_model from what was
  measured, side by side with the seed design (two crawls a day, full scans);
- start-up, on the measured lake and on a synthesized 30-day one
  (etl_local.bench.startup): `etl query` of a count, process start to answer, and
  `etl run`, process start to StartExecution (BENCH_STARTUP_REPEATS times each).

Writes $ETL_HOME/bench.json (ETL_HOME defaults to .local) and prints a table.
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hcl2
from rich.console import Console
from rich.table import Table

from etl_lambdas.catalog import load_catalog
from etl_lambdas.events import Run
from etl_lambdas.prices import GLUE_DPUS_PER_WORKER
from etl_lambdas.restatement import Restatement, from_rows
from etl_local import glue_runner
from etl_local.bench import cost_model, glue_estimate, s3_requests
from etl_local.bench import reference as bench_reference
from etl_local.bench import startup as bench_startup
from etl_local.bench.arrivals import HeldArrivals, scheduled_start
from etl_local.bench.floor import ConvertedOds, FloorResult, run_floor
from etl_local.bench.process_tree import PeakTreeRss
from etl_local.generate import generate_events
from etl_local.history import ENTERED
from etl_local.runtime import LocalRuntime, RunResult, StateEvent

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_SENSORS = 4600
# The deployed sizes come from the prod environment, the one the cost model is for.
PROD_TFVARS = ROOT / "envs" / "prod.tfvars"
CRAWLER_STATES = ("StartCrawlers", "WaitForCrawlers", "CrawlersState", "CountCrawlersPoll")
# The history the start-up measures are repeated on.
HISTORY_DAYS = 30

console = Console(stderr=True)


@dataclass(frozen=True)
class BenchConfig:
    sensors: int
    days: int
    home: Path
    startup_repeats: int
    repeats: int

    @classmethod
    def from_env(cls) -> BenchConfig:
        sensors = _positive_int("BENCH_SENSORS", PRODUCTION_SENSORS)
        days = _positive_int("BENCH_DAYS", 3)
        if days < 2:
            raise SystemExit(f"BENCH_DAYS={days}: at least 2 days are needed to show growth")
        if days >= HISTORY_DAYS:
            raise SystemExit(f"BENCH_DAYS={days}: at most {HISTORY_DAYS - 1} days")
        startup_repeats = _positive_int("BENCH_STARTUP_REPEATS", 5)
        repeats = int(os.environ.get("BENCH_REPEATS", "2") or 0)
        home = Path(os.environ.get("ETL_HOME", ".local")).resolve()
        return cls(sensors, days, home, startup_repeats, repeats)


def run_days(count: int, today: date) -> list[date]:
    """The `count` days before `today`: the last run is a daily run as the schedule starts it
    (its today is the day after its day), so it restates late days as production does, and
    not the days after its own (which a run of an older day would, its today being later)."""
    return [today - timedelta(days=count - n) for n in range(count)]


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r} must be a positive whole number")
    return int(raw)


@dataclass(frozen=True)
class DayRun:
    day: date
    started_at: float  # time.time() at StartExecution's call
    seconds: float
    result: RunResult
    query_ids: list[str]
    lambda_seconds: float
    lambda_invocations: int
    crawler_runs: int = 0
    # The Glue job run's timings (etl_local.glue_runner), when the run converted anything.
    glue_timings: Mapping[str, float] | None = None
    # S3 requests by billing tier (etl_local.bench.s3_requests).
    s3_requests: Mapping[str, int] | None = None
    # The largest history and state payload of the run's executions.
    execution_limits: Mapping[str, int] | None = None


@cache
def prod_values() -> dict[str, str]:
    """The prod environment's root variables: envs/prod.tfvars over variables.tf's defaults
    (as strings: python-hcl2 keeps string literals' and block labels' quotes, stripped here)."""
    values: dict[str, str] = {}
    with (ROOT / "variables.tf").open() as handle:
        for block in hcl2.load(handle)["variable"]:
            for label, body in block.items():
                if "default" in body:
                    values[label.strip('"')] = str(body["default"]).strip('"')
    with PROD_TFVARS.open() as handle:
        values.update({name: str(value).strip('"') for name, value in hcl2.load(handle).items()})
    return values


def prod_sizes() -> dict[str, Any]:
    values = prod_values()
    return {
        "glue_worker_type": values["glue_worker_type"],
        "glue_workers": int(values["glue_number_of_workers"]),
        "glue_dpus": GLUE_DPUS_PER_WORKER[values["glue_worker_type"]]
        * int(values["glue_number_of_workers"]),
        "glue_execution_class": values["glue_execution_class"],
        "lambda_memory_gb": int(values["lambda_memory_size"]) / 1024,
        "schedule_expression": values["schedule_expression"],
    }


def count_events(raw_dir: Path, day: date, time_zone: str) -> int:
    """Events of `day` (local) in the raw files: the events its run turns into DWD rows."""
    import duckdb

    files = [str(p) for p in raw_dir.rglob("*.json.gz")]
    connection = duckdb.connect()
    connection.execute(f"SET TimeZone = '{time_zone}'")
    row = connection.execute(
        "SELECT count(*) FROM read_json(?, format = 'newline_delimited', "
        "columns = {'recordTimestamp': 'TIMESTAMPTZ'}) "
        "WHERE CAST(recordTimestamp AS DATE) = ?",
        [files, day],
    ).fetchone()
    return int(row[0]) if row else 0


def stage_seconds(events: list[StateEvent]) -> dict[str, float]:
    """Wall seconds of the top-level stages, from the execution's state events."""
    top_level = {"Begin", "ConvertRaw", "Tiers", "NotifySuccess"}
    stages: dict[str, float] = {}
    for event in events:
        if event.duration is None:
            continue
        if event.name in top_level:
            stages[event.name] = stages.get(event.name, 0.0) + event.duration
        elif event.name in CRAWLER_STATES:
            stages["Crawler"] = stages.get("Crawler", 0.0) + event.duration
    return stages


def billed_transitions(events: list[StateEvent], poll_scale: Mapping[str, float]) -> int:
    """The state transitions Step Functions would bill for the run in the deployed
    environment: one per state entered (Map iterations and child executions are not states;
    "Step Functions pricing": a standard workflow is billed per state transition).

    The local environment polls every second where the deployed one waits longer: a polling
    loop (its Wait state's name in `poll_scale`, with local seconds / deployed seconds) that
    turned n times locally turns ceil(n * scale) times there, each turn as many transitions
    as it took locally. Everything else counts as measured."""
    entered = [e for e in events if e.outcome == ENTERED and not e.is_scope]
    by_scope: dict[tuple[Any, ...], list[str]] = {}
    for event in entered:
        by_scope.setdefault(tuple(event.path), []).append(event.name)
    saved = 0
    for names in by_scope.values():
        for wait, scale in poll_scale.items():
            turns = [i for i, name in enumerate(names) if name == wait]
            if len(turns) < 2:
                continue
            per_turn = statistics.median(b - a for a, b in itertools.pairwise(turns))
            saved += int((len(turns) - max(1, math.ceil(len(turns) * scale))) * per_turn)
    return len(entered) - saved


def poll_scale(local_variable: Callable[[str], Any]) -> dict[str, float]:
    """Each polling Wait state of the machines -> the local seconds of a turn of its loop
    over the deployed ones (`local_variable` reads the local plan's variables)."""
    scale = {}
    for template in sorted((ROOT / "asl").glob("*.asl.json")):
        for state, turn in poll_turns(template.read_text()).items():
            local = sum(float(local_variable(variable)) for variable in turn)
            scale[state] = local / sum(prod_variable(variable) for variable in turn)
    return scale


def poll_turns(template: str) -> dict[str, list[str]]:
    """Each Wait state of a template whose Seconds is a Terraform variable -> the variables
    a turn of its loop lasts while the polled work runs: the Wait's seconds, and the
    `settle_seconds` the State it goes to may watch for."""
    definition = json.loads(_UNQUOTED_PLACEHOLDER.sub(r'"${\1}"', template))
    turns: dict[str, list[str]] = {}
    for states in _state_maps(definition):
        for name, state in states.items():
            if state.get("Type") != "Wait" or not _is_placeholder(state.get("Seconds")):
                continue
            turn = [state["Seconds"][2:-1]]
            payload = states[state["Next"]].get("Parameters", {}).get("Payload", {})
            if _is_placeholder(payload.get("settle_seconds")):
                turn.append(payload["settle_seconds"][2:-1])
            turns[name] = turn
    return turns


# Numbers are placeholders written unquoted (`"Seconds": ${query_poll_seconds}`): quoted,
# the template parses as JSON.
_UNQUOTED_PLACEHOLDER = re.compile(r'(?<!")\$\{(\w+)\}')


def _is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def _state_maps(node: object) -> Iterable[dict[str, dict[str, Any]]]:
    """Every "States" object of a definition, nested ones (Map, Parallel) included."""
    if isinstance(node, dict):
        if isinstance(node.get("States"), dict):
            yield node["States"]
        for value in node.values():
            yield from _state_maps(value)
    elif isinstance(node, list):
        for value in node:
            yield from _state_maps(value)


def prod_variable(name: str) -> float:
    """A numeric root variable's value in the prod environment."""
    if name not in prod_values():
        raise KeyError(f"variable {name} has no value for prod")
    return float(prod_values()[name])


def run_day(runtime: LocalRuntime, day: date) -> DayRun:
    athena = runtime.client("athena")
    workgroup = runtime.settings.workgroup
    before = set(_query_ids(athena, workgroup))
    invocations_before = len(runtime.router.durations)
    crawls_before = last_crawls(runtime)
    ledger = runtime.iam.ledger if runtime.iam is not None else None
    decisions_before = ledger.decisions() if ledger is not None else {}
    glue_job = glue_runner.registered_job(runtime.settings.glue_job_name)
    glue_runs_before = len(glue_job.run_timings) if glue_job is not None else 0
    started_at = time.time()
    started = time.perf_counter()
    result = runtime.run({"date": day.isoformat()})
    seconds = time.perf_counter() - started
    if not result.succeeded:
        raise SystemExit(f"the run for {day} ended {result.status}: {result.error} {result.cause}")
    durations = runtime.router.durations[invocations_before:]
    glue_runs = glue_job.run_timings[glue_runs_before:] if glue_job is not None else []
    return DayRun(
        day=day,
        started_at=started_at,
        seconds=seconds,
        result=result,
        query_ids=[q for q in _query_ids(athena, workgroup) if q not in before],
        lambda_seconds=sum(seconds for _, seconds in durations),
        lambda_invocations=len(durations),
        crawler_runs=sum(
            1 for name, start in last_crawls(runtime).items() if crawls_before.get(name) != start
        ),
        glue_timings=glue_runs[-1] if glue_runs else None,
        s3_requests=s3_requests.by_tier(decisions_before, ledger.decisions())
        if ledger is not None
        else None,
        execution_limits=execution_limits(runtime, result.execution_arn, started_at),
    )


def execution_limits(runtime: LocalRuntime, execution_arn: str, since: float) -> dict[str, int]:
    """The run's largest execution history (events) and state input or output (bytes), over
    the pipeline's execution and the model executions it started: what Step Functions'
    quotas bound (25,000 events, 256 KiB; etl_local.sfn_limits)."""
    sfn = runtime.client("stepfunctions")
    children = [
        execution["executionArn"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=runtime.settings.plan.state_machines["model"].arn
        )
        for execution in page["executions"]
        if execution["startDate"].timestamp() >= since
    ]
    largest_history = largest_payload = 0
    for arn in [execution_arn, *children]:
        events = [
            event
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
            for event in page["events"]
        ]
        largest_history = max(largest_history, len(events))
        for event in events:
            for key, details in event.items():
                if key.endswith("EventDetails") and isinstance(details, dict):
                    for field in ("input", "output"):
                        if isinstance(details.get(field), str):
                            size = len(details[field].encode("utf-8"))
                            largest_payload = max(largest_payload, size)
    return {
        "executions": 1 + len(children),
        "largest_history_events": largest_history,
        "largest_payload_bytes": largest_payload,
    }


def last_crawls(runtime: LocalRuntime) -> dict[str, Any]:
    """Each crawler's last crawl start: a crawler whose start changed ran (Glue bills each run).
    Before the first run the crawlers are not deployed yet: none has crawled."""
    glue = runtime.client("glue")
    names = set(runtime.settings.crawler_names.values())
    return {
        crawler["Name"]: crawler.get("LastCrawl", {}).get("StartTime")
        for page in glue.get_paginator("get_crawlers").paginate()
        for crawler in page["Crawlers"]
        if crawler["Name"] in names
    }


def repeat_daily_run(
    runtime: LocalRuntime, daily: DayRun, repeats: int, floor: Callable[[DayRun], FloorResult]
) -> tuple[list[DayRun], list[FloorResult]]:
    """The daily run and the floor, each 1 + `repeats` times, alternating.

    A repeated run gets the daily run's work: the ODS hours the daily run converted (the new
    arrival hours) lose their `_SOURCES` first, so the Glue job converts them again, and the
    tiers recompute the day (re-running a day replaces it) and the late days it finds. Each
    floor does the work of the run before it: that run's window and restated days."""
    objects, bucket = runtime.objects, runtime.settings.curated_bucket
    converted = [
        obj.key
        for obj in objects.iterate(bucket, "ods/")
        if obj.key.endswith("/_SOURCES") and obj.last_modified >= daily.started_at
    ]
    dailies, floors = [daily], [floor(daily)]
    console.print(f"  floor {floors[-1].seconds:.1f} s")
    for _ in range(repeats):
        for key in converted:
            objects.delete(bucket, key)
        dailies.append(run_day(runtime, daily.day))
        floors.append(floor(dailies[-1]))
        console.print(
            f"  {daily.day} again: {dailies[-1].seconds:.1f} s (restated "
            f"{', '.join(restated_days(dailies[-1])) or 'none'}), floor {floors[-1].seconds:.1f} s"
        )
    return dailies, floors


def seed_design(
    runtime: LocalRuntime, catalog: Any, quantities: cost_model.RunQuantities
) -> cost_model.RunQuantities:
    """The seed design's run: the same job, two crawls a day, and every model re-reading its
    sources' whole history instead of the run's window."""
    curated = runtime.settings.curated_bucket
    history = {
        **{
            f"ods.{source.name}": prefix_stats(runtime, curated, f"ods/{source.name}/")[1]
            for source in catalog.sources
        },
        **{f"{m.tier}.{m.name}": published_bytes(runtime, m.tier, m.name) for m in catalog.models},
    }
    seed_scans = tuple(sum(history[source] for source in m.sources) for m in catalog.models)
    return cost_model.RunQuantities(
        **{**quantities.__dict__, "crawler_runs": 2, "athena_bytes_per_query": seed_scans}
    )


def restated_days(run: DayRun) -> list[str]:
    """The earlier days a run restated for the late data it found."""
    return [str(late["date"]) for late in run.result.restated]


def _median_stages(runs: list[DayRun]) -> dict[str, float]:
    stages = [stage_seconds(run.result.events) for run in runs]
    names = {name for stage in stages for name in stage}
    return {
        name: round(statistics.median(stage.get(name, 0.0) for stage in stages), 1)
        for name in sorted(names, key=list(stages[0]).index if stages[0] else str)
    }


def _query_ids(athena: Any, workgroup: str) -> list[str]:
    ids: list[str] = []
    for page in athena.get_paginator("list_query_executions").paginate(WorkGroup=workgroup):
        ids.extend(page.get("QueryExecutionIds", []))
    return ids


def query_executions(runtime: LocalRuntime, query_ids: list[str]) -> list[dict[str, Any]]:
    athena = runtime.client("athena")
    executions: list[dict[str, Any]] = []
    for start in range(0, len(query_ids), 50):
        response = athena.batch_get_query_execution(QueryExecutionIds=query_ids[start : start + 50])
        executions.extend(response.get("QueryExecutions", []))
    return executions


def athena_queries(executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each billed query's bytes scanned and local engine seconds (the capacity plan's
    per-query work), largest first."""
    queries = [
        {
            "bytes": int(e.get("Statistics", {}).get("DataScannedInBytes", 0)),
            "engine_seconds": int(e.get("Statistics", {}).get("EngineExecutionTimeInMillis", 0))
            / 1000,
            "statement": e.get("StatementType", ""),
        }
        for e in executions
        if e["Status"]["State"] in ("SUCCEEDED", "CANCELLED") and e.get("StatementType") != "DDL"
    ]
    return sorted(queries, key=lambda q: (-q["engine_seconds"], -q["bytes"]))


def engine_seconds(executions: list[dict[str, Any]]) -> float:
    """Seconds the local Athena spent executing queries (the rest of a tier is orchestration)."""
    return (
        sum(int(e.get("Statistics", {}).get("EngineExecutionTimeInMillis", 0)) for e in executions)
        / 1000
    )


def athena_scans(executions: list[dict[str, Any]]) -> list[int]:
    """Bytes scanned per billed query: Athena bills queries that ran (CTAS included);
    failed queries and plain DDL (CREATE/DROP without a SELECT) are free."""
    return [
        int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
        for execution in executions
        if execution["Status"]["State"] in ("SUCCEEDED", "CANCELLED")
        and execution.get("StatementType") != "DDL"
    ]


def prefix_stats(runtime: LocalRuntime, bucket: str, prefix: str) -> tuple[int, int]:
    """(objects, bytes) under an S3 prefix of the local lake."""
    s3 = runtime.client("s3")
    objects = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects += 1
            size += int(item["Size"])
    return objects, size


def published_bytes(runtime: LocalRuntime, tier: str, model: str) -> int:
    """Bytes of a published table: the files under its partitions' locations."""
    glue = runtime.client("glue")
    total = 0
    bucket = runtime.settings.curated_bucket
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=runtime.settings.database(tier), TableName=model
    )
    for page in pages:
        for partition in page["Partitions"]:
            location = partition["StorageDescriptor"]["Location"]
            prefix = location.split(f"s3://{bucket}/", 1)[1]
            total += prefix_stats(runtime, bucket, prefix)[1]
    return total


def quantities_of(
    run: DayRun,
    scans: list[int],
    sizes: dict[str, Any],
    glue: glue_estimate.GlueEstimate,
    poll_scale: Mapping[str, float],
) -> cost_model.RunQuantities:
    stages = stage_seconds(run.result.events)
    requests = run.s3_requests or {}
    return cost_model.RunQuantities(
        state_transitions=billed_transitions(run.result.events, poll_scale),
        lambda_invocations=run.lambda_invocations,
        lambda_gb_seconds=run.lambda_seconds * sizes["lambda_memory_gb"],
        # Glue's duration on prod's workers, estimated from the local throughput.
        glue_job_seconds=glue.seconds if run.glue_timings else 0.0,
        glue_job_dpus=glue.dpus,
        glue_execution_class=sizes["glue_execution_class"],
        crawler_runs=run.crawler_runs,
        crawler_seconds_per_run=stages.get("Crawler", 0.0),
        athena_bytes_per_query=tuple(scans),
        # PUT, COPY, POST and LIST share a price (s3_requests).
        s3_puts=requests.get(s3_requests.PUT_TIER, 0),
        s3_gets=requests.get(s3_requests.GET_TIER, 0),
    )


def glue_throughput(
    dailies: list[DayRun], raw_sizes: Mapping[str, int]
) -> glue_estimate.GlueThroughput:
    """The conversion's measured throughput: the daily run's new raw objects (each repeat
    converts them again) over the median seconds the job's script ran."""
    seconds = [run.glue_timings["script_seconds"] for run in dailies if run.glue_timings]
    return glue_estimate.GlueThroughput(
        raw_bytes=sum(raw_sizes.values()),
        largest_object_bytes=max(raw_sizes.values(), default=0),
        script_seconds=statistics.median(seconds) if seconds else 0.0,
        # Local Spark runs local[*]: every core of the machine.
        local_cores=os.cpu_count() or 1,
    )


@dataclass(frozen=True)
class _Measured:
    """What one bench measured, before it is priced and reported."""

    config: BenchConfig
    sizes: dict[str, Any]
    events_last: int
    generate_seconds: float
    runs: list[DayRun]
    dailies: list[DayRun]
    floors: list[FloorResult]
    peak: PeakTreeRss
    scans_first: list[int]
    scans_last: list[int]
    athena_seconds: float
    athena_queries: list[dict[str, Any]]
    glue_throughput: glue_estimate.GlueThroughput
    glue_estimate: glue_estimate.GlueEstimate
    quantities: cost_model.RunQuantities
    seed_quantities: cost_model.RunQuantities
    startup: dict[str, Any]


def main() -> int:
    config = BenchConfig.from_env()
    report = _report(_measure(config))
    output = config.home / "bench.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    console.print(f"wrote {output}")
    # The committed reference is the last run's: the reference, the benchmark page's figures
    # and the capacity plan are written from it (review the diff, then commit it).
    for written in bench_reference.publish(report):
        console.print(f"wrote {written}")
    return 0


def _measure(config: BenchConfig) -> _Measured:
    """Generate the days, run the pipeline on each, repeat the last one beside the floor,
    then measure start-up on the lake left behind."""
    sizes = prod_sizes()
    bench_home = config.home / "bench"
    shutil.rmtree(bench_home, ignore_errors=True)
    bench_home.mkdir(parents=True)
    catalog = load_catalog()
    lake_home = bench_home / "home"
    with LocalRuntime(lake_home) as runtime:
        time_zone = runtime.settings.time_zone
        days = run_days(config.days, datetime.now(ZoneInfo(time_zone)).date())
        console.print(
            f"bench: {config.sensors} sensors, runs for {days[0]}..{days[-1]}, "
            f"state in {bench_home}"
        )
        arrivals, generate_seconds = generate(days, config.sensors, bench_home / "arrivals")
        # The raw objects are files of the lake: the floor reads the same files.
        raw_dir = runtime.objects.bucket_directory(runtime.settings.raw_bucket)

        curated = runtime.settings.curated_bucket
        history = run_history(runtime, days, arrivals, sizes["schedule_expression"])
        runs, landed, peak = history.runs, history.landed, history.peak
        dailies, floors = repeat_daily_run(
            runtime,
            runs[-1],
            config.repeats,
            # The same work as the daily run it is compared with, its late days included;
            # what earlier runs converted is read from the lake, as the run reads it.
            lambda run: run_floor(
                catalog,
                raw_dir,
                bench_home / "floor",
                Run.parse(run.result.output["run"]["Payload"]),
                Restatement(from_rows(run.result.restated)),
                converted=ConvertedOds(
                    runtime.objects.bucket_directory(curated), frozenset(landed)
                ),
            ),
        )
        # What the last run found: its day's events that had landed by then.
        events_last = count_events(raw_dir, days[-1], time_zone)
        scans_first = athena_scans(query_executions(runtime, runs[0].query_ids))
        last_executions = query_executions(runtime, runs[-1].query_ids)
        scans_last = athena_scans(last_executions)
        throughput = glue_throughput(dailies, history.landed_sizes)
        glue = glue_estimate.estimate(throughput, sizes["glue_worker_type"], sizes["glue_workers"])
        quantities = quantities_of(
            runs[-1], scans_last, sizes, glue, poll_scale(runtime.settings.plan.variable)
        )
        seed_quantities = seed_design(runtime, catalog, quantities)

    return _Measured(
        config=config,
        sizes=sizes,
        events_last=events_last,
        generate_seconds=generate_seconds,
        runs=runs,
        dailies=dailies,
        floors=floors,
        peak=peak,
        scans_first=scans_first,
        scans_last=scans_last,
        athena_seconds=engine_seconds(last_executions),
        athena_queries=athena_queries(last_executions),
        glue_throughput=throughput,
        glue_estimate=glue,
        quantities=quantities,
        seed_quantities=seed_quantities,
        startup=measure_startup(config, lake_home, days, _result_files(last_executions)),
    )


def generate(days: list[date], sensors: int, directory: Path) -> tuple[HeldArrivals, float]:
    """The raw objects of the local days around the runs, held until they land: the day
    before (its late-evening UTC arrivals) and after (late arrivals of the last day), so that
    every run reads full arrival partitions. Returns them and the seconds generating took."""
    arrivals = HeldArrivals(directory)
    started = time.perf_counter()
    first, last = days[0] - timedelta(days=1), days[-1] + timedelta(days=1)
    objects = arrivals.hold(generate_events(first, last, sensors))
    seconds = time.perf_counter() - started
    console.print(f"generated {objects} raw objects in {seconds:.0f} s")
    return arrivals, seconds


@dataclass(frozen=True)
class History:
    runs: list[DayRun]
    landed: list[str]  # the raw keys that landed before the last run
    landed_sizes: dict[str, int]  # their sizes (bytes): what the last run's job converted
    peak: PeakTreeRss


def run_history(
    runtime: LocalRuntime, days: list[date], arrivals: HeldArrivals, schedule: str
) -> History:
    """Each day's run, its raw objects delivered just before it. The pipeline's own memory is
    sampled during these runs only: the floor runs DuckDB in this process, and the allocator
    keeps that memory afterwards."""
    runs: list[DayRun] = []
    landed: list[str] = []
    with PeakTreeRss() as peak:
        for day in days:
            landed = arrivals.deliver(runtime.put_raw_objects, scheduled_start(day, schedule))
            console.print(f"  {day}: {len(landed)} raw objects landed before its run")
            run = run_day(runtime, day)
            runs.append(run)
            console.print(f"  {day}: {run.result.status} in {run.seconds:.1f} s")
    wanted = set(landed)
    sizes = {
        obj.key: obj.size
        for obj in runtime.objects.iterate(runtime.settings.raw_bucket, "")
        if obj.key in wanted
    }
    return History(runs, landed, sizes, peak)


def _result_files(executions: list[dict[str, Any]]) -> list[str]:
    return [
        e["ResultConfiguration"]["OutputLocation"]
        for e in executions
        if e.get("ResultConfiguration", {}).get("OutputLocation")
    ]


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _report(measured: _Measured) -> dict[str, Any]:
    """The report (bench.json): the measures, the costs and the targets."""
    m = measured
    config, runs, dailies, floors, peak = m.config, m.runs, m.dailies, m.floors, m.peak
    floor = floors[-1]
    ratios = [run.seconds / fl.seconds for run, fl in zip(dailies, floors, strict=True)]
    first, daily = runs[0], runs[-1]
    cost = cost_model.cost_of(m.quantities)
    previous_cost = cost_model.cost_of(cost_model.previous_design(m.quantities))
    seed_cost = cost_model.cost_of(m.seed_quantities)
    report: dict[str, Any] = {
        "run_at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": _machine(),
        "sensors": config.sensors,
        "days": config.days,
        "events": m.events_last,
        "generate_seconds": round(m.generate_seconds, 1),
        "pipeline_seconds": _median(run.seconds for run in dailies),
        "pipeline_seconds_runs": [round(run.seconds, 1) for run in dailies],
        "stage_seconds": _median_stages(dailies),
        "events_per_second": round(m.events_last / statistics.median(r.seconds for r in dailies)),
        "athena_engine_seconds": round(m.athena_seconds, 1),
        "first_run_seconds": round(first.seconds, 1),
        "first_run_stage_seconds": {
            k: round(v, 1) for k, v in stage_seconds(first.result.events).items()
        },
        "floor_seconds": _median(fl.seconds for fl in floors),
        "floor_seconds_runs": [round(fl.seconds, 1) for fl in floors],
        # Each daily run over the floor run next to it, then the median of those ratios.
        "pipeline_to_floor": round(statistics.median(ratios), 2),
        "pipeline_to_floor_runs": [round(ratio, 2) for ratio in ratios],
        # The machine is shared: its 1-minute load average (2 cores) when the report is made.
        "load_average_at_end": round(os.getloadavg()[0], 1),
        "peak_rss_mb": round(peak.peak_bytes / 2**20),
        "peak_rss_mb_by_process": {
            f"{name} ({pid})": round(size / 2**20)
            for pid, (name, size) in sorted(
                peak.peak_by_process.items(), key=lambda item: -item[1][1]
            )[:5]
        },
        "bytes_read_day1": sum(m.scans_first),
        "bytes_read_dayN": sum(m.scans_last),
        "day_seconds": {run.day.isoformat(): round(run.seconds, 1) for run in runs},
        # The earlier days each run restated for the late data it found (docs: late data).
        "restated_days": {run.day.isoformat(): restated_days(run) for run in runs},
        # Each daily run's (the day-N run, then each repeat): the floor beside it did them too.
        "restated_days_daily_runs": [restated_days(run) for run in dailies],
        "rows_dayN": {model.model: model.rows_written for model in daily.result.models},
        "floor_rows": floor.rows_by_model,
        # What the cost is made from: the capacity plan scales these.
        "quantities_dayN": {
            **m.quantities.__dict__,
            "athena_bytes_per_query": list(m.quantities.athena_bytes_per_query),
        },
        "cost_per_run_usd": round(cost.total, 4),
        "cost_breakdown_usd": cost.as_dict(),
        "crawler_runs_dayN": m.quantities.crawler_runs,
        # What a day whose schema changed adds: one crawl per changed source.
        "crawl_usd": round(cost_model.crawler_cost(1, 0), 4),
        "previous_design_cost_per_run_usd": round(previous_cost.total, 4),
        "previous_design_breakdown_usd": previous_cost.as_dict(),
        "seed_design_cost_per_run_usd": round(seed_cost.total, 4),
        "seed_design_breakdown_usd": seed_cost.as_dict(),
        # What the AWS figures are for: envs/prod.tfvars over variables.tf's defaults.
        "prod": {
            "glue_worker_type": m.sizes["glue_worker_type"],
            "glue_number_of_workers": m.sizes["glue_workers"],
            "glue_execution_class": m.sizes["glue_execution_class"],
            "lambda_memory_size": int(m.sizes["lambda_memory_gb"] * 1024),
            "schedule_expression": m.sizes["schedule_expression"],
        },
        "glue": {
            "local_wall_seconds_dayN": _median(
                stage_seconds(run.result.events).get("ConvertRaw", 0.0) for run in dailies
            ),
            "local_runs": [run.glue_timings for run in dailies],
            "throughput": m.glue_throughput.as_dict(),
            "aws_estimate": m.glue_estimate.as_dict(),
        },
        "athena_queries_dayN": m.athena_queries,
        "s3_requests_dayN": dict(daily.s3_requests or {}),
        "execution_limits_dayN": dict(daily.execution_limits or {}),
        "lambda_invocations_dayN": daily.lambda_invocations,
        "state_transitions_dayN": m.quantities.state_transitions,
        "assumptions": {
            "prices": cost_model.PRICES.describe(),
            "glue_seconds": "estimated for prod's workers from the local conversion's "
            "throughput per core (etl_local.bench.glue_estimate); Glue's start-up excluded",
            "lambda_seconds": "handler time in the local execution environments",
            "s3_requests": "counted: every S3 request of the run's roles, by billing tier "
            "(etl_local.bench.s3_requests); one GET per object read (a lower bound)",
            "state_transitions": "one per state entered; polling loops turned as often as "
            "prod's poll intervals let them, for as long as the local queries took",
        },
    }
    report["startup"] = m.startup
    startup_measured = m.startup[f"{config.days} days"]
    history = m.startup[f"{HISTORY_DAYS} days"]
    report["run_startup_growth"] = round(
        history["run_startup_seconds"]["median"]
        / startup_measured["run_startup_seconds"]["median"],
        2,
    )
    report["targets"] = targets(report, startup_measured, history)
    return report


def targets(
    report: dict[str, Any], measured: dict[str, Any], history: dict[str, Any]
) -> dict[str, bool]:
    return {
        "query_under_2s_on_30_days": history["query_seconds"]["median"] < 2,
        "run_startup_under_3s": max(m["run_startup_seconds"]["median"] for m in (measured, history))
        < 3,
        "pipeline_within_2x_floor": report["pipeline_to_floor"] <= 2,
        "dayN_bytes_within_1.1x_day1": report["bytes_read_dayN"] <= 1.1 * report["bytes_read_day1"],
        "peak_rss_under_4gb": report["peak_rss_mb"] < 4096,
        "cost_below_seed_design": report["cost_per_run_usd"]
        < report["seed_design_cost_per_run_usd"],
        f"daily_run_at_most_{cost_model.DAILY_RUN_TARGET_USD}_usd": report["cost_per_run_usd"]
        <= cost_model.DAILY_RUN_TARGET_USD,
    }


def print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"make bench: {report['sensors']} sensors, {report['days']} days")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        (f"events (day {report['days']})", f"{report['events']:,}"),
        (
            f"pipeline seconds (day {report['days']}, daily run, median)",
            f"{report['pipeline_seconds']} ({_runs(report['pipeline_seconds_runs'])})",
        ),
        *((f"  {name}", f"{seconds}") for name, seconds in report["stage_seconds"].items()),
        ("  of which Athena executing queries", f"{report['athena_engine_seconds']}"),
        ("events per second", f"{report['events_per_second']:,}"),
        (
            "first run seconds (day 1, also converts the day before)",
            f"{report['first_run_seconds']}",
        ),
        *(
            (f"  {day}: restated (late data)", ", ".join(restated) or "none")
            for day, restated in report["restated_days"].items()
        ),
        *(
            (f"  daily run {n + 1}: restated", ", ".join(restated) or "none")
            for n, restated in enumerate(report["restated_days_daily_runs"])
        ),
        (
            "floor seconds (DuckDB only, median)",
            f"{report['floor_seconds']} ({_runs(report['floor_seconds_runs'])})",
        ),
        (
            "pipeline / floor (median of pairs)",
            f"{report['pipeline_to_floor']} ({_runs(report['pipeline_to_floor_runs'])})",
        ),
        ("peak RSS, process tree (MB)", f"{report['peak_rss_mb']:,}"),
        (
            f"Glue on AWS, est. ({report['prod']['glue_worker_type']} x "
            f"{report['prod']['glue_number_of_workers']})",
            f"{report['glue']['aws_estimate']['seconds']} s, "
            f"{report['glue']['aws_estimate']['dpu_seconds']} DPU-s",
        ),
        ("  ConvertRaw locally (s)", f"{report['glue']['local_wall_seconds_dayN']}"),
        (
            "S3 requests (PUT+LIST / GET / DELETE)",
            " / ".join(f"{n:,}" for n in report["s3_requests_dayN"].values()),
        ),
        ("bytes read, day 1", f"{report['bytes_read_day1']:,}"),
        (f"bytes read, day {report['days']}", f"{report['bytes_read_dayN']:,}"),
        *cost_rows(report),
        *(
            row
            for lake, measures in report["startup"].items()
            for row in (
                (
                    f"etl query, {lake} lake ({measures['lake']['objects']:,} objects)",
                    _spread(measures["query_seconds"]),
                ),
                ("  CPU seconds", _spread(measures["query_cpu_seconds"])),
                (f"etl run start-up, {lake} lake", _spread(measures["run_startup_seconds"])),
                ("  CPU seconds (whole command)", _spread(measures["run_command_cpu_seconds"])),
            )
        ),
        *((f"target: {name}", "met" if ok else "MISSED") for name, ok in report["targets"].items()),
    ]
    for measure, value in rows:
        table.add_row(measure, value)
    Console().print(table)


def cost_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The AWS cost of a daily run, each service with its share (the crawler's among them),
    beside the design before (a crawl every run, 10 standard DPUs) and the seed design."""
    return [
        *cost_model.cost_lines(
            f"AWS cost per daily run, day {report['days']} "
            f"({report['crawler_runs_dayN']} crawl(s))",
            report["cost_breakdown_usd"],
        ),
        ("  a day with a schema change adds, per crawl (USD)", f"{report['crawl_usd']:.4f}"),
        *cost_model.cost_lines(
            "previous design (a crawl every run, 10 DPUs)",
            report["previous_design_breakdown_usd"],
        ),
        ("seed design cost per run (USD)", f"{report['seed_design_cost_per_run_usd']}"),
    ]


def _runs(values: list[float]) -> str:
    return ", ".join(str(value) for value in values)


def _median(values: Iterable[float]) -> float:
    return round(statistics.median(values), 1)


def _spread(spread: dict[str, Any]) -> str:
    return f"{spread['median']} s ({spread['low']}..{spread['high']}, n={spread['samples']})"


def measure_startup(
    config: BenchConfig, lake_home: Path, days: list[date], result_files: list[str]
) -> dict[str, Any]:
    """Start-up measures on the measured lake and on a HISTORY_DAYS one synthesized from it."""
    history_home = lake_home.with_name(f"home-{HISTORY_DAYS}-days")
    bench_startup.copy_lake(lake_home, history_home)
    added = bench_startup.history_days(days[0], len(days), HISTORY_DAYS)
    bench_startup.add_days_before(history_home, days[-1], added, result_files)
    console.print(f"start-up measures ({config.startup_repeats} each)")
    return bench_startup.measure(
        {
            f"{config.days} days": (lake_home, bench_startup.lake_size(lake_home, config.days)),
            f"{HISTORY_DAYS} days": (
                history_home,
                bench_startup.lake_size(history_home, HISTORY_DAYS),
            ),
        },
        days[-1],
        config.startup_repeats,
    )


if __name__ == "__main__":
    raise SystemExit(main())
