"""Apply what Terraform plans for the local environment to the local AWS endpoint, in the order
`terraform apply` would.

Every managed resource of the plan (etl_local.plan, build/plan-local.json) is applied in the
apply graph's order (etl_local.apply_graph: `terraform graph -type=apply`, saved by `make
plan`): a wave of resources that wait for nothing not yet applied starts at once, up to
Terraform's default parallelism of 10 at a time. Within a wave, a resource that another
resource of the same wave names is applied after it: both start at the same time on AWS, and
the one that needs the other reaches AWS first. So a dependency the graph lacks fails here as
it fails on a first `terraform apply` (an object put into a bucket that does not exist yet:
NoSuchBucket), and the deployment stops with Terraform's kind of error naming the resource.

Each resource type the runtime uses is created (or updated) from its planned values: the IAM
roles with their trust policies, the buckets, the Glue job's script object, the Glue
databases, crawlers and job, the Athena workgroup, the functions with their roles, handlers,
memory, timeout and environment, the run lease table, the topic and the state machines with
their rendered definitions. Other types (policies, alarms, log groups, bucket settings...)
take their place in the order and change nothing locally: the runtime enforces the policies
itself (etl_local.local_iam) and emulates no CloudWatch.

Idempotent: runs on every start of the runtime (moto keeps nothing between processes but the
lake's objects and catalog, etl_local.state). Existing resources are updated to the current
configuration, so an edited ASL or environment takes effect on the next run (once `make
plan` planned it).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.catalog import DATABASE_TIERS
from etl_lambdas.steps import STEPS
from etl_local.apply_graph import PlannedResource, names
from etl_local.deploy_monitoring import MONITORING_APPLIERS
from etl_local.plan import MAKE_PLAN, PlannedCrawler
from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
ASL_TEMPLATE = REPOSITORY_ROOT / "asl" / "pipeline.asl.json"
# Terraform's default -parallelism: how many resource operations run at once.
PARALLELISM = 10

Clients = Callable[[str], Any]


def render_state_machine(settings: LocalSettings, machine: str = "pipeline") -> str:
    """A machine's definition as the plan renders it (Terraform's templatefile), compact."""
    return settings.plan.state_machines[machine].definition


def placeholder_zip() -> bytes:
    """A tiny zip for CreateFunction: moto requires code, but Invoke is routed to the
    project's handlers in local execution environments (etl_local.lambda_router)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Local placeholder: invocations run in local workers.\n")
    return buffer.getvalue()


class PlanNamesAnotherLake(RuntimeError):
    """The local plan's buckets, databases or workgroup are not the ones the runtime uses."""


class DeploymentFailed(RuntimeError):
    """Applying the plan failed; the message names each resource and AWS's error, as
    `terraform apply` prints them."""


def check_lake_names(settings: LocalSettings) -> None:
    """The lake's names the runtime computes (etl_local.settings: queries need them without a
    plan) must be the ones the plan's outputs name: its functions, roles and policies use
    those. Raises PlanNamesAnotherLake naming every difference."""
    plan = settings.plan
    expected = {
        **{f"bucket_names.{role}": name for role, name in settings.bucket_roles.items()},
        **{f"glue_database_names.{tier}": settings.database(tier) for tier in DATABASE_TIERS},
        "athena_workgroup_name": settings.workgroup,
    }
    differences = []
    for key, name in expected.items():
        output, _, entry = key.partition(".")
        planned = plan.output(output)
        if entry:
            planned = (planned or {}).get(entry)
        if planned != name:
            differences.append(f"{key}: the plan says {planned!r}, the runtime uses {name!r}")
    if differences:
        raise PlanNamesAnotherLake(
            f"{plan.path} names another lake than the local runtime ({'; '.join(differences)}). "
            f"Plan the local environment again with `{MAKE_PLAN}`."
        )


