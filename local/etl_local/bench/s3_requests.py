"""S3 requests a run made, counted as S3 bills them.

Every S3 request of a local run is authorized by the local IAM, and its ledger counts each
decision: the API calls of the Lambda functions (through the local endpoint) and the reads
and writes of the emulated services (the Glue job, the crawler and Athena, which state each
object request they stand for: etl_local.object_access). The difference of the ledger
before and after a run is the run's requests, by IAM action. The runtime's own calls (its
set-up, the benchmark's listings) are made by the account's administrator, not a role,
and are left out.

"Amazon S3 pricing", Requests & data retrievals: PUT, COPY, POST and LIST requests are one
price, GET and all other requests another; DELETE and CANCEL are free. By the IAM action a
request is authorized with ("Actions, resources, and condition keys for Amazon S3"):
s3:PutObject covers PUT, the multipart upload's POST and part PUTs (each billed), s3:List*
the LISTs; s3:GetObject covers GET and HEAD (an "other" request). A CopyObject would count
as a PUT and a GET (the pipeline copies nothing). Athena and Spark read a Parquet file in a
few ranged GETs (its footer, then its column chunks); the local services read it in one,
so GETs are a lower bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUT_TIER = "put_copy_post_list"
GET_TIER = "get_and_other"
FREE = "delete_free"
_FREE_ACTIONS = frozenset({"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"})


def tier(action: str) -> str:
    if action in _FREE_ACTIONS:
        return FREE
    if action == "s3:PutObject" or action.startswith("s3:List"):
        return PUT_TIER
    return GET_TIER


def by_tier(before: Mapping[Any, int], after: Mapping[Any, int]) -> dict[str, int]:
    """The S3 requests between two snapshots of the IAM ledger (Ledger.decisions()), by
    billing tier, requests of roles only."""
    counts = {PUT_TIER: 0, GET_TIER: 0, FREE: 0}
    for key, count in after.items():
        made = count - before.get(key, 0)
        if made > 0 and key.action.startswith("s3:") and ":role/" in key.identity:
            counts[tier(key.action)] += made
    return counts
