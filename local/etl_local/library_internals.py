"""Every private name of moto, botocore, boto3 and PySpark that the local runtime relies on.

The local runtime changes what moto and botocore do (moto_patches, sfn_limits, s3_disk,
state, server, iam/, lambda_router, glue_runner, crawler). None of those libraries promises
anything about these names: a release may rename a method, add a parameter, or stop setting
an attribute, and the runtime would then fail in ways far from the cause (a 500 on every
request, a state machine that never ends). This module lists each name with what it is used
for and what the code assumes of it; tests/local/test_library_internals.py checks every entry
against the installed libraries, and fails naming the symbol and the installed version, and
checks that no module of `etl_local` uses a name of those libraries that is neither listed
here nor in PUBLIC.

What is checked, per entry:
- the name resolves (module attribute, class attribute, class attribute of a class);
- for a function or method, its parameters (names, and which have defaults) are `params`:
  the call or the replacement is written for exactly those;
- `members`: attributes the code reads or sets on instances, which must appear as
  `self.<member>` in the source of the class or one of its bases.

Where moto offers a public extension point, the runtime uses it instead (moto's server,
`/moto-api/config` for executing state machines, `/moto-api/reset`); what is below has none.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from dataclasses import dataclass
from typing import Any

# The documented APIs the runtime uses (not checked beyond being importable by its tests).
PUBLIC = frozenset(
    {
        "boto3.client",
        "boto3.Session",
        "boto3.DEFAULT_SESSION",
        "boto3.setup_default_session",
        "botocore.config.Config",
        "botocore.exceptions.BotoCoreError",
        "botocore.exceptions.ClientError",
        "botocore.exceptions.DataNotFoundError",
        "botocore.exceptions.UnknownServiceError",
        "botocore.loaders.Loader",
        "botocore.loaders.create_loader",
        "pyspark.SparkConf",
        "pyspark.SparkContext",
        "pyspark.sql.SparkSession",
        "werkzeug.exceptions.NotFound",
        "werkzeug.serving.make_server",
        "werkzeug.wsgi.get_input_stream",
    }
)

LIBRARIES = ("moto", "botocore", "boto3", "pyspark", "werkzeug")


@dataclass(frozen=True)
class Internal:
    name: str
    used_for: str
    # Parameters of a function or method: "a, b, c=" (a trailing = marks a default).
    params: str | None = None
    # Instance attributes the code reads or sets.
    members: tuple[str, ...] = ()

    @property
    def distribution(self) -> str:
        return self.name.split(".", 1)[0]


_SFN = "moto.stepfunctions.parser.asl"
_TASK = f"{_SFN}.component.state.exec.state_task"

INTERNALS: tuple[Internal, ...] = (
    # -- moto core: request routing and parsing (iam/wire.py, moto_patches.py) --------------
    Internal(
        "moto.core.request.determine_request_protocol",
        "iam/wire.py: the protocol of a request (query, json, rest-json, CBOR), to parse the "
        "parameters the IAM hook authorizes",
        params="service_model, request",
    ),
    Internal("moto.core.request.Request", "iam/wire.py: moto's request wrapper, for the router"),
    Internal(
        "moto.core.parse.PROTOCOL_PARSERS",
        "iam/wire.py: moto's parser per protocol, to read a request's parameters",
    ),
    Internal(
        "moto.core.routing.get_service_router",
        "iam/wire.py: the operation a request calls, as moto routes it",
        params="service_name",
    ),
    Internal(
        "moto.core.utils.get_service_model",
        "iam/wire.py, moto_patches.py: botocore's service model as moto loads it (the Athena "
        "REST paths are read from it)",
        params="service_name",
    ),
    Internal(
        "moto.core.responses.ActionResult",
        "moto_patches.py: a response moto serializes in the request's protocol",
    ),
    Internal(
        "moto.core.responses.BaseResponse",
        "moto_patches.py: the patched Athena, Glue and Step Functions responses read their "
        "request through it",
        members=(
            "automated_parameter_parsing",
            "current_account",
            "region",
            "uri_match",
        ),
    ),
    Internal(
        "moto.core.responses.BaseResponse._get_param",
        "moto_patches.py: a request parameter, in the patched responses",
        params="self, param_name, if_none=",
    ),
    Internal(
        "moto.core.base_backend.AccountSpecificBackend",
        "server.py: every backend's base; its session factory is replaced",
    ),
    Internal(
        "moto.core.base_backend.AccountSpecificBackend.get_session",
        "server.py: replaced so that moto reads service models through the process's default "
        "boto3 session (each model parsed once per process)",
        params="cls",
    ),
    # -- moto server (server.py, iam/middleware.py) ----------------------------------------
    Internal(
        "moto.moto_server.threaded_moto_server.ThreadedMotoServer",
        "server.py, iam/middleware.py: moto's server in a thread (public), whose server loop "
        "server.py overrides with the attributes it keeps",
        members=("_ip_address", "_port", "_server", "_server_ready_event"),
    ),
    Internal(
        "moto.moto_server.threaded_moto_server.ThreadedMotoServer._server_entry",
        "server.py: overridden to serve with a short stop poll (werkzeug's 0.5 s delayed "
        "every command's exit)",
        params="self",
    ),
    Internal(
        "moto.moto_server.werkzeug_app.DomainDispatcherApplication",
        "server.py: moto's WSGI application, served by the overridden server loop",
    ),
    Internal(
        "moto.moto_server.werkzeug_app.MotoRequestHandler",
        "server.py: moto's request handler, served by the overridden server loop",
    ),
    Internal(
        "moto.moto_server.werkzeug_app.create_backend_app",
        "server.py: moto's per-service application factory",
        params="service",
    ),
    # -- Athena (moto_patches.py, faults.py, iam/lookups.py) -------------------------------
    Internal(
        "moto.athena.urls.url_paths",
        "moto_patches.py: Athena's REST paths (botocore >= 1.44.18) routed to its responses",
    ),
    Internal(
        "moto.athena.models.athena_backends",
        "iam/lookups.py: the workgroup a query ran in, for IAM resource ARNs",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse",
        "moto_patches.py: its query operations replaced by the local Athena (DuckDB)",
        members=("athena_backend",),
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.__init__",
        "moto_patches.py: wrapped to parse parameters by protocol",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.call_action",
        "faults.py: wrapped to answer injected throttling",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.error",
        "moto_patches.py: an InvalidRequestException answer",
        params="self, msg, status",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.start_query_execution",
        "moto_patches.py: replaced (runs the query on DuckDB)",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.get_query_execution",
        "moto_patches.py: replaced",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.get_query_results",
        "moto_patches.py: replaced",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.stop_query_execution",
        "moto_patches.py: replaced",
        params="self",
    ),
    Internal(
        "moto.athena.responses.AthenaResponse.list_query_executions",
        "moto_patches.py: replaced",
        params="self",
    ),
    # -- DynamoDB, IAM, SNS backends (iam/) ------------------------------------------------
    Internal(
        "moto.dynamodb.models.dynamodb_backends",
        "iam/lookups.py: a table's ARN for IAM resource matching",
    ),
    Internal(
        "moto.iam.models.iam_backends",
        "iam/resource_policies.py: a role's trust policy",
    ),
    Internal(
        "moto.sns.models.sns_backends",
        "iam/resource_policies.py: a topic's policy",
    ),
    Internal(
        "moto.sns.models.Topic",
        "iam/resource_policies.py: the topic policy's JSON",
        members=("_policy_json",),
    ),
    Internal(
        "moto.iam.access_control.IAMPolicyStatement",
        "iam/moto_bucket_policies.py: moto's bucket policy statements, superseded by the hook",
    ),
    Internal(
        "moto.iam.access_control.PermissionResult",
        "iam/moto_bucket_policies.py: moto's bucket policy decision values",
    ),
    # -- Glue (crawler.py, glue_runner.py, state.py, athena/glue_catalog.py) ---------------
    Internal("moto.glue.exceptions.CrawlerNotRunningException", "crawler.py: StopCrawler's error"),
    Internal("moto.glue.exceptions.CrawlerRunningException", "crawler.py: StartCrawler's error"),
    Internal(
        "moto.glue.exceptions.EntityNotFoundException",
        "athena/glue_catalog.py: a missing database or table",
    ),
    Internal(
        "moto.glue.models.FakeCrawler",
        "crawler.py: the crawler's declaration (targets, role, database)",
    ),
    Internal(
        "moto.glue.models.FakeCrawler.as_dict",
        "moto_patches.py: wrapped so GetCrawler reports the local crawl's state",
        params="self",
    ),
    Internal(
        "moto.glue.models.FakeJobRun",
        "glue_runner.py: a job run whose state the local Spark run sets",
    ),
    Internal(
        "moto.glue.models.FakePartition",
        "state.py: partitions loaded from and saved to the lake's catalog files",
    ),
    Internal(
        "moto.glue.models.FakeTable",
        "state.py: a table's current version, saved to the catalog files",
        members=("_current_version",),
    ),
    Internal(
        "moto.glue.models.FakeTable.get_version",
        "state.py: a table's version as Glue returns it",
        params="self, ver",
    ),
    Internal(
        "moto.glue.models.GlueBackend",
        "crawler.py, glue_runner.py, state.py, athena/glue_catalog.py: the catalog and jobs",
    ),
    Internal(
        "moto.glue.models.GlueBackend.start_crawler",
        "moto_patches.py: replaced by the local crawler",
        params="self, name",
    ),
    Internal(
        "moto.glue.models.GlueBackend.stop_crawler",
        "moto_patches.py: replaced by the local crawler",
        params="self, name",
    ),
    Internal(
        "moto.glue.models.GlueBackend.start_job_run",
        "glue_runner.py: wrapped to run the job's script on local Spark",
        params=(
            "self, name, arguments, allocated_capacity, max_capacity, timeout, worker_type, "
            "security_configuration, number_of_workers, notification_property, previous_run_id"
        ),
    ),
    *(
        Internal(
            f"moto.glue.models.GlueBackend.{name}",
            "state.py: wrapped to save the changed table to the catalog files",
            params=params,
        )
        for name, params in (
            (
                "create_table",
                "self, database_name, table_name, table_input, open_table_format_input=",
            ),
            ("update_table", "self, database_name, table_name, table_input"),
            ("delete_table", "self, database_name, table_name"),
            ("delete_table_version", "self, database_name, table_name, version_id"),
            ("create_partition", "self, database_name, table_name, part_input"),
            ("batch_create_partition", "self, database_name, table_name, partition_input"),
            ("update_partition", "self, database_name, table_name, part_input, part_to_update"),
            ("batch_update_partition", "self, database_name, table_name, entries"),
            ("delete_partition", "self, database_name, table_name, part_to_delete"),
            ("batch_delete_partition", "self, database_name, table_name, parts"),
        )
    ),
    *(
        Internal(
            f"moto.glue.models.GlueBackend.{name}",
            "state.py: wrapped to save the changed database to the catalog files",
            params=params,
        )
        for name, params in (
            ("create_database", "self, database_name, database_input, tags="),
            ("update_database", "self, database_name, database_input"),
            ("delete_database", "self, database_name"),
            ("batch_delete_table", "self, database_name, tables"),
        )
    ),
    Internal(
        "moto.glue.models.glue_backends",
        "runtime.py, athena/glue_catalog.py: the catalog the local Athena resolves tables in",
    ),
    Internal("moto.glue.models.utcnow", "glue_runner.py: a job run's timestamps", params=""),
    Internal(
        "moto.glue.responses.GlueResponse",
        "moto_patches.py: GetCrawlerMetrics added from the local crawls",
        members=("glue_backend",),
    ),
    # -- S3 (s3_disk.py, iam/moto_bucket_policies.py) --------------------------------------
    Internal("moto.s3.exceptions.InvalidContinuationToken", "s3_disk.py: a listing's error"),
    Internal("moto.s3.exceptions.MissingKey", "s3_disk.py: a key gone from the disk"),
    Internal("moto.s3.exceptions.S3ClientError", "s3_disk.py: base of its own S3 errors"),
    Internal(
        "moto.s3.models.FakeBucket",
        "s3_disk.py: a bucket whose key store is the object store",
        members=("keys",),
    ),
    Internal(
        "moto.s3.models.FakeBucket.get_permission",
        "iam/moto_bucket_policies.py: moto's bucket policy check, superseded by the IAM hook",
        params="self, action, resource",
    ),
    Internal("moto.s3.models.FakeDeleteMarker", "s3_disk.py: versions that are delete markers"),
    Internal(
        "moto.s3.models.FakeKey",
        "s3_disk.py: DiskKey subclasses it; its body buffer and metadata are moved to disk",
        members=("_value_buffer", "_metadata", "_etag", "_storage_class"),
    ),
    Internal(
        "moto.s3.models.FakeKey.__init__",
        "s3_disk.py: DiskKey's construction",
        params=(
            "self, name, value, account_id, region_name, storage=, etag=, is_versioned=, "
            "version_id=, max_buffer_size=, multipart=, bucket_name=, encryption=, kms_key_id=, "
            "bucket_key_enabled=, lock_mode=, lock_legal_status=, lock_until=, checksum_value=, "
            "checksum_type=, checksum_parts="
        ),
    ),
    Internal(
        "moto.s3.models.FakeKey.instances_tracked",
        "s3_disk.py: moto's list of every key (for its reset), which disk keys leave",
    ),
    Internal("moto.s3.models.FakeKey.value", "s3_disk.py: the body property DiskKey overrides"),
    Internal("moto.s3.models.S3Backend", "s3_disk.py: the backend whose methods are replaced"),
    *(
        Internal(
            f"moto.s3.models.S3Backend.{name}",
            "s3_disk.py: replaced for disk-backed buckets",
            params=params,
        )
        for name, params in (
            ("create_bucket", "self, bucket_name, region_name, bucket_namespace="),
            ("delete_bucket", "self, bucket_name"),
            ("put_bucket_versioning", "self, bucket_name, status"),
            ("list_objects", "self, bucket, prefix, delimiter, marker, max_keys"),
            (
                "list_objects_v2",
                "self, bucket, prefix, delimiter, continuation_token, start_after, max_keys",
            ),
        )
    ),
    Internal("moto.s3.models.s3_backends", "s3_disk.py, iam/: every account's S3 backend"),
    Internal(
        "moto.s3.utils._VersionedKeyStore",
        "s3_disk.py: the key store protocol DiskKeyStore implements on the object store",
    ),
    Internal(
        "moto.utilities.utils.get_partition",
        "s3_disk.py: the backend of a stored object's region",
        params="region",
    ),
    # -- Step Functions (moto_patches.py, sfn_limits.py, local_iam.py) ---------------------
    Internal("moto.stepfunctions.exceptions.InvalidToken", "moto_patches.py: a bad history page"),
    Internal(
        "moto.stepfunctions.exceptions.ValidationException",
        "moto_patches.py: a bad history page size",
    ),
    Internal(
        "moto.stepfunctions.responses.StepFunctionResponse",
        "moto_patches.py: GetExecutionHistory paged",
        members=("stepfunction_backend",),
    ),
    Internal(
        "moto.stepfunctions.responses.StepFunctionResponse.get_execution_history",
        "moto_patches.py: replaced by a paged one",
        params="self",
    ),
    Internal(
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend",
        "moto_patches.py: the executing Step Functions backend",
    ),
    Internal(
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",
        "moto_patches.py: an unnamed execution gets a UUID",
        params="self, state_machine_arn, name=, execution_input=, trace_header=",
    ),
    Internal(
        "moto.stepfunctions.parser.backend.execution.Execution",
        "moto_patches.py: an execution's running history (exec_worker.env.event_manager)",
        members=("exec_worker",),
    ),
    Internal(
        f"{_SFN}.eval.event.event_manager.EventManager",
        "moto_patches.py, sfn_limits.py: an execution's events, read under its lock",
        members=("_mutex", "_history_event_list"),
    ),
    Internal(
        f"{_SFN}.eval.event.event_manager.EventManager.add_event",
        "sfn_limits.py: wrapped to enforce 25,000 events per execution",
        params="self, context, event_type, event_details=, timestamp=, update_source_event_id=",
    ),
    Internal("moto.stepfunctions.parser.api.ExecutionFailedEventDetails", "sfn_limits.py"),
    Internal("moto.stepfunctions.parser.api.HistoryEventType", "sfn_limits.py"),
    Internal("moto.stepfunctions.parser.api.TaskFailedEventDetails", "sfn_limits.py"),
    Internal(
        f"{_SFN}.component.common.error_name.custom_error_name.CustomErrorName",
        "sfn_limits.py: terminal errors propagated out of Map and Parallel",
    ),
    Internal(
        f"{_SFN}.component.common.error_name.error_equals_decl.ErrorEqualsDecl",
        "sfn_limits.py: States.ALL matched as AWS matches it",
        members=("error_names",),
    ),
    Internal(
        f"{_SFN}.component.common.error_name.error_equals_decl.ErrorEqualsDecl._STATE_ALL_ERROR",
        "sfn_limits.py: the States.ALL error name",
    ),
    Internal(
        f"{_SFN}.component.common.error_name.error_equals_decl.ErrorEqualsDecl._eval_body",
        "sfn_limits.py: wrapped so States.ALL catches neither DataLimitExceeded nor Runtime",
        params="self, env",
    ),
    Internal(f"{_SFN}.component.common.error_name.failure_event.FailureEvent", "sfn_limits.py"),
    Internal(
        f"{_SFN}.component.common.error_name.failure_event.FailureEventException",
        "sfn_limits.py: a task failure raised from a limit",
    ),
    Internal(
        f"{_SFN}.component.common.error_name.states_error_name.StatesErrorName",
        "sfn_limits.py: a States.* error",
    ),
    Internal(
        f"{_SFN}.component.common.error_name.states_error_name_type.StatesErrorNameType",
        "sfn_limits.py: States.DataLimitExceeded",
    ),
    Internal(
        f"{_SFN}.component.state.exec.state_map.iteration.iteration_worker.CustomErrorName",
        "sfn_limits.py: replaced in the module so terminal errors leave a Map as themselves",
    ),
    Internal(
        f"{_SFN}.component.state.exec.state_parallel.branches_decl.CustomErrorName",
        "sfn_limits.py: replaced in the module so terminal errors leave a Parallel",
    ),
    Internal(
        f"{_TASK}.service.resource.ResourceCondition",
        "moto_patches.py: the WaitForTaskToken pattern `.sync` needs",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_glue._SUPPORTED_INTEGRATION_PATTERNS",
        "moto_patches.py: glue:startJobRun.sync (moto lacks the callback endpoint it needs)",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_glue.StateTaskServiceGlue",
        "moto_patches.py: the glue:startJobRun task",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_glue.StateTaskServiceGlue._eval_sync",
        "moto_patches.py: each `.sync` attempt waits on an endpoint of its own",
        params="self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_sfn.StateTaskServiceSfn",
        "moto_patches.py: the states:startExecution task",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_sfn.StateTaskServiceSfn._normalise_parameters",
        "moto_patches.py: states:startExecution's parameter names as boto3 takes them",
        params="self, parameters, boto_service_name=, service_action_name=",
    ),
    Internal(
        f"{_TASK}.service.state_task_service_sfn.StateTaskServiceSfn._normalise_response",
        "moto_patches.py: states:startExecution's response as Step Functions gives it",
        params="self, response, boto_service_name=, service_action_name=",
    ),
    Internal(f"{_TASK}.state_task.StateTask", "sfn_limits.py: every task state"),
    Internal(
        f"{_TASK}.state_task.StateTask._eval_parameters",
        "sfn_limits.py: a task's input checked against 256 KiB",
        params="self, env",
    ),
    *(
        Internal(
            f"{module}.is_within_size_quota",
            "sfn_limits.py: replaced by Step Functions' 256 KiB payload quota",
            params="value",
        )
        for module in (
            f"{_SFN}.component.state.state",
            f"{_TASK}.service.state_task_service",
            f"{_TASK}.state_task_lambda",
        )
    ),
    Internal(
        f"{_SFN}.eval.callback.callback.CallbackEndpoint",
        "moto_patches.py: a `.sync` attempt's own endpoint",
    ),
    Internal(
        f"{_SFN}.eval.environment.Environment",
        "sfn_limits.py: the execution's environment, owner of its event manager",
        members=("event_manager",),
    ),
    Internal(
        f"{_SFN}.eval.environment.Environment.__init__",
        "sfn_limits.py: wrapped to track the history's size",
        params=(
            "self, aws_execution_details, execution_type, context, event_history_context, "
            "cloud_watch_logging_session, activity_store, variable_store=, mock_test_case="
        ),
    ),
    Internal(
        f"{_SFN}.eval.environment.Environment.set_error",
        "sfn_limits.py: an execution failed by the history limit",
        params="self, error",
    ),
    Internal(
        f"{_SFN}.utils.boto_client.boto_client_for",
        "local_iam.py: wrapped so the executor's service integrations act as the machine's role",
        params="region, service, state_credentials=",
    ),
    Internal(
        f"{_SFN}.utils.encoding.to_json_str",
        "sfn_limits.py: a payload's JSON as the executor writes it",
        params="obj, separators=",
    ),
    # -- botocore, boto3 (lambda_router.py) ------------------------------------------------
    Internal(
        "botocore.handlers.BUILTIN_HANDLERS",
        "lambda_router.py: a before-call handler every new session gets, routing lambda.Invoke "
        "(including the ASL executor's own clients) to the local functions",
    ),
    Internal("botocore.awsrequest.AWSResponse", "lambda_router.py: Invoke's answer"),
    Internal("botocore.awsrequest.HTTPHeaders", "lambda_router.py: Invoke's answer headers"),
    Internal("botocore.response.StreamingBody", "lambda_router.py: Invoke's payload"),
    Internal(
        "botocore.session.Session.get_component",
        "lambda_router.py: the data loader shared by every invocation's session",
        params="self, name",
    ),
    Internal(
        "botocore.session.Session.register_component",
        "lambda_router.py: the data loader shared by every invocation's session",
        params="self, name, component",
    ),
    Internal(
        "boto3.session.Session",
        "lambda_router.py: the botocore session under a boto3 one",
        members=("_session",),
    ),
    Internal(
        "boto3._get_default_session",
        "lambda_router.py: replaced so each invocation's thread has its own default session",
        params="",
    ),
    # -- PySpark (glue_runner.py) ----------------------------------------------------------
    Internal(
        "pyspark.SparkContext._active_spark_context",
        "glue_runner.py: whether a Spark session is running",
    ),
    Internal(
        "pyspark.SparkContext._gateway",
        "glue_runner.py: the JVM gateway, shut down when the session stops",
    ),
    Internal("pyspark.SparkContext._jvm", "glue_runner.py: cleared with the gateway"),
    Internal(
        "pyspark.java_gateway.launch_gateway",
        "glue_runner.py: the JVM started with the runtime's options",
        params="conf=, popen_kwargs=",
    ),
)


class InternalProblem(RuntimeError):
    """An internal name no longer is what the runtime assumes."""


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def resolve(name: str) -> Any:
    """The object a dotted name designates: the longest importable module, then attributes
    (looked up without descriptors on classes, so a method is its function)."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            target = (
                inspect.getattr_static(target, part)
                if inspect.isclass(target)
                else getattr(target, part)
            )
        return target
    raise ImportError(f"no module of {name} can be imported")


