data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  job_name      = "${var.name_prefix}-convert-raw"
  script_key    = "glue/${basename(var.script_path)}"
  temp_prefix   = "tmp/glue/"
  logs_arn_base = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"

  # Every prefix the job reads (each source's raw files) or writes (each source's ODS table,
  # with its _SOURCES records and its ledger entries under _ledger/; its temporary files), by
  # bucket ARN.
  read_prefixes = [for source in var.sources : { bucket = var.raw_bucket_arn, prefix = source.raw_prefix }]
  write_prefixes = concat(
    [for source in var.sources : { bucket = var.curated_bucket_arn, prefix = "ods/${source.name}/" }],
    [{ bucket = var.artifacts_bucket_arn, prefix = local.temp_prefix }],
  )
  # Spark's S3 file system treats keys as paths: before it reads or writes under a prefix it
  # asks for the prefix's own key and each parent "directory" (ods/traffic, ods), and a mkdirs
  # on Glue (EMRFS) writes a "<directory>_$folder$" marker object
  # (https://repost.aws/knowledge-center/emr-s3-empty-files). These are those keys, per prefix.
  folders = {
    for entry in concat(local.read_prefixes, local.write_prefixes) : "${entry.bucket}/${entry.prefix}" => [
      for depth in range(1, length(split("/", trimsuffix(entry.prefix, "/"))) + 1) :
      "${entry.bucket}/${join("/", slice(split("/", trimsuffix(entry.prefix, "/")), 0, depth))}"
    ]
  }
  read_folders  = distinct(flatten([for entry in local.read_prefixes : local.folders["${entry.bucket}/${entry.prefix}"]]))
  write_folders = distinct(flatten([for entry in local.write_prefixes : local.folders["${entry.bucket}/${entry.prefix}"]]))
}

resource "aws_s3_object" "script" {
  bucket = var.artifacts_bucket_name
  key    = local.script_key
  source = var.script_path
  # Not etag: under SSE-KMS an object's ETag is not the MD5 of its content, so etag would
  # differ on every plan (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_object#etag,
  # https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html).
  source_hash = filemd5(var.script_path)

  tags = var.tags
}

# No condition on the trust: Glue is not documented to send aws:SourceAccount or
# aws:SourceArn when it assumes a job's role (a condition on a key missing from the request
# fails, so the job could not start: "the key is not available in every request context",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
# The confused deputy is prevented by iam:PassRole instead: only principals of this account
# allowed to pass the role can attach it to a job, and a role cannot be passed across
# accounts (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
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
    sid       = "ReadRawFiles"
    actions   = ["s3:GetObject"]
    resources = [for entry in local.read_prefixes : "${entry.bucket}/${entry.prefix}*"]
  }

  statement {
    sid       = "WriteOdsLedgerAndTemporaryFiles"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = [for entry in local.write_prefixes : "${entry.bucket}/${entry.prefix}*"]
  }

  statement {
    # The path probes above the prefixes: reading a key that does not exist is harmless.
    sid     = "ProbeParentFolders"
    actions = ["s3:GetObject"]
    resources = flatten([
      for folder in distinct(concat(local.read_folders, local.write_folders)) : [folder, "${folder}_$folder$"]
    ])
  }

  statement {
    # A first write creates the output folders' markers (EMRFS mkdirs).
    sid       = "CreateFolderMarkers"
    actions   = ["s3:PutObject"]
    resources = [for folder in local.write_folders : "${folder}_$folder$"]
  }

  statement {
    # S3 answers a request for a missing key (a _SOURCES not written yet, a probed folder
    # key) with 404 only to a caller allowed s3:ListBucket on the bucket, and with 403
    # otherwise, which Spark's file system raises as AccessDenied
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax,
    # "Permissions"). That grant cannot be narrowed with s3:prefix: the key is only in the
    # context of a ListObjects request (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html),
    # a GET or HEAD never matches such a statement. ListBucket reveals key names only; the
    # objects stay readable only under the prefixes above.
    sid       = "ListBucketsItReadsAndWrites"
    actions   = ["s3:ListBucket"]
    resources = distinct([for entry in concat(local.read_prefixes, local.write_prefixes) : entry.bucket])
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
  description = "Converts every declared source's raw files of an arrival window into its ODS Parquet table."
  role_arn    = aws_iam_role.this.arn
  # Glue 5.0 runs Spark 3.5.4, the pyspark version the local runtime pins.
  glue_version           = "5.0"
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  execution_class        = var.execution_class
  timeout                = var.timeout_minutes
  max_retries            = 0
  security_configuration = var.security_configuration_name

  command {
    name            = "glueetl"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.script.key}"
    python_version  = "3"
  }

  # The state machine passes the arrival window and the run id per run (the Plan step's
  # glue_arguments), so job bookmarks stay disabled: a re-run of a window must read it again.
  # The sources are the declaration itself, as base64 of its JSON: the value then holds no
  # quotes, braces or newlines (docs/contracts.md, "Glue job").
  # No continuous-logging arguments: Glue 5.0 logs every job in real time, to
  # /aws-glue/jobs/error and /aws-glue/jobs/output, and has no --enable-continuous-cloudwatch-log
  # ("Migrating AWS Glue for Spark jobs to AWS Glue version 5.0", "Logging behavior changes in
  # AWS Glue 5.0"; "Logging for AWS Glue jobs", AWS Glue Developer Guide).
  default_arguments = {
    "--job-language"        = "python"
    "--job-bookmark-option" = "job-bookmark-disable"
    "--sources"             = base64encode(jsonencode({ sources = var.sources }))
    "--raw_root"            = "s3://${var.raw_bucket_name}/"
    "--ods_root"            = "s3://${var.curated_bucket_name}/ods/"
    "--time_zone"           = var.pipeline_time_zone
    "--TempDir"             = "s3://${var.artifacts_bucket_name}/${local.temp_prefix}"
    "--enable-metrics"      = "true"
  }

  execution_property {
    # Two overlapping runs could overwrite each other's partitions.
    max_concurrent_runs = 1
  }

  tags = var.tags
}
