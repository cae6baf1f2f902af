"""The AWS provider's schema, offline: fetched once from PyPI, kept as JSON.

The Terraform registry cannot be reached here. PyPI's `cdktf-cdktf-provider-aws` is generated
from the provider's schema and keeps most of it in its TypeScript sources (read by
`tools.cdktf_schema`). `python -m tools.provider_schema` downloads the pinned wheel (no
dependencies) into a cache directory and writes `aws-provider-schema-<package version>.json`
there, once, in the shape of `terraform providers schema -json`:

    {"package": "cdktf-cdktf-provider-aws==21.22.1", "provider_version": "6.25.0",
     "provider": {"version": 0, "block": {...}},
     "resource_schemas": {"aws_s3_bucket": {"version": 0, "block": {
         "attributes": {"bucket": {"type": "string", "optional": true, "computed": true}, ...},
         "block_types": {"cors_rule": {"nesting_mode": "list", "block": {...}}, ...}}}, ...},
     "data_source_schemas": {...}}

The offline provider (tools.offline_aws_provider) serves it to Terraform.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.cdktf_schema import CdktfSchemaError, read_modules, typescript_source

# cdktf-cdktf-provider-aws 21.22.1 is generated from hashicorp/aws 6.25.0 (the last release).
PACKAGE = "cdktf-cdktf-provider-aws"
PACKAGE_VERSION = "21.22.1"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".venv" / "provider-schema"
# Named after the pinned package (and the format), so that changing either re-extracts it.
SCHEMA_FILE = f"aws-provider-schema-{PACKAGE_VERSION}.terraform.json"

# package/lib/<module>/index.js, and package/lib/<module>/index-structs/*.js for large ones.
_MODULE_FILE = re.compile(r"^package/lib/([a-z0-9-]+)/(?:index-structs/)?[a-z0-9]+\.js$")


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
    schema = extract_schema(wheel)
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


def _typescript_sources(wheel: Path) -> Iterator[str]:
    """Each generated module's TypeScript (a large resource spans several files)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if re.search(r"/_jsii/.*\.jsii\.tgz$", n)]
        if len(members) != 1:
            raise SchemaError(f"{wheel}: expected one _jsii/*.jsii.tgz, found {members}")
        tgz = archive.read(members[0])
    modules: dict[str, list[str]] = {}
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for member in tar:
            match = _MODULE_FILE.match(member.name)
            extracted = tar.extractfile(member) if match else None
            if match and extracted is not None:
                source = typescript_source(extracted.read())
                modules.setdefault(match.group(1), []).append(source)
    for _, sources in sorted(modules.items()):
        yield "\n".join(sources)


def extract_schema(wheel: Path) -> dict[str, Any]:
    try:
        schema = read_modules(_typescript_sources(wheel)).as_json()
    except CdktfSchemaError as error:
        raise SchemaError(f"{wheel}: {error}") from error
    return {"package": f"{PACKAGE}=={PACKAGE_VERSION}", **schema}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    args = parser.parse_args(argv)
    path = ensure_schema(args.cache_dir)
    schema = load_schema(args.cache_dir)
    print(
        f"{path}: hashicorp/aws {schema['provider_version']}, "
        f"{len(schema['resource_schemas'])} resources, "
        f"{len(schema['data_source_schemas'])} data sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
