"""Every change this project makes to moto's internals, in one place.

Each patch is narrow (one method or one set), says why it exists, and is undone by
`InstalledPatches.uninstall()`. tests/local/test_moto_patches.py checks, for each, that
unpatched moto still needs it, so a moto upgrade that fixes one makes a test fail.

- Athena: moto returns canned results; the local Athena (etl_local.athena) executes
  StartQueryExecution for real and answers Get/BatchGet/GetQueryResults/Stop/List.
- Glue crawler: moto's fake crawl only flips states (ending in COMPLETED, which Glue
  never reports); the local crawler (etl_local.crawler) really crawls.
- Step Functions: moto 5.2.5's ASL executor fails `glue:startJobRun.sync` with
  "'NoneType' object has no attribute 'interrupt_all'": it only creates the callback
  endpoint `.sync` needs for services whose supported patterns include WaitForTaskToken.
- Step Functions: its `states:startExecution` integration passes the ASL's parameter names
  (StateMachineArn, Input, Name) to boto3, whose StartExecution takes stateMachineArn, input
  and name, so every child execution fails with States.Runtime 'StateMachineArn'; and it
  returns the API's camelCase response, where Step Functions gives a task the response with
  capitalized names ("ExecutionArn", and for .sync:2 "Output" as JSON: "Start a new
  AWS Step Functions state machine execution" in the Step Functions Developer Guide).
  And its executing backend names an execution started without a name "None" (so the second
  child of a Map fails with ExecutionAlreadyExists), where StartExecution generates a UUID.
- Step Functions: GetExecutionHistory returns every event in one response, ignoring
  maxResults, nextToken and reverseOrder; AWS pages it (100 events by default, at most
  1,000) in either order. A reader that asks for the newest events only (the runtime's
  execution view, several times a second) got, and moto serialized, the whole history.
- Athena: botocore 1.44.18 speaks Athena's REST-JSON protocol (`POST /query-executions`,
  `GET /workgroups/{WorkGroup}`...), where earlier releases sent JSON-RPC to `/`; moto 5.2.6
  routes only `/`, so every Athena call answered 404. The paths of every Athena operation,
  read from botocore's service model, are routed to moto's Athena responses, which then parse
  their parameters from the request with moto's protocol parsers (typed, from the path, the
  query string or the body).
- Step Functions: its limits (256 KiB per payload, 25,000 history events per execution)
  and terminal errors States.ALL does not catch, as AWS enforces them: etl_local.sfn_limits.
- Start-up: the ASL executor imports `moto.batch.utils` (for one enum), whose package
  imports all of moto's Batch and EC2 models: most of the executor's import time. The two
  small modules it needs are loaded without their package (`moto.batch` itself still
  imports normally if anything asks for it).
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from moto.athena.responses import AthenaResponse
from moto.core.responses import ActionResult
from moto.glue.models import FakeCrawler, GlueBackend
from moto.glue.responses import GlueResponse

from etl_local import sfn_limits
from etl_local.athena import AthenaEngine, InvalidRequestError, WorkgroupRules
from etl_local.crawler import LocalCrawler
from etl_local.iam.middleware import current_principal

if TYPE_CHECKING:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

_MISSING = object()


@dataclass
class InstalledPatches:
    """Undo log of installed patches; also a context manager."""

    _undo: list[Callable[[], None]] = field(default_factory=list)

    def set_attribute(self, owner: Any, name: str, value: Any) -> None:
        original = owner.__dict__.get(name, _MISSING)
        setattr(owner, name, value)

        def undo() -> None:
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)

        self._undo.append(undo)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def __enter__(self) -> InstalledPatches:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()


def install(
    engine: AthenaEngine | None = None,
    crawler: LocalCrawler | None = None,
    *,
    step_functions: bool = True,
) -> InstalledPatches:
    """Install the Step Functions executor's fixes (unless step_functions is False: they need
    its large import), GetExecutionHistory's pages, and the Athena engine / crawler when
    given."""
    patches = InstalledPatches()
    _install_athena_rest_routes(patches)
    _install_sfn_history_paging(patches)
    if step_functions:
        _install_glue_sync_fix(patches)
        _install_sfn_integration_names(patches)
        sfn_limits.install(patches)
    if engine is not None:
        _install_athena(patches, engine)
    if crawler is not None:
        _install_crawler(patches, crawler)
    return patches


# -- Step Functions: glue:startJobRun.sync --------------------------------------------------


def batch_utils_import_loads_ec2() -> bool:
    """True while moto.batch.utils can only be imported through moto.batch, whose models
    import EC2's (checked without importing anything)."""
    import importlib.util

    spec = importlib.util.find_spec("moto.batch")
    assert spec is not None and spec.origin is not None
    return "from .models import" in Path(spec.origin).read_text(encoding="utf-8")


