"""Step `begin`: the execution input becomes the run (its window grown by the days no run
published since the last one settled, an outage or failed runs, within the look-back bound);
the run lease is taken; the staging tables of runs that died are dropped (no other run is
alive once the lease is held). A run with a selection skips the Glue job when the ODS already
holds every raw file its models' sources have in the arrival window (etl_lambdas.ods_state)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import ledger
from etl_lambdas.aws import client
from etl_lambdas.catalog import Catalog, load_catalog
from etl_lambdas.config import non_negative_int, positive_int, step_environment, time_zone
from etl_lambdas.events import BeginEvent
from etl_lambdas.lease import RunLease, execution_running
from etl_lambdas.naming import database
from etl_lambdas.ods_state import ods_state
from etl_lambdas.planning import DateRange, build_run, parse_date
from etl_lambdas.restatement import upstream_sources
from etl_lambdas.sources import run_job_arguments
from etl_lambdas.staging import drop_stale_tables

_ENV = step_environment("begin")
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])
MAX_BACKFILL_DAYS = positive_int("MAX_BACKFILL_DAYS", _ENV["MAX_BACKFILL_DAYS"])
LOOKBACK_DAYS = non_negative_int("LATE_DATA_LOOKBACK_DAYS", _ENV["LATE_DATA_LOOKBACK_DAYS"])
LEASE_SECONDS = positive_int("LEASE_SECONDS", _ENV["LEASE_SECONDS"])

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    begin = BeginEvent.parse(event)
    catalog = load_catalog()
    plan = partial(
        build_run,
        begin.request,
        execution_name=begin.execution_name,
        execution_start=begin.execution_start,
        now=datetime.now(UTC),
        time_zone=TIME_ZONE,
        max_days=MAX_BACKFILL_DAYS,
        lookback_days=LOOKBACK_DAYS,
        catalog=catalog,
    )
    run = plan()  # a bad input fails here, before the lease is taken
    lease = RunLease(client("dynamodb"), _ENV["RUN_LEASE_TABLE"]).acquire(
        holder=begin.execution_arn,
        run_id=run["run_id"],
        now=datetime.now(UTC),
        seconds=LEASE_SECONDS,
        holder_running=execution_running(client("stepfunctions")),
    )
    # Read under the lease: no other run settles days meanwhile.
    s3 = client("s3")
    settled = [
        ledger.read_settled(s3, _ENV["CURATED_BUCKET"], source)
        for source in catalog.sources.names()
    ]
    requested_start = date.fromisoformat(run["start_date"])
    last_days = [d for d in (marks.last_day(requested_start) for marks in settled) if d is not None]
    run = plan(last_settled=max(last_days, default=None))
    dropped = drop_stale_tables(
        client("glue"), database(_ENV["GLUE_DATABASE_PREFIX"], "staging"), run["run_id"]
    )
    run.update(
        lease=lease.as_dict(),
        stale_staging_tables=len(dropped),
        # Merged by Glue over the job's default arguments (sources, paths, time zone).
        glue_arguments=run_job_arguments(
            arrival_start_date=run["arrival_start_date"],
            arrival_end_date=run["arrival_end_date"],
            run_id=run["run_id"],
        ),
    )
    run.update(conversion(run, catalog))
    logger.info("run begun", extra={"run": run, "dropped_staging_tables": dropped})
    if run["missed"]:
        logger.warning(
            "days before the look-back bound were never published; backfill them",
            extra={"run_id": run["run_id"], "missed": run["missed"]},
        )
    return run


def conversion(run: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """Whether the Glue job runs: always for a run of every model; for a selection, only when
    the ODS lacks raw files of the sources its models read (the state machine's ConvertRaw
    choice reads `convert_raw`)."""
    if run["models"] is None:
        return {"convert_raw": True}
    needed = set().union(*(upstream_sources(catalog, catalog.get(m)) for m in run["models"]))
    state = ods_state(
        client("s3"),
        raw_bucket=_ENV["RAW_BUCKET"],
        curated_bucket=_ENV["CURATED_BUCKET"],
        sources=[source for source in catalog.sources if source.name in needed],
        arrival=DateRange(
            parse_date("arrival_start_date", run["arrival_start_date"]),
            parse_date("arrival_end_date", run["arrival_end_date"]),
        ),
    )
    return {"convert_raw": not state.current, "ods": state.as_dict()}
