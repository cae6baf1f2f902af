# From the machines' own attributes, so a consumer (the schedule, the alarms) waits for them in
# the apply graph; the ARNs are built from their configured names, so they are known at plan.
output "state_machine_arn" {
  description = "ARN of the pipeline machine (the one the schedule and operators start)."
  value       = "${local.states_arn}:stateMachine:${aws_sfn_state_machine.this["pipeline"].name}"
}

output "state_machine_arns" {
  description = "ARNs of the machines: pipeline, and model (one child execution per model of a run)."
  value       = { for machine, state_machine in aws_sfn_state_machine.this : machine => "${local.states_arn}:stateMachine:${state_machine.name}" }
}

output "state_machine_name" {
  description = "Name of the pipeline machine."
  value       = aws_sfn_state_machine.this["pipeline"].name
}

output "state_machine_log_group_name" {
  description = "CloudWatch log group of the pipeline's executions."
  value       = aws_cloudwatch_log_group.this["pipeline"].name
}

output "state_machine_log_group_names" {
  description = "CloudWatch log groups of the machines' executions."
  value       = { for machine, group in aws_cloudwatch_log_group.this : machine => group.name }
}

output "role_arns" {
  description = "ARNs of the machines' IAM roles."
  value       = { for machine, role in aws_iam_role.this : machine => role.arn }
}
