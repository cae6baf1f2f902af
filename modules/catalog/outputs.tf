output "model_tiers" {
  description = "The model tiers in the order they run: dwd, dws, ads."
  value       = local.model_tiers
}

# From the databases' and crawlers' own attributes, so a consumer waits for them in the apply
# graph; the ARNs are built from their configured names, so they are known at plan.
output "database_names" {
  description = "Glue database names by tier: ods, dwd, dws, ads, staging."
  value       = { for tier, database in aws_glue_catalog_database.this : tier => database.name }
}

output "database_arns" {
  description = "Glue database ARNs by tier: ods, dwd, dws, ads, staging (known at plan)."
  value       = { for tier, database in aws_glue_catalog_database.this : tier => "${local.glue_arn_base}:database/${database.name}" }
}

output "crawler_names" {
  description = "Name of each source's crawler, by source."
  value       = { for source, crawler in aws_glue_crawler.ods : source => crawler.name }
}

output "crawler_arns" {
  description = "ARN of each source's crawler, by source (known at plan)."
  value       = { for source, crawler in aws_glue_crawler.ods : source => "${local.glue_arn_base}:crawler/${crawler.name}" }
}

output "crawler_arn_pattern" {
  description = "An ARN pattern that matches every source's crawler and no other, for IAM grants of callers that start them."
  value       = "${local.glue_arn_base}:crawler/${var.name_prefix}-ods-*"
}

output "crawler_role_arns" {
  description = "ARN of each source's crawler role, by source."
  value       = { for source, role in aws_iam_role.crawler : source => role.arn }
}

output "security_configuration_name" {
  description = "Name of the Glue security configuration (S3, CloudWatch and bookmark encryption)."
  value       = aws_glue_security_configuration.this.name
}
