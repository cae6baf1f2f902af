"""The probe corpus (probes.py) on Trino and on the local Athena: the same value of the same
type, or a failure on both sides.

Trino answers each probe alone. The local Athena stages the probes Trino answers in one CTAS
(each a scalar subquery, one column per probe), which Trino then reads back; when that CTAS
fails, each probe is staged alone to find the ones it refuses. A probe Trino fails must
fail locally too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from oracle import AGREE, REFUSED, Answer, Difference, Lake, compare
from probes import PROBES, REFUSED_PROBES

from etl_local.sql_dialect import UnsupportedConstruct, parse_athena, to_duckdb
from etl_local.trino import Column, TrinoResult

ALL = [(category, probe) for category, probes in PROBES.items() for probe in probes]


def _column(answer: Answer, index: int) -> Answer:
    assert answer.result is not None
    column = answer.result.columns[index]
    # One name for both: Trino names a probe's column after its position.
    return Answer(TrinoResult([Column("v", column.type)], [[r[index]] for r in answer.result.rows]))


def _answers(probes: list[str], run: Callable[[str], Answer]) -> dict[str, Answer]:
    """Each probe's answer, from one statement of them all (a column each) when it runs,
    else from its halves in turn, down to the probes that fail alone."""
    if not probes:
        return {}
    batch = run("SELECT " + ", ".join(f"({probe}) AS p{n}" for n, probe in enumerate(probes)))
    if batch.error is None:
        return {probe: _column(batch, n) for n, probe in enumerate(probes)}
    if len(probes) == 1:
        return {probes[0]: batch}
    middle = len(probes) // 2
    return {**_answers(probes[:middle], run), **_answers(probes[middle:], run)}


def _refused_statically(probe: str) -> bool:
    try:
        to_duckdb(parse_athena(probe))
    except UnsupportedConstruct:
        return True
    return False


@pytest.fixture(scope="module")
def verdicts(lake: Lake) -> dict[str, str]:
    probes = [probe for _, probe in ALL]
    began = time.monotonic()
    expected = _answers(probes, lake.trino_answer)
    trino_seconds = time.monotonic() - began
    # What the translation refuses before running is asked alone; the rest in one batch.
    static = [p for p in probes if _refused_statically(p)]
    local = {p: lake.local_ctas(p)[0] for p in static}
    local.update(
        _answers([p for p in probes if p not in local], lambda sql: lake.local_ctas(sql)[0])
    )
    local_seconds = time.monotonic() - began - trino_seconds
    print(f"\nprobes: Trino {trino_seconds:.1f} s, local {local_seconds:.1f} s")
    found: dict[str, str] = {}
    for probe in probes:
        try:
            found[probe] = compare(f"probe `{probe}`", expected[probe], local[probe])
        except Difference as difference:
            found[probe] = str(difference)
        if found[probe] == REFUSED:
            found[probe] = f"{REFUSED}: {local[probe].error}"
    return found


@pytest.mark.parametrize(("category", "probe"), ALL, ids=[p for _, p in ALL])
def test_probe_agrees_with_trino(verdicts: dict[str, str], category: str, probe: str) -> None:
    """The local answer is Trino's; or, for a probe the corpus says is refused, a refusal
    (NOT_SUPPORTED naming the construct), never another answer."""
    if probe in REFUSED_PROBES:
        assert verdicts[probe].startswith(REFUSED), (
            f"{category}: expected a refusal: {verdicts[probe]}"
        )
    else:
        assert verdicts[probe] == AGREE, f"{category}: {verdicts[probe]}"


def test_names_are_glue_lower_case(lake: Lake) -> None:
    """Glue keeps names in lower case: the local CTAS registers `MixedCase` as `mixedcase`,
    as Athena's CTAS does with the name Trino gives the column."""
    sql = 'SELECT 1 AS MixedCase, 2 AS "UPPER"'
    expected = lake.trino_answer(sql)
    local, _ = lake.local_ctas(sql)
    assert expected.result is not None and local.result is not None, local.error
    assert [c.name for c in expected.result.columns] == ["MixedCase", "UPPER"]
    assert [c.name for c in local.result.columns] == ["mixedcase", "upper"]
