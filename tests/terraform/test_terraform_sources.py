"""The Terraform derives every per-source resource from the source declaration, and configures
the crawlers and the Glue job as AWS documents they must be."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hcl_tree import REPOSITORY_ROOT, Block, blocks, parse, policy_statements, unquote

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import SOURCES_FILE

CATALOG = REPOSITORY_ROOT / "modules" / "catalog" / "main.tf"
GLUE_JOB = REPOSITORY_ROOT / "modules" / "glue_job" / "main.tf"


def resource(path: Path, kind: str) -> Block:
    return next(b for b in blocks("resource", [path]) if b.labels[0] == kind)


def policy_document(path: Path, name: str) -> Block:
    return next(b for b in blocks("data", [path]) if b.labels == ("aws_iam_policy_document", name))


def local_value(path: Path, name: str) -> Any:
    for block in blocks("locals", [path]):
        if name in block.body:
            return block.body[name]
    raise AssertionError(f"{path}: no local {name!r}")


def test_the_root_reads_the_declaration_the_lambdas_and_the_job_read() -> None:
    variables = {
        b.labels[0]: b.body for b in blocks("variable", [REPOSITORY_ROOT / "variables.tf"])
    }
    default = unquote(variables["sources_path"]["default"])

    assert REPOSITORY_ROOT / str(default) == default_sql_root() / SOURCES_FILE
    assert local_value(REPOSITORY_ROOT / "main.tf", "sources") == (
        '${yamldecode(file("${path.root}/${var.sources_path}")).sources}'
    )
    modules = {b.labels[0]: b.body for b in blocks("module", [REPOSITORY_ROOT / "main.tf"])}
    assert modules["glue_job"]["sources"] == "${local.sources}"
    assert modules["catalog"]["source_names"] == "${[for source in local.sources : source.name]}"


def test_one_crawler_per_source_named_after_it() -> None:
    crawler = resource(CATALOG, "aws_glue_crawler")
    crawlers = local_value(CATALOG, "crawlers")

    assert crawler.body["for_each"] == "${local.crawlers}"
    assert "for source in var.source_names" in crawlers
    assert '"${var.name_prefix}-ods-${source}"' in crawlers
    assert '"ods/${source}/"' in crawlers
    for kind in ("aws_iam_role", "aws_iam_role_policy"):
        assert resource(CATALOG, kind).body["for_each"] == "${local.crawlers}"


def test_the_crawlers_recrawl_and_schema_policies_are_a_combination_aws_accepts() -> None:
    crawler = resource(CATALOG, "aws_glue_crawler").body
    recrawl = unquote(crawler["recrawl_policy"][0]["recrawl_behavior"])
    schema = crawler["schema_change_policy"][0]
    update, delete = unquote(schema["update_behavior"]), unquote(schema["delete_behavior"])

    # https://docs.aws.amazon.com/glue/latest/dg/incremental-crawls.html: crawling new folders
    # only is allowed with LOG updates and deletes; a crawl that must update a changed schema
    # therefore crawls everything.
    if recrawl == "CRAWL_NEW_FOLDERS_ONLY":
        assert (update, delete) == ("LOG", "LOG")
    assert (recrawl, update, delete) == ("CRAWL_EVERYTHING", "UPDATE_IN_DATABASE", "LOG")
    assert crawler["s3_target"][0]["exclusions"] == "${local.exclusions}"


def glue_glob(pattern: str, path: str) -> bool:
    """Glue's exclude pattern semantics: `*` within a folder name, `**` across folders,
    `?` one character (https://docs.aws.amazon.com/glue/latest/dg/define-crawler-choose-data-sources.html)."""
    expression = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            expression += ".*"
            index += 2
        elif pattern[index] == "*":
            expression += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            expression += "[^/]"
            index += 1
        else:
            expression += re.escape(pattern[index])
            index += 1
    return re.fullmatch(expression, path) is not None


def test_glue_glob_semantics_bite() -> None:
    assert glue_glob("*.crc", "a.crc") and not glue_glob("*.crc", "year=1/a.crc")
    assert glue_glob("**.crc", "year=1/a.crc")


@pytest.mark.parametrize(
    "key",
    [
        "year=2026/month=11/day=20/hour=05/_SOURCES",
        "year=2026/month=11/day=20/_SOURCES",
        "_SUCCESS",
        "year=2026/month=11/day=20/hour=05/.part-00000.snappy.parquet.crc",
        "_temporary/0/_temporary/attempt_1/year=2026/part-0.parquet",
        ".spark-staging-3f2a/year=2026/month=11/day=20/part-0.parquet",
        "year=2026/month=11/day=20/_committed_2718",
        "year=2026/month=11/day=20/_started_2718",
        "year=2026/month=11_$folder$",
    ],
)
def test_the_crawl_leaves_out_the_jobs_records_and_sparks_files(key: str) -> None:
    exclusions = [unquote(p) for p in local_value(CATALOG, "exclusions")]

    assert any(glue_glob(str(pattern), key) for pattern in exclusions), key


def test_the_crawl_keeps_the_data_files() -> None:
    exclusions = [unquote(p) for p in local_value(CATALOG, "exclusions")]
    data = "year=2026/month=11/day=20/hour=05/part-00000-3f2a-c000.snappy.parquet"

    assert not any(glue_glob(str(pattern), data) for pattern in exclusions)


def test_glue_roles_trust_glue_without_conditions_glue_does_not_send() -> None:
    for path, name in ((GLUE_JOB, "assume"), (CATALOG, "crawler_assume")):
        (statement,) = policy_statements(policy_document(path, name).body)
        assert statement["principals"][0]["identifiers"] == ['"glue.amazonaws.com"']
        assert "condition" not in statement, f"{path}: {name}"


def test_the_script_object_changes_only_with_its_content_under_sse_kms() -> None:
    script = resource(GLUE_JOB, "aws_s3_object").body

    assert script["source_hash"] == "${filemd5(var.script_path)}"
    assert "etag" not in script


def job_statements() -> dict[str, dict[str, Any]]:
    document = policy_document(GLUE_JOB, "job").body
    return {unquote(s["sid"]): s for s in policy_statements(document) if "sid" in s}


def test_the_jobs_list_grant_has_no_prefix_condition_and_covers_every_bucket_it_uses() -> None:
    # A GET or HEAD of a missing key carries no s3:prefix: only an unconditioned ListBucket
    # turns S3's 403 into the 404 Spark's file system expects.
    listing = job_statements()["ListBucketsItReadsAndWrites"]

    assert listing["actions"] == ['"s3:ListBucket"']
    assert "condition" not in listing
    assert "local.read_prefixes" in listing["resources"]
    assert "local.write_prefixes" in listing["resources"]
    write_prefixes = local_value(GLUE_JOB, "write_prefixes")
    for bucket in ("var.curated_bucket_arn", "var.artifacts_bucket_arn"):
        assert bucket in write_prefixes
    assert "var.raw_bucket_arn" in local_value(GLUE_JOB, "read_prefixes")


def test_the_jobs_object_grants_are_per_source_prefix_and_the_folders_above_them() -> None:
    statements = job_statements()

    assert '"ods/${source.name}/"' in local_value(GLUE_JOB, "write_prefixes")
    assert "source.raw_prefix" in local_value(GLUE_JOB, "read_prefixes")
    assert statements["ReadRawFiles"]["actions"] == ['"s3:GetObject"']
    probes = statements["ProbeParentFolders"]
    assert probes["actions"] == ['"s3:GetObject"']
    assert "_$folder$" in str(probes["resources"])
    markers = statements["CreateFolderMarkers"]
    assert markers["actions"] == ['"s3:PutObject"']
    for sid in ("ReadRawFiles", "WriteOdsLedgerAndTemporaryFiles"):
        # one prefix per entry, never a whole bucket
        assert statements[sid]["resources"].endswith('/${entry.prefix}*"]}'), sid


def test_flex_runs_only_on_the_workers_aws_allows() -> None:
    path = REPOSITORY_ROOT / "modules" / "glue_job" / "variables.tf"
    execution_class = next(
        b for b in blocks("variable", [path]) if b.labels[0] == "execution_class"
    )
    conditions = [v["condition"] for v in execution_class.body["validation"]]

    assert any('contains(["G.1X", "G.2X"], var.worker_type)' in c for c in conditions)
    prod = parse(REPOSITORY_ROOT / "envs" / "prod.tfvars")
    if unquote(prod.get("glue_execution_class")) == "FLEX":
        assert unquote(prod["glue_worker_type"]) in {"G.1X", "G.2X"}


def test_the_crawler_makes_one_table_at_the_sources_ods_folder() -> None:
    configuration = resource(CATALOG, "aws_glue_crawler").body["configuration"]
    ods_prefix = '"ods/${source}/"'

    # levels count from the bucket's top folder: ods/ is 1, ods/<source>/ is 2
    level = len(str(unquote(ods_prefix)).strip("/").split("/"))
    assert ods_prefix in local_value(CATALOG, "crawlers")
    assert f"TableLevelConfiguration = {level}" in configuration
    assert 'AddOrUpdateBehavior = "InheritFromTable"' in configuration
