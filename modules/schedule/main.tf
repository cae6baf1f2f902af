data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  rule_name = "${var.name_prefix}-schedule"
  # Built from the name, so the trust policy naming the rule is known at plan.
  rule_arn = "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:rule/${local.rule_name}"
}

resource "aws_cloudwatch_event_rule" "this" {
  name                = local.rule_name
  description         = "Starts the ${var.name_prefix} pipeline (UTC); Plan turns the event's time into yesterday's date."
  schedule_expression = var.schedule_expression
  state               = var.enabled ? "ENABLED" : "DISABLED"

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    # Documented for rule targets ("Cross-service confused deputy prevention in Amazon
    # EventBridge"): aws:SourceArn must be the rule's ARN.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "StartPipeline"
    actions   = ["states:StartExecution"]
    resources = [var.state_machine_arn]
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-schedule-events"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "start-pipeline"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_cloudwatch_event_target" "this" {
  rule      = aws_cloudwatch_event_rule.this.name
  target_id = "pipeline"
  arn       = var.state_machine_arn
  role_arn  = aws_iam_role.this.arn

  # The execution input is the contract's {"time": "<ISO-8601 UTC>"} (a JSON string value
  # is inserted with its quotes).
  input_transformer {
    input_paths = {
      time = "$.time"
    }
    input_template = "{\"time\": <time>}"
  }
}
