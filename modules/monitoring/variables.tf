variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the pipeline machine, whose executions the alarms and the dashboard watch (a model's failure fails the pipeline: one alarm, not two)."
  type        = string
}

variable "athena_workgroup_name" {
  description = "Athena workgroup of the pipeline's queries (its bytes scanned are on the dashboard)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the pipeline's own metrics (docs/contracts.md, Metrics)."
  type        = string
}

variable "source_names" {
  description = "The declared sources (sql/sources.yaml): their malformed lines and arrivals are on the dashboard."
  type        = list(string)
}

variable "freshness_sources" {
  description = "By source: the UTC time of day (HH:MM) by which its raw data of the day before has arrived. Each gets a freshness alarm; empty: no freshness check."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for deadline in values(var.freshness_sources) : can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", deadline))])
    error_message = "freshness_sources values must be UTC times of day, HH:MM."
  }
}

variable "freshness_function_arn" {
  description = "ARN of the freshness check's function (the step freshness)."
  type        = string
}

variable "freshness_function_name" {
  description = "Name of the freshness check's function."
  type        = string
}

variable "missed_run_after_seconds" {
  description = "Seconds without a successful execution after which the missed-run alarm fires (rounded up to whole hours); null: no missed-run alarm (no schedule)."
  type        = number
  default     = null

  validation {
    # An alarm evaluates at most 7 days ("PutMetricAlarm", CloudWatch API Reference).
    condition     = var.missed_run_after_seconds == null ? true : var.missed_run_after_seconds >= 3600 && ceil(var.missed_run_after_seconds / 3600) * 3600 <= 604800
    error_message = "missed_run_after_seconds must be between 1 hour and 7 days (a CloudWatch alarm evaluates at most 7 days)."
  }
}

variable "alerts_topic_arn" {
  description = "ARN of the alerts topic the alarms publish to."
  type        = string
}

variable "alarm_period_seconds" {
  description = "Period over which failed, timed-out and aborted executions are counted (seconds, multiple of 60)."
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
