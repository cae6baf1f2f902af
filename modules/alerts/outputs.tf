# Built from the topic's own name attribute: a consumer waits for the topic in the apply graph,
# and the ARN is still known at plan.
output "topic_arn" {
  description = "ARN of the alerts topic (alarms and the notify step publish to it); known at plan."
  value       = "${local.arn_base}:${aws_sns_topic.this.name}"
}

output "kms_key_arn" {
  description = "ARN of the caller's KMS key that encrypts the topic, or null when the key is created here (see kms_key_alias)."
  value       = var.kms_key_arn
}

output "kms_key_alias" {
  description = "Alias of the KMS key created here for the topic (its ARN is known only after apply), or null with the caller's key."
  value       = var.kms_key_arn == null ? local.key_alias : null
}
