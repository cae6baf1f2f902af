"""One run at a time: a lease on the pipeline, held in DynamoDB, that expires.

The begin step takes the lease with a conditional write (DynamoDB evaluates the condition
and the write atomically: "Condition expressions" in the DynamoDB Developer Guide); the
finish step gives it back, on success and on failure. A lease lasts as long as the state
machine's own timeout, so the lease of a run that crashed, timed out or was stopped
expires at the latest when that execution would have been stopped anyway; sooner if the
holder is seen no longer running (DescribeExecution), so an aborted backfill never blocks
the next scheduled run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.errors import PipelineBusy

LEASE_KEY = "pipeline"
_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Lease:
    holder: str  # the execution ARN
    run_id: str
    acquired_at: datetime
    expires_at: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "holder": self.holder,
            "run_id": self.run_id,
            "acquired_at": self.acquired_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


def _item(lease: Lease) -> dict[str, Any]:
    return {
        "pk": {"S": LEASE_KEY},
        "holder": {"S": lease.holder},
        "run_id": {"S": lease.run_id},
        "acquired_at": {"S": lease.acquired_at.isoformat()},
        # Epoch seconds: also the table's TTL attribute, so a dead lease disappears by itself.
        "expires_at": {"N": str(int(lease.expires_at.timestamp()))},
    }


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(
        holder=item["holder"]["S"],
        run_id=item.get("run_id", {}).get("S", "?"),
        acquired_at=datetime.fromisoformat(item["acquired_at"]["S"]),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC),
    )


class RunLease:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def acquire(
        self,
        *,
        holder: str,
        run_id: str,
        now: datetime,
        seconds: int,
        holder_running: Callable[[str], bool],
    ) -> Lease:
        """Take the lease for `holder` (idempotent for the same holder); PipelineBusy when a
        running execution holds it."""
        lease = Lease(holder, run_id, now, now + timedelta(seconds=seconds))
        if self._put(lease, "attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
                     {":now": {"N": str(int(now.timestamp()))}, ":me": {"S": holder}}):  # fmt: skip
            return lease
        current = self.current()
        if current is None:  # released between our write and our read: try once more
            if self._put(lease, "attribute_not_exists(pk)", {}):
                return lease
            current = self.current()
        if current is not None and not holder_running(current.holder):
            # The holder ended without releasing (aborted, timed out): take over its lease.
            if self._put(lease, "holder = :old", {":old": {"S": current.holder}}):
                return lease
            current = self.current()
        if current is None:
            raise PipelineBusy("the run lease changed hands while it was being taken; retry")
        raise PipelineBusy(
            f"execution {current.holder} (run {current.run_id}) holds the pipeline since "
            f"{current.acquired_at.isoformat()}; its lease expires at "
            f"{current.expires_at.isoformat()}"
        )

    def release(self, holder: str) -> bool:
        """Give the lease back if `holder` holds it; False if it did not (nothing changes)."""
        try:
            with throttling_as_retryable():
                self._dynamodb.delete_item(
                    TableName=self._table,
                    Key={"pk": {"S": LEASE_KEY}},
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues={":me": {"S": holder}},
                )
        except ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise
        return True

    def current(self) -> Lease | None:
        with throttling_as_retryable():
            response = self._dynamodb.get_item(
                TableName=self._table, Key={"pk": {"S": LEASE_KEY}}, ConsistentRead=True
            )
        item = response.get("Item")
        return _lease(item) if item else None

    def _put(self, lease: Lease, condition: str, values: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": _item(lease),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            with throttling_as_retryable():
                self._dynamodb.put_item(**request)
        except ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise
        return True


# An execution in these states runs, or is about to run again: PENDING_REDRIVE is a failed
# execution that RedriveExecution has restarted and that is about to continue (Step Functions
# API Reference, DescribeExecution, `status`; "Redriving executions", Developer Guide).
RUNNING_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})


def execution_running(sfn: Any) -> Callable[[str], bool]:
    """Whether an execution is still running or about to run again after a redrive (an
    execution that no longer exists is not)."""

    def running(execution_arn: str) -> bool:
        try:
            with throttling_as_retryable():
                status = sfn.describe_execution(executionArn=execution_arn)["status"]
        except ClientError as error:
            if error_code(error) in ("ExecutionDoesNotExist", "InvalidArn"):
                return False
            raise
        return status in RUNNING_STATUSES

    return running
