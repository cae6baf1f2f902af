"""Each API call -> the actions, resources and condition keys AWS authorizes it on
("Service Authorization Reference"; see each rule module for its citation)."""

from __future__ import annotations

from typing import Any

import pytest

from etl_local.iam.operations import ApiCall, Permission, UnmappedOperation, required_permissions

ACCOUNT = "123456789012"
REGION = "eu-west-1"


class Lookups:
    def athena_query_workgroup(self, account: str, region: str, query_id: str) -> str | None:
        return {"q-1": "etl", "q-2": "adhoc"}.get(query_id)

    def dynamodb_partition_key(self, account: str, region: str, table: str) -> str | None:
        return "pk" if table == "leases" else None


def needs(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    return [(p.action, p.resource) for p in permissions(service, operation, **params)]


def permissions(service: str, operation: str, **params: Any) -> list[Permission]:
    return required_permissions(ApiCall(service, operation, params, REGION, ACCOUNT), Lookups())


def glue(resource: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT}:{resource}"


# -- S3 ---------------------------------------------------------------------------------------


def test_s3_object_reads_and_writes() -> None:
    assert needs("s3", "GetObject", Bucket="lake", Key="a/b") == [
        ("s3:GetObject", "arn:aws:s3:::lake/a/b")
    ]
    assert needs("s3", "HeadObject", Bucket="lake", Key="a") == [
        ("s3:GetObject", "arn:aws:s3:::lake/a")
    ]
    assert needs("s3", "GetObject", Bucket="lake", Key="a", VersionId="v1") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::lake/a")
    ]
    for operation in (
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    ):
        assert needs("s3", operation, Bucket="lake", Key="k", UploadId="u") == [
            ("s3:PutObject", "arn:aws:s3:::lake/k")
        ]
    assert needs("s3", "AbortMultipartUpload", Bucket="lake", Key="k", UploadId="u") == [
        ("s3:AbortMultipartUpload", "arn:aws:s3:::lake/k")
    ]
    assert needs("s3", "ListParts", Bucket="lake", Key="k", UploadId="u") == [
        ("s3:ListMultipartUploadParts", "arn:aws:s3:::lake/k")
    ]


def test_s3_listing_carries_its_condition_keys() -> None:
    (listing,) = permissions(
        "s3", "ListObjectsV2", Bucket="lake", Prefix="ods/", Delimiter="/", MaxKeys=10
    )
    assert (listing.action, listing.resource) == ("s3:ListBucket", "arn:aws:s3:::lake")
    assert listing.context["s3:prefix"] == "ods/"
    assert listing.context["s3:delimiter"] == "/"
    assert listing.context["s3:max-keys"] == "10"
    (bare,) = permissions("s3", "ListObjects", Bucket="lake")
    assert "s3:prefix" not in bare.context
    assert needs("s3", "HeadBucket", Bucket="lake") == [("s3:ListBucket", "arn:aws:s3:::lake")]


def test_s3_copy_reads_the_source_and_writes_the_target() -> None:
    assert needs("s3", "CopyObject", Bucket="dst", Key="new", CopySource="src/old%20name.txt") == [
        ("s3:GetObject", "arn:aws:s3:::src/old name.txt"),
        ("s3:PutObject", "arn:aws:s3:::dst/new"),
    ]
    assert needs(
        "s3", "UploadPartCopy", Bucket="dst", Key="n", CopySource="/src/k?versionId=3"
    ) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::src/k"),
        ("s3:PutObject", "arn:aws:s3:::dst/n"),
    ]


def test_s3_delete_objects_needs_every_key() -> None:
    delete = {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}]}
    assert needs("s3", "DeleteObjects", Bucket="lake", Delete=delete) == [
        ("s3:DeleteObject", "arn:aws:s3:::lake/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::lake/b"),
    ]


def test_s3_bucket_configuration_and_account_calls() -> None:
    assert needs("s3", "ListBuckets") == [("s3:ListAllMyBuckets", "*")]
    assert needs("s3", "GetBucketLocation", Bucket="lake") == [
        ("s3:GetBucketLocation", "arn:aws:s3:::lake")
    ]
    assert needs("s3", "CreateBucket", Bucket="lake") == [("s3:CreateBucket", "arn:aws:s3:::lake")]
    assert needs("s3", "PutBucketPolicy", Bucket="lake", Policy="{}") == [
        ("s3:PutBucketPolicy", "arn:aws:s3:::lake")
    ]
    assert needs("s3", "PutBucketEncryption", Bucket="lake") == [
        ("s3:PutEncryptionConfiguration", "arn:aws:s3:::lake")
    ]
    assert needs("s3", "PutPublicAccessBlock", Bucket="lake") == [
        ("s3:PutBucketPublicAccessBlock", "arn:aws:s3:::lake")
    ]


