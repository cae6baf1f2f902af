"""Constants, types and data helpers shared by tests/local (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl_local.athena import AthenaEngine
from etl_local.crawler import LocalCrawler
from etl_local.object_store import ObjectStore

REGION = "eu-west-1"
BUCKET = "lake-bucket"
RESULTS_BUCKET = "results-bucket"
WORKGROUP = "wg"


@dataclass
class LocalServices:
    endpoint: str
    engine: AthenaEngine
    crawler: LocalCrawler
    objects: ObjectStore


@dataclass
class Aws:
    services: LocalServices
    s3: Any
    glue: Any
    athena: Any

    @property
    def engine(self) -> AthenaEngine:
        return self.services.engine

    @property
    def crawler(self) -> LocalCrawler:
        return self.services.crawler


def parquet_bytes(columns: dict[str, list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def json_lines(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@contextlib.contextmanager
def modules_on_path(directory: Path, sources: Mapping[str, str]) -> Iterator[None]:
    """Python modules (name -> source) importable from `directory` for the block, forgotten
    after it (handler modules a test routes functions to, and what they share with it)."""
    for name, source in sources.items():
        (directory / f"{name}.py").write_text(source, "utf-8")
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in sources:
            sys.modules.pop(name, None)
