"""Where the offline provider pretends to run: account, region and partition.

A real provider learns its account from STS and its region from the configuration; here
the account is a fixed test account (overridable with `OFFLINE_AWS_ACCOUNT_ID`) and the
region must be configured, as the real provider requires one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.offline_aws_provider.values import UNKNOWN

ACCOUNT_ID_VARIABLE = "OFFLINE_AWS_ACCOUNT_ID"
DEFAULT_ACCOUNT_ID = "123456789012"
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# Region prefixes of the partitions other than `aws`, see
# https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
_PARTITION_BY_REGION_PREFIX = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
)


class ProviderEnvError(ValueError):
    """The provider configuration or the environment does not describe a usable account."""


def partition_of(region: str) -> str:
    for prefix, partition in _PARTITION_BY_REGION_PREFIX:
        if region.startswith(prefix):
            return partition
    return "aws"


@dataclass(frozen=True)
class ProviderEnv:
    account_id: str
    region: str
    partition: str = "aws"

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> ProviderEnv:
        """From the provider block's (decoded) configuration and the process environment.

        The region comes from the configuration, else AWS_REGION / AWS_DEFAULT_REGION as the
        real provider reads them; the account from OFFLINE_AWS_ACCOUNT_ID, else the default.
        """
        environment = os.environ if environ is None else environ
        region = config.get("region")
        if region is UNKNOWN:
            raise ProviderEnvError("the provider's `region` is not known until apply")
        if region is None:
            region = environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")
        if not isinstance(region, str) or not region:
            raise ProviderEnvError("no region: set `region` in the provider block (or AWS_REGION)")
        account_id = environment.get(ACCOUNT_ID_VARIABLE) or DEFAULT_ACCOUNT_ID
        if not _ACCOUNT_ID.match(account_id):
            raise ProviderEnvError(
                f"{ACCOUNT_ID_VARIABLE}={account_id!r} is not a 12-digit AWS account id"
            )
        return cls(account_id=account_id, region=region, partition=partition_of(region))
