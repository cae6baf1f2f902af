# From the functions' own attributes, so a consumer waits for them in the apply graph; the ARNs
# are built from their configured names, so they are still known at plan.
output "function_names" {
  description = "Function names by step."
  value       = { for step, function in aws_lambda_function.this : step => function.function_name }
}

output "function_arns" {
  description = "Function ARNs by step (known at plan)."
  value       = { for step, function in aws_lambda_function.this : step => "arn:${data.aws_partition.current.partition}:lambda:${local.arn_suffix}:function:${function.function_name}" }
}

output "function_role_arns" {
  description = "ARNs of the functions' IAM roles by step."
  value       = { for step, role in aws_iam_role.this : step => role.arn }
}

output "function_log_group_names" {
  description = "CloudWatch log group names of the functions by step."
  value       = { for step, group in aws_cloudwatch_log_group.this : step => group.name }
}

output "functions" {
  description = "Each step's function name and ARN, from the function resources: what refers to a function through this output is created after it."
  value       = { for step, function in aws_lambda_function.this : step => { name = function.function_name, arn = function.arn } }
}
