output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = var.name_prefix
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = local.workgroup_arn
}
