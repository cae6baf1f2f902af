"""What computed a model's rows: its SQL and declaration, hashed, and the same for its inputs.

Publish records both hashes on every partition it publishes (Glue partition parameters,
`PARTITION_PARAMETERS`), so the catalogue itself says which SQL computed each published
partition, on AWS as locally; `etl changes` compares them with the SQL in the working copy.

- the **model hash** covers the model's SQL file and the fields of its declaration that decide
  its rows: tier, sources and granularity (its partitioning). Descriptions and checks do not
  change a row, so editing them restates nothing. The SQL is hashed as written (line endings
  and trailing blanks aside): an edited comment counts as a change, as a file checksum does
  in dbt's `state:modified`; a hash of a parsed form would change with the parser's version.
- the **fingerprint** covers the model hash and the fingerprints of the models it reads, so a
  partition computed before an upstream model changed differs from one computed after, even
  when only the upstream model was restated since.

Pure: the catalogue's files in, short hex digests out, the same in the Lambda and in `etl`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from etl_lambdas.catalog import Catalog, Model

# Hex digits kept of each SHA-256: 64 bits, plenty to tell versions of one model apart.
DIGEST_LENGTH = 16
# The Glue partition parameters Publish sets (docs/contracts.md, "Published partitions").
MODEL_HASH = "lakepipe.model_hash"
FINGERPRINT = "lakepipe.fingerprint"
RUN_ID = "lakepipe.run_id"
PARTITION_PARAMETERS = (MODEL_HASH, FINGERPRINT, RUN_ID)


@dataclass(frozen=True)
class Fingerprints:
    model_hash: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {"model_hash": self.model_hash, "fingerprint": self.fingerprint}

    def partition_parameters(self, run_id: str) -> dict[str, str]:
        return {MODEL_HASH: self.model_hash, FINGERPRINT: self.fingerprint, RUN_ID: run_id}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def normalized_sql(text: str) -> str:
    """The SQL as hashed: the same on every checkout (CRLF or LF, trailing blanks)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def model_hash(catalog: Catalog, model: Model) -> str:
    declaration = {
        "tier": model.tier,
        "sources": sorted(model.sources),
        "granularity": model.granularity,
    }
    document = json.dumps(
        {"sql": normalized_sql(catalog.sql(model)), "declaration": declaration}, sort_keys=True
    )
    return _digest(document)


def fingerprints(catalog: Catalog) -> dict[str, Fingerprints]:
    """Every model's hashes, by name."""
    return dict(_all(catalog))


def of_model(catalog: Catalog, name: str) -> Fingerprints:
    return _all(catalog)[name]


def _all(catalog: Catalog) -> Mapping[str, Fingerprints]:
    result: dict[str, Fingerprints] = {}
    # Tier order: a model's inputs are hashed before it (a model reads earlier tiers only).
    for model in catalog.in_tier_order():
        inputs = {}
        for source in sorted(model.sources):
            tier, _, table = source.partition(".")
            # An ODS table's rows are the Glue job's, not a model's: its name stands for it.
            inputs[source] = "" if tier == "ods" else result[table].fingerprint
        own = model_hash(catalog, model)
        document = json.dumps({"model": own, "inputs": inputs}, sort_keys=True)
        result[model.name] = Fingerprints(own, _digest(document))
    return result
