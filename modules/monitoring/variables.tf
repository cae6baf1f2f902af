variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the pipeline machine, whose failed, timed-out and aborted executions raise alarms (a model's failure fails the pipeline: one alarm, not two)."
  type        = string
}

variable "function_names" {
  description = "Lambda function names by step; each function's Errors raise an alarm."
  type        = map(string)
}

variable "alerts_topic_arn" {
  description = "ARN of the alerts topic the alarms publish to."
  type        = string
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
