"""The AWS provider's schema as extracted from cdktf (tools.provider_schema) and served.

The schema is fetched by `make setup` (python -m tools.provider_schema); a test session
without it fetches it once (PyPI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hcl_tree import REPOSITORY_ROOT

from tools.cdktf_schema import CdktfSchemaError, read_modules
from tools.provider_schema import ensure_schema, load_schema
from tools.terraform_plan import PROVIDER_ADDRESS, plan_session


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    ensure_schema()
    return load_schema()


def _block(schema: dict[str, Any], type_name: str, kind: str = "resource") -> dict[str, Any]:
    block: dict[str, Any] = schema[f"{kind}_schemas"][type_name]["block"]
    return block


def test_schema_is_the_pinned_provider_with_every_type(schema: dict[str, Any]) -> None:
    assert schema["provider_version"] == "6.25.0"
    assert len(schema["resource_schemas"]) > 1500
    assert len(schema["data_source_schemas"]) > 600
    assert {"aws_s3_bucket", "aws_sfn_state_machine", "aws_glue_crawler"} <= set(
        schema["resource_schemas"]
    )


def test_attribute_flags_and_types_are_the_providers(schema: dict[str, Any]) -> None:
    bucket = _block(schema, "aws_s3_bucket")["attributes"]
    assert bucket["arn"] == {"type": "string", "computed": True}
    assert bucket["bucket"] == {"type": "string", "optional": True, "computed": True}
    assert bucket["force_destroy"] == {"type": "bool", "optional": True}
    assert bucket["tags"] == {"type": ["map", "string"], "optional": True}
    function = _block(schema, "aws_lambda_function")["attributes"]
    assert function["function_name"] == {"type": "string", "required": True}
    assert function["architectures"]["type"] == ["list", "string"]
    grant = _block(schema, "aws_s3_bucket")["block_types"]["grant"]
    assert grant["block"]["attributes"]["permissions"]["type"] == ["set", "string"]


def test_nested_blocks_keep_their_nesting_mode_and_limits(schema: dict[str, Any]) -> None:
    bucket = _block(schema, "aws_s3_bucket")["block_types"]
    assert bucket["grant"]["nesting_mode"] == "set"
    assert bucket["cors_rule"]["nesting_mode"] == "list"
    assert bucket["versioning"] == bucket["versioning"] | {"nesting_mode": "list", "max_items": 1}
    assert bucket["timeouts"]["nesting_mode"] == "single"
    rule = _block(schema, "aws_s3_bucket_lifecycle_configuration")["block_types"]["rule"]
    assert rule["block"]["attributes"]["id"] == {"type": "string", "required": True}
    statement = _block(schema, "aws_iam_policy_document", "data_source")["block_types"]["statement"]
    assert statement["nesting_mode"] == "list"
    assert statement["block"]["block_types"]["principals"]["nesting_mode"] == "set"
    role = _block(schema, "aws_glue_security_configuration")["block_types"]
    encryption = role["encryption_configuration"]
    assert encryption | {"min_items": 1, "max_items": 1} == encryption


def test_the_provider_configuration(schema: dict[str, Any]) -> None:
    provider = schema["provider"]["block"]
    assert provider["attributes"]["region"] == {"type": "string", "optional": True}
    assert provider["block_types"]["default_tags"]["block"]["attributes"]["tags"]["type"] == [
        "map",
        "string",
    ]


GENERATED = """
export class ExampleThingOutputReference extends cdktf.ComplexObject {
  // name - computed: false, optional: false, required: true
  private _name?: string;
  public get name() {
    return this.getStringAttribute('name');
  }
}
export function exampleThingToHclTerraform(struct?: ExampleThing | cdktf.IResolvable): any {
  const attrs = {
    name: {
      value: cdktf.stringToHclTerraform(struct!.name),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };
}
export class Example extends cdktf.TerraformResource {
  public static readonly tfResourceType = "aws_example";
  // arn - computed: true, optional: false, required: false
  public get arn() {
    return this.getStringAttribute('arn');
  }

  // ports - computed: true, optional: true, required: false
  private _ports?: number[];
  public get ports() {
    return cdktf.Token.asNumberList(cdktf.Fn.tolist(this.getNumberListAttribute('ports')));
  }

  // thing - computed: false, optional: false, required: true
  private _thing = new ExampleThingList(this, "thing", true);
  public get thing() {
    return this._thing;
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      thing: {
        value: cdktf.listMapperHcl(exampleThingToHclTerraform, true)(this._thing.internalValue),
        isBlock: true,
        type: "set",
        storageClassType: "ExampleThingList",
      },
    };
  }
}
"""
PROVIDER = """
export interface AwsProviderConfig {
  readonly region?: string;
}
export class AwsProvider extends cdktf.TerraformProvider {
  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      region: {
        value: cdktf.stringToHclTerraform(this._region),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };
  }
}
"""
DATA_SOURCE = GENERATED.replace("TerraformResource", "TerraformDataSource").replace(
    "class Example ", "class DataExample "
)


def test_generated_typescript_becomes_terraform_schema() -> None:
    schema = read_modules([GENERATED, DATA_SOURCE, PROVIDER]).as_json()
    block = schema["resource_schemas"]["aws_example"]["block"]

    assert block["attributes"] == {
        "arn": {"type": "string", "computed": True},
        "ports": {"type": ["set", "number"], "optional": True, "computed": True},
    }
    assert block["block_types"]["thing"] == {
        "nesting_mode": "set",
        "min_items": 1,
        "block": {"attributes": {"name": {"type": "string", "required": True}}},
    }
    assert schema["provider"]["block"]["attributes"]["region"] == {
        "type": "string",
        "optional": True,
    }


def test_a_member_of_an_unknown_shape_is_an_error() -> None:
    broken = GENERATED.replace("this.getStringAttribute('arn')", "this.somethingElse('arn')")
    with pytest.raises(CdktfSchemaError, match="arn"):
        read_modules([broken, DATA_SOURCE, PROVIDER])


def _served_as(served: dict[str, Any]) -> dict[str, Any]:
    """Terraform's JSON rendering, without what the extraction does not have."""
    if isinstance(served, dict):
        return {
            key: _served_as(value)
            for key, value in served.items()
            if key not in ("description_kind", "version") and value is not False
        }
    return served


def test_terraform_reads_back_the_schema_the_provider_serves(
    schema: dict[str, Any], tmp_path: Path
) -> None:
    with plan_session(REPOSITORY_ROOT, tmp_path) as session:
        code, stdout, stderr = session.terraform.run(
            "providers", ["schema", "-json"], session.work_dir
        )
    assert code == 0, stderr
    served = json.loads(stdout)["provider_schemas"][PROVIDER_ADDRESS]

    assert set(served["resource_schemas"]) == set(schema["resource_schemas"])
    assert set(served["data_source_schemas"]) == set(schema["data_source_schemas"])
    for type_name in ("aws_s3_bucket", "aws_glue_crawler", "aws_sfn_state_machine"):
        assert _served_as(served["resource_schemas"][type_name]["block"]) == _block(
            schema, type_name
        )
    assert _served_as(served["provider"]["block"]) == schema["provider"]["block"]