def _load_batch_utils_alone() -> None:
    import importlib.util
    import sys

    if "moto.batch.utils" in sys.modules:
        return
    package = importlib.util.find_spec("moto.batch")
    assert package is not None and package.submodule_search_locations is not None
    directory = Path(next(iter(package.submodule_search_locations)))
    for name in ("exceptions", "utils"):  # utils imports .exceptions: load that first
        spec = importlib.util.spec_from_file_location(
            f"moto.batch.{name}", directory / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)


def _glue_task_service() -> tuple[Any, Any]:
    # Imported when installed: Step Functions' ASL parser is a large import that `etl query`
    # does not need.
    _load_batch_utils_alone()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_glue,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )

    return state_task_service_glue, ResourceCondition


def glue_sync_needs_fix() -> bool:
    """True while moto's Glue task service lacks the pattern `.sync` relies on."""
    state_task_service_glue, ResourceCondition = _glue_task_service()
    return (
        ResourceCondition.WaitForTaskToken
        not in state_task_service_glue._SUPPORTED_INTEGRATION_PATTERNS
    )


def _install_glue_sync_fix(patches: InstalledPatches) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    state_task_service_glue, ResourceCondition = _glue_task_service()
    patterns: set[Any] = state_task_service_glue._SUPPORTED_INTEGRATION_PATTERNS
    if ResourceCondition.WaitForTaskToken in patterns:
        return
    # The service object was built with this very set, so adding to it takes effect.
    patterns.add(ResourceCondition.WaitForTaskToken)
    patches._undo.append(lambda: patterns.discard(ResourceCondition.WaitForTaskToken))

    # With an endpoint, a `.sync` attempt also waits on it (that wait enforces the Task's
    # TimeoutSeconds). A retried attempt has the same task token, hence the endpoint the
    # failed attempt interrupted, and that wait would end at once as a timeout: the job's
    # real failure became States.Timeout. Each attempt waits on an endpoint of its own.
    service = state_task_service_glue.StateTaskServiceGlue
    original_eval_sync = service._eval_sync

    def eval_sync(
        self: Any,
        env: Any,
        sync_resolver: Any,
        timeout_seconds: int | None,
        callback_endpoint: CallbackEndpoint | None,
        heartbeat_endpoint: Any,
    ) -> Any:
        attempt = (
            CallbackEndpoint(callback_id=callback_endpoint.callback_id)
            if callback_endpoint is not None
            else None
        )
        try:
            return original_eval_sync(
                self,
                env=env,
                sync_resolver=sync_resolver,
                timeout_seconds=timeout_seconds,
                callback_endpoint=attempt,
                heartbeat_endpoint=heartbeat_endpoint,
            )
        finally:
            if attempt is not None:
                attempt.interrupt_all()

    patches.set_attribute(service, "_eval_sync", eval_sync)


# -- Step Functions: states:startExecution ---------------------------------------------------


def _sfn_task_service() -> tuple[Any, Any]:
    _load_batch_utils_alone()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return state_task_service_sfn.StateTaskServiceSfn, StepFunctionsParserBackend


