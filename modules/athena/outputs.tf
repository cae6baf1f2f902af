# From the workgroup's own attributes, so a consumer waits for the workgroup in the apply graph;
# the ARN is built from its configured name, so it is still known at plan.
output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup (known at plan)."
  value       = "${local.arn_base}:workgroup/${aws_athena_workgroup.this.name}"
}

output "engine_version" {
  description = "The workgroup's engine (\"Athena engine version 3\" or \"DuckDB\"): the SQL dialect its queries are written in."
  value       = aws_athena_workgroup.this.configuration[0].engine_version[0].selected_engine_version
}
