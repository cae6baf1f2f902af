variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "schedule_expression" {
  description = "When the pipeline starts, in UTC: an EventBridge cron(...) or rate(...) expression."
  type        = string
  default     = "cron(0 4 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be an EventBridge expression starting with cron( or rate(, e.g. cron(0 4 * * ? *)."
  }
}

variable "enabled" {
  description = "Whether the schedule starts executions (false keeps the rule, disabled)."
  type        = bool
  default     = true
}

variable "state_machine_arn" {
  description = "ARN of the state machine the schedule starts."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
