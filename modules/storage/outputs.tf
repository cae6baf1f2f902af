output "bucket_names" {
  description = "Bucket names by role: raw, curated, athena-results, artifacts."
  value       = { for role, bucket in aws_s3_bucket.this : role => bucket.bucket }
}

output "bucket_arns" {
  description = "Bucket ARNs by role: raw, curated, athena-results, artifacts."
  value       = { for role, bucket in aws_s3_bucket.this : role => bucket.arn }
}
