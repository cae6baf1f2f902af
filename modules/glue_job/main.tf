data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  job_name      = "${var.name_prefix}-convert-raw"
  script_key    = "glue/${basename(var.script_path)}"
  raw_prefix    = "raw/traffic/"
  ods_prefix    = "ods/traffic/"
  temp_prefix   = "tmp/glue/"
  logs_arn_base = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_object" "script" {
  bucket = var.artifacts_bucket_name
  key    = local.script_key
  source = var.script_path
  etag   = filemd5(var.script_path)

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
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

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ReadScript"
    actions   = ["s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/${local.script_key}"]
  }

  statement {
    sid       = "ReadRawEvents"
    actions   = ["s3:GetObject"]
    resources = ["${var.raw_bucket_arn}/${local.raw_prefix}*"]
  }

  statement {
    sid       = "WriteOds"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["${var.curated_bucket_arn}/${local.ods_prefix}*"]
  }

  statement {
    sid       = "TemporaryFiles"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["${var.artifacts_bucket_arn}/${local.temp_prefix}*"]
  }

  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.raw_bucket_arn, var.curated_bucket_arn, var.artifacts_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        "${local.raw_prefix}*", "${local.ods_prefix}*", "${local.temp_prefix}*",
        trimsuffix(local.raw_prefix, "/"), trimsuffix(local.ods_prefix, "/"), trimsuffix(local.temp_prefix, "/"),
      ]
    }
  }

  statement {
    sid = "JobLogs"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      "${local.logs_arn_base}:log-group:/aws-glue/*",
      "${local.logs_arn_base}:log-group:/aws-glue/*:*",
    ]
  }

  statement {
    sid     = "JobMetrics"
    actions = ["cloudwatch:PutMetricData"]
    # AWS requires "*": PutMetricData has no resource type; the namespace condition narrows it.
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
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

resource "aws_iam_role" "this" {
  name               = "${local.job_name}-glue"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "convert-raw"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.job.json
}

resource "aws_glue_job" "this" {
  name        = local.job_name
  description = "Converts a window of raw JSON events (by arrival day) into ODS Parquet."
  role_arn    = aws_iam_role.this.arn
  # Glue 5.0 runs Spark 3.5.4, the pyspark version the local runtime pins.
  glue_version           = "5.0"
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.timeout_minutes
  max_retries            = 0
  security_configuration = var.security_configuration_name

  command {
    name            = "glueetl"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.script.key}"
    python_version  = "3"
  }

  # The state machine passes --arrival_start_date/--arrival_end_date per run, so job
  # bookmarks stay disabled: a re-run of a window must read it again.
  default_arguments = {
    "--job-language"                     = "python"
    "--job-bookmark-option"              = "job-bookmark-disable"
    "--raw_path"                         = "s3://${var.raw_bucket_name}/${local.raw_prefix}"
    "--ods_path"                         = "s3://${var.curated_bucket_name}/${local.ods_prefix}"
    "--TempDir"                          = "s3://${var.artifacts_bucket_name}/${local.temp_prefix}"
    "--enable-metrics"                   = "true"
    "--enable-continuous-cloudwatch-log" = "true"
  }

  execution_property {
    # Two overlapping runs could overwrite each other's partitions.
    max_concurrent_runs = 1
  }

  tags = var.tags
}
