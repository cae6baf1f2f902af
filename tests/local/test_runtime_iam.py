"""IAM in the runtime: each principal of the local plan signs with its role's session, and
what its policies do not allow is denied as AWS denies it (no Spark: nothing is run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from etl_local import cli
from etl_local.runtime import LocalRuntime


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    home: Path = tmp_path_factory.mktemp("iam-home")
    with LocalRuntime(home=home, persist=False) as started:
        started.deploy_orchestration()
        yield started


def client_as(runtime: LocalRuntime, service: str, step: str) -> Any:
    assert runtime.iam is not None
    _, credentials = runtime.iam.functions[step]
    return boto3.client(
        service,
        endpoint_url=runtime.endpoint_url,
        region_name=runtime.settings.region,
        **credentials.as_boto3_kwargs(),
    )


def test_a_function_may_not_do_what_its_role_does_not_allow(runtime: LocalRuntime) -> None:
    s3 = client_as(runtime, "s3", "notify")

    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=runtime.settings.raw_bucket, Key="raw/x.json", Body=b"{}")

    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/lakepipe-local-notify-lambda/"
        "lakepipe-local-notify is not authorized to perform: s3:PutObject on resource: "
        f'"arn:aws:s3:::{runtime.settings.raw_bucket}/raw/x.json" because no identity-based '
        "policy allows the s3:PutObject action"
    )


def test_a_missing_key_is_404_with_list_bucket_and_403_without(runtime: LocalRuntime) -> None:
    # S3 API Reference, GetObject, "Permissions": without s3:ListBucket a missing key is 403.
    key = "ods/traffic/missing.parquet"
    bucket = runtime.settings.curated_bucket

    with pytest.raises(ClientError) as with_list:
        client_as(runtime, "s3", "write").get_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError) as without_list:
        client_as(runtime, "s3", "crawler-state").get_object(Bucket=bucket, Key=key)

    assert with_list.value.response["Error"]["Code"] == "NoSuchKey"
    assert without_list.value.response["Error"]["Code"] == "AccessDenied"


def test_the_pipeline_machine_may_invoke_its_steps_only(runtime: LocalRuntime) -> None:
    assert runtime.iam is not None
    _, credentials = runtime.iam.state_machines["pipeline"]
    lambda_client = boto3.client(
        "lambda",
        endpoint_url=runtime.endpoint_url,
        region_name=runtime.settings.region,
        **credentials.as_boto3_kwargs(),
    )

    # audit-verdict is the model machine's step, not the pipeline's.
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=runtime.settings.function_name("audit-verdict"))

    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "lakepipe-local-pipeline-states" in error["Message"]
    assert "lambda:InvokeFunction" in error["Message"]


def test_iam_report_lists_the_denials_and_fails(
    runtime: LocalRuntime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runtime.iam is not None and runtime.iam.ledger.path is not None
    with pytest.raises(ClientError):
        client_as(runtime, "sns", "write").publish(TopicArn=runtime.settings.topic_arn, Message="x")
    runtime.iam.flush()
    output = tmp_path / "iam-report.json"

    code = cli.main(
        ["iam-report", "--ledgers", str(runtime.iam.ledger.path.parent), "--output", str(output)]
    )

    report = json.loads(output.read_text(encoding="utf-8"))
    assert code == 1
    assert {"identity": "arn:aws:iam::123456789012:role/lakepipe-local-write-lambda"}.items() <= (
        next(d for d in report["denied"] if d["action"] == "sns:Publish").items()
    )
    assert "DENIED  sns:Publish" in output.with_suffix(".txt").read_text(encoding="utf-8")
    assert "unused statement(s) without a reason" in capsys.readouterr().out
