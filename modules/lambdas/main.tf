data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # The steps, their handlers and the variables each reads: declared once, in steps.yaml
  # (Python reads the same file). One function, role and log group per entry.
  steps = yamldecode(file(var.steps_path))

  # Every variable a step may declare, with its value; a step gets exactly the ones it lists
  # (a name missing here fails the plan).
  environment_values = {
    ARRIVAL_DEADLINES       = jsonencode(var.arrival_deadlines)
    ATHENA_ENGINE_VERSION   = var.athena_engine_version
    ATHENA_WORKGROUP        = var.athena_workgroup_name
    CURATED_BUCKET          = var.curated_bucket_name
    GLUE_DATABASE_PREFIX    = var.glue_prefix
    GLUE_JOB_NAME           = var.glue_job_name
    KEEP_RUNS               = tostring(var.keep_runs)
    LATE_DATA_LOOKBACK_DAYS = tostring(var.late_data_lookback_days)
    LEASE_SECONDS           = tostring(var.lease_seconds)
    MAX_BACKFILL_DAYS       = tostring(var.max_backfill_days)
    METRICS_NAMESPACE       = var.metrics_namespace
    PIPELINE_TIME_ZONE      = var.pipeline_time_zone
    RAW_BUCKET              = var.raw_bucket_name
    RUN_LEASE_TABLE         = var.run_lease_table_name
    SNS_TOPIC_ARN           = var.sns_topic_arn
    SOURCE_CRAWLERS         = jsonencode({ for source, crawler in var.source_crawlers : source => crawler.name })
  }
  function_environment = {
    for step, spec in local.steps : step => merge(
      { for name in spec.environment : name => local.environment_values[name] },
      # Read by Powertools' Logger (the service name in every log line), not by our code.
      { POWERTOOLS_SERVICE_NAME = var.name_prefix },
    )
  }

  arn_suffix = "${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  # Names and ARNs from the names alone, so the policies naming them are known at plan
  # (Terraform reads a data source that refers to a resource being created only at apply).
  function_names = { for step in keys(local.steps) : step => "${var.name_prefix}-${step}" }
  function_arns  = { for step, name in local.function_names : step => "arn:${data.aws_partition.current.partition}:lambda:${local.arn_suffix}:function:${name}" }
  log_groups     = { for step, name in local.function_names : step => "/aws/lambda/${name}" }
  glue_arn       = "arn:${data.aws_partition.current.partition}:glue:${local.arn_suffix}"
  catalog        = "${local.glue_arn}:catalog"

  # Glue resources of a database: the database itself and every table in it (Glue checks the
  # catalog, the database and the table: "Specifying AWS Glue resource ARNs").
  database_arns = { for tier, name in var.database_names : tier => [
    "${local.glue_arn}:database/${name}",
    "${local.glue_arn}:table/${name}/*",
  ] }
  # The Glue resources of the model tiers, and of what models read: the ODS and every model
  # tier but the last (a model reads only from tiers before its own).
  model_tier_databases = flatten([for tier in var.model_tiers : local.database_arns[tier]])
  model_read_databases = flatten([
    for tier in concat(["ods"], slice(var.model_tiers, 0, length(var.model_tiers) - 1)) : local.database_arns[tier]
  ])
  # Curated data of the model tiers: every object of a model is in one of its runs' staging
  # prefixes, <tier>/<model>/_runs/<run_id>/ (etl_lambdas.naming; a published partition points
  # into one), so the steps that write, read or delete it are held to those prefixes. Models
  # read the ODS and the model tiers but the last.
  model_run_objects = [for tier in var.model_tiers : "${var.curated_bucket_arn}/${tier}/*/_runs/*"]
  model_read_objects = concat(
    ["${var.curated_bucket_arn}/ods/*"],
    [for tier in slice(var.model_tiers, 0, length(var.model_tiers) - 1) : "${var.curated_bucket_arn}/${tier}/*/_runs/*"],
  )
  # Each source's ledger, beside its ODS data (etl_lambdas.ledger).
  ledger_objects = "${var.curated_bucket_arn}/ods/*/_ledger/*"

  # What each step may do beyond writing its own logs: step => policy JSON. Every step of
  # steps.yaml must have one (a missing key fails the plan).
  step_policies = {
    begin         = data.aws_iam_policy_document.begin.json
    register      = data.aws_iam_policy_document.register.json
    crawler-start = data.aws_iam_policy_document.crawler_start.json
    crawler-state = data.aws_iam_policy_document.crawler_state.json
    restate       = data.aws_iam_policy_document.restate.json
    write         = data.aws_iam_policy_document.write.json
    query-state   = data.aws_iam_policy_document.query_state.json
    audit-start   = data.aws_iam_policy_document.audit_start.json
    audit-verdict = data.aws_iam_policy_document.audit_verdict.json
    publish       = data.aws_iam_policy_document.publish.json
    finish        = data.aws_iam_policy_document.finish.json
    run-cost      = data.aws_iam_policy_document.run_cost.json
    notify        = data.aws_iam_policy_document.notify.json
    freshness     = data.aws_iam_policy_document.freshness.json
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.steps

  name              = local.log_groups[each.key]
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

# The Lambda service principal only: Lambda documents no aws:SourceAccount/aws:SourceArn
# for assuming an execution role ("Defining Lambda function permissions with an execution
# role", Lambda Developer Guide), so such a condition could make every invocation fail.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "function" {
  for_each = local.steps

  source_policy_documents = [local.step_policies[each.key]]

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${local.arn_suffix}:log-group:${local.log_groups[each.key]}:*"]
  }
}

resource "aws_iam_role" "this" {
  for_each = local.steps

  name               = "${var.name_prefix}-${each.key}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.steps

  name   = "${each.key}-step"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_lambda_function" "this" {
  for_each = local.steps

  function_name                  = local.function_names[each.key]
  description                    = each.value.description
  role                           = aws_iam_role.this[each.key].arn
  handler                        = each.value.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.function_environment[each.key]
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  tags = var.tags

  # The log group must exist first, or Lambda creates one without retention.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
