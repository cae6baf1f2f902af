"""IAM in every local run: each principal of the deployment acts with its role's policies.

Built from the local plan (etl_local.plan): every role with its policies and trust, and the
resource-based policies. Each service opens a role session as AWS does, after the role's
trust policy lets the service assume it ("Use IAM roles", IAM User Guide; the session ARN
is `arn:aws:sts::<account>:assumed-role/<role>/<session>`):

- Lambda, one session per function with the function's name as session name: its handler's
  AWS clients sign with the session's access key ("Defining Lambda function permissions with
  an execution role": Lambda passes the credentials in AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN);
- Step Functions, one session per state machine: its service integrations (Lambda invoke,
  Glue StartJobRun, StartExecution) are calls of that session ("How Step Functions works
  with IAM");
- Glue, one session for the job's role and one per crawler's role: their S3 reads and
  writes are authorized as that session;
- Athena reads and writes S3 with the permissions of the query's caller ("Access to Amazon
  S3 from Athena": Athena uses forward access sessions, aws:CalledVia athena.amazonaws.com).

The runtime's own clients and the CLI sign as the local administrator. Every decision is
counted in the ledger (etl_local.iam.ledger) under `$ETL_HOME/iam/` unless told otherwise,
for `etl iam-report`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from etl_local.iam import (
    AccessDenied,
    Authorizer,
    Credentials,
    Ledger,
    MotoLookups,
    Principal,
    PrincipalRegistry,
)
from etl_local.iam.principals import role_name
from etl_local.plan import LocalPlan
from etl_local.settings import LocalSettings

# The access key the runtime's own clients (and moto's tests' convention) sign with.
ADMINISTRATOR_KEY = "testing"
LAMBDA_SERVICE = "lambda.amazonaws.com"
STATES_SERVICE = "states.amazonaws.com"
GLUE_SERVICE = "glue.amazonaws.com"
ATHENA_SERVICE = "athena.amazonaws.com"
# The session names AWS Glue gives its sessions (as CloudTrail shows them).
GLUE_JOB_SESSION = "GlueJobRunnerSession"
CRAWLER_SESSION = "AWS-Crawler"

# Step Functions' ASL executor (moto) builds its service clients with this function, which
# each integration module imports by name.
_SFN_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
    "state_task_service_unsupported",
)


class LocalIam:
    """The deployment's principals and one authorizer, from the local plan."""

    def __init__(self, settings: LocalSettings, ledger_directory: Path | None = None) -> None:
        plan: LocalPlan = settings.plan
        self._plan_iam = plan.iam
        self.registry = PrincipalRegistry()
        self.administrator = Principal.administrator(settings.account_id)
        self.registry.register(self.administrator, ADMINISTRATOR_KEY)
        self.lookups = MotoLookups()
        self.ledger = Ledger.in_directory(ledger_directory) if ledger_directory else Ledger()
        self.authorizer = Authorizer(
            self.registry,
            self._plan_iam.resource_policy_store(),
            account=settings.account_id,
            region=settings.region,
            lookups=self.lookups,
            ledger=self.ledger,
        )
        self._by_arn: dict[str, Principal] = {self.administrator.arn: self.administrator}
        self._by_role: dict[str, Principal] = {}
        self._credentials_by_role: dict[str, Credentials] = {}
        self.functions: dict[str, tuple[Principal, Credentials]] = {}
        for step, function in plan.functions.items():
            self.functions[step] = self._session(
                function.role_arn, function.name, LAMBDA_SERVICE, function.arn
            )
        self.state_machines: dict[str, tuple[Principal, Credentials]] = {}
        for key, machine in plan.state_machines.items():
            self.state_machines[key] = self._session(
                machine.role_arn, machine.name, STATES_SERVICE, machine.arn
            )
        job = plan.glue_job
        self.glue_job = self._session(job.role_arn, GLUE_JOB_SESSION, GLUE_SERVICE, job.arn)
        self.crawlers = {
            source: self._session(crawler.role_arn, CRAWLER_SESSION, GLUE_SERVICE, crawler.arn)
            for source, crawler in plan.crawlers.items()
        }

    def _session(
        self, role_arn: str, session_name: str, service: str, source_arn: str
    ) -> tuple[Principal, Credentials]:
        role = self._plan_iam.role(role_name(role_arn))
        principal, credentials = self.authorizer.start_session(
            role, session_name, service=service, source_arn=source_arn
        )
        self._by_arn[principal.arn] = principal
        self._by_role.setdefault(role_arn, principal)
        self._credentials_by_role.setdefault(role_arn, credentials)
        return principal, credentials

    # -- what the runtime hands the services ------------------------------------------------

    def principal(self, arn: str) -> Principal:
        """A session, the administrator, or the session a service opened with a role ARN."""
        principal = self._by_arn.get(arn) or self._by_role.get(arn)
        if principal is None:
            raise AccessDenied(
                f"User: {arn} is not authorized: no such principal in the local deployment",
                "*",
                "*",
            )
        return principal

    def authorize(self, principal_arn: str, action: str, resource: str, context: Any) -> None:
        """etl_local.object_access.Authorize for a service acting as its own role."""
        self.authorizer.require(self.principal(principal_arn), action, resource, context)

    def authorize_via_athena(
        self, principal_arn: str, action: str, resource: str, context: Any
    ) -> None:
        """etl_local.object_access.Authorize for Athena, acting with its caller's permissions."""
        self.authorizer.require(
            self.principal(principal_arn), action, resource, context, via_service=ATHENA_SERVICE
        )

    def function_environment(self, step: str) -> dict[str, str]:
        """The credentials variables Lambda sets for the step's function."""
        return self.functions[step][1].as_environment()

    def credentials_for_role(self, role_arn: str) -> Credentials | None:
        return self._credentials_by_role.get(role_arn)

    def authorize_invoke(self, access_key_id: str | None, function_name: str) -> str | None:
        """None if the signer of a Lambda Invoke may invoke the function, else AWS's message
        (Invoke is answered by the router, before the endpoint's hook)."""
        if not self.authorizer.enabled:
            return None
        principal = self.registry.principal_for(access_key_id or "")
        if principal is None:
            return "The security token included in the request is invalid."
        denial = self.authorizer.authorize_call(
            principal, "lambda", "Invoke", {"FunctionName": function_name}
        )
        return None if denial is None else denial.message

    def flush(self) -> None:
        self.ledger.flush()


