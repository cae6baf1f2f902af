data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # The model tiers in the order they run (a model reads only from tiers before its own);
  # etl_lambdas.catalog.TIERS is the same list for the Python side.
  model_tiers = ["dwd", "dws", "ads"]
  # One Glue database per tier: the ODS, the model tiers and the staging tables of runs.
  tiers         = concat(["ods"], local.model_tiers, ["staging"])
  glue_arn_base = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  ods_database  = "${var.glue_prefix}_ods"
  logs_arn_base = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"

  # One crawler per declared source, named after it: a schema change re-crawls that source
  # only. Its table is <glue_prefix>_ods.<source>, from the Glue job's ods/<source>/.
  crawlers = {
    for source in var.source_names : source => {
      name       = "${var.name_prefix}-ods-${source}"
      ods_prefix = "ods/${source}/"
    }
  }

  # What a crawl must not take for data (exclude patterns are globs relative to the target;
  # `**` crosses folder boundaries, so each pattern also matches at the target's top level:
  # https://docs.aws.amazon.com/glue/latest/dg/define-crawler-choose-data-sources.html):
  # the Glue job's _SOURCES records, Hadoop's checksums and EMRFS folder markers, Spark's
  # job markers and the staging folders of its committers.
  exclusions = [
    "**_SUCCESS",
    "**_SOURCES",
    "**.crc",
    "**_$folder$",
    "**_committed_*",
    "**_started_*",
    "**_temporary/**",
    "**.spark-staging-*/**",
  ]
}

resource "aws_glue_catalog_database" "this" {
  for_each = toset(local.tiers)

  name        = "${var.glue_prefix}_${each.key}"
  description = "${var.name_prefix} ${each.key} tier"

  tags = var.tags
}

resource "aws_glue_security_configuration" "this" {
  name = "${var.name_prefix}-glue"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = var.kms_key_arn == null ? "DISABLED" : "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = var.kms_key_arn == null ? "DISABLED" : "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }

    s3_encryption {
      s3_encryption_mode = var.kms_key_arn == null ? "SSE-S3" : "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

# No condition on the trust: Glue is not documented to send aws:SourceAccount or
# aws:SourceArn when it assumes a crawler's role (a condition on a key missing from the request
# fails, so the crawler could not start: "the key is not available in every request context",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
# The confused deputy is prevented by iam:PassRole instead: only principals of this account
# allowed to pass the role can attach it to a crawler, and a role cannot be passed across
# accounts (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
data "aws_iam_policy_document" "crawler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "crawler" {
  for_each = local.crawlers

  statement {
    sid = "CatalogOwnTable"
    actions = [
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
      "glue:BatchUpdatePartition",
      "glue:CreatePartition",
      "glue:CreateTable",
      "glue:GetDatabase",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:UpdatePartition",
      "glue:UpdateTable",
    ]
    resources = [
      "${local.glue_arn_base}:catalog",
      "${local.glue_arn_base}:database/${local.ods_database}",
      "${local.glue_arn_base}:table/${local.ods_database}/${each.key}",
    ]
  }

  statement {
    # GetTables is authorized on every table of the database it lists
    # (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
    sid     = "ListOdsTables"
    actions = ["glue:GetTables"]
    resources = [
      "${local.glue_arn_base}:catalog",
      "${local.glue_arn_base}:database/${local.ods_database}",
      "${local.glue_arn_base}:table/${local.ods_database}/*",
    ]
  }

  statement {
    sid       = "ReadOwnOdsPrefix"
    actions   = ["s3:GetObject"]
    resources = ["${var.curated_bucket_arn}/${each.value.ods_prefix}*"]
  }

  statement {
    sid       = "ListOwnOdsPrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [each.value.ods_prefix, "${each.value.ods_prefix}*"]
    }
  }

  statement {
    sid = "CrawlerLogs"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      "${local.logs_arn_base}:log-group:/aws-glue/crawlers*",
      "${local.logs_arn_base}:log-group:/aws-glue/crawlers*:*",
    ]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "crawler" {
  for_each = local.crawlers

  name               = "${each.value.name}-crawler"
  assume_role_policy = data.aws_iam_policy_document.crawler_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "crawler" {
  for_each = local.crawlers

  name   = "crawl-ods-${each.key}"
  role   = aws_iam_role.crawler[each.key].id
  policy = data.aws_iam_policy_document.crawler[each.key].json
}

resource "aws_glue_crawler" "ods" {
  for_each = local.crawlers

  name                   = each.value.name
  description            = "Creates ${local.ods_database}.${each.key} from the Glue job's Parquet, and updates its schema when it changes."
  database_name          = aws_glue_catalog_database.this["ods"].name
  role                   = aws_iam_role.crawler[each.key].arn
  security_configuration = aws_glue_security_configuration.this.name

  s3_target {
    path       = "s3://${var.curated_bucket_name}/${each.value.ods_prefix}"
    exclusions = local.exclusions
  }

  # The run registers new partitions itself (BatchCreatePartition from the Glue job's change
  # report); a crawl runs only for a new table or a changed schema, and must then update the
  # schema in the catalog: UPDATE_IN_DATABASE, which AWS allows with CRAWL_EVERYTHING only
  # (CRAWL_NEW_FOLDERS_ONLY requires UpdateBehavior and DeleteBehavior LOG; CRAWL_EVENT_MODE
  # needs S3 event notifications:
  # https://docs.aws.amazon.com/glue/latest/webapi/API_RecrawlPolicy.html,
  # https://docs.aws.amazon.com/glue/latest/dg/incremental-crawls.html). Deletions are only
  # logged: the run owns partitions, an expired raw file never removes one.
  recrawl_policy {
    recrawl_behavior = "CRAWL_EVERYTHING"
  }

  schema_change_policy {
    update_behavior = "UPDATE_IN_DATABASE"
    delete_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1.0
    CrawlerOutput = {
      # Existing partitions take the updated table schema.
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
      # One table at the target folder, whatever the partitions' schemas look like: levels
      # count from the bucket's top folder, ods/ is 1, ods/<source>/ is 2
      # (https://docs.aws.amazon.com/glue/latest/dg/crawler-table-level.html).
      TableLevelConfiguration = 2
    }
  })

  tags = var.tags
}
