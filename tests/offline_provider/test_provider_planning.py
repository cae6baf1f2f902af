"""The planned state of a new resource: configuration, known computed values, unknown rest."""

from __future__ import annotations

from typing import Any

import pytest

from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.planning import ProviderSettings, plan_new_resource
from tools.offline_aws_provider.values import UNKNOWN

ENV = ProviderEnv(account_id="123456789012", region="eu-west-1")
BLOCK: dict[str, Any] = {
    "attributes": {
        "name": {"type": "string", "required": True},
        "arn": {"type": "string", "computed": True},
        "id": {"type": "string", "optional": True, "computed": True},
        "description": {"type": "string", "optional": True},
        "region": {"type": "string", "optional": True, "computed": True},
        "tags": {"type": ["map", "string"], "optional": True},
        "tags_all": {"type": ["map", "string"], "optional": True, "computed": True},
    },
    "block_types": {
        "rule": {
            "nesting_mode": "list",
            "block": {"attributes": {"id": {"type": "string", "optional": True, "computed": True}}},
        }
    },
}


def _config(**values: Any) -> dict[str, Any]:
    config: dict[str, Any] = dict.fromkeys(BLOCK["attributes"]) | {"rule": []}
    return config | values


def _plan(config: dict[str, Any], default_tags: Any = None, **predicted: Any) -> dict[str, Any]:
    settings = ProviderSettings(env=ENV, default_tags=default_tags or {})
    return plan_new_resource(
        "aws_example", BLOCK, config, config, settings, lambda *_: dict(predicted)
    )


def test_unset_computed_attributes_are_unknown_and_optional_ones_stay_null() -> None:
    planned = _plan(_config(name="a", rule=[{"id": None}, {"id": "mine"}]))
    assert planned["arn"] is UNKNOWN
    assert planned["id"] is UNKNOWN
    assert planned["description"] is None
    assert planned["rule"] == [{"id": UNKNOWN}, {"id": "mine"}]


def test_predictions_fill_computed_attributes_the_configuration_leaves_unset() -> None:
    planned = _plan(_config(name="a", id="chosen"), arn="arn:aws:x", id="predicted")
    assert planned["arn"] == "arn:aws:x"
    assert planned["id"] == "chosen"


def test_a_prediction_for_a_non_computed_attribute_is_a_bug() -> None:
    with pytest.raises(KeyError, match="description"):
        _plan(_config(name="a"), description="x")


def test_region_is_the_providers_and_tags_all_merges_the_default_tags() -> None:
    planned = _plan(_config(name="a", tags={"b": "2"}), default_tags={"a": "1", "b": "1"})
    assert planned["region"] == "eu-west-1"
    assert planned["tags_all"] == {"a": "1", "b": "2"}
    assert _plan(_config(name="a", region="us-east-1"))["region"] == "us-east-1"


def test_tags_all_is_unknown_when_the_tags_are() -> None:
    assert _plan(_config(name="a", tags=UNKNOWN))["tags_all"] is UNKNOWN
    assert _plan(_config(name="a", tags={"a": UNKNOWN}))["tags_all"] is UNKNOWN


def test_default_tags_come_from_the_provider_block() -> None:
    config = {"default_tags": [{"tags": {"Project": "p"}}]}
    assert ProviderSettings.from_config(config, ENV).default_tags == {"Project": "p"}
    unknown = {"default_tags": [{"tags": UNKNOWN}]}
    assert ProviderSettings.from_config(unknown, ENV).default_tags is UNKNOWN
