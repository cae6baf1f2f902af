"""What a run cost, from what AWS reports about it, priced from etl_lambdas.prices.

The run's execution history (and its child executions', found in it) is the record of what
ran: every state entered and every retry (Step Functions bills each as a state transition),
every Lambda invocation with its start and end (its duration; the memory and architecture
billed come from GetFunctionConfiguration), every Glue job run started (GetJobRun reports its
execution class, workers and time: `DPUSeconds` for Flex and auto-scaling runs,
`ExecutionTime` x the workers' DPUs otherwise), every Athena query a step started
(BatchGetQueryExecution reports `DataScannedInBytes`, its state and statement type), every
crawl. Nothing is estimated but the crawls' DPUs (not reported by Glue; see
etl_lambdas.prices.CRAWLER_DPUS). S3 and Glue Data Catalog requests and CloudWatch Logs are
not reported per run and are not included.

Used by the `run-cost` step (the success notification carries its document) and by
`etl runs` for executions that ended without one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etl_lambdas import prices as pricing
from etl_lambdas.steps import STEPS

__all__ = ["NOT_INCLUDED", "RunUsage", "cost_document", "measure", "read_usage"]

NOT_INCLUDED = (
    "S3 and Glue Data Catalog requests, CloudWatch Logs and data transfer: AWS reports no "
    "per-run figure for them"
)
# BatchGetQueryExecution takes at most 50 ids (Athena API Reference).
_ATHENA_BATCH = 50
# GetExecutionHistory's largest page.
_HISTORY_PAGE = 1000
# Lambda results that name the Athena queries a step started (write, audit-start).
_QUERY_ID_KEYS = ("query_ids", "query_execution_id")
_TASK_ENDED = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")
_CTAS = "CREATE_TABLE_AS_SELECT"

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class Invocation:
    function: str  # the function's name or ARN, as the task named it
    seconds: float


@dataclass(frozen=True)
class Crawl:
    crawler: str
    seconds: float


@dataclass
class RunUsage:
    """What the executions of one run used, as their histories record it."""

    executions: list[str] = field(default_factory=list)
    state_transitions: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    query_ids: list[str] = field(default_factory=list)
    job_runs: list[tuple[str, str]] = field(default_factory=list)  # (job name, run id)
    crawls: list[Crawl] = field(default_factory=list)


# -- reading the histories ---------------------------------------------------------------------


def history(sfn: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    """Every event of an execution, oldest first, with its inputs and outputs."""
    request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": _HISTORY_PAGE}
    while True:
        page = sfn.get_execution_history(**request)
        yield from page["events"]
        token = page.get("nextToken")
        if not token:
            return
        request["nextToken"] = token


def read_usage(sfn: Any, execution_arn: str) -> RunUsage:
    """The run's usage: its execution and every child execution it started, recursively."""
    usage = RunUsage()
    pending = [execution_arn]
    while pending:
        arn = pending.pop(0)
        if arn in usage.executions:
            continue
        usage.executions.append(arn)
        pending.extend(_consume(history(sfn, arn), usage))
    return usage


def _consume(events: Iterable[Mapping[str, Any]], usage: RunUsage) -> list[str]:
    """Add one execution's events to `usage`; returns the child executions it started."""
    # Only each event's type is kept: a history holds every state's input and output.
    types: dict[int, str] = {}
    scheduled: dict[int, str] = {}  # TaskScheduled id -> function
    started: dict[int, tuple[str, datetime]] = {}  # TaskStarted id -> (function, time)
    children: list[str] = []
    crawl_started: tuple[list[str], datetime] | None = None
    for event in events:
        kind = types[event["id"]] = event["type"]
        previous = types.get(event.get("previousEventId", 0))
        if kind.endswith("StateEntered"):
            usage.state_transitions += 1
        elif kind == "TaskScheduled":
            details = event.get("taskScheduledEventDetails", {})
            # A retry is scheduled again after the failed attempt, not after the state entry.
            if previous is not None and previous != "TaskStateEntered":
                usage.state_transitions += 1
            if details.get("resourceType") == "lambda":
                scheduled[event["id"]] = _function_name(details.get("parameters"))
        elif kind == "TaskStarted" and event.get("previousEventId") in scheduled:
            function = scheduled[event["previousEventId"]]
            started[event["id"]] = (function, event["timestamp"])
        elif kind in _TASK_ENDED and event.get("previousEventId") in started:
            function, start = started.pop(event["previousEventId"])
            seconds = (event["timestamp"] - start).total_seconds()
            usage.invocations.append(Invocation(function, seconds))
            payload = _payload(_task_output(event))
            usage.query_ids.extend(_query_ids(payload))
            crawl_started = _crawls(function, payload, event["timestamp"], crawl_started, usage)
        if kind in ("TaskSubmitted", "TaskSucceeded"):
            output = _task_output(event)
            job_run = _job_run(event, output)
            if job_run is not None and job_run not in usage.job_runs:
                usage.job_runs.append(job_run)
            child = _execution_arn(output)
            if child is not None and child not in children:
                children.append(child)
    return children


