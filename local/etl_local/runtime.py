"""The local runtime: the real pipeline artifacts, unchanged, on this machine.

`LocalRuntime` starts moto's server in-process with its S3 served from the lake's files
under $ETL_HOME and its Glue catalog loaded from there (etl_local.state: nothing is
copied, every change is written as it is made), deploys what Terraform deploys (same
names), and routes Lambda invocations to the project's handlers and Glue job runs to local
Spark. `run()` starts the rendered state machine and follows it like the Step Functions
console; `query()` answers Athena SQL through the Athena API.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto.glue.models import glue_backends

from etl_local import deploy as deployment
from etl_local import faults as fault_injection
from etl_local import glue_runner, moto_patches, s3_disk
from etl_local import iam as iam_hook
from etl_local.athena import AthenaEngine
from etl_local.crawler import LocalCrawler
from etl_local.execution import ModelSummary, RunResult, follow_execution, model_summaries
from etl_local.faults import Fault
from etl_local.history import StateEvent
from etl_local.lambda_router import LambdaRouter
from etl_local.local_iam import LocalIam, sign_step_functions_as_role
from etl_local.object_access import Authorize
from etl_local.object_store import ObjectStore
from etl_local.server import LocalAwsServer
from etl_local.settings import LocalSettings
from etl_local.state import (
    CatalogFiles,
    CatalogPersistence,
    catalog_root,
    convert_legacy_snapshot,
    etl_home,
    object_store_root,
    persist_catalog,
    reset,
)

__all__ = [
    "LocalRuntime",
    "ModelSummary",
    "QueryError",
    "QueryResult",
    "RunResult",
    "StateEvent",
    "reset",
]

logger = logging.getLogger(__name__)

_QUERY_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# Beyond the machine's own TimeoutSeconds: the runtime stops waiting and aborts.
_WAIT_MARGIN_SECONDS = 60


class QueryError(Exception):
    """An Athena query ended FAILED or CANCELLED; the message is Athena's reason."""

    def __init__(self, state: str, reason: str, query_execution_id: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason
        self.query_execution_id = query_execution_id


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    query_execution_id: str = ""
    bytes_scanned: int = 0


class LocalRuntime:
    """Context manager: the local deployment of the pipeline, for one process.

    With `persist=False` the lake lives in a temporary directory removed at stop (and the
    catalog is not saved): nothing under $ETL_HOME is read or written but the logs, the
    IAM ledger and Spark's class archive (`cache/`).

    IAM is enforced per principal from the local plan (etl_local.local_iam): every request
    to the endpoint, every Lambda invocation and every S3 access of the local Athena, crawler
    and Glue job is authorized as its principal, and counted in a ledger under
    `iam_ledger` (default $ETL_HOME/iam). An explicit `authorize` replaces that for the
    emulated services' S3 accesses and turns the endpoint's enforcement off (tests).
    """

    def __init__(
        self,
        home: Path | None = None,
        faults: Sequence[Fault] = (),
        *,
        settings: LocalSettings | None = None,
        sql_root: Path | None = None,
        persist: bool = True,
        authorize: Authorize | None = None,
        iam_ledger: Path | None = None,
    ) -> None:
        self.home = etl_home(home)
        self._authorize = authorize
        self._iam_ledger = iam_ledger
        self.iam: LocalIam | None = None
        self._iam_hook: iam_hook.InstalledHook | None = None
        self._unsign_step_functions: Callable[[], None] | None = None
        self.faults: tuple[Fault, ...] = tuple(faults)
        self.settings = settings or LocalSettings()
        self._sql_root = sql_root
        self._persist = persist
        self._server = LocalAwsServer()
        self._router: LambdaRouter | None = None
        self._clients: dict[str, Any] = {}
        self._engine: AthenaEngine | None = None
        self._crawler: LocalCrawler | None = None
        self._patches: moto_patches.InstalledPatches | None = None
        self._objects: ObjectStore | None = None
        self._scratch: Path | None = None
        self._disk_s3: s3_disk.InstalledDiskS3 | None = None
        self._catalog: CatalogPersistence | None = None
        self._orchestration_deployed = False
        self._step_functions_patches: moto_patches.InstalledPatches | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Serve the lake as it is on disk: no object is read or copied, the catalog's
        tables are created in moto's backend from their files (see etl_local.state)."""
        # Read first: without a plan there is nothing to deploy (PlanMissing says how to make it).
        plan = self.settings.plan
        self._server.start()
        try:
            self._open_lake()
            authorize, athena_authorize = self._start_iam()
            self._engine = AthenaEngine(
                self.objects, region=self.settings.region, authorize=athena_authorize
            )
            if self.iam is not None:
                self.iam.lookups.athena_workgroup = self._engine_workgroup
            self._crawler = LocalCrawler(self.objects, authorize=authorize)
            self._patches = moto_patches.install(self._engine, self._crawler, step_functions=False)
            self._router = LambdaRouter(
                self.settings,
                self.endpoint_url,
                sql_root=self._sql_root,
                log_path=self.home / "logs" / "lambda.log",
                credentials=self.iam.function_environment if self.iam else None,
                authorize_invoke=self.iam.authorize_invoke if self.iam else None,
            )
            self._router.install()
            glue_runner.register_job(
                plan.glue_job.name,
                glue_runner.LocalGlueJob(
                    self.objects,
                    spark_log=self.home / "logs" / "spark.log",
                    authorize=authorize,
                    class_archive=self.home / "cache" / "spark-classes.jsa",
                ),
            )
            # The lake keeps the buckets and databases: once deployed, only the workgroup is
            # made again. What executions need besides is deployed by the first run (see
            # `run`): a query does not wait for Step Functions to parse the state machine.
            if self._storage_on_disk():
                deployment.deploy_workgroup(self.client("athena"), self.settings)
            else:
                deployment.deploy_storage(self.client, self.settings)
        except BaseException:
            self.stop()
            raise

    def _start_iam(self) -> tuple[Authorize, Authorize]:
        """The principals of the plan and the hook in front of the endpoint; the authorize
        callbacks of the emulated services (acting as their role; Athena as its caller)."""
        if self._authorize is not None:
            return self._authorize, self._authorize
        self.iam = LocalIam(self.settings, self._iam_ledger or self.home / "iam")
        self._iam_hook = iam_hook.install(self._server.moto_server, self.iam.authorizer)
        return self.iam.authorize, self.iam.authorize_via_athena

    def _engine_workgroup(self, query_id: str) -> str | None:
        # GetQueryExecution is authorized on the workgroup the query ran in.
        engine = self._engine
        if engine is None:
            return None
        try:
            return engine.get_query(query_id).workgroup
        except Exception:  # an unknown id: the endpoint answers it (InvalidRequestException)
            return None

    def _open_lake(self) -> None:
        if self._persist:
            root = object_store_root(self.home)
        else:
            self._scratch = Path(tempfile.mkdtemp(prefix="lakepipe-lake-"))
            root = self._scratch / "s3"
        self._objects = ObjectStore(root)
        if self._persist:
            convert_legacy_snapshot(self._objects, self.settings.account_id, self.settings.region)
        self._disk_s3 = s3_disk.install(self._objects)
        if self._persist:
            backend = glue_backends[self.settings.account_id][self.settings.region]
            self._catalog = persist_catalog(CatalogFiles(catalog_root(self.home)), backend)

    def stop(self) -> None:
        """Stop serving; everything answered is already on disk."""
        if self._unsign_step_functions is not None:
            self._unsign_step_functions()
            self._unsign_step_functions = None
        if self._iam_hook is not None:
            self._iam_hook.uninstall()
            self._iam_hook = None
        if self.iam is not None:
            self.iam.flush()
            self.iam = None
        with contextlib.suppress(Exception):  # no plan: nothing was registered
            glue_runner.unregister_job(self.settings.glue_job_name)
        if self._router is not None:
            self._router.uninstall()
            self._router = None
        self._clients.clear()
        self._orchestration_deployed = False
        self._server.stop()
        for patches in (self._step_functions_patches, self._patches):
            if patches is not None:
                patches.uninstall()
        self._step_functions_patches = self._patches = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self._crawler = None
        if self._catalog is not None:
            self._catalog.uninstall()
            self._catalog = None
        if self._disk_s3 is not None:
            self._disk_s3.uninstall()
            self._disk_s3 = None
        if self._objects is not None:
            self._objects.close()
            self._objects = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _storage_on_disk(self) -> bool:
        """Whether the lake already holds every bucket and database of the deployment."""
        databases = glue_backends[self.settings.account_id][self.settings.region].databases
        return all(self.objects.bucket(name) for name in self.settings.buckets) and all(
            name in databases for name in self.settings.databases
        )

    def deploy_orchestration(self) -> None:
        """Deploy the functions, notifications and state machine (once per process)."""
        if self._orchestration_deployed:
            return
        self._step_functions_patches = moto_patches.install()
        if self.iam is not None and self._unsign_step_functions is None:
            self._unsign_step_functions = sign_step_functions_as_role(self.iam.credentials_for_role)
        deployment.deploy_orchestration(self.client, self.settings)
        self._orchestration_deployed = True

    @property
    def objects(self) -> ObjectStore:
        """The lake's object store (its files and index)."""
        if self._objects is None:
            raise RuntimeError("the runtime is not started")
        return self._objects

    @property
    def endpoint_url(self) -> str:
        return self._server.endpoint_url

    @property
    def server(self) -> LocalAwsServer:
        return self._server

    @property
    def router(self) -> LambdaRouter:
        if self._router is None:
            raise RuntimeError("the runtime is not started")
        return self._router

    def client(self, service: str) -> Any:
        """A boto3 client for the local endpoint."""
        existing = self._clients.get(service)
        if existing is None:
            existing = boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.settings.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            )
            self._clients[service] = existing
        return existing

    # -- data -----------------------------------------------------------------------------
    def put_raw_objects(self, items: Iterable[tuple[str, bytes]]) -> int:
        """Upload raw objects (key, body) into the raw bucket; returns how many."""
        s3 = self.client("s3")
        count = 0
        for key, body in items:
            s3.put_object(Bucket=self.settings.raw_bucket, Key=key, Body=body)
            count += 1
        return count

    def raw_object_count(self) -> int:
        s3 = self.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.settings.raw_bucket, Prefix=self.settings.raw_prefix
        )
        return sum(page.get("KeyCount", 0) for page in pages)

    # -- queries --------------------------------------------------------------------------
    def query(self, sql: str, database: str | None = None, timeout: float = 300) -> QueryResult:
        """Run Athena SQL on the local lake; QueryError (Athena's reason) if it fails."""
        athena = self.client("athena")
        request: dict[str, Any] = {"QueryString": sql, "WorkGroup": self.settings.workgroup}
        if database:
            request["QueryExecutionContext"] = {"Database": database}
        query_id = athena.start_query_execution(**request)["QueryExecutionId"]
        execution = _wait_for_query(athena, query_id, timeout)
        status = execution["Status"]
        if status["State"] != "SUCCEEDED":
            raise QueryError(status["State"], status.get("StateChangeReason", ""), query_id)
        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple[Any, ...]] = []
        first_page = True
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            result_set = page["ResultSet"]
            if first_page:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c["Name"] for c in info]
                types = [c.get("Type", "varchar") for c in info]
            page_rows = result_set.get("Rows", [])
            # Athena repeats the header as the first row of a SELECT's first page.
            if first_page and page_rows and columns and _cells(page_rows[0]) == columns:
                page_rows = page_rows[1:]
            rows.extend(
                tuple(_typed(value, kind) for value, kind in zip(_cells(row), types, strict=False))
                for row in page_rows
            )
            first_page = False
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
        return QueryResult(columns, rows, query_id, scanned)

    # -- runs -----------------------------------------------------------------------------
    def run(
        self,
        execution_input: dict[str, Any],
        on_event: Callable[[StateEvent], None] | None = None,
        *,
        faults: Sequence[Fault] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Execute the state machine once and follow it to its end."""
        self.deploy_orchestration()
        sfn = self.client("stepfunctions")
        self._drain_notifications()
        router = self.router
        router.results.clear()
        active_faults = self.faults if faults is None else tuple(faults)
        bound = timeout or self.settings.state_machine_timeout_seconds + _WAIT_MARGIN_SECONDS
        with fault_injection.armed(
            active_faults,
            router,
            self._engine,
            self._crawler,
            staging_database=self.settings.database("staging"),
        ):
            # Step Functions names an execution with a UUID when the caller gives none.
            execution_arn = sfn.start_execution(
                stateMachineArn=self.settings.state_machine_arn,
                name=str(uuid.uuid4()),
                input=json.dumps(execution_input),
            )["executionArn"]
            followed = follow_execution(
                sfn,
                execution_arn,
                on_event=on_event,
                timeout=bound,
                log_dir=self.home / "logs" / "executions",
            )
        description = followed.description
        return RunResult(
            status=description["status"],
            error=description.get("error") or followed.last_error,
            cause=description.get("cause") or followed.last_cause,
            execution_arn=execution_arn,
            # States only: iterations and child executions went to on_event.
            events=[event for event in followed.events if not event.is_scope],
            models=model_summaries(followed.output, followed.events),
            notifications=self._drain_notifications(),
            output=followed.output,
            log_path=followed.log_path,
        )

    def check_freshness(self, at: datetime) -> dict[str, Any]:
        """Invoke the freshness check as its hourly EventBridge rule does (moto never fires a
        schedule): the scheduled event of `at` (UTC), the function's answer returned."""
        self.deploy_orchestration()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.settings.account_id,
            "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.settings.region,
            "resources": [],
            "detail": {},
        }
        response = self.client("lambda").invoke(
            FunctionName=self.settings.plan.functions["freshness"].name,
            Payload=json.dumps(event).encode("utf-8"),
        )
        answer: dict[str, Any] = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            raise RuntimeError(f"the freshness check failed: {answer}")
        return answer

    def _drain_notifications(self) -> list[dict[str, Any]]:
        """Read (and remove) what the pipeline published to its SNS topic."""
        sqs = self.client("sqs")
        queue_url = deployment.notification_queue_url(sqs, self.settings)
        messages: list[dict[str, Any]] = []
        while True:
            response = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = response.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                envelope = json.loads(message["Body"])
                messages.append(
                    {
                        "subject": envelope.get("Subject"),
                        "message": envelope.get("Message"),
                        "timestamp": envelope.get("Timestamp"),
                    }
                )
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _cells(row: dict[str, Any]) -> list[str | None]:
    return [cell.get("VarCharValue") for cell in row.get("Data", [])]


_INTEGER_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real"}


def _typed(value: str | None, kind: str) -> Any:
    """Athena returns every value as text; give numbers and booleans their Python type."""
    if value is None:
        return None
    kind = kind.lower()
    try:
        if kind in _INTEGER_TYPES:
            return int(value)
        if kind in _FLOAT_TYPES:
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


def _wait_for_query(athena: Any, query_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)[
            "QueryExecution"
        ]
        if execution["Status"]["State"] in _QUERY_TERMINAL:
            return execution
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=query_id)
            raise QueryError("CANCELLED", f"no result after {timeout:.0f} s", query_id)
        time.sleep(0.05)
