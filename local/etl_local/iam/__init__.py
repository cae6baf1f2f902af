"""IAM, enforced per principal as AWS does, for the local runtime.

- policy, conditions, wildcards, evaluation: AWS's policy evaluation logic;
- operations: which action, resource ARN and condition keys each API call requires;
- principals, terraform_plan: who signs requests (role sessions, the local administrator)
  and their policies, read from the Terraform plan;
- resource_policies: bucket, topic and trust policies;
- authorizer: one decision, recorded in the ledger; `require` for emulated services acting
  on a caller's behalf;
- middleware: the hook in front of moto's server (install/uninstall, current_principal);
- ledger, report: least privilege, measured.
"""

from etl_local.iam.authorizer import Authorizer, Denial
from etl_local.iam.errors import AccessDenied
from etl_local.iam.evaluation import Decision, RequestContext, evaluate
from etl_local.iam.ledger import Ledger, read_ledgers
from etl_local.iam.lookups import MotoLookups
from etl_local.iam.middleware import (
    IamMiddleware,
    InstalledHook,
    current_principal,
    current_request,
    install,
)
from etl_local.iam.policy import Policy, PolicyError, PolicyKind
from etl_local.iam.principals import Credentials, Principal, PrincipalRegistry, RoleDefinition
from etl_local.iam.report import build_report, write_report
from etl_local.iam.resource_policies import MotoResourcePolicies, ResourcePolicies
from etl_local.iam.terraform_plan import PlanError, PlanIam, load_plan

__all__ = [
    "AccessDenied",
    "Authorizer",
    "Credentials",
    "Decision",
    "Denial",
    "IamMiddleware",
    "InstalledHook",
    "Ledger",
    "MotoLookups",
    "MotoResourcePolicies",
    "PlanError",
    "PlanIam",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Principal",
    "PrincipalRegistry",
    "RequestContext",
    "ResourcePolicies",
    "RoleDefinition",
    "build_report",
    "current_principal",
    "current_request",
    "evaluate",
    "install",
    "load_plan",
    "read_ledgers",
    "write_report",
]