class LocalDeployment:
    """The plan applied to one local endpoint; remembers what it applied (once per process)."""

    def __init__(self, clients: Clients, settings: LocalSettings) -> None:
        self._clients = clients
        self._settings = settings
        self.applied: set[str] = set()

    def apply(self, select: Callable[[PlannedResource], bool] | None = None) -> None:
        """Apply the plan's resources not applied yet (those `select` accepts), in the apply
        graph's order; DeploymentFailed after the first batch with an error."""
        plan = self._settings.plan
        check_lake_names(self._settings)
        chosen = {
            resource.address: resource
            for resource in plan.managed
            if resource.address not in self.applied and (select is None or select(resource))
        }
        named = names(plan.managed)
        with ThreadPoolExecutor(max_workers=PARALLELISM) as pool:
            for wave in plan.apply_graph.waves(chosen, named):
                for batch in wave:
                    outcomes = list(pool.map(self._apply_one, [chosen[a] for a in batch]))
                    errors = [error for error in outcomes if error]
                    if errors:
                        raise DeploymentFailed("\n".join(errors))
        logger.info("local deployment applied", extra={"resources": len(chosen)})

    def _apply_one(self, resource: PlannedResource) -> str | None:
        applier = APPLIERS.get(resource.type)
        try:
            if applier is not None:
                applier(self._clients, resource, self._settings)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            return f"Error: creating {resource.address}: {code}: {error}"
        self.applied.add(resource.address)
        return None


# -- one applier per resource type the runtime uses -----------------------------------------------


def _role(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    # The policies are enforced by etl_local.local_iam from the plan; moto's IAM only has to
    # know the roles exist.
    iam = clients("iam")
    name = resource.values["name"]
    try:
        iam.get_role(RoleName=name)
    except ClientError:
        trust = resource.values["assume_role_policy"]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)


def _bucket(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    s3 = clients("s3")
    bucket = resource.values["bucket"]
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.region}
        )