def _crawls(
    function: str,
    payload: Any,
    ended: datetime,
    crawl_started: tuple[list[str], datetime] | None,
    usage: RunUsage,
) -> tuple[list[str], datetime] | None:
    """A crawl lasts from the crawler-start step's end to the crawler-state poll that saw it
    end (GetCrawlerMetrics' figures are not per crawl)."""
    step = step_of(function)
    if step == "crawler-start" and isinstance(payload, Mapping):
        names = [str(name) for name in payload.get("crawlers") or []]
        return (names, ended) if names else None
    crawl_ended = isinstance(payload, Mapping) and payload.get("status") != "RUNNING"
    if step == "crawler-state" and crawl_started is not None and crawl_ended:
        names, began = crawl_started
        seconds = (ended - began).total_seconds()
        usage.crawls.extend(Crawl(name, seconds) for name in names)
        return None
    return crawl_started


def step_of(function: str) -> str | None:
    """The step a function runs: its name is `<name_prefix>-<step>` (docs/contracts.md)."""
    name = function.rsplit(":function:", 1)[-1].split(":", 1)[0]
    matches = [step for step in STEPS if name.endswith(f"-{step}")]
    return max(matches, key=len) if matches else None


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _function_name(parameters: Any) -> str:
    decoded = _parsed(parameters)
    name = decoded.get("FunctionName") if isinstance(decoded, Mapping) else None
    return str(name) if name else "?"


def _task_output(event: Mapping[str, Any]) -> Any:
    details: Mapping[str, Any] = next(
        (v for k, v in event.items() if k.endswith("EventDetails")), {}
    )
    return _parsed(details.get("output"))


def _payload(output: Any) -> Any:
    return output.get("Payload") if isinstance(output, Mapping) else None


def _query_ids(payload: Any) -> list[str]:
    if not isinstance(payload, Mapping):
        return []
    found: list[str] = []
    for key in _QUERY_ID_KEYS:
        value = payload.get(key)
        values = value if isinstance(value, list) else [value]
        found.extend(str(v) for v in values if isinstance(v, str) and v)
    return found


def _job_run(event: Mapping[str, Any], output: Any) -> tuple[str, str] | None:
    details = event.get(f"{_lower_first(event['type'])}EventDetails", {})
    if details.get("resourceType") != "glue" or not isinstance(output, Mapping):
        return None
    run_id = output.get("JobRunId") or output.get("Id")
    job = output.get("JobName")
    return (str(job), str(run_id)) if run_id and job else None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _execution_arn(output: Any) -> str | None:
    """A child execution: StartExecution's response or DescribeExecution's (.sync)."""
    if not isinstance(output, Mapping):
        return None
    arn = output.get("ExecutionArn") or output.get("executionArn")
    return arn if isinstance(arn, str) and ":execution:" in arn else None


# -- pricing what was used -------------------------------------------------------------------


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def cost_document(
    usage: RunUsage, clients: ClientFactory, prices: pricing.Prices
) -> dict[str, Any]:
    """The run's cost by service, priced from what AWS reports for each resource used."""
    unpriced: list[str] = []
    services = {
        "athena": _athena(clients("athena"), usage.query_ids, prices),
        "glue_job": _glue(clients("glue"), usage.job_runs, prices, unpriced),
        "step_functions": {
            "usd": usage.state_transitions * prices.step_functions_per_transition,
            "state_transitions": usage.state_transitions,
            "executions": len(usage.executions),
        },
        "lambda": _lambda(clients("lambda"), usage.invocations, prices, unpriced),
        "crawler": {
            "usd": sum(pricing.crawler_cost(prices, 1, c.seconds) for c in usage.crawls),
            "crawls": len(usage.crawls),
            "estimated": "DPUs per crawl not reported: billed as "
            f"{pricing.CRAWLER_DPUS} DPUs, {pricing.CRAWLER_MINIMUM_SECONDS // 60}-minute minimum",
        },
    }
    for service in services.values():
        service["usd"] = round(float(service["usd"]), 6)
    document: dict[str, Any] = {
        "total_usd": round(sum(s["usd"] for s in services.values()), 6),
        "prices": prices.describe(),
        "services": services,
        "not_included": NOT_INCLUDED,
    }
    if unpriced:
        document["unpriced"] = unpriced
    return document


