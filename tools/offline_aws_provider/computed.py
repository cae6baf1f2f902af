"""Computed resource attributes whose value is known before apply: ARNs, IDs, domain names.

A real plan shows most computed attributes as "known after apply", yet many are fixed by the
configuration: AWS builds an ARN from the partition, region, account and the name the
configuration chose, and the provider builds each resource ID the same way every time.
`planned_values(type_name, config, env)` returns those values for a resource about to be
created, so the plan JSON already carries, e.g., the ARNs that policies and the state machine
definition reference.

Contract with the plan driver:
* a returned attribute is computed in the schema; the driver uses it only where the
  configuration leaves the attribute null;
* an attribute absent from the result stays unknown (the driver's default);
* a value depending on an input that is itself unknown (or chosen by the provider, such as
  a name from `name_prefix`) is `UNKNOWN`;
* `region` and `tags_all` are the driver's (provider region, default_tags merge).

ARN formats are AWS's, from the Service Authorization Reference ("Actions, resources, and
condition keys for <service>", https://docs.aws.amazon.com/service-authorization/latest/
reference/reference_policies_actions-resources-contextkeys.html); IDs are what
terraform-provider-aws 6.x sets (its resource documentation, "Attribute Reference").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.offline_aws_provider.data_sources import dns_suffix
from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.values import UNKNOWN

Values = dict[str, Any]


def planned_values(type_name: str, config: Mapping[str, Any], env: ProviderEnv) -> Values:
    """The predictable computed attributes of a new `type_name` resource."""
    predict = _PREDICTIONS.get(type_name)
    return predict(_Resource(config, env)) if predict else {}


def predicted_types() -> list[str]:
    return sorted(_PREDICTIONS)


def _cat(*parts: Any) -> Any:
    """The parts joined, or UNKNOWN if any part is."""
    if any(part is UNKNOWN for part in parts):
        return UNKNOWN
    return "".join(str(part) for part in parts)


@dataclass(frozen=True)
class _Resource:
    config: Mapping[str, Any]
    env: ProviderEnv

    def chosen(self, name: str, default: Any = None) -> Any:
        """A string argument as configured; UNKNOWN when the provider or apply chooses it."""
        value = self.config.get(name)
        if value is None:
            value = default
        return value if isinstance(value, str) else UNKNOWN

    @property
    def region(self) -> Any:
        """The resource's region: its own `region` argument (provider 6.x), else the provider's."""
        return self.chosen("region", self.env.region)

    @property
    def account(self) -> str:
        return self.env.account_id

    @property
    def dns_suffix(self) -> str:
        return dns_suffix(self.env.partition)

    def arn(self, service: str, resource: Any, *, region: Any = "", account: Any = "") -> Any:
        """arn:partition:service:region:account:resource (the general ARN format:
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
        return _cat(
            "arn:", self.env.partition, ":", service, ":", region, ":", account, ":", resource
        )

    def regional_arn(self, service: str, resource: Any) -> Any:
        return self.arn(service, resource, region=self.region, account=self.account)


# --- Amazon S3 -----------------------------------------------------------------------------

# Route 53 hosted zone of each Region's S3 website endpoint, as published in
# https://docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints
_S3_WEBSITE_HOSTED_ZONES = {
    "af-south-1": "Z83WF9RJE8B12",
    "ap-east-1": "ZNB98KWMFR0R6",
    "ap-northeast-1": "Z2M4EHUR26P7ZW",
    "ap-northeast-2": "Z3W03O7B5YMIYP",
    "ap-northeast-3": "Z2YQB5RD63NC85",
    "ap-south-1": "Z11RGJOFQNVJUP",
    "ap-south-2": "Z02976202B4EZMXIPMXF7",
    "ap-southeast-1": "Z3O0J2DXBE1FTB",
    "ap-southeast-2": "Z1WCIGYICN2BYD",
    "ap-southeast-3": "Z01846753K324LI26A3VV",
    "ap-southeast-4": "Z0312387243XT5FE14WFO",
    "ca-central-1": "Z1QDHH18159H29",
    "cn-north-1": "Z5CN8UMXT92WN",
    "cn-northwest-1": "Z282HJ1KT0DH03",
    "eu-central-1": "Z21DNDUVLTQW6Q",
    "eu-central-2": "Z030506016YDQGETNASS",
    "eu-north-1": "Z3BAZG2TWCNX0D",
    "eu-south-1": "Z30OZKI7KPW7MI",
    "eu-south-2": "Z0081959F7139GRJC19J",
    "eu-west-1": "Z1BKCTXD74EZPE",
    "eu-west-2": "Z3GKZC51ZF0DB4",
    "eu-west-3": "Z3R1K369G5AVDG",
    "il-central-1": "Z09640613K4A3MN55U7GU",
    "me-central-1": "Z06143092I8HRXZRUZROF",
    "me-south-1": "Z1MPMWCPA7YB62",
    "sa-east-1": "Z7KQH4QJS55SO",
    "us-east-1": "Z3AQBSTGFYJSTF",
    "us-east-2": "Z2O1EMRO9K5GLX",
    "us-gov-east-1": "Z2NIFVYYW2VKV1",
    "us-gov-west-1": "Z31GFT0UA1I2HV",
    "us-west-1": "Z2F56UZL2M1ACD",
    "us-west-2": "Z3BJ6K6RIION7M",
}


def _s3_bucket(r: _Resource) -> Values:
    # Bucket ARN arn:${Partition}:s3:::${BucketName} (list_amazons3.html); the domain names
    # are the virtual-hosted-style endpoints of
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
    bucket = r.chosen("bucket")
    values: Values = {
        "id": bucket,
        "arn": r.arn("s3", bucket),
        "bucket_domain_name": _cat(bucket, ".s3.", r.dns_suffix),
        "bucket_regional_domain_name": _cat(bucket, ".s3.", r.region, ".", r.dns_suffix),
        "bucket_region": r.region,
    }
    if r.region is not UNKNOWN and r.region in _S3_WEBSITE_HOSTED_ZONES:
        values["hosted_zone_id"] = _S3_WEBSITE_HOSTED_ZONES[r.region]
    return values


def _s3_object(r: _Resource) -> Values:
    # Object ARN arn:${Partition}:s3:::${BucketName}/${ObjectName}; the provider cleans the key
    # as the AWS SDK for Go v1 did (no leading "./" or "/", no repeated "/"). Its ID is the key.
    bucket, key = r.chosen("bucket"), r.chosen("key")
    clean_key = key if key is UNKNOWN else _sdk_v1_clean_key(key)
    if bucket is not UNKNOWN and bucket.startswith("arn:"):
        return {"id": key}  # an access point or an S3 on Outposts bucket: another ARN form
    return {"id": key, "arn": r.arn("s3", _cat(bucket, "/", clean_key))}


def _sdk_v1_clean_key(key: str) -> str:
    key = key.removeprefix("./").lstrip("/")
    while "//" in key:
        key = key.replace("//", "/")
    return key


def _s3_bucket_subresource(r: _Resource) -> Values:
    """The bucket configuration resources: ID `bucket`, or `bucket,expected_bucket_owner`."""
    bucket, owner = r.chosen("bucket"), r.config.get("expected_bucket_owner")
    return {"id": bucket if owner is None or owner == "" else _cat(bucket, ",", owner)}


# --- AWS Lambda ----------------------------------------------------------------------------


def _lambda_invoke_arn(r: _Resource, function_arn: Any) -> Any:
    # The API Gateway integration URI of a function (or alias), as the provider builds it:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
    return r.arn(
        "apigateway",
        _cat("path/2015-03-31/functions/", function_arn, "/invocations"),
        region=r.region,
        account="lambda",
    )


def _lambda_function(r: _Resource) -> Values:
    # Function ARN arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}
    # (list_awslambda.html). Unpublished, the only version is $LATEST and the provider
    # reports it as `version` and in `qualified_arn`.
    name = r.chosen("function_name")
    arn = r.regional_arn("lambda", _cat("function:", name))
    values: Values = {"id": name, "arn": arn, "invoke_arn": _lambda_invoke_arn(r, arn)}
    publish = r.config.get("publish")
    if publish is None or publish is False:
        qualified = _cat(arn, ":$LATEST")
        values.update(
            version="$LATEST",
            qualified_arn=qualified,
            qualified_invoke_arn=_lambda_invoke_arn(r, qualified),
        )
    return values


def _lambda_alias(r: _Resource) -> Values:
    # Alias ARN: the function ARN qualified with the alias name; the provider's ID is the ARN.
    function = r.chosen("function_name")
    if function is not UNKNOWN and not function.startswith("arn:"):
        function = r.regional_arn("lambda", _cat("function:", function))
    arn = _cat(function, ":", r.chosen("name"))
    return {"id": arn, "arn": arn, "invoke_arn": _lambda_invoke_arn(r, arn)}


def _lambda_permission(r: _Resource) -> Values:
    return {"id": r.chosen("statement_id")}


# --- IAM (global: no region) ---------------------------------------------------------------


def _iam_role(r: _Resource) -> Values:
    # Role ARN arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}, the path being "/"
    # unless configured (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html).
    name = r.chosen("name")
    path = r.chosen("path", "/")
    return {"id": name, "arn": r.arn("iam", _cat("role", path, name), account=r.account)}


def _iam_policy(r: _Resource) -> Values:
    name = r.chosen("name")
    arn = r.arn("iam", _cat("policy", r.chosen("path", "/"), name), account=r.account)
    return {"id": arn, "arn": arn}


def _iam_role_policy(r: _Resource) -> Values:
    # The provider's ID is "<role name>:<policy name>".
    return {"id": _cat(r.chosen("role"), ":", r.chosen("name"))}


# --- Step Functions ------------------------------------------------------------------------


def _sfn_state_machine(r: _Resource) -> Values:
    # arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}
    # (list_awsstepfunctions.html); the provider's ID is the ARN.
    arn = r.regional_arn("states", _cat("stateMachine:", r.chosen("name")))
    return {"id": arn, "arn": arn}


def _sfn_activity(r: _Resource) -> Values:
    arn = r.regional_arn("states", _cat("activity:", r.chosen("name")))
    return {"id": arn, "arn": arn}


# --- AWS Glue ------------------------------------------------------------------------------


def _glue_catalog_id(r: _Resource) -> Any:
    return r.chosen("catalog_id", r.account)


def _glue_catalog_database(r: _Resource) -> Values:
    # arn:${Partition}:glue:${Region}:${Account}:database/${DatabaseName} in the catalog's
    # account (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html);
    # the provider's ID is "<catalog id>:<name>".
    catalog, name = _glue_catalog_id(r), r.chosen("name")
    return {
        "catalog_id": catalog,
        "id": _cat(catalog, ":", name),
        "arn": r.arn("glue", _cat("database/", name), region=r.region, account=catalog),
    }


def _glue_catalog_table(r: _Resource) -> Values:
    catalog, database, name = _glue_catalog_id(r), r.chosen("database_name"), r.chosen("name")
    return {
        "catalog_id": catalog,
        "id": _cat(catalog, ":", database, ":", name),
        "arn": r.arn("glue", _cat("table/", database, "/", name), region=r.region, account=catalog),
    }


def _glue_named(kind: str) -> Callable[[_Resource], Values]:
    """Crawlers and jobs: arn:${Partition}:glue:${Region}:${Account}:<kind>/<name>, ID name."""

    def predict(r: _Resource) -> Values:
        name = r.chosen("name")
        return {"id": name, "arn": r.regional_arn("glue", _cat(kind, "/", name))}

    return predict


def _named_id(r: _Resource) -> Values:
    return {"id": r.chosen("name")}


# --- Athena, SNS, SQS, DynamoDB --------------------------------------------------------------


def _athena_workgroup(r: _Resource) -> Values:
    # arn:${Partition}:athena:${Region}:${Account}:workgroup/${WorkGroupName}
    name = r.chosen("name")
    return {"id": name, "arn": r.regional_arn("athena", _cat("workgroup/", name))}


def _sns_topic(r: _Resource) -> Values:
    # arn:${Partition}:sns:${Region}:${Account}:${TopicName}; the provider's ID is the ARN.
    arn = r.regional_arn("sns", r.chosen("name"))
    return {"id": arn, "arn": arn, "owner": r.account}


def _sns_topic_policy(r: _Resource) -> Values:
    # The provider's ID is the topic ARN; the owner is the topic's account.
    topic = r.chosen("arn")
    owner = topic.split(":")[4] if topic is not UNKNOWN and topic.count(":") >= 5 else UNKNOWN
    return {"id": topic, "owner": owner}


def _sqs_queue(r: _Resource) -> Values:
    # arn:${Partition}:sqs:${Region}:${Account}:${QueueName}; the queue URL the SQS API
    # returns (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
    # sqs-queue-message-identifiers.html) is the provider's ID.
    name = r.chosen("name")
    url = _cat("https://sqs.", r.region, ".", r.dns_suffix, "/", r.account, "/", name)
    return {"id": url, "url": url, "arn": r.regional_arn("sqs", name)}


def _dynamodb_table(r: _Resource) -> Values:
    # arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}; the ID is the name.
    name = r.chosen("name")
    return {"id": name, "arn": r.regional_arn("dynamodb", _cat("table/", name))}


# --- CloudWatch Logs, CloudWatch, EventBridge, KMS -------------------------------------------


def _cloudwatch_log_group(r: _Resource) -> Values:
    # arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}; the API appends
    # ":*", which the provider trims from `arn`.
    name = r.chosen("name")
    return {"id": name, "arn": r.regional_arn("logs", _cat("log-group:", name))}


def _cloudwatch_metric_alarm(r: _Resource) -> Values:
    # arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${AlarmName}
    name = r.chosen("alarm_name")
    return {"id": name, "arn": r.regional_arn("cloudwatch", _cat("alarm:", name))}


def _cloudwatch_dashboard(r: _Resource) -> Values:
    # arn:${Partition}:cloudwatch::${Account}:dashboard/${DashboardName}: dashboards are global
    # ("Actions, resources, and condition keys for Amazon CloudWatch", Service Authorization
    # Reference); the provider's ID is the name.
    name = r.chosen("dashboard_name")
    return {
        "id": name,
        "dashboard_arn": r.arn("cloudwatch", _cat("dashboard/", name), account=r.account),
    }


def _event_bus(r: _Resource) -> Any:
    return r.chosen("event_bus_name", "default")


def _cloudwatch_event_rule(r: _Resource) -> Values:
    # arn:${Partition}:events:${Region}:${Account}:rule/[${EventBusName}/]${RuleName}; the
    # provider's ID is the name, prefixed with "<bus>/" off the default bus.
    bus, name = _event_bus(r), r.chosen("name")
    if bus == "default":
        return {"id": name, "arn": r.regional_arn("events", _cat("rule/", name))}
    rule_id = _cat(bus, "/", name)
    if bus is UNKNOWN or bus.startswith("arn:"):
        return {"id": rule_id}
    return {"id": rule_id, "arn": r.regional_arn("events", _cat("rule/", rule_id))}


def _cloudwatch_event_target(r: _Resource) -> Values:
    # The provider's ID: "<rule>-<target id>", prefixed with "<bus>-" off the default bus.
    bus, rule, target = _event_bus(r), r.chosen("rule"), r.chosen("target_id")
    if bus == "default":
        return {"id": _cat(rule, "-", target)}
    return {"id": _cat(bus, "-", rule, "-", target)}


def _kms_alias(r: _Resource) -> Values:
    # arn:${Partition}:kms:${Region}:${Account}:alias/${AliasName}; the target key's ARN is
    # arn:${Partition}:kms:${Region}:${Account}:key/${KeyId} (list_awskeymanagementservice.html).
    name = r.chosen("name")
    key = r.chosen("target_key_id")
    if key is not UNKNOWN and key.startswith("arn:"):
        key = key.split(":key/", 1)[1] if ":key/" in key else UNKNOWN
    key_arn = UNKNOWN if key is UNKNOWN else r.regional_arn("kms", _cat("key/", key))
    return {"id": name, "arn": r.regional_arn("kms", name), "target_key_arn": key_arn}


_PREDICTIONS: dict[str, Callable[[_Resource], Values]] = {
    "aws_athena_workgroup": _athena_workgroup,
    "aws_cloudwatch_dashboard": _cloudwatch_dashboard,
    "aws_cloudwatch_event_rule": _cloudwatch_event_rule,
    "aws_cloudwatch_event_target": _cloudwatch_event_target,
    "aws_cloudwatch_log_group": _cloudwatch_log_group,
    "aws_cloudwatch_metric_alarm": _cloudwatch_metric_alarm,
    "aws_dynamodb_table": _dynamodb_table,
    "aws_glue_catalog_database": _glue_catalog_database,
    "aws_glue_catalog_table": _glue_catalog_table,
    "aws_glue_crawler": _glue_named("crawler"),
    "aws_glue_job": _glue_named("job"),
    "aws_glue_security_configuration": _named_id,
    "aws_iam_policy": _iam_policy,
    "aws_iam_role": _iam_role,
    "aws_iam_role_policy": _iam_role_policy,
    "aws_kms_alias": _kms_alias,
    "aws_lambda_alias": _lambda_alias,
    "aws_lambda_function": _lambda_function,
    "aws_lambda_permission": _lambda_permission,
    "aws_s3_bucket": _s3_bucket,
    "aws_s3_bucket_lifecycle_configuration": _s3_bucket_subresource,
    "aws_s3_bucket_notification": _s3_bucket_subresource,
    "aws_s3_bucket_ownership_controls": _s3_bucket_subresource,
    "aws_s3_bucket_policy": _s3_bucket_subresource,
    "aws_s3_bucket_public_access_block": _s3_bucket_subresource,
    "aws_s3_bucket_server_side_encryption_configuration": _s3_bucket_subresource,
    "aws_s3_bucket_versioning": _s3_bucket_subresource,
    "aws_s3_object": _s3_object,
    "aws_sfn_activity": _sfn_activity,
    "aws_sfn_state_machine": _sfn_state_machine,
    "aws_sns_topic": _sns_topic,
    "aws_sns_topic_policy": _sns_topic_policy,
    "aws_sqs_queue": _sqs_queue,
}