def parameters(function: Any) -> str:
    """ "a, b, c=" for def f(a, b, c=1); "*args"/"**kwargs" for variadic ones."""
    function = function.__func__ if isinstance(function, classmethod | staticmethod) else function
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append(f"*{parameter.name}")
        elif parameter.kind is parameter.VAR_KEYWORD:
            names.append(f"**{parameter.name}")
        else:
            default = "=" if parameter.default is not parameter.empty else ""
            names.append(f"{parameter.name}{default}")
    return ", ".join(names)


def _class_sources(cls: type) -> str:
    sources = []
    for klass in inspect.getmro(cls):
        if klass.__module__.split(".", 1)[0] in LIBRARIES:
            try:
                sources.append(inspect.getsource(klass))
            except (OSError, TypeError):
                continue
    return "\n".join(sources)


def check(internal: Internal) -> None:
    """Raise InternalProblem naming the symbol and the installed version if `internal` is not
    what the runtime assumes."""
    where = f"{internal.distribution} {installed_version(internal.distribution)}"
    try:
        target = resolve(internal.name)
    except (ImportError, AttributeError) as error:
        raise InternalProblem(
            f"{where}: {internal.name} is gone ({error}); used by {internal.used_for}"
        ) from error
    if internal.params is not None:
        try:
            found = parameters(target)
        except (TypeError, ValueError) as error:
            raise InternalProblem(
                f"{where}: {internal.name} is no longer a function ({error})"
            ) from error
        if found != internal.params:
            raise InternalProblem(
                f"{where}: {internal.name}({found}) where the runtime expects "
                f"({internal.params}); used by {internal.used_for}"
            )
    if internal.members:
        if not inspect.isclass(target):
            raise InternalProblem(f"{where}: {internal.name} is no longer a class")
        source = _class_sources(target)
        missing = [m for m in internal.members if f"self.{m}" not in source]
        if missing:
            raise InternalProblem(
                f"{where}: {internal.name} no longer sets {', '.join(missing)}; "
                f"used by {internal.used_for}"
            )


# Names reached through a public one whose type is listed: boto3.DEFAULT_SESSION is a Session.
ALIASES = {"boto3.DEFAULT_SESSION": "boto3.session.Session"}


def listed(name: str) -> bool:
    """Whether a name the runtime uses is covered: listed or public itself, or a public
    attribute (or a dunder) of a listed or public name, or a listed member of a listed class."""
    for alias, target in ALIASES.items():
        if name.startswith(alias + "."):
            name = target + name[len(alias) :]
    entries = {i.name: i for i in INTERNALS}
    if name in entries or name in PUBLIC:
        return True
    parts = name.split(".")
    for split in range(len(parts) - 1, 1, -1):
        prefix, first = ".".join(parts[:split]), parts[split]
        if prefix in entries or prefix in PUBLIC:
            members = entries[prefix].members if prefix in entries else ()
            return not first.startswith("_") or first.startswith("__") or first in members
    return False
