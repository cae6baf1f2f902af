# From the job's own attributes, so a consumer waits for the job in the apply graph; the ARN
# is built from its configured name, so it is known at plan.
output "job_name" {
  description = "Name of the Glue job."
  value       = aws_glue_job.this.name
}

output "job_arn" {
  description = "ARN of the Glue job (known at plan)."
  value       = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:job/${aws_glue_job.this.name}"
}

output "job_role_arn" {
  description = "ARN of the Glue job's IAM role."
  value       = aws_iam_role.this.arn
}

output "job_script_location" {
  description = "S3 location of the job's script."
  value       = "s3://${var.artifacts_bucket_name}/${aws_s3_object.script.key}"
}
