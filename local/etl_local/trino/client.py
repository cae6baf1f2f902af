"""Trino's client REST protocol, as much of it as the oracle needs: run one statement, read
its columns and rows (values as Trino's JSON encodes them), or its error.

"Client protocol", Trino docs: POST the statement to /v1/statement, then GET each `nextUri`
until there is none; rows arrive in `data`, the columns (name and type) in `columns`, a
failure in `error`. The session time zone is UTC, as in Athena.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

# Athena runs every query with the session time zone UTC ("Time zones", Athena User Guide).
SESSION_TIME_ZONE = "UTC"


class TrinoQueryError(RuntimeError):
    """Trino failed the statement: its error name (e.g. DIVISION_BY_ZERO) and message."""

    def __init__(self, error_name: str, message: str) -> None:
        super().__init__(f"{error_name}: {message}")
        self.error_name = error_name
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Trino's type signature, e.g. "integer", "timestamp(3)", "decimal(10,2)"


@dataclass
class TrinoResult:
    columns: list[Column] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)


class TrinoClient:
    def __init__(
        self,
        url: str,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        user: str = "lakepipe",
        timeout_seconds: float = 300.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.catalog = catalog
        self.schema = schema
        self.user = user
        self.timeout_seconds = timeout_seconds

    def _headers(self) -> dict[str, str]:
        headers = {"X-Trino-User": self.user, "X-Trino-Time-Zone": SESSION_TIME_ZONE}
        if self.catalog:
            headers["X-Trino-Catalog"] = self.catalog
        if self.schema:
            headers["X-Trino-Schema"] = self.schema
        return headers

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        for attempt in range(20):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    return dict(json.load(response))
            except urllib.error.HTTPError as error:
                # 502/503/504: the coordinator asks the client to retry ("Client protocol").
                if error.code not in (502, 503, 504) or attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def execute(self, sql: str) -> TrinoResult:
        """Run one statement to its end; raises TrinoQueryError when Trino fails it."""
        request = urllib.request.Request(
            f"{self.url}/v1/statement", data=sql.encode("utf-8"), headers=self._headers()
        )
        answer = self._call(request)
        result = TrinoResult()
        while True:
            if "error" in answer:
                error = answer["error"]
                raise TrinoQueryError(
                    str(error.get("errorName", "UNKNOWN")), str(error.get("message", ""))
                )
            if not result.columns and answer.get("columns"):
                result.columns = [Column(c["name"], c["type"]) for c in answer["columns"]]
            result.rows.extend(answer.get("data") or [])
            next_uri = answer.get("nextUri")
            if not next_uri:
                return result
            answer = self._call(urllib.request.Request(next_uri, headers=self._headers()))
