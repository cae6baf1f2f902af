output "cloudwatch_alarm_names" {
  description = "Names of the alarms: pipeline executions and function errors."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.executions : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
  )
}
