"""Names and locations shared by write, audit and publish (see docs/contracts.md)."""

from __future__ import annotations

from etl_lambdas.catalog import SOURCE_TIERS


def database(glue_prefix: str, tier: str) -> str:
    """`<glue_prefix>_<tier>`; tier may also be `staging`."""
    return f"{glue_prefix}_{tier}"


def tier_databases(glue_prefix: str) -> dict[str, str]:
    """The `${<tier>_database}` template values."""
    return {f"{tier}_database": database(glue_prefix, tier) for tier in SOURCE_TIERS}


def staging_table(model: str, run_id: str, chunk: int) -> str:
    return f"{staging_table_prefix(model, run_id)}{chunk}"


def staging_table_prefix(model: str, run_id: str) -> str:
    """What every staging table of one model's run starts with."""
    return f"{model}__{run_id}__c"


def run_of_staging_table(name: str) -> str | None:
    """The run id inside a staging table's name, None for a name that is not one."""
    parts = name.split("__")
    if len(parts) != 3 or not parts[2].startswith("c") or not parts[2][1:].isdigit():
        return None
    return parts[1]


def ledger_prefix(source: str) -> str:
    """Key prefix (curated bucket) of a source's ledger, beside its ODS data."""
    return f"ods/{source}/_ledger/"


def ledger_runs_prefix(source: str) -> str:
    """Key prefix of the Glue job's ledger entries of a source, one object per run."""
    return f"{ledger_prefix(source)}runs/"


def ledger_entry_key(source: str, run_id: str) -> str:
    return f"{ledger_runs_prefix(source)}{run_id}.json"


def settled_key(source: str) -> str:
    """The source's settled days: the last run that settled each event day."""
    return f"{ledger_prefix(source)}settled.json"


def ods_table(source: str) -> str:
    """The ODS table of a source (in the ods database): the source's name."""
    return source


def model_prefix(tier: str, model: str) -> str:
    """Key prefix of everything a model owns in the curated bucket."""
    return f"{tier}/{model}/"


def runs_prefix(tier: str, model: str) -> str:
    return f"{model_prefix(tier, model)}_runs/"


def chunk_prefix(tier: str, model: str, run_id: str, chunk: int) -> str:
    return f"{runs_prefix(tier, model)}{run_id}/chunk={chunk}/"
