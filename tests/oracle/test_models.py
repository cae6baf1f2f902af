"""Every model's SQL and every audit query, on Trino and on the local Athena, row by row.

Each model is rendered as the write step renders it (sql/<tier>/<model>.sql, a two-day chunk
that starts on the night clocks go back), staged by the local Athena with the write step's
CTAS, and compared with Trino's answer to the same SELECT over the same inputs; then it is
published as the publish step does, so the next tier reads what the local pipeline wrote.
Its audit query (the audit step's) is compared on the staged table the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from fixtures import END_DATE, START_DATE, app_activity_rows, traffic_rows
from oracle import AGREE, DATABASES, GLUE_PREFIX, STAGING, Answer, Difference, Lake, compare

from etl_lambdas.catalog import SOURCE_TIERS, load_catalog, render_template
from etl_lambdas.checks import audit_sql, evaluate
from etl_lambdas.history_checks import AuditContext
from etl_lambdas.naming import database
from etl_lambdas.planning import Chunk, template_values

CATALOG = load_catalog()
TIME_ZONE = "Europe/Brussels"
MODELS = [m for tier in SOURCE_TIERS[1:] for m in CATALOG.models if m.tier == tier]


@dataclass
class Verdicts:
    """What comparing each model (and its audit) found: None when they agree."""

    models: dict[str, str | None] = field(default_factory=dict)
    audits: dict[str, str | None] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def _values() -> dict[str, str]:
    start, end = dt.date.fromisoformat(START_DATE), dt.date.fromisoformat(END_DATE)
    return (
        template_values(
            Chunk(0, start, end),
            arrival_end_limit=end + dt.timedelta(days=1),
            lookback_days=0,
            time_zone=TIME_ZONE,
            databases=DATABASES,
        )
        | CATALOG.sources.time_zone_placeholders()
    )


def _audit_verdict(lake: Lake, model_name: str, staged: str) -> str | None:
    model = CATALOG.get(model_name)
    start, end = dt.date.fromisoformat(START_DATE), dt.date.fromisoformat(END_DATE)
    # as the audit step runs it: the run's days, before the model's first publish (the
    # upstream models it reconciles with are published already: tier order)
    context = AuditContext(
        days=tuple(start + dt.timedelta(days=n) for n in range((end - start).days + 1)),
        time_zone=TIME_ZONE,
        database=lambda tier: database(GLUE_PREFIX, tier),
        published=False,
    )
    sql = audit_sql(model, STAGING, [staged], context)
    expected = lake.trino_answer(sql)
    outcome = lake.local(sql)
    if expected.error or outcome.state != "SUCCEEDED":
        try:
            verdict = compare(f"audit of {model_name}", expected, Answer(None, outcome.reason))
        except Difference as difference:
            return str(difference)
        return None if verdict == AGREE else f"audit of {model_name}: {outcome.reason}"
    assert expected.result is not None
    header, *rows = lake.local_rows(outcome.query_id)
    names = [c.name for c in expected.result.columns]
    if header != names or len(rows) != 1 or len(expected.result.rows) != 1:
        return f"audit of {model_name}: Trino {names} {expected.result.rows}, local {header} {rows}"
    trino_checks = evaluate(model, dict(zip(names, expected.result.rows[0], strict=True)))
    local_checks = evaluate(model, dict(zip(header, rows[0], strict=True)))
    for want, got in zip(trino_checks, local_checks, strict=True):
        # Athena returns every value as text (GetQueryResults); Trino's client, typed JSON
        if _as_text(want) != _as_text(got):
            return f"audit of {model_name}: check {want['check']}: Trino {want}, local {got}"
    return None


def _as_text(check: dict[str, Any]) -> dict[str, str | None]:
    return {key: None if value is None else str(value) for key, value in check.items()}


@pytest.fixture(scope="module")
def verdicts(lake: Lake) -> Verdicts:
    lake.load_source(CATALOG.sources.get("traffic"), traffic_rows())
    lake.load_source(CATALOG.sources.get("app_activity"), app_activity_rows())
    values = _values()
    found = Verdicts()
    for model in MODELS:
        select = render_template(CATALOG.sql(model), values)
        expected = lake.trino_answer(select)
        actual, staged = lake.local_ctas(select, model=model)
        statement = f"model {model.tier}.{model.name}"
        try:
            verdict = compare(statement, expected, actual, keys=[*model.keys, *model.partition_by])
            found.models[model.name] = None if verdict == AGREE else f"{statement}: {actual.error}"
        except Difference as difference:
            found.models[model.name] = str(difference)
        if actual.result is not None:
            found.rows[model.name] = len(actual.result.rows)
            found.audits[model.name] = _audit_verdict(lake, model.name, staged)
            lake.publish(model, staged)
    return found


@pytest.mark.parametrize("model", [m.name for m in MODELS])
def test_model_agrees_with_trino(verdicts: Verdicts, model: str) -> None:
    assert verdicts.models[model] is None, verdicts.models[model]
    # The fixtures are made so that every model has rows to compare.
    assert verdicts.rows[model] > 0


@pytest.mark.parametrize("model", [m.name for m in MODELS])
def test_audit_agrees_with_trino(verdicts: Verdicts, model: str) -> None:
    assert model in verdicts.audits, f"{model}: not staged locally"
    assert verdicts.audits[model] is None, verdicts.audits[model]
