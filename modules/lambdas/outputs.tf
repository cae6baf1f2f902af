output "function_names" {
  description = "Function names by step."
  value       = local.function_names
}

output "function_arns" {
  description = "Function ARNs by step."
  value       = local.function_arns
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
