locals {
  execution_alarms = {
    failed    = "ExecutionsFailed"
    timed-out = "ExecutionsTimedOut"
    aborted   = "ExecutionsAborted"
  }
}

resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = local.execution_alarms

  alarm_name          = "${var.name_prefix}-pipeline-${each.key}"
  alarm_description   = "A ${var.name_prefix} pipeline execution ${replace(each.key, "-", " ")}."
  namespace           = "AWS/States"
  metric_name         = each.value
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.function_names

  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "The ${each.value} function raised errors (the state machine may have retried them)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]

  tags = var.tags
}
