variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>; the topic is <name_prefix>-alerts."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the topic; null creates one (CloudWatch alarms cannot publish to a topic encrypted with the AWS managed alias/aws/sns key)."
  type        = string
  default     = null
}

variable "subscriptions" {
  description = "Who receives alerts: a list of {protocol, endpoint}; protocol one of email, email-json, https, sqs, lambda, sms."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "email-json", "https", "sqs", "lambda", "sms"], s.protocol)])
    error_message = "Each protocol in subscriptions must be one of email, email-json, https, sqs, lambda, sms."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