# -- Glue -------------------------------------------------------------------------------------


def test_glue_table_operations_need_catalog_database_and_table() -> None:
    lineage = [glue("catalog"), glue("database/ods"), glue("table/ods/traffic")]
    assert needs("glue", "GetTable", DatabaseName="ods", Name="traffic") == [
        ("glue:GetTable", r) for r in lineage
    ]
    assert needs("glue", "CreateTable", DatabaseName="ods", TableInput={"Name": "traffic"}) == [
        ("glue:CreateTable", r) for r in lineage
    ]
    for operation in (
        "GetPartitions",
        "BatchGetPartition",
        "BatchCreatePartition",
        "BatchUpdatePartition",
        "DeletePartition",
    ):
        assert needs("glue", operation, DatabaseName="ods", TableName="traffic") == [
            (f"glue:{operation}", r) for r in lineage
        ]


def test_glue_database_and_listing_operations() -> None:
    assert needs("glue", "GetDatabase", Name="ods") == [
        ("glue:GetDatabase", glue("catalog")),
        ("glue:GetDatabase", glue("database/ods")),
    ]
    assert needs("glue", "CreateDatabase", DatabaseInput={"Name": "ods"})[-1] == (
        "glue:CreateDatabase",
        glue("database/ods"),
    )
    assert needs("glue", "GetDatabases") == [
        ("glue:GetDatabases", glue("catalog")),
        ("glue:GetDatabases", glue("database/*")),
    ]
    assert needs("glue", "GetTables", DatabaseName="ods")[-1] == (
        "glue:GetTables",
        glue("table/ods/*"),
    )
    assert needs("glue", "DeleteDatabase", Name="ods")[2:] == [
        ("glue:DeleteDatabase", glue("table/ods/*")),
        ("glue:DeleteDatabase", glue("userDefinedFunction/ods/*")),
    ]
    assert needs("glue", "BatchDeleteTable", DatabaseName="stg", TablesToDelete=["a", "b"])[2:] == [
        ("glue:BatchDeleteTable", glue("table/stg/a")),
        ("glue:BatchDeleteTable", glue("table/stg/b")),
    ]
    other_catalog = needs("glue", "GetTable", CatalogId="999999999999", DatabaseName="d", Name="t")
    assert other_catalog[0] == ("glue:GetTable", f"arn:aws:glue:{REGION}:999999999999:catalog")


def test_glue_crawlers_and_jobs() -> None:
    assert needs("glue", "StartCrawler", Name="c") == [("glue:StartCrawler", glue("crawler/c"))]
    assert needs("glue", "GetCrawlerMetrics", CrawlerNameList=["c"]) == [
        ("glue:GetCrawlerMetrics", "*")
    ]
    for operation in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun"):
        assert needs("glue", operation, JobName="j", RunId="r") == [
            (f"glue:{operation}", glue("job/j"))
        ]
    created = permissions("glue", "CreateCrawler", Name="c", Role="crawler-role")
    assert [(p.action, p.resource) for p in created] == [
        ("glue:CreateCrawler", glue("crawler/c")),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/crawler-role"),
    ]
    assert created[1].context == {"iam:passedtoservice": "glue.amazonaws.com"}


# -- Athena, Step Functions, Lambda -------------------------------------------------------------


def test_athena_queries_act_on_their_workgroup() -> None:
    workgroup = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup"
    assert needs("athena", "StartQueryExecution", QueryString="SELECT 1", WorkGroup="etl") == [
        ("athena:StartQueryExecution", f"{workgroup}/etl")
    ]
    assert needs("athena", "StartQueryExecution", QueryString="SELECT 1") == [
        ("athena:StartQueryExecution", f"{workgroup}/primary")
    ]
    assert needs("athena", "GetQueryExecution", QueryExecutionId="q-1") == [
        ("athena:GetQueryExecution", f"{workgroup}/etl")
    ]
    assert needs("athena", "BatchGetQueryExecution", QueryExecutionIds=["q-1", "q-2", "q-1"]) == [
        ("athena:BatchGetQueryExecution", f"{workgroup}/adhoc"),
        ("athena:BatchGetQueryExecution", f"{workgroup}/etl"),
    ]
    # A query the server does not know is the service's to report, not IAM's.
    assert needs("athena", "GetQueryResults", QueryExecutionId="unknown") == []


