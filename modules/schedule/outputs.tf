output "schedule_rule_name" {
  description = "Name of the EventBridge rule that starts the pipeline."
  value       = aws_cloudwatch_event_rule.this.name
}

output "schedule_rule_arn" {
  description = "ARN of the EventBridge rule that starts the pipeline."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "schedule_role_arn" {
  description = "ARN of the role EventBridge assumes to start executions."
  value       = aws_iam_role.this.arn
}
