"""Computed attributes predicted for new resources: config in, values out.

Expected ARNs are written out in AWS's documented formats (the Service Authorization
Reference's resource types, cited per service in tools/offline_aws_provider/computed.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_data_sources import terraform_block_types

from tools.offline_aws_provider.computed import planned_values, predicted_types
from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.schema import ProviderSchema
from tools.offline_aws_provider.values import UNKNOWN

ENV = ProviderEnv(account_id="111122223333", region="eu-west-1")
ACCOUNT = "111122223333"


def plan(type_name: str, env: ProviderEnv = ENV, **config: Any) -> dict[str, Any]:
    return planned_values(type_name, config, env)


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    return ProviderSchema.load()


def test_predictions_are_computed_attributes_of_the_real_schema(schema: ProviderSchema) -> None:
    for type_name in predicted_types():
        attributes = schema.resource_block(type_name)["attributes"]
        config: dict[str, Any] = {
            name: "name-x" for name in attributes if name not in ("region", "publish")
        }
        config["arn"] = f"arn:aws:sns:eu-west-1:{ACCOUNT}:name-x"
        config["expected_bucket_owner"] = None
        for name, value in planned_values(type_name, config, ENV).items():
            assert attributes[name].get("computed"), f"{type_name}.{name} is not computed"
            assert value is not UNKNOWN, f"{type_name}.{name} unknown from a known config"


def test_every_resource_type_of_the_configuration_is_considered() -> None:
    # Types whose computed attributes are all unknowable until apply: a KMS key's ID and
    # ARN are random, as are a subscription's ARN (a UUID) and an alarm-free resource's ID;
    # the provider's ID of Lake Formation permissions is a hash it computes when it creates them.
    unpredictable = {"aws_kms_key", "aws_sns_topic_subscription", "aws_lakeformation_permissions"}
    configured = terraform_block_types("resource")
    assert configured - unpredictable <= set(predicted_types())
    assert plan("aws_kms_key", description="x") == {}


def test_cloudwatch_dashboard() -> None:
    assert plan("aws_cloudwatch_dashboard", dashboard_name="lakepipe-dev") == {
        "id": "lakepipe-dev",
        "dashboard_arn": "arn:aws:cloudwatch::111122223333:dashboard/lakepipe-dev",
    }


# --- Amazon S3 -----------------------------------------------------------------------------


def test_s3_bucket() -> None:
    assert plan("aws_s3_bucket", bucket="lakepipe-dev-raw") == {
        "id": "lakepipe-dev-raw",
        "arn": "arn:aws:s3:::lakepipe-dev-raw",
        "bucket_domain_name": "lakepipe-dev-raw.s3.amazonaws.com",
        "bucket_regional_domain_name": "lakepipe-dev-raw.s3.eu-west-1.amazonaws.com",
        "bucket_region": "eu-west-1",
        # https://docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints
        "hosted_zone_id": "Z1BKCTXD74EZPE",
    }


def test_s3_bucket_in_china_and_in_its_own_region() -> None:
    beijing = ProviderEnv(account_id=ACCOUNT, region="cn-north-1", partition="aws-cn")
    values = plan("aws_s3_bucket", beijing, bucket="b", region="cn-northwest-1")
    assert values["arn"] == "arn:aws-cn:s3:::b"
    assert values["bucket_domain_name"] == "b.s3.amazonaws.com.cn"
    assert values["bucket_regional_domain_name"] == "b.s3.cn-northwest-1.amazonaws.com.cn"
    assert values["bucket_region"] == "cn-northwest-1"


def test_s3_bucket_named_by_the_provider_or_after_apply_is_unknown() -> None:
    for config in ({"bucket": None, "bucket_prefix": "logs-"}, {"bucket": UNKNOWN}):
        values = plan("aws_s3_bucket", **config)
        assert values["arn"] is UNKNOWN
        assert values["bucket_domain_name"] is UNKNOWN
        assert values["bucket_region"] == "eu-west-1"
    assert plan("aws_s3_bucket", bucket="b", region=UNKNOWN)["bucket_region"] is UNKNOWN
    assert "hosted_zone_id" not in plan("aws_s3_bucket", bucket="b", region=UNKNOWN)


def test_s3_object_key_is_cleaned_in_the_arn() -> None:
    values = plan("aws_s3_object", bucket="artifacts", key="./glue//convert_raw.py")
    assert values == {
        "id": "./glue//convert_raw.py",
        "arn": "arn:aws:s3:::artifacts/glue/convert_raw.py",
    }
    assert plan("aws_s3_object", bucket=UNKNOWN, key="k")["arn"] is UNKNOWN


@pytest.mark.parametrize(
    "type_name",
    [
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_lifecycle_configuration",
    ],
)
def test_bucket_configuration_resources_are_identified_by_their_bucket(type_name: str) -> None:
    assert plan(type_name, bucket="b") == {"id": "b"}
    assert plan(type_name, bucket=UNKNOWN) == {"id": UNKNOWN}


def test_expected_bucket_owner_joins_the_id() -> None:
    values = plan("aws_s3_bucket_versioning", bucket="b", expected_bucket_owner=ACCOUNT)
    assert values == {"id": f"b,{ACCOUNT}"}
    assert plan("aws_s3_bucket_versioning", bucket="b", expected_bucket_owner=UNKNOWN) == {
        "id": UNKNOWN
    }


# --- AWS Lambda ----------------------------------------------------------------------------

FUNCTION_ARN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:lakepipe-dev-plan"


def invoke_arn(function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def test_lambda_function_unpublished() -> None:
    assert plan("aws_lambda_function", function_name="lakepipe-dev-plan", publish=False) == {
        "id": "lakepipe-dev-plan",
        "arn": FUNCTION_ARN,
        "invoke_arn": invoke_arn(FUNCTION_ARN),
        "version": "$LATEST",
        "qualified_arn": f"{FUNCTION_ARN}:$LATEST",
        "qualified_invoke_arn": invoke_arn(f"{FUNCTION_ARN}:$LATEST"),
    }


def test_lambda_function_published_version_is_left_to_apply() -> None:
    for publish in (True, UNKNOWN):
        values = plan("aws_lambda_function", function_name="f", publish=publish)
        assert {"version", "qualified_arn", "qualified_invoke_arn"}.isdisjoint(values)


def test_lambda_alias_and_permission() -> None:
    alias = plan("aws_lambda_alias", function_name="lakepipe-dev-plan", name="live")
    assert alias["arn"] == alias["id"] == f"{FUNCTION_ARN}:live"
    assert alias["invoke_arn"] == invoke_arn(f"{FUNCTION_ARN}:live")
    by_arn = plan("aws_lambda_alias", function_name=FUNCTION_ARN, name="live")
    assert by_arn["arn"] == f"{FUNCTION_ARN}:live"
    assert plan("aws_lambda_permission", statement_id="AllowEvents") == {"id": "AllowEvents"}
    assert plan("aws_lambda_permission", statement_id=None) == {"id": UNKNOWN}


# --- IAM -----------------------------------------------------------------------------------


def test_iam_role_with_the_default_and_a_configured_path() -> None:
    assert plan("aws_iam_role", name="lakepipe-dev-plan-lambda") == {
        "id": "lakepipe-dev-plan-lambda",
        "arn": f"arn:aws:iam::{ACCOUNT}:role/lakepipe-dev-plan-lambda",
    }
    with_path = plan("aws_iam_role", name="r", path="/service/")
    assert with_path["arn"] == f"arn:aws:iam::{ACCOUNT}:role/service/r"


def test_iam_role_named_from_a_prefix_is_unknown() -> None:
    assert plan("aws_iam_role", name=None, name_prefix="r-") == {"id": UNKNOWN, "arn": UNKNOWN}


def test_iam_role_policy_and_policy() -> None:
    assert plan("aws_iam_role_policy", role="r", name="run") == {"id": "r:run"}
    assert plan("aws_iam_role_policy", role=UNKNOWN, name="run") == {"id": UNKNOWN}
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/p"
    assert plan("aws_iam_policy", name="p") == {"id": policy_arn, "arn": policy_arn}


# --- Step Functions, Glue, Athena ------------------------------------------------------------


def test_state_machine_and_activity() -> None:
    machine = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:lakepipe-dev-pipeline"
    assert plan("aws_sfn_state_machine", name="lakepipe-dev-pipeline") == {
        "id": machine,
        "arn": machine,
    }
    activity = f"arn:aws:states:eu-west-1:{ACCOUNT}:activity:wait"
    assert plan("aws_sfn_activity", name="wait") == {"id": activity, "arn": activity}


def test_glue_catalog_database_in_the_own_and_another_catalog() -> None:
    assert plan("aws_glue_catalog_database", name="lakepipe_dev_ods") == {
        "catalog_id": ACCOUNT,
        "id": f"{ACCOUNT}:lakepipe_dev_ods",
        "arn": f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/lakepipe_dev_ods",
    }
    shared = plan("aws_glue_catalog_database", name="d", catalog_id="444455556666")
    assert shared["arn"] == "arn:aws:glue:eu-west-1:444455556666:database/d"


def test_glue_table_crawler_job_and_security_configuration() -> None:
    table = plan("aws_glue_catalog_table", database_name="ods", name="traffic")
    assert table["id"] == f"{ACCOUNT}:ods:traffic"
    assert table["arn"] == f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/ods/traffic"
    assert plan("aws_glue_crawler", name="c") == {
        "id": "c",
        "arn": f"arn:aws:glue:eu-west-1:{ACCOUNT}:crawler/c",
    }
    assert plan("aws_glue_job", name="j") == {
        "id": "j",
        "arn": f"arn:aws:glue:eu-west-1:{ACCOUNT}:job/j",
    }
    assert plan("aws_glue_security_configuration", name="s") == {"id": "s"}


def test_athena_workgroup() -> None:
    assert plan("aws_athena_workgroup", name="lakepipe-dev") == {
        "id": "lakepipe-dev",
        "arn": f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/lakepipe-dev",
    }


# --- SNS, SQS, DynamoDB ----------------------------------------------------------------------


def test_sns_topic_and_its_policy() -> None:
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:lakepipe-dev-alerts"
    assert plan("aws_sns_topic", name="lakepipe-dev-alerts") == {
        "id": topic,
        "arn": topic,
        "owner": ACCOUNT,
    }
    assert plan("aws_sns_topic_policy", arn=topic) == {"id": topic, "owner": ACCOUNT}
    assert plan("aws_sns_topic_policy", arn=UNKNOWN) == {"id": UNKNOWN, "owner": UNKNOWN}


def test_sqs_queue_and_dynamodb_table() -> None:
    url = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/q"
    assert plan("aws_sqs_queue", name="q") == {
        "id": url,
        "url": url,
        "arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q",
    }
    assert plan("aws_dynamodb_table", name="lease") == {
        "id": "lease",
        "arn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/lease",
    }


# --- CloudWatch, EventBridge, KMS ------------------------------------------------------------


def test_log_group_arn_has_no_wildcard_suffix() -> None:
    assert plan("aws_cloudwatch_log_group", name="/aws/lambda/lakepipe-dev-plan") == {
        "id": "/aws/lambda/lakepipe-dev-plan",
        "arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/lakepipe-dev-plan",
    }


def test_metric_alarm() -> None:
    assert plan("aws_cloudwatch_metric_alarm", alarm_name="a") == {
        "id": "a",
        "arn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:a",
    }


def test_event_rule_and_target_on_the_default_and_a_custom_bus() -> None:
    assert plan("aws_cloudwatch_event_rule", name="schedule") == {
        "id": "schedule",
        "arn": f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/schedule",
    }
    assert plan("aws_cloudwatch_event_rule", name="r", event_bus_name="ops") == {
        "id": "ops/r",
        "arn": f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/ops/r",
    }
    target = plan("aws_cloudwatch_event_target", rule="schedule", target_id="pipeline")
    assert target == {"id": "schedule-pipeline"}
    on_bus = plan("aws_cloudwatch_event_target", rule="r", target_id="t", event_bus_name="ops")
    assert on_bus == {"id": "ops-r-t"}
    assert plan("aws_cloudwatch_event_target", rule="r", target_id=None) == {"id": UNKNOWN}


def test_kms_alias_target_key_arn_follows_the_key() -> None:
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    alias = plan("aws_kms_alias", name="alias/lakepipe-dev-alerts", target_key_id=key_id)
    assert alias == {
        "id": "alias/lakepipe-dev-alerts",
        "arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/lakepipe-dev-alerts",
        "target_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}",
    }
    key_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}"
    by_arn = plan("aws_kms_alias", name="alias/a", target_key_id=key_arn)
    assert by_arn["target_key_arn"] == key_arn
    # The key of this configuration is created in the same plan: its ID is unknown.
    assert plan("aws_kms_alias", name="alias/a", target_key_id=UNKNOWN)["target_key_arn"] is UNKNOWN


def test_an_unpredicted_type_predicts_nothing() -> None:
    assert plan("aws_instance", ami="ami-1") == {}
