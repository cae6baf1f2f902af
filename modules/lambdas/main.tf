data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # The zip is built for this runtime (Makefile: LAMBDA_PYTHON).
  runtime = "python3.12"

  # Step name => handler: the Terraform copy of etl_lambdas.steps.STEPS (tested against it).
  handlers = {
    plan          = "etl_lambdas.plan.handler"
    crawler-start = "etl_lambdas.crawler.start_handler"
    crawler-state = "etl_lambdas.crawler.state_handler"
    write         = "etl_lambdas.write.handler"
    query-state   = "etl_lambdas.query_state.handler"
    audit         = "etl_lambdas.audit.handler"
    publish       = "etl_lambdas.publish.handler"
    notify        = "etl_lambdas.notify.handler"
  }

  # Exactly the variables each handler reads (docs/contracts.md; tested against STEPS).
  function_environment = {
    plan = {
      PIPELINE_TIME_ZONE = var.pipeline_time_zone
      MAX_BACKFILL_DAYS  = tostring(var.max_backfill_days)
    }
    crawler-start = {
      CRAWLER_NAME = var.crawler_name
    }
    crawler-state = {
      CRAWLER_NAME = var.crawler_name
    }
    write = {
      ATHENA_WORKGROUP     = var.athena_workgroup_name
      GLUE_DATABASE_PREFIX = var.glue_prefix
      CURATED_BUCKET       = var.curated_bucket_name
      PIPELINE_TIME_ZONE   = var.pipeline_time_zone
    }
    query-state = {}
    audit = {
      ATHENA_WORKGROUP     = var.athena_workgroup_name
      GLUE_DATABASE_PREFIX = var.glue_prefix
    }
    publish = {
      GLUE_DATABASE_PREFIX = var.glue_prefix
      CURATED_BUCKET       = var.curated_bucket_name
      KEEP_RUNS            = tostring(var.keep_runs)
    }
    notify = {
      SNS_TOPIC_ARN = var.sns_topic_arn
    }
  }

  arn_suffix = "${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  glue_arn   = "arn:${data.aws_partition.current.partition}:glue:${local.arn_suffix}"
  catalog    = "${local.glue_arn}:catalog"

  # Glue resources of a database: the database itself and every table in it.
  database_arns = { for tier in ["ods", "dwd", "dws", "ads", "staging"] : tier => [
    "${local.glue_arn}:database/${var.glue_prefix}_${tier}",
    "${local.glue_arn}:table/${var.glue_prefix}_${tier}/*",
  ] }
  # Curated data of the model tiers: published tables and their staged runs.
  model_tier_objects = [for tier in ["dwd", "dws", "ads"] : "${var.curated_bucket_arn}/${tier}/*"]

  # Statements only some steps need: step => policy JSON (plan and query-state have none
  # beyond logs and tracing; query-state's Athena reads are in its own document).
  step_policies = {
    crawler-start = data.aws_iam_policy_document.crawler_start.json
    crawler-state = data.aws_iam_policy_document.crawler_state.json
    write         = data.aws_iam_policy_document.write.json
    query-state   = data.aws_iam_policy_document.query_state.json
    audit         = data.aws_iam_policy_document.audit.json
    publish       = data.aws_iam_policy_document.publish.json
    notify        = data.aws_iam_policy_document.notify.json
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.handlers

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "base" {
  for_each = local.handlers

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid     = "Tracing"
    actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    # AWS requires "*": X-Ray's write actions have no resource type.
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "crawler_start" {
  statement {
    sid       = "StartCrawler"
    actions   = ["glue:GetCrawler", "glue:StartCrawler"]
    resources = [var.crawler_arn]
  }
}

data "aws_iam_policy_document" "crawler_state" {
  statement {
    sid       = "ReadCrawlerState"
    actions   = ["glue:GetCrawler"]
    resources = [var.crawler_arn]
  }
}

# What every Athena caller needs besides its own statements: list the data it reads, write
# its query results, and use the data key (Athena acts with the caller's permissions).
data "aws_iam_policy_document" "athena_caller" {
  statement {
    sid       = "ListData"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [var.curated_bucket_arn, var.athena_results_bucket_arn]
  }

  statement {
    sid       = "QueryResults"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }

  dynamic "statement" {
    for_each = var.data_kms_key_arn == null ? [] : [var.data_kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "write" {
  source_policy_documents = [data.aws_iam_policy_document.athena_caller.json]

  statement {
    sid       = "StartQueries"
    actions   = ["athena:StartQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid     = "ReadSourceTables"
    actions = ["glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"]
    resources = concat(
      [local.catalog],
      local.database_arns["ods"], local.database_arns["dwd"], local.database_arns["dws"], local.database_arns["staging"],
    )
  }

  statement {
    sid       = "CreateStagingTables"
    actions   = ["glue:CreateTable"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid       = "ReadSources"
    actions   = ["s3:GetObject"]
    resources = concat(["${var.curated_bucket_arn}/ods/*"], local.model_tier_objects)
  }

  statement {
    sid       = "WriteStagedRuns"
    actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
    resources = local.model_tier_objects
  }
}

data "aws_iam_policy_document" "query_state" {
  statement {
    sid       = "ReadQueryState"
    actions   = ["athena:BatchGetQueryExecution", "athena:GetQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }
}

data "aws_iam_policy_document" "audit" {
  source_policy_documents = [data.aws_iam_policy_document.athena_caller.json]

  statement {
    sid       = "RunChecks"
    actions   = ["athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid       = "ReadStagingTables"
    actions   = ["glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid       = "ReadStagedRuns"
    actions   = ["s3:GetObject"]
    resources = local.model_tier_objects
  }
}

data "aws_iam_policy_document" "publish" {
  statement {
    sid = "PublishPartitions"
    actions = [
      "glue:BatchCreatePartition",
      "glue:BatchUpdatePartition",
      "glue:CreateTable",
      "glue:GetDatabase",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:UpdateTable",
    ]
    resources = concat(
      [local.catalog],
      local.database_arns["dwd"], local.database_arns["dws"], local.database_arns["ads"],
    )
  }

  statement {
    sid       = "DropStagingTables"
    actions   = ["glue:DeleteTable", "glue:GetDatabase", "glue:GetTable"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid       = "ListRuns"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]
  }

  statement {
    sid       = "DeleteSupersededRuns"
    actions   = ["s3:DeleteObject"]
    resources = local.model_tier_objects
  }
}

data "aws_iam_policy_document" "notify" {
  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.sns_topic_arn]
  }

  statement {
    sid       = "EncryptNotifications"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.sns_kms_key_arn]
  }
}

data "aws_iam_policy_document" "function" {
  for_each = local.handlers

  source_policy_documents = compact([
    data.aws_iam_policy_document.base[each.key].json,
    lookup(local.step_policies, each.key, ""),
  ])
}

resource "aws_iam_role" "this" {
  for_each = local.handlers

  name               = "${var.name_prefix}-${each.key}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.handlers

  name   = "${each.key}-step"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_lambda_function" "this" {
  for_each = local.handlers

  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = "Pipeline step ${each.key} of ${var.name_prefix}."
  role                           = aws_iam_role.this[each.key].arn
  handler                        = each.value
  runtime                        = local.runtime
  architectures                  = [var.architecture]
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrent_executions

  dynamic "environment" {
    # query-state reads no variables; an empty environment block would never settle in plans.
    for_each = length(local.function_environment[each.key]) > 0 ? [local.function_environment[each.key]] : []

    content {
      variables = environment.value
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  tags = var.tags

  # The log group must exist first, or Lambda creates one without retention.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
