output "cloudwatch_alarm_names" {
  description = "Names of the alarms by key: executions-failed, missed-run, raw-data-late-<source>."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the pipeline."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