def sfn_integration_needs_fix() -> bool:
    """True while moto hands the ASL's parameter names to boto3 unchanged."""
    service, _ = _sfn_task_service()
    parameters = {"StateMachineArn": "arn", "Input": {}}
    service._normalise_parameters(service(), parameters, None, "start_execution")
    return "StateMachineArn" in parameters


def unnamed_execution_needs_fix() -> bool:
    """True while moto's executing backend would name an unnamed execution "None"."""
    _, backend = _sfn_task_service()
    source = inspect.getsource(backend.start_execution)
    return "exec_name = name " in source and "uuid" not in source


def _install_sfn_integration_names(patches: InstalledPatches) -> None:
    service, backend = _sfn_task_service()
    original_parameters = service._normalise_parameters
    original_response = service._normalise_response
    original_start: Any = backend.start_execution

    def normalise_parameters(
        self: Any,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        for name in list(parameters):
            parameters[name[:1].lower() + name[1:]] = parameters.pop(name)

    def normalise_response(
        self: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_response(self, response, boto_service_name, service_action_name)
        if isinstance(response, dict):
            for name in list(response):
                response[name[:1].upper() + name[1:]] = response.pop(name)

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        return original_start(
            self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    patches.set_attribute(service, "_normalise_parameters", normalise_parameters)
    patches.set_attribute(service, "_normalise_response", normalise_response)
    patches.set_attribute(backend, "start_execution", start_execution)


# -- Step Functions: GetExecutionHistory's pages ---------------------------------------------

# "maxResults: The maximum number of results that are returned per call. ... The default is
# 100 and the max allowed page size is 1000. A value of 0 uses the default." (GetExecutionHistory,
# AWS Step Functions API Reference)
HISTORY_PAGE_DEFAULT = 100
HISTORY_PAGE_MAX = 1000


def sfn_history_needs_paging() -> bool:
    """True while moto's GetExecutionHistory reads neither maxResults nor nextToken."""
    from moto.stepfunctions.responses import StepFunctionResponse

    source = inspect.getsource(StepFunctionResponse.get_execution_history)
    return "maxResults" not in source and "nextToken" not in source


def history_page(
    events: list[dict[str, Any]],
    *,
    max_results: int | None,
    reverse_order: bool,
    next_token: str | None,
) -> dict[str, Any]:
    """One page of an execution's history. The token names the id of the page's first event,
    so that events appended between two calls neither shift nor repeat a page."""
    from moto.stepfunctions.exceptions import InvalidToken, ValidationException

    size = max_results or HISTORY_PAGE_DEFAULT
    if not 0 < size <= HISTORY_PAGE_MAX:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value less than or equal to {HISTORY_PAGE_MAX}"
        )
    ordered = list(reversed(events)) if reverse_order else events
    start = 0
    if next_token:
        ids = [e["id"] for e in ordered]
        if not next_token.isdigit() or int(next_token) not in ids:
            raise InvalidToken(next_token)
        start = ids.index(int(next_token))
    page: dict[str, Any] = {"events": ordered[start : start + size]}
    if start + size < len(ordered):
        page["nextToken"] = str(ordered[start + size]["id"])
    return page


def _history_events(backend: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's events, not copied: the executing backend's history is deep-copied
    whole on every read, which a page then mostly throws away (the page is copied instead)."""
    execution = backend.describe_execution(execution_arn)
    manager = getattr(
        getattr(getattr(execution, "exec_worker", None), "env", None), "event_manager", None
    )
    if manager is None:
        return list(backend.get_execution_history(execution_arn)["events"])
    with manager._mutex:
        return list(manager._history_event_list)


def _install_sfn_history_paging(patches: InstalledPatches) -> None:
    from moto.stepfunctions.responses import StepFunctionResponse

    def get_execution_history(self: StepFunctionResponse) -> Any:
        page = history_page(
            _history_events(self.stepfunction_backend, self._get_param("executionArn")),
            max_results=self._get_param("maxResults"),
            reverse_order=bool(self._get_param("reverseOrder", False)),
            next_token=self._get_param("nextToken"),
        )
        return ActionResult({**page, "events": copy.deepcopy(page["events"])})

    patches.set_attribute(StepFunctionResponse, "get_execution_history", get_execution_history)


# -- Athena ---------------------------------------------------------------------------------

# An ARN in a path (TagResource's /tags/{ResourceARN}) holds slashes.
_GREEDY_LABELS = {"ResourceARN"}


def athena_rest_paths() -> set[str]:
    """moto url_paths patterns ("{0}" is the host) of every Athena operation's REST path, from
    botocore's service model: `/workgroups/{WorkGroup}` -> `{0}/workgroups/(?P<WorkGroup>[^/]+)$`.
    """
    from moto.core.utils import get_service_model

    model = get_service_model("athena")
    paths = set()
    for name in model.operation_names:
        uri = model.operation_model(name).http["requestUri"].split("?", 1)[0]
        if uri == "/":
            continue

        def label(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"(?P<{name}>{'.+' if name in _GREEDY_LABELS else '[^/]+'})"

        paths.add("{0}" + re.sub(r"\{([A-Za-z0-9]+)\+?\}", label, uri) + "$")
    return paths


def athena_rest_needs_routes() -> bool:
    """True while moto's own Athena URLs route no REST path of botocore's model (read from its
    source: the routes may be installed)."""
    import moto.athena.urls

    source = inspect.getsource(moto.athena.urls)
    return "query-executions" not in source and "workgroups" not in source


def install_athena_rest_routes() -> InstalledPatches:
    """Only the Athena routes: for moto used without the runtime (mock_aws, a bare server)."""
    patches = InstalledPatches()
    _install_athena_rest_routes(patches)
    return patches


def _install_athena_rest_routes(patches: InstalledPatches) -> None:
    import moto.athena.urls

    routes = dict(moto.athena.urls.url_paths)
    for path in athena_rest_paths():
        routes.setdefault(path, AthenaResponse.dispatch)
    patches.set_attribute(moto.athena.urls, "url_paths", routes)

    original_init = AthenaResponse.__init__

    def init(self: AthenaResponse) -> None:
        original_init(self)
        # Parameters parsed by the request's protocol: with REST-JSON, `_get_param` would
        # otherwise read query-string numbers as strings.
        self.automated_parameter_parsing = True

    patches.set_attribute(AthenaResponse, "__init__", init)


def _invalid(response: AthenaResponse, error: Exception) -> tuple[str, dict[str, int]]:
    return response.error(str(error), 400)


def _install_athena(patches: InstalledPatches, engine: AthenaEngine) -> None:
    def start_query_execution(self: AthenaResponse) -> Any:
        workgroup_name = self._get_param("WorkGroup") or "primary"
        workgroup = self.athena_backend.work_groups.get(workgroup_name)
        if workgroup is None:
            return self.error(f"WorkGroup {workgroup_name} is not found.", 400)
        rules = WorkgroupRules.from_configuration(workgroup_name, workgroup.configuration or {})
        try:
            location = rules.results_location(
                (self._get_param("ResultConfiguration") or {}).get("OutputLocation")
            )
        except InvalidRequestError as error:
            return _invalid(self, error)
        context = self._get_param("QueryExecutionContext") or {}
        # The query reads and writes S3 with its caller's permissions (the IAM hook's signer).
        caller = current_principal()
        try:
            query_id = engine.start_query(
                self._get_param("QueryString"),
                account_id=self.current_account,
                region=self.region,
                workgroup=workgroup_name,
                output_location=location,
                database=context.get("Database"),
                catalog=context.get("Catalog"),
                client_request_token=self._get_param("ClientRequestToken"),
                rules=rules,
                principal=caller.arn if caller is not None else None,
            )
        except InvalidRequestError as error:
            return _invalid(self, error)
        return json.dumps({"QueryExecutionId": query_id})

    def get_query_execution(self: AthenaResponse) -> Any:
        try:
            execution = engine.get_query(self._get_param("QueryExecutionId"))
        except InvalidRequestError as error:
            return _invalid(self, error)
        return json.dumps({"QueryExecution": execution.as_athena()})

    def batch_get_query_execution(self: AthenaResponse) -> Any:
        found, missing = [], []
        for query_id in self._get_param("QueryExecutionIds") or []:
            try:
                found.append(engine.get_query(query_id).as_athena())
            except InvalidRequestError as error:
                missing.append(
                    {
                        "QueryExecutionId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": str(error),
                    }
                )
        return json.dumps({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})

    def get_query_results(self: AthenaResponse) -> Any:
        try:
            page = engine.results_page(
                self._get_param("QueryExecutionId"),
                self._get_param("NextToken"),
                self._get_param("MaxResults"),
            )
        except InvalidRequestError as error:
            return _invalid(self, error)
        return json.dumps(page)

    def stop_query_execution(self: AthenaResponse) -> Any:
        try:
            engine.stop_query(self._get_param("QueryExecutionId"))
        except InvalidRequestError as error:
            return _invalid(self, error)
        return json.dumps({})

    def list_query_executions(self: AthenaResponse) -> Any:
        workgroup = self._get_param("WorkGroup") or "primary"
        ids = [
            q.query_id
            for q in reversed(engine.list_queries())
            if q.workgroup == workgroup and q.account_id == self.current_account
        ]
        return json.dumps({"QueryExecutionIds": ids})

    for name, function in {
        "start_query_execution": start_query_execution,
        "get_query_execution": get_query_execution,
        "batch_get_query_execution": batch_get_query_execution,
        "get_query_results": get_query_results,
        "stop_query_execution": stop_query_execution,
        "list_query_executions": list_query_executions,
    }.items():
        patches.set_attribute(AthenaResponse, name, function)


# -- Glue crawler ---------------------------------------------------------------------------


def _install_crawler(patches: InstalledPatches, crawler: LocalCrawler) -> None:
    original_as_dict = FakeCrawler.as_dict

    def start_crawler(self: GlueBackend, name: str) -> None:
        crawler.start(self, self.get_crawler(name))

    def stop_crawler(self: GlueBackend, name: str) -> None:
        crawler.stop(self.get_crawler(name))

    def as_dict(self: FakeCrawler) -> dict[str, Any]:
        data = original_as_dict(self)
        run = crawler.last_run(self)
        data["State"] = run.crawler_state if run else "READY"
        data.pop("LastCrawl", None)
        if run is not None and run.status != "RUNNING":
            data["LastCrawl"] = run.last_crawl()
        elif run is not None:
            previous = crawler.runs(self)[:-1]
            if previous:
                data["LastCrawl"] = previous[-1].last_crawl()
        return data

    def get_crawler_metrics(self: GlueResponse) -> ActionResult:
        names = self._get_param("CrawlerNameList") or [
            c.name for c in self.glue_backend.get_crawlers()
        ]
        metrics = []
        for name in names:
            fake = self.glue_backend.get_crawler(name)
            runs = [r for r in crawler.runs(fake) if r.end_time is not None]
            durations = [(r.end_time - r.start_time).total_seconds() for r in runs if r.end_time]
            median = sorted(durations)[len(durations) // 2] if durations else 0.0
            last = runs[-1] if runs else None
            current = crawler.last_run(fake)
            metrics.append(
                {
                    "CrawlerName": name,
                    "TimeLeftSeconds": 0.0,
                    "StillEstimating": current is not None and current.status == "RUNNING",
                    "LastRuntimeSeconds": durations[-1] if durations else 0.0,
                    "MedianRuntimeSeconds": median,
                    "TablesCreated": last.tables_created if last else 0,
                    "TablesUpdated": last.tables_updated if last else 0,
                    "TablesDeleted": 0,
                }
            )
        return ActionResult({"CrawlerMetricsList": metrics})

    patches.set_attribute(GlueBackend, "start_crawler", start_crawler)
    patches.set_attribute(GlueBackend, "stop_crawler", stop_crawler)
    patches.set_attribute(FakeCrawler, "as_dict", as_dict)
    patches.set_attribute(GlueResponse, "get_crawler_metrics", get_crawler_metrics)
