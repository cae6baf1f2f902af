output "database_names" {
  description = "Glue database names by tier: ods, dwd, dws, ads, staging."
  value       = { for tier, database in aws_glue_catalog_database.this : tier => database.name }
}

output "database_arns" {
  description = "Glue database ARNs by tier: ods, dwd, dws, ads, staging."
  value       = { for tier, database in aws_glue_catalog_database.this : tier => database.arn }
}

output "crawler_name" {
  description = "Name of the crawler that catalogues the ODS traffic table."
  value       = aws_glue_crawler.ods.name
}

output "crawler_arn" {
  description = "ARN of the crawler that catalogues the ODS traffic table."
  value       = aws_glue_crawler.ods.arn
}

output "security_configuration_name" {
  description = "Name of the Glue security configuration (S3, CloudWatch and bookmark encryption)."
  value       = aws_glue_security_configuration.this.name
}
