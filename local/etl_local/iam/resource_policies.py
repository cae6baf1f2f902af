"""Resource-based policies: which policies a request's resource carries.

A bucket policy governs the bucket and every object in it ("Bucket policies for Amazon
S3"); an SNS topic policy its topic; a role's trust policy governs sts:AssumeRole on the
role. Two sources are provided: `ResourcePolicies`, filled from the Terraform plan (what
will be deployed), and `MotoResourcePolicies`, read live from moto's backends (what is in
effect in the local endpoint, including policies put through the API). A runtime uses one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from etl_local.iam.policy import Policy, PolicyKind


class ResourcePolicySource(Protocol):
    def policies_for(self, resource_arn: str) -> Sequence[Policy]:
        """The resource-based policies evaluated with a request on `resource_arn`."""


def owning_resource(resource_arn: str) -> str:
    """The ARN a resource policy is attached to: an S3 object's bucket, else the resource
    itself without a Lambda qualifier."""
    if resource_arn.startswith("arn:") and ":s3:::" in resource_arn:
        return resource_arn.split("/", 1)[0]
    parts = resource_arn.split(":")
    if len(parts) == 8 and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return resource_arn


class ResourcePolicies:
    """Resource ARN -> its policies, set from a plan or by hand. Thread-safe."""

    def __init__(self) -> None:
        self._by_resource: dict[str, tuple[Policy, ...]] = {}
        self._lock = threading.Lock()

    def attach(self, resource_arn: str, policy: Policy) -> None:
        with self._lock:
            current = self._by_resource.get(resource_arn, ())
            kept = tuple(p for p in current if p.name != policy.name)
            self._by_resource = {**self._by_resource, resource_arn: (*kept, policy)}

    def detach(self, resource_arn: str) -> None:
        with self._lock:
            self._by_resource = {
                arn: policies for arn, policies in self._by_resource.items() if arn != resource_arn
            }

    def policies_for(self, resource_arn: str) -> Sequence[Policy]:
        return self._by_resource.get(owning_resource(resource_arn), ())

    def resources(self) -> list[str]:
        return sorted(self._by_resource)


class MotoResourcePolicies:
    """Bucket policies, topic policies and role trust policies as moto holds them now."""

    def __init__(self, account: str, partition: str = "aws") -> None:
        self._account = account
        self._partition = partition
        self._parsed: dict[tuple[str, str], Policy] = {}

    def _parse(self, arn: str, text: str | bytes | None, kind: PolicyKind) -> Sequence[Policy]:
        if not text:
            return ()
        document = text.decode() if isinstance(text, bytes) else text
        cached = self._parsed.get((arn, document))
        if cached is None:
            cached = Policy.parse(document, f"{arn} policy", kind)
            self._parsed[(arn, document)] = cached
        return (cached,)

    def policies_for(self, resource_arn: str) -> Sequence[Policy]:
        owner = owning_resource(resource_arn)
        parts = owner.split(":", 5)
        if len(parts) != 6:
            return ()
        service, region, resource = parts[2], parts[3], parts[5]
        if service == "s3":
            return self._parse(
                owner, _bucket_policy(self._account, self._partition, resource), PolicyKind.RESOURCE
            )
        if service == "sns":
            return self._parse(
                owner, _topic_policy(self._account, region, owner), PolicyKind.RESOURCE
            )
        if service == "iam" and resource.startswith("role/"):
            return self._parse(owner, _trust_policy(self._account, owner), PolicyKind.TRUST)
        return ()


def _bucket_policy(account: str, partition: str, bucket: str) -> Any:
    from moto.s3.models import s3_backends

    found = s3_backends[account][partition].buckets.get(bucket)
    return found.policy if found is not None else None


def _topic_policy(account: str, region: str, topic_arn: str) -> Any:
    from moto.sns.models import sns_backends

    topic = sns_backends[account][region].topics.get(topic_arn)
    return json.dumps(topic._policy_json) if topic is not None else None


def _trust_policy(account: str, role_arn: str) -> Any:
    from moto.iam.models import iam_backends

    for role in iam_backends[account]["global"].roles.values():
        if role.arn == role_arn:
            return role.assume_role_policy_document
    return None
