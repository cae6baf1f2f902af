"""Create, in the local AWS endpoint, what Terraform plans for the local environment.

The orchestration is deployed from the plan (etl_local.plan, build/plan-local.json): the IAM
roles with their trust policies, the Lambda functions with their roles, handlers and
environment variables, the crawlers, the Glue job with its default arguments, the topic and
the state machines with their rendered definitions and roles: nothing is derived again here.

Idempotent: runs on every start of the runtime (moto keeps nothing between processes;
the data itself is restored by etl_local.state). Existing resources are updated to
the current configuration, so an edited ASL or environment takes effect on the next run
(once `make plan` planned it).
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.catalog import DATABASE_TIERS
from etl_lambdas.steps import STEPS
from etl_local.deploy_monitoring import deploy_monitoring
from etl_local.plan import MAKE_PLAN, PlannedCrawler
from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
ASL_TEMPLATE = REPOSITORY_ROOT / "asl" / "pipeline.asl.json"
GLUE_SCRIPT = REPOSITORY_ROOT / "glue" / "convert_raw.py"


def render_state_machine(settings: LocalSettings, machine: str = "pipeline") -> str:
    """A machine's definition as the plan renders it (Terraform's templatefile), compact."""
    return settings.plan.state_machines[machine].definition


def placeholder_zip() -> bytes:
    """A tiny zip for CreateFunction: moto requires code, but Invoke is routed in-process
    to the project's handlers (etl_local.lambda_router), so the zip is never run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Local placeholder: invocations run in-process.\n")
    return buffer.getvalue()


def deploy(clients: Any, settings: LocalSettings) -> None:
    """Create or update every resource. `clients(service)` returns a boto3 client."""
    deploy_storage(clients, settings)
    deploy_orchestration(clients, settings)


def deploy_storage(clients: Any, settings: LocalSettings) -> None:
    """What queries and uploads need: the buckets, the Glue databases, the Athena workgroup."""
    _buckets(clients("s3"), settings)
    _databases(clients("glue"), settings)
    deploy_workgroup(clients("athena"), settings)


class PlanNamesAnotherLake(RuntimeError):
    """The local plan's buckets, databases or workgroup are not the ones the runtime uses."""


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


def deploy_orchestration(clients: Any, settings: LocalSettings) -> None:
    """What an execution needs besides: the role, crawlers, Glue job, functions,
    notifications, the run lease table and the state machines; then the alarms, dashboard
    and schedules (etl_local.deploy_monitoring)."""
    check_lake_names(settings)
    _roles(clients("iam"), settings)
    _glue(clients("glue"), clients("s3"), settings)
    _lambdas(clients("lambda"), settings)
    _notifications(clients("sns"), clients("sqs"), settings)
    _run_lease(clients("dynamodb"), settings)
    _state_machines(clients("stepfunctions"), settings)
    deploy_monitoring(clients, settings.plan)
    logger.info("local deployment ready", extra={"state_machine": settings.state_machine_arn})


def _roles(iam: Any, settings: LocalSettings) -> None:
    """Every role of the plan with its trust policy (the policies are enforced by etl_local.
    local_iam from the plan; moto's IAM only has to know the roles exist)."""
    for name, trust in settings.plan.trust_policies.items():
        try:
            iam.get_role(RoleName=name)
        except ClientError:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)


def _buckets(s3: Any, settings: LocalSettings) -> None:
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for bucket in settings.buckets:
        if bucket not in existing:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": settings.region},
            )


def _databases(glue: Any, settings: LocalSettings) -> None:
    for name in settings.databases:
        try:
            glue.get_database(Name=name)
        except glue.exceptions.EntityNotFoundException:
            glue.create_database(DatabaseInput={"Name": name})


