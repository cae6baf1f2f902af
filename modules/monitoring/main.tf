data "aws_region" "current" {}

locals {
  region     = data.aws_region.current.region
  executions = { StateMachineArn = var.state_machine_arn }
  runbook    = "Runbook: README.md, section Runbook"

  # One metric query of an alarm; every query has every attribute (a metric or an expression).
  query_defaults = {
    expression  = null
    namespace   = null
    metric_name = null
    dimensions  = {}
    stat        = null
    period      = null
    return_data = false
  }

  # Every alarm, as data: what it watches (metric queries, one returned), when it fires and
  # what to do. Only what needs a human: errors the state machine retries or catches
  # (throttling, PipelineBusy, a Lambda error that a retry absorbs) raise no alarm; what they
  # end in, a failed execution, does.
  alarms = merge(
    {
      executions-failed = {
        description = "A ${var.name_prefix} pipeline execution FAILED, TIMED_OUT or was ABORTED: nothing after the failed step was published. A FAILED one also sent a failure notification naming the state, model and cause. Fix the cause, then re-run the window (${local.runbook}, Failed execution)."
        queries = {
          failed    = merge(local.query_defaults, { namespace = "AWS/States", metric_name = "ExecutionsFailed", dimensions = local.executions, stat = "Sum", period = var.alarm_period_seconds })
          timed_out = merge(local.query_defaults, { namespace = "AWS/States", metric_name = "ExecutionsTimedOut", dimensions = local.executions, stat = "Sum", period = var.alarm_period_seconds })
          aborted   = merge(local.query_defaults, { namespace = "AWS/States", metric_name = "ExecutionsAborted", dimensions = local.executions, stat = "Sum", period = var.alarm_period_seconds })
          # Arithmetic treats a missing value as 0 ("Using metric math", CloudWatch User Guide).
          ended_badly = merge(local.query_defaults, { expression = "failed + timed_out + aborted", return_data = true })
        }
        comparison         = "GreaterThanOrEqualToThreshold"
        threshold          = 1
        evaluation_periods = 1
        # An execution that did not end badly reports nothing: no data is no failure.
        treat_missing_data = "notBreaching"
        # OK means only that no further execution ended badly; the next success says more.
        notify_ok = false
      }
    },
    var.missed_run_after_seconds == null ? {} : {
      missed-run = {
        description = "No ${var.name_prefix} pipeline execution has SUCCEEDED for ${ceil(var.missed_run_after_seconds / 3600)} hours (the schedule's period, the longest a run may take, and a margin): a run failed, hangs or never started. See the executions, the schedule rule and its FailedInvocations (${local.runbook}, Missed run)."
        queries = {
          succeeded = merge(local.query_defaults, { namespace = "AWS/States", metric_name = "ExecutionsSucceeded", dimensions = local.executions, stat = "Sum", period = 3600 })
          # Every hour a value (0 without a success), so that the last N hours are exactly
          # what is evaluated; with no data at all the alarm treats missing data as breaching.
          succeeded_per_hour = merge(local.query_defaults, { expression = "FILL(succeeded, 0)", return_data = true })
        }
        comparison         = "LessThanThreshold"
        threshold          = 1
        evaluation_periods = ceil(var.missed_run_after_seconds / 3600)
        treat_missing_data = "breaching"
        notify_ok          = true
      }
    },
    {
      for source, deadline in var.freshness_sources : "raw-data-late-${replace(source, "_", "-")}" => {
        description = "Source ${source}: an arrival partition of its last due day holds no raw file (due by ${deadline} UTC the next day), or the hourly freshness check did not report. Find who delivers ${source} and what failed; the next runs then convert what arrives (${local.runbook}, Raw data late)."
        queries = {
          missing = merge(local.query_defaults, {
            namespace   = var.metrics_namespace
            metric_name = "MissingArrivalPartitions"
            dimensions  = { Source = source }
            stat        = "Maximum"
            period      = 3600
            return_data = true
          })
        }
        comparison         = "GreaterThanOrEqualToThreshold"
        threshold          = 1
        evaluation_periods = 1
        # The check reports every hour; its silence is an alarm too.
        treat_missing_data = "breaching"
        notify_ok          = true
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.evaluation_periods
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = each.value.notify_ok ? [var.alerts_topic_arn] : []

  dynamic "metric_query" {
    for_each = each.value.queries

    content {
      id          = metric_query.key
      expression  = metric_query.value.expression
      return_data = metric_query.value.return_data

      dynamic "metric" {
        for_each = metric_query.value.expression == null ? [metric_query.value] : []

        content {
          namespace   = metric.value.namespace
          metric_name = metric.value.metric_name
          dimensions  = metric.value.dimensions
          stat        = metric.value.stat
          period      = metric.value.period
        }
      }
    }
  }

  tags = var.tags
}

locals {
  day = 86400
  # The dashboard's graphs, as data: a title and CloudWatch's `metrics` array (dashboard body
  # structure, "Metric widget: metrics", CloudWatch API Reference). Per day, since the
  # pipeline runs once a day.
  graphs = [
    {
      title = "Executions by status (per day)"
      metrics = [for status in ["Started", "Succeeded", "Failed", "TimedOut", "Aborted"] :
        ["AWS/States", "Executions${status}", "StateMachineArn", var.state_machine_arn, { stat = "Sum", period = local.day, label = status }]
      ]
    },
    {
      title = "Execution duration (minutes)"
      metrics = [
        [{ expression = "duration_max / 60000", label = "longest", id = "longest" }],
        [{ expression = "duration_avg / 60000", label = "average", id = "average" }],
        ["AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn, { stat = "Maximum", period = local.day, id = "duration_max", visible = false }],
        ["AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn, { stat = "Average", period = local.day, id = "duration_avg", visible = false }],
      ]
    },
    {
      title = "Athena bytes scanned (per day)"
      # Athena publishes ProcessedBytes per workgroup, query state and query type ("Monitor
      # Athena query metrics with CloudWatch"): summed over the workgroup's.
      metrics = [
        [{ expression = "SUM(SEARCH('{AWS/Athena,QueryState,QueryType,WorkGroup} MetricName=\"ProcessedBytes\" WorkGroup=\"${var.athena_workgroup_name}\"', 'Sum', ${local.day}))", label = "bytes scanned", id = "scanned" }],
      ]
    },
    {
      title   = "Glue DPU-seconds (per day)"
      metrics = [[var.metrics_namespace, "GlueDPUSeconds", { stat = "Sum", period = local.day, label = "DPU-seconds" }]]
    },
    {
      title   = "Restated days (late data, per day)"
      metrics = [[var.metrics_namespace, "RestatedDays", { stat = "Sum", period = local.day, label = "days restated" }]]
    },
    {
      title   = "Malformed lines dropped (per day)"
      metrics = [for source in var.source_names : [var.metrics_namespace, "MalformedLines", "Source", source, { stat = "Sum", period = local.day, label = source }]]
    },
    {
      title   = "Arrival partitions missing, last due day"
      metrics = [for source in var.source_names : [var.metrics_namespace, "MissingArrivalPartitions", "Source", source, { stat = "Maximum", period = 3600, label = source }]]
    },
  ]
  widgets = concat(
    [
      {
        type = "alarm", x = 0, y = 0, width = 24, height = 3
        properties = {
          title  = "Alarms (what to do: README.md, section Runbook)"
          alarms = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
        }
      },
    ],
    [
      for index, graph in local.graphs : {
        type = "metric", x = (index % 2) * 12, y = 3 + floor(index / 2) * 6, width = 12, height = 6
        properties = {
          title   = graph.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          metrics = graph.metrics
        }
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.widgets })
}

# The freshness check: every hour, the freshness function with EventBridge's scheduled event
# (its `time` is the check's time).
resource "aws_cloudwatch_event_rule" "freshness" {
  count = length(var.freshness_sources) > 0 ? 1 : 0

  name                = "${var.name_prefix}-freshness-hourly"
  description         = "Every hour: has each declared source's raw data of its last due day arrived (metric MissingArrivalPartitions)."
  schedule_expression = "rate(1 hour)"

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "freshness" {
  count = length(var.freshness_sources) > 0 ? 1 : 0

  rule      = aws_cloudwatch_event_rule.freshness[0].name
  target_id = "freshness"
  arn       = var.freshness_function_arn
}

resource "aws_lambda_permission" "freshness" {
  count = length(var.freshness_sources) > 0 ? 1 : 0

  statement_id  = "FreshnessSchedule"
  action        = "lambda:InvokeFunction"
  function_name = var.freshness_function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.freshness[0].arn
}
