output "job_name" {
  description = "Name of the Glue job."
  value       = aws_glue_job.this.name
}

output "job_arn" {
  description = "ARN of the Glue job."
  value       = aws_glue_job.this.arn
}

output "job_role_arn" {
  description = "ARN of the Glue job's IAM role."
  value       = aws_iam_role.this.arn
}

output "job_script_location" {
  description = "S3 location of the job's script."
  value       = "s3://${var.artifacts_bucket_name}/${aws_s3_object.script.key}"
}
