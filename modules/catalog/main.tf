data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  tiers         = ["ods", "dwd", "dws", "ads", "staging"]
  ods_prefix    = "ods/traffic/"
  crawler_name  = "${var.name_prefix}-ods-traffic"
  glue_arn_base = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  ods_database  = "${var.glue_prefix}_ods"
  logs_arn_base = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
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

data "aws_iam_policy_document" "crawler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "crawler" {
  statement {
    sid = "CatalogOdsTables"
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
      "glue:GetTables",
      "glue:UpdatePartition",
      "glue:UpdateTable",
    ]
    resources = [
      "${local.glue_arn_base}:catalog",
      aws_glue_catalog_database.this["ods"].arn,
      "${local.glue_arn_base}:table/${local.ods_database}/*",
    ]
  }

  statement {
    sid       = "ReadOdsPrefix"
    actions   = ["s3:GetObject"]
    resources = ["${var.curated_bucket_arn}/${local.ods_prefix}*"]
  }

  statement {
    sid       = "ListOdsPrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.ods_prefix, "${local.ods_prefix}*"]
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
  name               = "${local.crawler_name}-crawler"
  assume_role_policy = data.aws_iam_policy_document.crawler_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "crawler" {
  name   = "crawl-ods-traffic"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

resource "aws_glue_crawler" "ods" {
  name                   = local.crawler_name
  description            = "Catalogues the Glue job's Parquet output as ${local.ods_database}.traffic."
  database_name          = aws_glue_catalog_database.this["ods"].name
  role                   = aws_iam_role.crawler.arn
  security_configuration = aws_glue_security_configuration.this.name

  s3_target {
    path       = "s3://${var.curated_bucket_name}/${local.ods_prefix}"
    exclusions = ["**/_SUCCESS", "**/_temporary/**", "**.crc"]
  }

  # Only new arrival partitions are crawled; AWS accepts CRAWL_NEW_FOLDERS_ONLY only
  # together with a LOG/LOG schema change policy.
  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1.0
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
    }
  })

  tags = var.tags
}