def sign_step_functions_as_role(credentials_for_role: Callable[[str], Credentials | None]) -> Any:
    """Make the ASL executor's service clients sign as the executing machine's role session.

    Returns an undo callable. The execution's role is the `aws_execution_details.role_arn`
    of the executor's Environment, found on the calling frames (every integration passes it
    as `env` down to the client's creation)."""
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    original = boto_client_module.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        client = original(region=region, service=service, state_credentials=state_credentials)
        role_arn = _executing_role()
        credentials = credentials_for_role(role_arn) if role_arn else None
        if credentials is None:
            return client
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=client.meta.endpoint_url,
            config=client.meta.config,
            **credentials.as_boto3_kwargs(),
        )

    patched: list[Any] = []
    for name in _SFN_CLIENT_MODULES:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is original
        ):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
            patched.append(module)

    def undo() -> None:
        for module in patched:
            module.boto_client_for = original

    return undo


def _executing_role() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        env = frame.f_locals.get("env")
        details = getattr(env, "aws_execution_details", None)
        role_arn = getattr(details, "role_arn", None)
        if role_arn:
            return str(role_arn)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def signer_access_key(request_signer: Any) -> str | None:
    credentials = getattr(request_signer, "_credentials", None)
    return getattr(credentials, "access_key", None)