def _athena(athena: Any, query_ids: list[str], prices: pricing.Prices) -> dict[str, Any]:
    unique = list(dict.fromkeys(query_ids))
    scanned = billed = charged = 0
    for start in range(0, len(unique), _ATHENA_BATCH):
        response = athena.batch_get_query_execution(
            QueryExecutionIds=unique[start : start + _ATHENA_BATCH]
        )
        for execution in response.get("QueryExecutions", []):
            bytes_scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
            scanned += bytes_scanned
            if _athena_charges(execution):
                charged += 1
                billed += pricing.athena_billed_bytes(bytes_scanned)
    return {
        "usd": billed / pricing.ATHENA_BYTES_PER_TB * prices.athena_per_tb,
        "queries": len(unique),
        "charged_queries": charged,
        "scanned_bytes": scanned,
        "billed_bytes": billed,
    }


def _athena_charges(execution: Mapping[str, Any]) -> bool:
    """Failed queries and DDL are free; a CTAS (DDL and DML at once) is charged for what its
    SELECT scans, like a query."""
    if execution.get("Status", {}).get("State") == "FAILED":
        return False
    if execution.get("StatementType") == "DDL":
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes") or 0
        return execution.get("SubstatementType") == _CTAS or int(scanned) > 0
    return True


def _glue(
    glue: Any, job_runs: list[tuple[str, str]], prices: pricing.Prices, unpriced: list[str]
) -> dict[str, Any]:
    runs = []
    total = 0.0
    for job, run_id in job_runs:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        execution_class = str(run.get("ExecutionClass") or "STANDARD")
        dpus = _job_run_dpus(run)
        if dpus is None:
            unpriced.append(f"Glue job run {run_id}: worker type {run.get('WorkerType')!r}")
            continue
        reported = run.get("DPUSeconds")
        dpu_seconds = float(reported) if reported else float(run.get("ExecutionTime") or 0) * dpus
        usd = pricing.glue_job_cost(prices, dpu_seconds, dpus, execution_class)
        total += usd
        runs.append(
            {
                "run_id": run_id,
                "state": run.get("JobRunState"),
                "execution_class": execution_class,
                "worker_type": run.get("WorkerType"),
                "workers": run.get("NumberOfWorkers"),
                "execution_seconds": run.get("ExecutionTime"),
                "dpu_seconds": round(dpu_seconds, 3),
                "usd": round(usd, 6),
            }
        )
    return {"usd": total, "runs": runs}


def _job_run_dpus(run: Mapping[str, Any]) -> float | None:
    worker = str(run.get("WorkerType"))
    if worker in pricing.GLUE_DPUS_PER_WORKER and run.get("NumberOfWorkers"):
        return float(pricing.GLUE_DPUS_PER_WORKER[worker] * int(run["NumberOfWorkers"]))
    if worker in ("None", "Standard") and run.get("MaxCapacity"):
        return float(run["MaxCapacity"])
    return None


def _lambda(
    lambda_: Any, invocations: list[Invocation], prices: pricing.Prices, unpriced: list[str]
) -> dict[str, Any]:
    configurations: dict[str, tuple[int, str] | None] = {}
    gb_seconds = usd = 0.0
    for invocation in invocations:
        if invocation.function not in configurations:
            configurations[invocation.function] = _function_configuration(
                lambda_, invocation.function, unpriced
            )
        configuration = configurations[invocation.function]
        if configuration is None:
            continue
        memory_mb, architecture = configuration
        seconds = pricing.lambda_billed_seconds(invocation.seconds) * memory_mb / 1024
        gb_seconds += seconds
        usd += seconds * pricing.lambda_gb_second_price(prices, architecture)
    usd += len(invocations) * prices.lambda_per_request
    return {"usd": usd, "invocations": len(invocations), "gb_seconds": round(gb_seconds, 3)}


def _function_configuration(
    lambda_: Any, function: str, unpriced: list[str]
) -> tuple[int, str] | None:
    configuration = lambda_.get_function_configuration(FunctionName=function)
    architecture = (configuration.get("Architectures") or ["x86_64"])[0]
    if architecture not in pricing.LAMBDA_ARCHITECTURES:
        unpriced.append(f"Lambda {function}: architecture {architecture!r}")
        return None
    return int(configuration["MemorySize"]), architecture


def measure(
    clients: ClientFactory,
    execution_arn: str,
    *,
    transitions_after: int = 0,
    running: Callable[[], Iterable[Invocation]] | None = None,
) -> dict[str, Any]:
    """The cost document of the run `execution_arn` (priced in its region).

    From inside the run (the run-cost step), `transitions_after` counts the states that will
    still be entered after the measuring one, and `running` gives its own invocation so far
    (read once the histories are read): the history cannot record either yet."""
    usage = read_usage(clients("stepfunctions"), execution_arn)
    usage.state_transitions += transitions_after
    if running is not None:
        usage.invocations.extend(running())
    return cost_document(usage, clients, pricing.for_region(region_of(execution_arn)))
