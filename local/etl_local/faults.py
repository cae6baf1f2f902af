"""Faults injected into a local run, to exercise the Retry/Catch paths of the real ASL.

Kinds (`--fault KIND`, repeatable):
- `crawler-failed`, `crawler-cancelled`: the crawl ends with LastCrawl.Status FAILED / CANCELLED;
- `query-failed:<model>`: the model's write (CTAS) queries end FAILED on Athena;
- `athena-throttle:<n>`: the first n Athena API calls answer TooManyRequestsException
  (HTTP 400, "Rate exceeded"), as Athena throttles;
- `lambda-error:<step>:<n>`: the first n invocations of the step fail in the Lambda
  service (Lambda.ServiceException, HTTP 500), the transient error AWS recommends retrying.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from moto.athena.responses import AthenaResponse

from etl_lambdas.catalog import CatalogError, load_catalog
from etl_lambdas.steps import STEPS
from etl_local.athena import AthenaEngine
from etl_local.crawler import LocalCrawler
from etl_local.lambda_router import InjectedServiceError, LambdaRouter

KINDS = ("crawler-failed", "crawler-cancelled", "query-failed", "athena-throttle", "lambda-error")
_MODEL = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Fault:
    kind: str
    model: str | None = None
    step: str | None = None
    count: int = 0

    def __str__(self) -> str:
        if self.kind == "query-failed":
            return f"{self.kind}:{self.model}"
        if self.kind == "athena-throttle":
            return f"{self.kind}:{self.count}"
        if self.kind == "lambda-error":
            return f"{self.kind}:{self.step}:{self.count}"
        return self.kind


def _count(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"fault {spec!r}: count {text!r} must be a positive integer")
    return int(text)


def parse_fault(spec: str) -> Fault:
    """`KIND[:ARG...]` -> Fault; a bad kind or argument is a ValueError naming it."""
    kind, *args = spec.strip().split(":")
    if kind in ("crawler-failed", "crawler-cancelled"):
        if args:
            raise ValueError(f"fault {spec!r}: {kind} takes no argument")
        return Fault(kind)
    if kind == "query-failed":
        if len(args) != 1 or not _MODEL.match(args[0]):
            raise ValueError(f"fault {spec!r}: expected query-failed:<model>")
        try:
            known = load_catalog().names()
        except CatalogError:
            known = []
        if known and args[0] not in known:
            raise ValueError(
                f"fault {spec!r}: unknown model {args[0]!r}; known: {', '.join(known)}"
            )
        return Fault(kind, model=args[0])
    if kind == "athena-throttle":
        if len(args) != 1:
            raise ValueError(f"fault {spec!r}: expected athena-throttle:<n>")
        return Fault(kind, count=_count(args[0], spec))
    if kind == "lambda-error":
        if len(args) != 2:
            raise ValueError(f"fault {spec!r}: expected lambda-error:<step>:<n>")
        if args[0] not in STEPS:
            raise ValueError(f"fault {spec!r}: unknown step {args[0]!r}; known: {', '.join(STEPS)}")
        return Fault(kind, step=args[0], count=_count(args[1], spec))
    raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")


# -- Athena throttling: at the server, before moto's Athena dispatch -------------------------

_throttle_lock = threading.Lock()
_throttle_remaining = 0


@contextlib.contextmanager
def _athena_throttled(count: int) -> Iterator[None]:
    """Answer the next `count` Athena calls with TooManyRequestsException, at the server:
    moto's Athena dispatch is wrapped while the fault is armed, and restored after."""
    global _throttle_remaining
    if count <= 0:
        yield
        return
    original = AthenaResponse.call_action

    def throttled_call_action(self: AthenaResponse) -> Any:
        global _throttle_remaining
        with _throttle_lock:
            throttle = _throttle_remaining > 0
            if throttle:
                _throttle_remaining -= 1
        if throttle:
            body = json.dumps({"__type": "TooManyRequestsException", "Message": "Rate exceeded"})
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, body
        return original(self)

    with _throttle_lock:
        _throttle_remaining = count
    AthenaResponse.call_action = throttled_call_action  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        AthenaResponse.call_action = original  # type: ignore[method-assign]
        with _throttle_lock:
            _throttle_remaining = 0


# -- arming ---------------------------------------------------------------------------------


@contextlib.contextmanager
def armed(
    faults: Sequence[Fault],
    router: LambdaRouter,
    engine: AthenaEngine | None = None,
    crawler: LocalCrawler | None = None,
    staging_database: str = "",
) -> Iterator[None]:
    """Apply `faults` for one run; every one is disarmed afterwards."""
    lambda_errors: dict[str, int] = {}
    throttle = 0
    failing_queries: dict[str, str] = {}
    crawl_outcome: str | None = None
    for fault in faults:
        if fault.kind == "lambda-error" and fault.step:
            lambda_errors[fault.step] = lambda_errors.get(fault.step, 0) + fault.count
        elif fault.kind == "athena-throttle":
            throttle += fault.count
        elif fault.kind == "query-failed":
            # The write step's CTAS creates `<staging db>.<model>__<run>__c<k>`.
            failing_queries[f"{staging_database}.{fault.model}__"] = (
                f"GENERIC_INTERNAL_ERROR: injected failure of model {fault.model} "
                "(fault query-failed)"
            )
        elif fault.kind in ("crawler-failed", "crawler-cancelled"):
            crawl_outcome = "FAILED" if fault.kind == "crawler-failed" else "CANCELLED"
    if (failing_queries and engine is None) or (crawl_outcome and crawler is None):
        raise RuntimeError("query and crawler faults need the local Athena engine and crawler")

    def fail_step(step: str) -> None:
        if lambda_errors.get(step, 0) > 0:
            lambda_errors[step] -= 1
            raise InjectedServiceError(
                "ServiceException", f"injected: Lambda service error invoking step {step}"
            )

    router.before_invoke.append(fail_step)
    if engine is not None:
        engine.fail_queries_containing.update(failing_queries)
    if crawler is not None:
        crawler.inject_outcome = crawl_outcome
    try:
        with _athena_throttled(throttle):
            yield
    finally:
        router.before_invoke.remove(fail_step)
        if engine is not None:
            for fragment in failing_queries:
                engine.fail_queries_containing.pop(fragment, None)
        if crawler is not None:
            crawler.inject_outcome = None
