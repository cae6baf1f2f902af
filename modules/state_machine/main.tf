data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  states_arn = "arn:${data.aws_partition.current.partition}:states:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"

  # The pipeline runs each model in a child execution of the model machine: a model's polls
  # count against the child's history (Step Functions' 25,000 events per execution), not the
  # pipeline's.
  machines = {
    pipeline = { name = var.machine_names.pipeline, template = var.pipeline_definition_path }
    model    = { name = var.machine_names.model, template = var.model_definition_path }
  }
  # ARNs from the names, so the policies naming them are known at plan.
  machine_arns      = { for machine, spec in local.machines : machine => "${local.states_arn}:stateMachine:${spec.name}" }
  model_machine_arn = local.machine_arns.model

  # The templates' placeholders: each step's function ARN, built from the steps' map, plus
  # names and numbers. Each template uses what it needs of this one map.
  definition_values = merge(
    { for step, arn in var.function_arns : "${replace(step, "-", "_")}_function_arn" => arn },
    {
      glue_job_name                 = var.glue_job_name
      model_state_machine_arn       = local.model_machine_arn
      crawler_poll_seconds          = var.crawler_poll_seconds
      crawler_max_polls             = var.crawler_max_polls
      query_poll_seconds            = var.query_poll_seconds
      query_settle_seconds          = var.query_settle_seconds
      query_max_polls               = var.query_max_polls
      audit_max_attempts            = var.audit_max_attempts
      max_concurrency               = var.max_concurrency
      lease_retry_seconds           = var.lease_retry_seconds
      lease_max_attempts            = var.lease_max_attempts
      lambda_timeout_seconds        = var.lambda_timeout_seconds
      glue_job_timeout_seconds      = var.glue_job_timeout_seconds
      glue_retry_seconds            = var.glue_retry_seconds
      model_timeout_seconds         = var.model_timeout_seconds
      state_machine_timeout_seconds = var.timeout_seconds
    },
  )

  # The functions each machine calls, read off its own template: a machine may invoke exactly
  # the functions its definition names.
  invoked_steps = {
    for machine, spec in local.machines : machine => [
      for placeholder in regexall("\\$\\{([a-z_]+)_function_arn\\}", file(spec.template)) :
      replace(placeholder[0], "_", "-")
    ]
  }
}

# /aws/vendedlogs/ keeps CloudWatch's log resource policy small (AWS's recommendation).
resource "aws_cloudwatch_log_group" "this" {
  for_each = local.machines

  name              = "/aws/vendedlogs/states/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

# Step Functions documents both keys for its service role's trust policy ("Prevent
# cross-service confused deputy issue" in the Step Functions Developer Guide).
data "aws_iam_policy_document" "assume" {
  for_each = local.machines

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

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.states_arn}:stateMachine:${each.value.name}"]
    }
  }
}

data "aws_iam_policy_document" "deliver_logs" {
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
}

data "aws_iam_policy_document" "model" {
  source_policy_documents = [data.aws_iam_policy_document.deliver_logs.json]

  statement {
    sid     = "InvokeSteps"
    actions = ["lambda:InvokeFunction"]
    # The functions and their versions/aliases (Step Functions may call a qualified ARN).
    resources = flatten([for step in local.invoked_steps.model : [var.function_arns[step], "${var.function_arns[step]}:*"]])
  }
}

data "aws_iam_policy_document" "pipeline" {
  source_policy_documents = [data.aws_iam_policy_document.deliver_logs.json]

  statement {
    sid       = "InvokeSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for step in local.invoked_steps.pipeline : [var.function_arns[step], "${var.function_arns[step]}:*"]])
  }

  statement {
    sid = "RunGlueJob"
    # What glue:startJobRun.sync needs: Step Functions polls the run, no EventBridge rule.
    actions   = ["glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"]
    resources = [var.glue_job_arn]
  }

  statement {
    sid       = "StartModelExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.model_machine_arn]
  }

  statement {
    sid       = "FollowModelExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["${local.states_arn}:execution:${local.machines.model.name}:*"]
  }

  statement {
    sid = "ModelExecutionEvents"
    # startExecution.sync waits through this managed rule ("IAM policies for calling Step
    # Functions from Step Functions", Step Functions Developer Guide).
    actions   = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    resources = ["arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
  }
}

# One document per machine, so that each role's policy is `data.aws_iam_policy_document.*`.
data "aws_iam_policy_document" "machine" {
  for_each = local.machines

  source_policy_documents = [each.key == "pipeline" ? data.aws_iam_policy_document.pipeline.json : data.aws_iam_policy_document.model.json]
}

resource "aws_iam_role" "this" {
  for_each = local.machines

  name               = "${each.value.name}-states"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.machines

  name   = "run-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.machine[each.key].json
}

resource "aws_sfn_state_machine" "this" {
  for_each = local.machines

  name     = each.value.name
  type     = "STANDARD"
  role_arn = aws_iam_role.this[each.key].arn
  # jsondecode/jsonencode: fails at plan on invalid JSON and ignores whitespace-only changes.
  definition = jsonencode(jsondecode(templatefile(each.value.template, local.definition_values)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this[each.key].arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}
