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
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto.glue.models import glue_backends

from etl_lambdas.catalog import Catalog, load_catalog
from etl_local import deploy as deployment
from etl_local import faults as fault_injection
from etl_local import glue_runner, lambda_workers, moto_patches, run_records, s3_disk
from etl_local import iam as iam_hook
from etl_local.athena import AthenaEngine
from etl_local.athena_client import QueryError, QueryResult, run_query
from etl_local.console import readable_cause
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

# What a query needs that the lake does not keep between processes (etl_local.state keeps the
# buckets' objects and the catalog's databases).
STORAGE_NOT_KEPT_WITH_THE_LAKE = frozenset({"aws_athena_workgroup"})
# Beyond the machine's own TimeoutSeconds: the runtime stops waiting and aborts.
_WAIT_MARGIN_SECONDS = 60


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
        self._deployment: deployment.LocalDeployment | None = None

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
            self._deployment = deployment.LocalDeployment(self.client, self.settings)
            # The lake keeps the buckets and databases: once deployed, only what a query needs
            # besides (the workgroup) is applied again here, and what executions need by the
            # first run (see `run`): a query does not wait for Step Functions to parse the state
            # machines. A new lake gets the whole plan now, in the apply graph's order, as a
            # first `terraform apply` creates it.
            if self._storage_on_disk():
                self._deployment.apply(
                    lambda resource: resource.type in STORAGE_NOT_KEPT_WITH_THE_LAKE
                )
            else:
                self.deploy_orchestration()
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
        self._deployment = None
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
        """Apply the rest of the plan: the functions, notifications and state machines (once
        per process)."""
        if self._orchestration_deployed or self._deployment is None:
            return
        # The functions' environments fork from a zygote that imports for about a second:
        # it starts now, beside the deployment.
        lambda_workers.prestart()
        self._step_functions_patches = moto_patches.install()
        if self.iam is not None and self._unsign_step_functions is None:
            self._unsign_step_functions = sign_step_functions_as_role(self.iam.credentials_for_role)
        self._deployment.apply()
        self._orchestration_deployed = True

    def catalog(self) -> Catalog:
        """The model catalog the functions run (the runtime's sql/, `sql_root` if given)."""
        return load_catalog(self._sql_root)

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

    def raw_object_count(self, source: str | None = None) -> int:
        """Objects under a source's raw prefix (every source's when None)."""
        prefix = (
            self.settings.raw_prefix
            if source is None
            else self.settings.sources.get(source).raw_prefix
        )
        s3 = self.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.settings.raw_bucket, Prefix=prefix
        )
        return sum(page.get("KeyCount", 0) for page in pages)

    # -- queries --------------------------------------------------------------------------
    def query(self, sql: str, database: str | None = None, timeout: float = 300) -> QueryResult:
        """Run Athena SQL on the local lake; QueryError (Athena's reason) if it fails."""
        return run_query(
            self.client("athena"),
            sql,
            workgroup=self.settings.workgroup,
            database=database,
            timeout=timeout,
        )

    # -- runs -----------------------------------------------------------------------------
    def run(
        self,
        execution_input: dict[str, Any],
        on_event: Callable[[StateEvent], None] | None = None,
        *,
        faults: Sequence[Fault] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Execute the state machine once and follow it to its end (and record it under
        $ETL_HOME/runs, etl_local.run_records)."""
        started = datetime.now(UTC)
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
        result = RunResult(
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
        run_records.write(
            self.home,
            execution_input=execution_input,
            started=started,
            result=result,
            error_text=readable_cause(result.cause) or result.error,
            audits=run_records.audits_from(router.results),
        )
        return result

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
