"""catalog_access_control = "lake-formation": Terraform grants every principal that uses the
Data Catalog the Lake Formation permissions its IAM policy uses the catalog for; the default
grants none, and any other value is refused by the variable's validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from terraform_copy import seeded_session

from etl_lambdas.catalog import TIERS
from tools.terraform_plan import TerraformError


def _grants(plan: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """principal role name -> "database <name>" / "tables <name>" -> permissions."""
    found: dict[str, dict[str, set[str]]] = {}
    for change in plan["resource_changes"]:
        if change["type"] != "aws_lakeformation_permissions":
            continue
        after = change["change"]["after"]
        role = after["principal"].rsplit("/", 1)[1]
        if after["database"]:
            target = f"database {after['database'][0]['name']}"
        else:
            (table,) = after["table"]
            assert table["wildcard"] is True, change["address"]
            target = f"tables {table['database_name']}"
        found.setdefault(role, {})[target] = set(after["permissions"])
    return found


def test_lake_formation_grants_are_an_option_validated_and_off_by_default(
    tmp_path: Path, prod_plan: dict[str, Any]
) -> None:
    # off by default: no Lake Formation resource in a plan
    assert not [c for c in prod_plan["resource_changes"] if "lakeformation" in c["type"]]

    with seeded_session(tmp_path) as (root, session):
        dev = (root / "envs" / "dev.tfvars").read_text(encoding="utf-8")
        refused = tmp_path / "refused.tfvars"
        refused.write_text(dev + '\ncatalog_access_control = "lakeformation"\n', "utf-8")
        with pytest.raises(TerraformError) as failure:
            session.plan(refused, tmp_path / "refused.json")
        granted = tmp_path / "granted.tfvars"
        granted.write_text(dev + '\ncatalog_access_control = "lake-formation"\n', "utf-8")
        session.plan(granted, tmp_path / "granted.json")

    assert "catalog_access_control must be one of iam, lake-formation" in " ".join(
        failure.value.output.split()
    )
    grants = _grants(json.loads((tmp_path / "granted.json").read_text(encoding="utf-8")))
    db = {tier: f"lakepipe_dev_{tier}" for tier in ("ods", "staging", *TIERS)}
    # the write step reads the ODS and every model tier but the last, and creates, fills and
    # drops its staging tables
    write = grants["lakepipe-dev-write-lambda"]
    for tier in ("ods", *TIERS[:-1]):
        assert write[f"tables {db[tier]}"] == {"DESCRIBE", "SELECT"}
    assert f"tables {db[TIERS[-1]]}" not in write
    assert write[f"database {db['staging']}"] == {"CREATE_TABLE", "DESCRIBE"}
    assert write[f"tables {db['staging']}"] == {"DESCRIBE", "DROP", "INSERT"}
    # publish creates and changes the model tiers' tables and drops the staging ones
    publish = grants["lakepipe-dev-publish-lambda"]
    for tier in TIERS:
        assert publish[f"tables {db[tier]}"] == {"ALTER", "DESCRIBE", "INSERT"}
    assert publish[f"tables {db['staging']}"] == {"DESCRIBE", "DROP"}
    # the audit reads the staged rows, the model's published table and the upstream ones it
    # reconciles with (the checks that compare with the past)
    audit = grants["lakepipe-dev-audit-start-lambda"]
    for tier in ("staging", *TIERS):
        assert audit[f"tables {db[tier]}"] == {"DESCRIBE", "SELECT"}
    # register adds and updates ODS partitions and gives a table the declared columns; each
    # crawler creates and updates its ODS table
    register = grants["lakepipe-dev-register-lambda"]
    assert register[f"tables {db['ods']}"] == {"ALTER", "DESCRIBE", "INSERT"}
    crawlers = [role for role in grants if role.endswith("-crawler")]
    assert crawlers and all(
        grants[role][f"database {db['ods']}"] == {"CREATE_TABLE", "DESCRIBE"} for role in crawlers
    )
    # and a function that never touches the catalog gets nothing
    assert "lakepipe-dev-notify-lambda" not in grants
