"""A model's declared quality checks as one Athena query, and their verdict.

Pure: the audit steps run the query; this module writes it and judges its one result row.
The checks that compare with the past (etl_lambdas.history_checks) add their columns to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl_lambdas.catalog import Model
from etl_lambdas.history_checks import AuditContext, evaluate_history, history_ctes


@dataclass(frozen=True)
class Check:
    """One check; `metric` is the SQL aggregate whose value is judged."""

    name: str
    metric: str
    # The check passes when the value is >= minimum (row count) or == 0 (violations).
    minimum: int | None = None

    def passed(self, value: int) -> bool:
        return value >= self.minimum if self.minimum is not None else value == 0

    def describe(self, value: int) -> str:
        if self.minimum is not None:
            return f"{self.name}: {value} rows, at least {self.minimum} required"
        return f"{self.name}: {value} violating rows"


def _literal(value: float) -> str:
    return repr(int(value)) if value == int(value) else repr(value)


def checks_for(model: Model) -> list[Check]:
    """The declared checks, in a stable order: rows, non-null, unique keys, ranges."""
    checks = [Check("min_rows", "count(*)", minimum=model.min_rows)]
    for column in dict.fromkeys((*model.keys, *model.not_null)):
        checks.append(Check(f"not_null({column})", f"count_if({column} IS NULL)"))
    for check in model.ranges:
        bounds = []
        if check.minimum is not None:
            bounds.append(f"{check.column} < {_literal(check.minimum)}")
        if check.maximum is not None:
            bounds.append(f"{check.column} > {_literal(check.maximum)}")
        if bounds:
            checks.append(Check(f"range({check.column})", f"count_if({' OR '.join(bounds)})"))
    return checks


def unique_check(model: Model) -> Check:
    """Rows beyond the first per (keys, partition) group: a key must be unique per partition."""
    return Check(f"unique({', '.join((*model.keys, *model.partition_by))})", "duplicates")


def audit_sql(
    model: Model,
    staging_database: str,
    staging_tables: list[str],
    context: AuditContext | None = None,
) -> str:
    """One row: a column per check, aliased c0..cN in the order of all_checks(model), then
    the history checks' columns (h<k>_...), which need the run's `context`."""
    union = "\n  UNION ALL\n  ".join(
        f"SELECT * FROM {staging_database}.{table}" for table in staging_tables
    )
    group = ", ".join((*model.keys, *model.partition_by))
    metrics = ",\n    ".join(
        f"{check.metric} AS c{index}" for index, check in enumerate(checks_for(model))
    )
    duplicate_alias = f"c{len(checks_for(model))}"
    ctes = [
        ("staged", union),
        ("totals", f"SELECT\n    {metrics}\n  FROM staged"),
        (
            "duplicates",
            f"SELECT coalesce(sum(copies - 1), 0) AS {duplicate_alias}\n"
            f"  FROM (SELECT count(*) AS copies FROM staged GROUP BY {group} "
            f"HAVING count(*) > 1) AS repeated",
        ),
    ]
    joined = ["totals", "duplicates"]
    if model.history_checks:
        if context is None:
            raise ValueError(f"the history checks of {model.name} need the run's days")
        ctes += history_ctes(model, context)
        joined.append("history")
    definitions = ",\n".join(f"{name} AS (\n  {query}\n)" for name, query in ctes)
    return f"WITH {definitions}\nSELECT * FROM {' CROSS JOIN '.join(joined)}"


def all_checks(model: Model) -> list[Check]:
    return [*checks_for(model), unique_check(model)]


def evaluate(model: Model, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Each check with its value and outcome, from the audit query's row (c0..cN, then the
    history checks')."""
    results = []
    for index, check in enumerate(all_checks(model)):
        raw = row.get(f"c{index}")
        value = int(raw) if raw not in (None, "") else 0
        results.append(
            {
                "check": check.name,
                "value": value,
                "passed": check.passed(value),
                "detail": check.describe(value),
            }
        )
    return results + evaluate_history(model, row)
