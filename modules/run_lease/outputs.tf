output "table_name" {
  description = "Name of the run lease table."
  value       = local.table_name
}

output "table_arn" {
  description = "ARN of the run lease table (built from its name, known at plan)."
  value       = local.table_arn
}
