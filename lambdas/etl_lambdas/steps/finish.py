"""Step `finish`: give the run lease back (success or failure); after a run of every model
succeeded, settle the days it published or reported in the ledger, and delete the ledger
entries whose days are all settled."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import ledger
from etl_lambdas.aws import client
from etl_lambdas.config import step_environment
from etl_lambdas.events import FinishEvent
from etl_lambdas.lease import RunLease

_ENV = step_environment("finish")

logger = Logger()


def settle(s3: Any, bucket: str, request: FinishEvent) -> dict[str, int]:
    """Each source's settled days, then the entries nothing is open in any more. Settled
    before anything is deleted: a crash in between leaves entries the next run deletes."""
    assert request.settle is not None and request.run_id is not None
    window = request.settle.window.days()
    marks = {}
    for source, days in request.settle.days.items():
        current = ledger.read_settled(s3, bucket, source)
        marks[source] = ledger.settle(current, [*window, *days], request.run_id)
        if marks[source] != current:
            ledger.write_settled(s3, bucket, marks[source])
    entries = ledger.read_entries(s3, bucket, list(marks))
    deleted = ledger.delete_entries(s3, bucket, ledger.settled_entries(entries, marks))
    return {"sources_settled": len(marks), "entries_deleted": deleted}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FinishEvent.parse(event)
    # Settled before the lease goes: a crash in between leaves the lease to expire, never
    # days settled by a run that another run could overlap.
    settled = (
        settle(client("s3"), _ENV["CURATED_BUCKET"], request)
        if request.settle is not None
        else {"sources_settled": 0, "entries_deleted": 0}
    )
    released = RunLease(client("dynamodb"), _ENV["RUN_LEASE_TABLE"]).release(request.execution_arn)
    result = {
        "status": request.status,
        "run_id": request.run_id,
        "lease_released": released,
        **settled,
    }
    logger.info("run finished", extra=result)
    return result
