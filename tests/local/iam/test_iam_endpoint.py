"""Real boto3 requests against moto's server with the IAM hook installed.

One server for the module; each test signs with the principal it needs. What is checked is
what a caller sees: the service's own error (code, status, AWS's message) or moto's answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3.models import FakeBucket
from moto.sns.responses import SNSResponse

from etl_local.iam import (
    Authorizer,
    Credentials,
    MotoResourcePolicies,
    Policy,
    PolicyKind,
    Principal,
    PrincipalRegistry,
    current_principal,
    install,
)
from etl_local.iam.moto_bucket_policies import moto_denies_unmet_conditions

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
BUCKET = "iam-lake"
WORKGROUP = "etl"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:pipeline"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"


def statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


WORKER_POLICY = [
    statement("ReadLake", ["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"]),
    statement(
        "ReadTable",
        ["glue:GetTable"],
        [f"{GLUE}:catalog", f"{GLUE}:database/ods", f"{GLUE}:table/ods/traffic"],
    ),
    statement(
        "ReadDatabaseOnly", ["glue:GetDatabase"], [f"{GLUE}:catalog", f"{GLUE}:database/ods"]
    ),
    statement(
        "Query",
        ["athena:StartQueryExecution", "athena:GetQueryExecution"],
        [f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{WORKGROUP}"],
    ),
    statement("Run", ["states:StartExecution"], [MACHINE]),
    statement("Invoke", ["lambda:InvokeFunction"], [FUNCTION]),
    statement("Notify", ["sns:Publish"], [TOPIC]),
    statement("Receive", ["sqs:ReceiveMessage"], [f"arn:aws:sqs:{REGION}:{ACCOUNT}:notifications"]),
    statement(
        "OwnLease",
        ["dynamodb:GetItem"],
        [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/leases"],
        Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["run-a"]}},
    ),
]
LISTER_POLICY = [
    statement("List", ["s3:ListBucket"], [f"arn:aws:s3:::{BUCKET}"]),
    statement("Read", ["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"]),
]


@dataclass
class Endpoint:
    url: str
    authorizer: Authorizer
    principals: dict[str, Principal]
    credentials: dict[str, Credentials]

    def client(self, service: str, who: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            **self.credentials[who].as_boto3_kwargs(),
        )


def role(name: str, statements: list[dict[str, Any]]) -> Principal:
    document = {"Version": "2012-10-17", "Statement": statements}
    policy = Policy.parse(document, f"{name}/policy", PolicyKind.IDENTITY)
    return Principal.role_session(
        f"arn:aws:iam::{ACCOUNT}:role/{name}", f"{name}-session", (policy,)
    )


def setup_resources(endpoint: Endpoint) -> None:
    s3 = endpoint.client("s3", "admin")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="ods/a.json", Body=b"{}")
    glue = endpoint.client("glue", "admin")
    glue.create_database(DatabaseInput={"Name": "ods"})
    for table in ("traffic", "secret"):
        glue.create_table(DatabaseName="ods", TableInput={"Name": table})
    athena = endpoint.client("athena", "admin")
    for workgroup in (WORKGROUP, "adhoc"):
        athena.create_work_group(
            Name=workgroup,
            Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/results/"}},
        )
    endpoint.client("sns", "admin").create_topic(Name="alerts")
    endpoint.client("sqs", "admin").create_queue(QueueName="notifications")
    dynamodb = endpoint.client("dynamodb", "admin")
    dynamodb.create_table(
        TableName="leases",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key in ("run-a", "run-b"):
        dynamodb.put_item(TableName="leases", Item={"pk": {"S": key}})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    registry = PrincipalRegistry()
    authorizer = Authorizer(registry, MotoResourcePolicies(ACCOUNT), account=ACCOUNT, region=REGION)
    principals = {
        "admin": Principal.administrator(ACCOUNT),
        "worker": role("worker", WORKER_POLICY),
        "lister": role("lister", LISTER_POLICY),
        "nobody": role(
            "nobody", [statement("Nothing", ["s3:GetObject"], ["arn:aws:s3:::elsewhere/*"])]
        ),
    }
    credentials = {name: registry.register(p) for name, p in principals.items()}
    hook = install(server, authorizer)
    endpoint = Endpoint(url, authorizer, principals, credentials)
    setup_resources(endpoint)
    yield endpoint
    hook.uninstall()
    server.stop()


def denied(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return {
        "code": response["Error"].get("Code"),
        "message": response["Error"].get("Message", ""),
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def session(endpoint: Endpoint, who: str) -> str:
    return endpoint.principals[who].arn


# -- S3 -----------------------------------------------------------------------------------------


def test_s3_read_allowed_write_denied(endpoint: Endpoint) -> None:
    s3 = endpoint.client("s3", "worker")
    assert s3.get_object(Bucket=BUCKET, Key="ods/a.json")["Body"].read() == b"{}"
    error = denied(lambda: s3.put_object(Bucket=BUCKET, Key="ods/b.json", Body=b"x"))
    assert error == {
        "code": "AccessDenied",
        "status": 403,
        "message": (
            f"User: {session(endpoint, 'worker')} is not authorized to perform: s3:PutObject "
            f'on resource: "arn:aws:s3:::{BUCKET}/ods/b.json" because no identity-based policy '
            "allows the s3:PutObject action"
        ),
    }


def test_missing_key_is_404_only_with_list_bucket(endpoint: Endpoint) -> None:
    with_list = endpoint.client("s3", "lister")
    assert denied(lambda: with_list.head_object(Bucket=BUCKET, Key="missing"))["status"] == 404
    assert denied(lambda: with_list.get_object(Bucket=BUCKET, Key="missing"))["code"] == "NoSuchKey"
    without_list = endpoint.client("s3", "worker")
    assert denied(lambda: without_list.head_object(Bucket=BUCKET, Key="missing"))["status"] == 403
    error = denied(lambda: without_list.get_object(Bucket=BUCKET, Key="missing"))
    assert (error["code"], error["status"]) == ("AccessDenied", 403)
    assert "s3:ListBucket" in error["message"]


def test_bucket_policies_are_evaluated_with_the_request(endpoint: Endpoint) -> None:
    admin = endpoint.client("s3", "admin")
    lister = endpoint.client("s3", "lister")
    lister_role = endpoint.principals["lister"].role_arn
    deny_lister = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "NoResults",
                "Effect": "Deny",
                "Principal": {"AWS": lister_role},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/results/*",
            },
        ],
    }
    admin.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(deny_lister))
    try:
        admin.put_object(Bucket=BUCKET, Key="results/r.csv", Body=b"1")
        assert lister.get_object(Bucket=BUCKET, Key="ods/a.json")["Body"].read() == b"{}"
        error = denied(lambda: lister.get_object(Bucket=BUCKET, Key="results/r.csv"))
        assert error["message"].endswith("with an explicit deny in a resource-based policy")
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)


def test_presigned_urls_are_authorized_as_their_signer(endpoint: Endpoint) -> None:
    for version in ("s3", "s3v4"):
        from botocore.config import Config

        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint.url,
            region_name=REGION,
            config=Config(signature_version=version),
            **endpoint.credentials["worker"].as_boto3_kwargs(),
        )
        readable = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "ods/a.json"}
        )
        with urllib.request.urlopen(readable) as response:
            assert response.read() == b"{}"
        writable = s3.generate_presigned_url(
            "put_object", Params={"Bucket": BUCKET, "Key": "ods/c.json"}
        )
        request = urllib.request.Request(writable, data=b"x", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 403
        assert b"<Code>AccessDenied</Code>" in caught.value.read()


def test_unknown_keys_and_anonymous_requests(endpoint: Endpoint) -> None:
    stranger = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "x"}
    s3 = boto3.client("s3", endpoint_url=endpoint.url, region_name=REGION, **stranger)
    assert denied(s3.list_buckets)["code"] == "InvalidAccessKeyId"
    glue = boto3.client("glue", endpoint_url=endpoint.url, region_name=REGION, **stranger)
    assert denied(glue.get_databases)["code"] == "UnrecognizedClientException"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{endpoint.url}/{BUCKET}/ods/a.json")
    assert caught.value.code == 403


# -- Glue, Athena, Step Functions, Lambda ---------------------------------------------------------


def test_glue_table_access_needs_the_table_arn(endpoint: Endpoint) -> None:
    glue = endpoint.client("glue", "worker")
    assert glue.get_table(DatabaseName="ods", Name="traffic")["Table"]["Name"] == "traffic"
    error = denied(lambda: glue.get_table(DatabaseName="ods", Name="secret"))
    assert (error["code"], error["status"]) == ("AccessDeniedException", 400)
    assert error["message"] == (
        f"User: {session(endpoint, 'worker')} is not authorized to perform: glue:GetTable "
        f"on resource: {GLUE}:table/ods/secret because no identity-based policy allows the "
        "glue:GetTable action"
    )


def test_athena_runs_in_its_own_workgroup_only(endpoint: Endpoint) -> None:
    athena = endpoint.client("athena", "worker")
    query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=WORKGROUP)[
        "QueryExecutionId"
    ]
    assert (
        athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["QueryExecutionId"]
        == query_id
    )
    error = denied(lambda: athena.start_query_execution(QueryString="SELECT 1", WorkGroup="adhoc"))
    assert error["code"] == "AccessDeniedException"
    assert "workgroup/adhoc because no identity-based policy allows" in error["message"]
    other = endpoint.client("athena", "lister")
    assert denied(lambda: other.get_query_execution(QueryExecutionId=query_id))["message"].endswith(
        "because no identity-based policy allows the athena:GetQueryExecution action"
    )


def test_step_functions_and_lambda(endpoint: Endpoint) -> None:
    sfn = endpoint.client("stepfunctions", "worker")
    other_machine = MACHINE.replace("pipeline", "other")
    assert (
        denied(lambda: sfn.start_execution(stateMachineArn=other_machine))["code"]
        == "AccessDeniedException"
    )
    # Allowed: moto runs it and answers that the machine does not exist.
    assert (
        denied(lambda: sfn.start_execution(stateMachineArn=MACHINE))["code"]
        == "StateMachineDoesNotExist"
    )
    functions = endpoint.client("lambda", "worker")
    assert (
        denied(lambda: functions.invoke(FunctionName="plan"))["code"] == "ResourceNotFoundException"
    )
    error = denied(lambda: functions.invoke(FunctionName="plan", Qualifier="live"))
    assert (error["code"], error["status"]) == ("AccessDeniedException", 403)
    assert f"lambda:InvokeFunction on resource: {FUNCTION}:live" in error["message"]


# -- SNS, SQS, DynamoDB -------------------------------------------------------------------------


def test_sns_sqs_dynamodb(endpoint: Endpoint) -> None:
    assert endpoint.client("sns", "worker").publish(TopicArn=TOPIC, Message="ok")["MessageId"]
    error = denied(lambda: endpoint.client("sns", "lister").publish(TopicArn=TOPIC, Message="no"))
    assert (error["code"], error["status"]) == ("AuthorizationError", 403)
    queue = f"{endpoint.url}/{ACCOUNT}/notifications"
    assert "Messages" not in endpoint.client("sqs", "worker").receive_message(QueueUrl=queue)
    assert (
        denied(lambda: endpoint.client("sqs", "lister").receive_message(QueueUrl=queue))["code"]
        == "AccessDenied"
    )
    dynamodb = endpoint.client("dynamodb", "worker")
    assert dynamodb.get_item(TableName="leases", Key={"pk": {"S": "run-a"}})["Item"]["pk"] == {
        "S": "run-a"
    }
    error = denied(lambda: dynamodb.get_item(TableName="leases", Key={"pk": {"S": "run-b"}}))
    assert (error["code"], error["status"]) == ("AccessDeniedException", 400)


# -- the hook itself ------------------------------------------------------------------------------


def test_operations_without_a_rule_are_denied_except_to_the_administrator(
    endpoint: Endpoint,
) -> None:
    error = denied(lambda: endpoint.client("s3", "worker").get_bucket_website(Bucket=BUCKET))
    assert error["code"] == "AccessDenied"
    assert (
        "the local runtime has no authorization rule for the s3 operation GetBucketWebsite"
        in error["message"]
    )
    admin_error = denied(lambda: endpoint.client("s3", "admin").get_bucket_website(Bucket=BUCKET))
    assert admin_error["code"] == "NoSuchWebsiteConfiguration"  # moto ran it


def test_emulations_see_the_caller(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Principal | None] = []
    original = SNSResponse.publish

    def spy(self: SNSResponse) -> Any:
        seen.append(current_principal())
        return original(self)

    monkeypatch.setattr(SNSResponse, "publish", spy)
    endpoint.client("sns", "worker").publish(TopicArn=TOPIC, Message="m")
    assert seen == [endpoint.principals["worker"]]
    assert current_principal() is None


def test_the_switch(endpoint: Endpoint) -> None:
    s3 = endpoint.client("s3", "worker")
    endpoint.authorizer.enabled = False
    try:
        s3.put_object(Bucket=BUCKET, Key="switch.txt", Body=b"x")
    finally:
        endpoint.authorizer.enabled = True
    assert (
        denied(lambda: s3.put_object(Bucket=BUCKET, Key="switch.txt", Body=b"x"))["code"]
        == "AccessDenied"
    )


def test_decisions_are_in_the_ledger(endpoint: Endpoint) -> None:
    worker = endpoint.principals["worker"]
    endpoint.client("glue", "worker").get_table(DatabaseName="ods", Name="traffic")
    decisions = {
        (key.action, key.resource, key.allowed): count
        for key, count in endpoint.authorizer.ledger.decisions().items()
        if key.principal == worker.arn
    }
    assert decisions[("glue:GetTable", f"{GLUE}:table/ods/traffic", True)] >= 1
    assert decisions[("glue:GetTable", f"{GLUE}:table/ods/secret", False)] >= 1


def test_install_twice_is_refused_and_uninstall_restores(endpoint: Endpoint) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    with pytest.raises(RuntimeError, match="start the ThreadedMotoServer"):
        install(server, endpoint.authorizer)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name=REGION,
            **endpoint.credentials["nobody"].as_boto3_kwargs(),
        )
        with install(server, endpoint.authorizer):
            with pytest.raises(RuntimeError, match="already installed"):
                install(server, endpoint.authorizer)
            assert denied(lambda: s3.list_objects_v2(Bucket=BUCKET))["code"] == "AccessDenied"
        assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] >= 1
    finally:
        server.stop()


def test_delete_objects_answers_per_key(endpoint: Endpoint) -> None:
    admin = endpoint.client("s3", "admin")
    for key in ("tmp/mine.txt", "ods/keep.txt"):
        admin.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    cleaner = role(
        "cleaner", [statement("Clean", ["s3:DeleteObject"], [f"arn:aws:s3:::{BUCKET}/tmp/*"])]
    )
    credentials = endpoint.authorizer.registry.register(cleaner)
    s3 = boto3.client(
        "s3", endpoint_url=endpoint.url, region_name=REGION, **credentials.as_boto3_kwargs()
    )
    result = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "tmp/mine.txt"}, {"Key": "ods/keep.txt"}]}
    )
    assert [d["Key"] for d in result["Deleted"]] == ["tmp/mine.txt"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("ods/keep.txt", "AccessDenied")]
    assert admin.head_object(Bucket=BUCKET, Key="ods/keep.txt")["ContentLength"] == 1


def test_moto_bucket_policy_check_is_superseded_only_while_installed(endpoint: Endpoint) -> None:
    # Fails once moto stops turning an unmet condition into a Deny: the override can go.
    assert moto_denies_unmet_conditions()
    assert FakeBucket.get_permission.__module__ == "etl_local.iam.moto_bucket_policies"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        hook = install(server, endpoint.authorizer)
        hook.uninstall()
    finally:
        server.stop()
    # The module's own hook is still installed: its override stays.
    assert FakeBucket.get_permission.__module__ == "etl_local.iam.moto_bucket_policies"


def test_requests_naming_no_known_operation_are_denied(endpoint: Endpoint) -> None:
    key = endpoint.credentials["worker"].access_key_id
    scope = f"{key}/20260101/{REGION}/nosuchservice/aws4_request"
    request = urllib.request.Request(
        f"{endpoint.url}/anything",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 400
    body = json.loads(caught.value.read())
    assert body["__type"] == "AccessDeniedException"
    assert "no authorization rule for the nosuchservice operation GET /anything" in body["Message"]
