"""Create, in the local AWS endpoint, what Terraform creates, with the same names.

Idempotent: runs on every start of the runtime (moto keeps nothing between processes;
the data itself is restored by etl_local.state). Existing resources are updated to
the current configuration, so an edited ASL or environment takes effect on the next run.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.catalog import render_template
from etl_lambdas.steps import STEPS
from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
ASL_TEMPLATES = {
    "pipeline": REPOSITORY_ROOT / "asl" / "pipeline.asl.json",
    "model": REPOSITORY_ROOT / "asl" / "model.asl.json",
}
ASL_TEMPLATE = ASL_TEMPLATES["pipeline"]
GLUE_SCRIPT = REPOSITORY_ROOT / "glue" / "convert_raw.py"

_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": ["lambda.amazonaws.com", "states.amazonaws.com", "glue.amazonaws.com"]
            },
            "Action": "sts:AssumeRole",
        }
    ],
}

# What the crawlers leave out: the Glue job's records and Spark's markers and staging folders,
# as modules/catalog declares them.
CRAWLER_EXCLUSIONS = (
    "**_SUCCESS", "**_SOURCES", "**.crc", "**_$folder$", "**_committed_*", "**_started_*",
    "**_temporary/**", "**.spark-staging-*/**",
)  # fmt: skip

# Partitions inherit the table's schema, as the catalog module's crawler configures.
_CRAWLER_CONFIGURATION = json.dumps(
    {
        "Version": 1.0,
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
    }
)


def render_state_machine(settings: LocalSettings, machine: str = "pipeline") -> str:
    """A machine's template rendered with the local placeholder values, as compact JSON."""
    template_path = ASL_TEMPLATES[machine]
    rendered = render_template(
        template_path.read_text(encoding="utf-8"), settings.template_values()
    )
    # Terraform normalises with jsonencode(jsondecode(...)); this also proves it is JSON.
    return json.dumps(json.loads(rendered))


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


def deploy_orchestration(clients: Any, settings: LocalSettings) -> None:
    """What an execution needs besides: the role, crawlers, Glue job, functions,
    notifications, the run lease table and the state machines."""
    _role(clients("iam"), settings)
    _glue(clients("glue"), clients("s3"), settings)
    _lambdas(clients("lambda"), settings)
    _notifications(clients("sns"), clients("sqs"), settings)
    _run_lease(clients("dynamodb"), settings)
    _state_machines(clients("stepfunctions"), settings)
    logger.info("local deployment ready", extra={"state_machine": settings.state_machine_arn})


def _role(iam: Any, settings: LocalSettings) -> None:
    name = settings.role_arn.rsplit("/", 1)[1]
    try:
        iam.get_role(RoleName=name)
    except ClientError:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))


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
    for source in settings.sources:
        name = settings.crawler_name(source.name)
        try:
            glue.get_crawler(Name=name)
        except glue.exceptions.EntityNotFoundException:
            glue.create_crawler(Name=name, **_crawler(settings, source.ods_prefix))
    if GLUE_SCRIPT.is_file():
        s3.put_object(
            Bucket=settings.artifacts_bucket,
            Key=settings.glue_script_key,
            Body=GLUE_SCRIPT.read_bytes(),
        )
    job = {
        "Role": settings.role_arn,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": f"s3://{settings.artifacts_bucket}/{settings.glue_script_key}",
            "PythonVersion": "3",
        },
        "GlueVersion": "5.0",
        "DefaultArguments": settings.glue_job_arguments,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "Timeout": max(1, settings.glue_job_timeout_seconds // 60),
    }
    try:
        glue.get_job(JobName=settings.glue_job_name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=settings.glue_job_name, **job)


def _crawler(settings: LocalSettings, ods_prefix: str) -> dict[str, Any]:
    """A source's crawler, configured as modules/catalog configures it."""
    return {
        "Role": settings.role_arn,
        "DatabaseName": settings.database("ods"),
        "Targets": {
            "S3Targets": [
                {
                    "Path": f"s3://{settings.curated_bucket}/{ods_prefix}",
                    "Exclusions": list(CRAWLER_EXCLUSIONS),
                }
            ]
        },
        # It runs when a table is new or its schema changed, and must then update the schema:
        # UPDATE_IN_DATABASE, which Glue accepts only with CRAWL_EVERYTHING.
        "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
        "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
        "Configuration": _CRAWLER_CONFIGURATION,
    }


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
    for step, spec in STEPS.items():
        name = settings.function_name(step)
        environment = {"Variables": settings.function_environment(step)}
        try:
            lambda_client.get_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            lambda_client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=settings.role_arn,
                Handler=spec.handler,
                Code={"ZipFile": code},
                Timeout=settings.lambda_timeout_seconds,
                MemorySize=512,
                Environment=environment,
            )
        else:
            lambda_client.update_function_configuration(
                FunctionName=name, Handler=spec.handler, Environment=environment
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
    for machine, name, arn in (
        ("model", settings.model_state_machine_name, settings.model_state_machine_arn),
        ("pipeline", settings.state_machine_name, settings.state_machine_arn),
    ):
        definition = render_state_machine(settings, machine)
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            sfn.create_state_machine(
                name=name, definition=definition, roleArn=settings.role_arn, type="STANDARD"
            )
        else:
            sfn.update_state_machine(stateMachineArn=arn, definition=definition)


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
        "functions": {step: settings.function_name(step) for step in STEPS},
    }