def _object(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    values = resource.values
    if values.get("source"):
        body = (REPOSITORY_ROOT / values["source"]).read_bytes()
    else:
        body = str(values.get("content") or "").encode()
    clients("s3").put_object(Bucket=values["bucket"], Key=values["key"], Body=body)


def _database(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    glue = clients("glue")
    name = resource.values["name"]
    try:
        glue.get_database(Name=name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(DatabaseInput={"Name": name})


def _workgroup(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    """The workgroup as planned: results location and encryption, enforcement, the
    bytes-scanned cutoff (the local Athena applies them, etl_local.athena.workgroup)."""
    athena = clients("athena")
    planned = _block(resource.values, "configuration")
    result = _block(planned, "result_configuration")
    encryption = _block(result, "encryption_configuration")
    configuration: dict[str, Any] = {
        "ResultConfiguration": {"OutputLocation": result["output_location"]},
        "EnforceWorkGroupConfiguration": bool(planned.get("enforce_workgroup_configuration")),
        "PublishCloudWatchMetricsEnabled": bool(planned.get("publish_cloudwatch_metrics_enabled")),
        # As planned (athena_engine_version): a DuckDB workgroup runs DuckDB SQL.
        "EngineVersion": {
            "SelectedEngineVersion": _block(planned, "engine_version")["selected_engine_version"]
        },
    }
    if encryption.get("encryption_option"):
        configuration["ResultConfiguration"]["EncryptionConfiguration"] = {
            "EncryptionOption": encryption["encryption_option"]
        }
    if planned.get("bytes_scanned_cutoff_per_query"):
        configuration["BytesScannedCutoffPerQuery"] = int(planned["bytes_scanned_cutoff_per_query"])
    name = resource.values["name"]
    existing = {wg["Name"] for wg in athena.list_work_groups().get("WorkGroups", [])}
    if name not in existing:
        athena.create_work_group(Name=name, Configuration=configuration)


def _crawler(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    glue = clients("glue")
    (crawler,) = [c for c in settings.plan.crawlers.values() if c.name == resource.values["name"]]
    try:
        glue.get_crawler(Name=crawler.name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_crawler(Name=crawler.name, **_crawler_configuration(crawler))
    else:
        glue.update_crawler(Name=crawler.name, **_crawler_configuration(crawler))


def _crawler_configuration(crawler: PlannedCrawler) -> dict[str, Any]:
    """A source's crawler, configured as the plan configures it."""
    configuration: dict[str, Any] = {
        "Role": crawler.role_arn,
        "DatabaseName": crawler.database,
        "Targets": {
            "S3Targets": [
                {"Path": target["path"], "Exclusions": list(target.get("exclusions") or [])}
                for target in crawler.s3_targets
            ]
        },
    }
    if crawler.recrawl_behavior:
        configuration["RecrawlPolicy"] = {"RecrawlBehavior": crawler.recrawl_behavior}
    if crawler.update_behavior or crawler.delete_behavior:
        configuration["SchemaChangePolicy"] = {
            key: value
            for key, value in (
                ("UpdateBehavior", crawler.update_behavior),
                ("DeleteBehavior", crawler.delete_behavior),
            )
            if value
        }
    if crawler.configuration:
        configuration["Configuration"] = crawler.configuration
    return configuration


def _glue_job(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    glue = clients("glue")
    planned = settings.plan.glue_job
    job = {
        "Role": planned.role_arn,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": planned.script_location,
            "PythonVersion": "3",
        },
        "GlueVersion": planned.glue_version,
        "DefaultArguments": dict(planned.default_arguments),
        "ExecutionProperty": {"MaxConcurrentRuns": planned.max_concurrent_runs},
        "Timeout": planned.timeout_minutes,
        "ExecutionClass": planned.execution_class,
    }
    if planned.worker_type and planned.number_of_workers:
        job.update(WorkerType=planned.worker_type, NumberOfWorkers=planned.number_of_workers)
    try:
        glue.get_job(JobName=planned.name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=planned.name, **job)
    else:
        glue.update_job(JobName=planned.name, JobUpdate=job)


def _function(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    lambda_client = clients("lambda")
    name = resource.values["function_name"]
    (function,) = [f for f in settings.plan.functions.values() if f.name == name]
    if function.step not in STEPS:
        raise ValueError(f"the plan declares a function for an unknown step {function.step!r}")
    configuration = {
        "Role": function.role_arn,
        "Handler": function.handler,
        "Timeout": function.timeout,
        "MemorySize": function.memory_size,
        "Environment": {"Variables": dict(function.environment)},
    }
    try:
        lambda_client.get_function(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Code={"ZipFile": placeholder_zip()},
            **configuration,
        )
    else:
        lambda_client.update_function_configuration(FunctionName=name, **configuration)


def _topic(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    sns, sqs = clients("sns"), clients("sqs")
    topic_arn = sns.create_topic(Name=resource.values["name"])["TopicArn"]  # idempotent
    # Local only: a queue subscribed to the topic lets the runtime read what the pipeline
    # published (the notifications a run reports).
    queue_url = sqs.create_queue(QueueName=settings.notification_queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(s["Endpoint"] == queue_arn for s in subscriptions):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


def _table(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    dynamodb = clients("dynamodb")
    values = resource.values
    keys = [("HASH", values["hash_key"]), ("RANGE", values.get("range_key"))]
    try:
        dynamodb.describe_table(TableName=values["name"])
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(
            TableName=values["name"],
            AttributeDefinitions=[
                {"AttributeName": a["name"], "AttributeType": a["type"]}
                for a in values.get("attribute") or []
            ],
            KeySchema=[{"AttributeName": name, "KeyType": kind} for kind, name in keys if name],
            BillingMode=values.get("billing_mode") or "PROVISIONED",
        )


def _state_machine(clients: Clients, resource: PlannedResource, settings: LocalSettings) -> None:
    sfn = clients("stepfunctions")
    (machine,) = [
        m for m in settings.plan.state_machines.values() if m.name == resource.values["name"]
    ]
    try:
        sfn.describe_state_machine(stateMachineArn=machine.arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        sfn.create_state_machine(
            name=machine.name,
            definition=machine.definition,
            roleArn=machine.role_arn,
            type="STANDARD",
        )
    else:
        sfn.update_state_machine(
            stateMachineArn=machine.arn, definition=machine.definition, roleArn=machine.role_arn
        )


def _block(values: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested block Terraform renders as a list of at most one object."""
    items = values.get(name) or []
    return items[0] if items else {}


APPLIERS: dict[str, Callable[[Clients, PlannedResource, LocalSettings], None]] = {
    "aws_iam_role": _role,
    "aws_s3_bucket": _bucket,
    "aws_s3_object": _object,
    "aws_glue_catalog_database": _database,
    "aws_athena_workgroup": _workgroup,
    "aws_glue_crawler": _crawler,
    "aws_glue_job": _glue_job,
    "aws_lambda_function": _function,
    "aws_sns_topic": _topic,
    "aws_dynamodb_table": _table,
    "aws_sfn_state_machine": _state_machine,
    # alarms, dashboard, schedules, the permission to invoke (etl_local.deploy_monitoring)
    **MONITORING_APPLIERS,
}


def notification_queue_url(sqs: Any, settings: LocalSettings) -> str:
    url: str = sqs.get_queue_url(QueueName=settings.notification_queue_name)["QueueUrl"]
    return url
