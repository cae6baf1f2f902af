output "bucket_names" {
  description = "Bucket names by role: raw, curated, athena-results, artifacts."
  value       = local.bucket_names
}

output "bucket_arns" {
  description = "Bucket ARNs by role: raw, curated, athena-results, artifacts (built from the names, known at plan)."
  value       = local.bucket_arns
}
