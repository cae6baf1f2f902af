output "topic_arn" {
  description = "ARN of the alerts topic (alarms and the notify step publish to it)."
  value       = aws_sns_topic.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alerts topic."
  value       = local.kms_key_arn
}