def test_step_functions_state_machines_and_executions() -> None:
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:pipeline"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:pipeline:run-1"
    assert needs("stepfunctions", "StartExecution", stateMachineArn=machine) == [
        ("states:StartExecution", machine)
    ]
    for operation in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
        assert needs("stepfunctions", operation, executionArn=execution) == [
            (f"states:{operation}", execution)
        ]
    assert needs(
        "stepfunctions", "CreateStateMachine", name="pipeline", roleArn="arn:aws:iam::1:role/r"
    ) == [
        ("states:CreateStateMachine", machine),
        ("iam:PassRole", "arn:aws:iam::1:role/r"),
    ]


@pytest.mark.parametrize(
    ("params", "resource"),
    [
        ({"FunctionName": "plan"}, "function:plan"),
        ({"FunctionName": "plan", "Qualifier": "live"}, "function:plan:live"),
        ({"FunctionName": "plan:7"}, "function:plan:7"),
        ({"FunctionName": f"{ACCOUNT}:function:plan"}, "function:plan"),
        (
            {"FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan:$LATEST"},
            "function:plan:$LATEST",
        ),
    ],
)
def test_lambda_invoke_on_the_qualified_or_unqualified_arn(
    params: dict[str, Any], resource: str
) -> None:
    assert needs("lambda", "Invoke", **params) == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:{resource}")
    ]


# -- SNS, SQS, DynamoDB, Logs, STS ---------------------------------------------------------------


def test_sns_sqs_and_logs() -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    assert needs("sns", "Publish", TopicArn=topic, Message="m") == [("sns:Publish", topic)]
    assert needs("sns", "PublishBatch", TopicArn=topic) == [("sns:Publish", topic)]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:notifications"
    url = f"http://127.0.0.1:5000/{ACCOUNT}/notifications"
    assert needs("sqs", "ReceiveMessage", QueueUrl=url) == [("sqs:ReceiveMessage", queue)]
    assert needs("sqs", "DeleteMessageBatch", QueueUrl=url, Entries=[]) == [
        ("sqs:DeleteMessage", queue)
    ]
    assert needs("sqs", "GetQueueUrl", QueueName="notifications") == [("sqs:GetQueueUrl", queue)]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f"
    assert needs("logs", "CreateLogStream", logGroupName="/aws/lambda/f", logStreamName="s") == [
        ("logs:CreateLogStream", f"{group}:*")
    ]
    assert needs("logs", "PutLogEvents", logGroupName="/aws/lambda/f", logStreamName="s") == [
        ("logs:PutLogEvents", f"{group}:log-stream:s")
    ]
    assert needs("sts", "GetCallerIdentity") == []


def test_dynamodb_items_with_leading_keys() -> None:
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/leases"
    (get,) = permissions("dynamodb", "GetItem", TableName="leases", Key={"pk": {"S": "run"}})
    assert (get.action, get.resource, get.context["dynamodb:leadingkeys"]) == (
        "dynamodb:GetItem",
        table,
        ("run",),
    )
    (put,) = permissions(
        "dynamodb", "PutItem", TableName="leases", Item={"pk": {"S": "run"}}, ReturnValues="ALL_OLD"
    )
    assert put.context["dynamodb:returnvalues"] == "ALL_OLD"
    (query,) = permissions(
        "dynamodb",
        "Query",
        TableName="leases",
        IndexName="by-owner",
        KeyConditionExpression="#k = :v AND begins_with(sk, :p)",
        ExpressionAttributeNames={"#k": "pk"},
        ExpressionAttributeValues={":v": {"S": "run"}, ":p": {"S": "x"}},
    )
    assert query.resource == f"{table}/index/by-owner"
    assert query.context["dynamodb:leadingkeys"] == ("run",)
    transact = permissions(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "leases", "Item": {"pk": {"S": "a"}}}},
            {"ConditionCheck": {"TableName": "leases", "Key": {"pk": {"S": "b"}}}},
        ],
    )
    assert [(p.action, p.context["dynamodb:enclosingoperation"]) for p in transact] == [
        ("dynamodb:PutItem", "TransactWriteItems"),
        ("dynamodb:ConditionCheckItem", "TransactWriteItems"),
    ]


def test_unknown_operations_are_unmapped() -> None:
    with pytest.raises(UnmappedOperation, match="glue:GetTags"):
        permissions("glue", "GetTags", ResourceArn="x")
    with pytest.raises(UnmappedOperation, match="ec2:DescribeInstances"):
        permissions("ec2", "DescribeInstances")
