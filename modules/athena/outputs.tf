output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = var.name_prefix
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = local.workgroup_arn
}

output "engine_version" {
  description = "The workgroup's engine (\"Athena engine version 3\" or \"DuckDB\"): the SQL dialect its queries are written in."
  value       = aws_athena_workgroup.this.configuration[0].engine_version[0].selected_engine_version
}
