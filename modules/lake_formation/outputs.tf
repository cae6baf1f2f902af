output "database_permissions" {
  description = "Lake Formation permissions granted on databases, by \"<principal>/<tier>\"."
  value       = { for key, grant in aws_lakeformation_permissions.database : key => grant.permissions }
}

output "table_permissions" {
  description = "Lake Formation permissions granted on every table of a database, by \"<principal>/<tier>\"."
  value       = { for key, grant in aws_lakeformation_permissions.tables : key => grant.permissions }
}
