"""The data sources the configuration reads, answered offline as the real provider would.

`read(type_name, config, env)` returns the data source's whole state object (every schema
attribute); `validate(type_name, config)` the errors the provider's schema validation gives
for the parts of a configuration known at validation time. A failure is a
`DataSourceError` (the diagnostic's summary and detail).

Regions and partitions come from botocore's copy of the AWS SDKs' endpoint model
(`botocore/data/endpoints.json`), the data the provider's own region lookups are built from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from botocore.loaders import Loader

from tools.offline_aws_provider import policy_document
from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.values import is_known


class DataSourceError(Exception):
    """A data source read failed: the provider's diagnostic."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(f"{summary}: {detail}" if detail else summary)
        self.summary = summary
        self.detail = detail


Reader = Callable[[Mapping[str, Any], ProviderEnv], dict[str, Any]]


def read(type_name: str, config: Mapping[str, Any], env: ProviderEnv) -> dict[str, Any]:
    """The state of data source `type_name` for a wholly known `config`."""
    reader = _READERS.get(type_name)
    if reader is None:
        raise DataSourceError(
            f"Unsupported data source {type_name}",
            "The offline AWS provider answers only the data sources this project reads: "
            + ", ".join(sorted(_READERS))
            + ".",
        )
    if not is_known(dict(config)):
        raise DataSourceError(
            f"Cannot read {type_name} yet",
            "Its configuration is not known until apply; Terraform defers such reads.",
        )
    return reader(config, env)


def validate(type_name: str, config: Mapping[str, Any]) -> list[DataSourceError]:
    """The provider's validation errors for the known parts of `config`."""
    if type_name == "aws_iam_policy_document":
        return [DataSourceError(message) for message in policy_document.validate(config)]
    return []


# --- aws_iam_policy_document ---------------------------------------------------------------


def _policy_document(config: Mapping[str, Any], env: ProviderEnv) -> dict[str, Any]:
    try:
        return policy_document.render(config)
    except policy_document.PolicyDocumentError as error:
        raise DataSourceError(str(error)) from error


# --- aws_caller_identity -------------------------------------------------------------------


def _caller_identity(config: Mapping[str, Any], env: ProviderEnv) -> dict[str, Any]:
    """GetCallerIdentity as the account's root user would see it.

    The real answer names whoever runs Terraform (a role session, an IAM user); offline
    there is no such principal, so this is the one identity every account has: for root
    credentials STS returns the account's root ARN and the account ID as UserId, see
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html.
    """
    return {
        "account_id": env.account_id,
        "arn": f"arn:{env.partition}:iam::{env.account_id}:root",
        "id": env.account_id,
        "user_id": env.account_id,
    }


# --- aws_partition and aws_region ----------------------------------------------------------


@cache
def _partitions() -> tuple[Mapping[str, Any], ...]:
    return tuple(Loader().load_data("endpoints")["partitions"])


def _partition_data(partition: str) -> Mapping[str, Any]:
    for data in _partitions():
        if data["partition"] == partition:
            return data
    raise DataSourceError("Unknown partition", f"partition {partition!r} is not an AWS partition")


def dns_suffix(partition: str) -> str:
    """The partition's DNS suffix (amazonaws.com, amazonaws.com.cn, ...)."""
    return str(_partition_data(partition)["dnsSuffix"])


def _partition(config: Mapping[str, Any], env: ProviderEnv) -> dict[str, Any]:
    suffix = dns_suffix(env.partition)
    return {
        "dns_suffix": suffix,
        "id": env.partition,
        "partition": env.partition,
        # The provider's reverse DNS prefix is the DNS suffix's labels reversed.
        "reverse_dns_prefix": ".".join(reversed(suffix.split("."))),
    }


@cache
def _regions() -> dict[str, tuple[str, str]]:
    """Region name -> (description, DNS suffix of its partition)."""
    return {
        name: (region["description"], data["dnsSuffix"])
        for data in _partitions()
        for name, region in data["regions"].items()
    }


def ec2_endpoint(region: str) -> str:
    # The partition's default hostname template, {service}.{region}.{dnsSuffix}.
    return f"ec2.{region}.{_regions()[region][1]}"


def _region_by_name(name: str) -> str:
    if name not in _regions():
        raise DataSourceError("finding Region by name", f'region not found for name "{name}"')
    return name


def _region_by_endpoint(endpoint: str) -> str:
    for name in _regions():
        if ec2_endpoint(name) == endpoint:
            return name
    raise DataSourceError(
        "finding Region by endpoint", f'region not found for endpoint "{endpoint}"'
    )


def _region(config: Mapping[str, Any], env: ProviderEnv) -> dict[str, Any]:
    """The region selected by `endpoint`, `name` or `region`, else the provider's."""
    selected: str | None = None
    if config.get("endpoint") is not None:
        selected = _region_by_endpoint(config["endpoint"])
    for argument in ("name", "region"):
        if config.get(argument) is None:
            continue
        match = _region_by_name(config[argument])
        if selected is not None and selected != match:
            raise DataSourceError(
                "multiple Regions matched",
                "use additional constraints to reduce matches to a single Region",
            )
        selected = match
    name = selected or _region_by_name(env.region)
    return {
        "description": _regions()[name][0],
        "endpoint": ec2_endpoint(name),
        "id": name,
        "name": name,
        "region": name,
    }


_READERS: dict[str, Reader] = {
    "aws_caller_identity": _caller_identity,
    "aws_iam_policy_document": _policy_document,
    "aws_partition": _partition,
    "aws_region": _region,
}