def _glue(glue: Any, s3: Any, settings: LocalSettings) -> None:
    plan = settings.plan
    for crawler in plan.crawlers.values():
        try:
            glue.get_crawler(Name=crawler.name)
        except glue.exceptions.EntityNotFoundException:
            glue.create_crawler(Name=crawler.name, **_crawler(crawler))
        else:
            glue.update_crawler(Name=crawler.name, **_crawler(crawler))
    planned = plan.glue_job
    bucket, _, key = planned.script_location.removeprefix("s3://").partition("/")
    if GLUE_SCRIPT.is_file():
        s3.put_object(Bucket=bucket, Key=key, Body=GLUE_SCRIPT.read_bytes())
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
    }
    try:
        glue.get_job(JobName=planned.name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=planned.name, **job)
    else:
        glue.update_job(JobName=planned.name, JobUpdate=job)


def _crawler(crawler: PlannedCrawler) -> dict[str, Any]:
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


def deploy_workgroup(athena: Any, settings: LocalSettings) -> None:
    """The Athena workgroup (the one storage resource the lake does not keep on disk)."""
    configuration = {
        "ResultConfiguration": {"OutputLocation": settings.athena_output_location},
        "EnforceWorkGroupConfiguration": False,
        "PublishCloudWatchMetricsEnabled": True,
        # variables.tf's athena_bytes_scanned_cutoff_per_query default: the local Athena
        # cancels a query that scans more, as Athena does (etl_local.athena.workgroup).
        "BytesScannedCutoffPerQuery": 100 * 1024**3,
    }
    names = {wg["Name"] for wg in athena.list_work_groups().get("WorkGroups", [])}
    if settings.workgroup not in names:
        athena.create_work_group(Name=settings.workgroup, Configuration=configuration)


def _lambdas(lambda_client: Any, settings: LocalSettings) -> None:
    code = placeholder_zip()
    for step, function in settings.plan.functions.items():
        if step not in STEPS:
            raise ValueError(f"the plan declares a function for an unknown step {step!r}")
        environment = {"Variables": dict(function.environment)}
        try:
            lambda_client.get_function(FunctionName=function.name)
        except lambda_client.exceptions.ResourceNotFoundException:
            lambda_client.create_function(
                FunctionName=function.name,
                Runtime="python3.12",
                Role=function.role_arn,
                Handler=function.handler,
                Code={"ZipFile": code},
                Timeout=function.timeout,
                MemorySize=function.memory_size,
                Environment=environment,
            )
        else:
            lambda_client.update_function_configuration(
                FunctionName=function.name,
                Role=function.role_arn,
                Handler=function.handler,
                Environment=environment,
            )


def _notifications(sns: Any, sqs: Any, settings: LocalSettings) -> None:
    topic_arn = sns.create_topic(Name=settings.topic_name)["TopicArn"]  # idempotent
    queue_url = sqs.create_queue(QueueName=settings.notification_queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(s["Endpoint"] == queue_arn for s in subscriptions):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


def _run_lease(dynamodb: Any, settings: LocalSettings) -> None:
    try:
        dynamodb.describe_table(TableName=settings.run_lease_table)
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(
            TableName=settings.run_lease_table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )


def _state_machines(sfn: Any, settings: LocalSettings) -> None:
    # The model machine first: the pipeline's definition names it.
    machines = settings.plan.state_machines
    for key in sorted(machines, key=lambda k: k != "model"):
        machine = machines[key]
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


def notification_queue_url(sqs: Any, settings: LocalSettings) -> str:
    url: str = sqs.get_queue_url(QueueName=settings.notification_queue_name)["QueueUrl"]
    return url


def describe(settings: LocalSettings) -> dict[str, Any]:
    """The local deployment's names, for the CLI and for tests."""
    return {
        "buckets": list(settings.buckets),
        "databases": list(settings.databases),
        "crawlers": settings.crawler_names,
        "glue_job": settings.glue_job_name,
        "workgroup": settings.workgroup,
        "topic_arn": settings.topic_arn,
        "state_machine_arn": settings.state_machine_arn,
        "functions": {step: f.name for step, f in settings.plan.functions.items()},
    }
