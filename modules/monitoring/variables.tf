variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the state machine whose failed, timed-out and aborted executions raise alarms."
  type        = string
}

variable "function_names" {
  description = "Lambda function names by step; each function's Errors raise an alarm."
  type        = map(string)
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

variable "alarm_period_seconds" {
  description = "Period over which executions and errors are counted (seconds, multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60, at least 60."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
