# Built from each bucket's `bucket` attribute: a consumer then waits for the bucket in the apply
# graph (a name rebuilt from strings would let it start before the bucket exists), and the
# value is still known at plan (the argument is configured), so policies naming it are too.
output "bucket_names" {
  description = "Bucket names by role: raw, curated, athena-results, artifacts."
  value       = { for role, bucket in aws_s3_bucket.this : role => bucket.bucket }
}

output "bucket_arns" {
  description = "Bucket ARNs by role: raw, curated, athena-results, artifacts (known at plan)."
  value       = { for role, bucket in aws_s3_bucket.this : role => "arn:${data.aws_partition.current.partition}:s3:::${bucket.bucket}" }
}
