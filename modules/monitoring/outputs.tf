output "sns_topic_arn" {
  description = "ARN of the alerts topic (alarms and the notify step publish to it)."
  value       = aws_sns_topic.this.arn
}

output "sns_topic_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alerts topic."
  value       = local.kms_key_arn
}

output "cloudwatch_alarm_names" {
  description = "Names of the alarms: pipeline executions and function errors."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.executions : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
  )
}
