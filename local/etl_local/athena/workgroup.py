"""What a workgroup's configuration imposes on the queries that run in it.

- The results location. "Workgroup settings override client-side settings" when the
  workgroup enforces its configuration (EnforceWorkGroupConfiguration); otherwise a query's
  own ResultConfiguration wins and the workgroup's applies when the query gives none; with
  neither, Athena rejects the query ("Troubleshoot workgroup errors" and "Specify a query
  result location using a workgroup", Athena User Guide).
- CTAS's external_location. In a workgroup that enforces its results location, Athena fails
  a CTAS that sets external_location ("Troubleshoot workgroup errors": "do not specify an
  external_location for the CTAS query. Athena issues an error and fails a query that
  specifies an external_location in this case") and writes the table under the workgroup's
  location, `tables/<query-id>/` ("Considerations and limitations for CTAS queries").
- The per-query data usage control (BytesScannedCutoffPerQuery): "If any query that runs in
  the workgroup exceeds the limit, it is canceled" ("Configure per-query and per-workgroup
  data usage controls"); the query's state is CANCELLED, "Bytes scanned limit was exceeded"
  ("Troubleshoot workgroup errors", its table of workgroup errors). The cutoff is not a
  client-side setting: it applies whether or not the workgroup enforces its configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import AthenaQueryError, InvalidRequestError, QueryCancelledError

BYTES_SCANNED_LIMIT_EXCEEDED = "Bytes scanned limit was exceeded"


@dataclass(frozen=True)
class WorkgroupRules:
    """The parts of a workgroup's configuration a query obeys."""

    name: str = "primary"
    enforced: bool = False
    output_location: str | None = None
    bytes_scanned_cutoff: int | None = None
    # EngineVersion.SelectedEngineVersion: "DuckDB" runs the queries as DuckDB SQL on the
    # DuckDB release Athena runs (etl_local.athena.duckdb_statements); anything else is
    # engine version 3 (Trino SQL, translated to the project's DuckDB).
    engine: str = "Athena engine version 3"

    @property
    def duckdb(self) -> bool:
        return self.engine == "DuckDB"

    @classmethod
    def from_configuration(cls, name: str, configuration: dict[str, Any]) -> WorkgroupRules:
        """From the WorkGroupConfiguration of CreateWorkGroup/GetWorkGroup (Athena's API
        defaults EnforceWorkGroupConfiguration to true)."""
        cutoff = configuration.get("BytesScannedCutoffPerQuery")
        engine = (configuration.get("EngineVersion") or {}).get("SelectedEngineVersion")
        return cls(
            name=name,
            engine="DuckDB" if engine == "DuckDB" else "Athena engine version 3",
            enforced=bool(configuration.get("EnforceWorkGroupConfiguration", True)),
            output_location=(configuration.get("ResultConfiguration") or {}).get("OutputLocation"),
            bytes_scanned_cutoff=int(cutoff) if cutoff is not None else None,
        )

    def results_location(self, requested: str | None) -> str:
        """Where a query's results go, given the client's ResultConfiguration.OutputLocation."""
        location = (
            self.output_location
            if self.enforced and self.output_location
            else requested or self.output_location
        )
        if not location:
            raise InvalidRequestError(
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input."
            )
        return location

    def check_ctas_location(self, external_location: str | None) -> None:
        """A CTAS may set external_location only where the workgroup does not enforce its
        results location. Athena's exact message is not documented; this one names the rule."""
        if self.enforced and self.output_location and external_location:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY: external_location cannot be specified: workgroup "
                f"'{self.name}' enforces its query results location "
                f"({self.output_location}); the table is written under its tables/ folder"
            )

    def check_bytes_scanned(self, bytes_scanned: int) -> None:
        if self.bytes_scanned_cutoff is not None and bytes_scanned > self.bytes_scanned_cutoff:
            raise QueryCancelledError(BYTES_SCANNED_LIMIT_EXCEEDED)
