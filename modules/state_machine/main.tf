data "aws_caller_identity" "current" {}

locals {
  machine_name = "${var.name_prefix}-pipeline"

  # Exactly the placeholders of asl/pipeline.asl.json (docs/contracts.md; tested against the file).
  definition_values = {
    plan_function_arn             = var.function_arns["plan"]
    crawler_start_function_arn    = var.function_arns["crawler-start"]
    crawler_state_function_arn    = var.function_arns["crawler-state"]
    write_function_arn            = var.function_arns["write"]
    query_state_function_arn      = var.function_arns["query-state"]
    audit_function_arn            = var.function_arns["audit"]
    publish_function_arn          = var.function_arns["publish"]
    notify_function_arn           = var.function_arns["notify"]
    glue_job_name                 = var.glue_job_name
    crawler_poll_seconds          = var.crawler_poll_seconds
    crawler_max_polls             = var.crawler_max_polls
    query_poll_seconds            = var.query_poll_seconds
    query_max_polls               = var.query_max_polls
    max_concurrency               = var.max_concurrency
    lambda_timeout_seconds        = var.lambda_timeout_seconds
    glue_job_timeout_seconds      = var.glue_job_timeout_seconds
    state_machine_timeout_seconds = var.timeout_seconds
  }
}

# /aws/vendedlogs/ keeps CloudWatch's log resource policy small (AWS's recommendation).
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vendedlogs/states/${local.machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid     = "InvokeStepFunctions"
    actions = ["lambda:InvokeFunction"]
    # The functions and their versions/aliases (Step Functions may call a qualified ARN).
    resources = flatten([for arn in values(var.function_arns) : [arn, "${arn}:*"]])
  }

  statement {
    sid = "RunGlueJob"
    # What glue:startJobRun.sync needs: Step Functions polls the run, no EventBridge rule.
    actions   = ["glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"]
    resources = [var.glue_job_arn]
  }

  statement {
    sid = "DeliverLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    # AWS requires "*": log delivery actions do not support resource-level permissions.
    resources = ["*"]
  }

  statement {
    sid = "Tracing"
    actions = [
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    # AWS requires "*": X-Ray's actions have no resource type.
    resources = ["*"]
  }
}

resource "aws_iam_role" "this" {
  name               = "${local.machine_name}-states"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "run-pipeline"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sfn_state_machine" "this" {
  name     = local.machine_name
  type     = "STANDARD"
  role_arn = aws_iam_role.this.arn
  # jsondecode/jsonencode: fails at plan on invalid JSON and ignores whitespace-only changes.
  definition = jsonencode(jsondecode(templatefile(var.definition_path, local.definition_values)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}
