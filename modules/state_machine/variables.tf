variable "machine_names" {
  description = "Names of the two machines: pipeline (started by the schedule) and model (one child execution per model of a run)."
  type = object({
    pipeline = string
    model    = string
  })
}

variable "pipeline_definition_path" {
  description = "Path of the pipeline machine's ASL template (asl/pipeline.asl.json), rendered with templatefile()."
  type        = string
}

variable "model_definition_path" {
  description = "Path of the model machine's ASL template (asl/model.asl.json), rendered with templatefile()."
  type        = string
}

variable "function_arns" {
  description = "Lambda function ARNs by step (the steps of steps.yaml); each template names the ones it calls."
  type        = map(string)
}

variable "glue_job_name" {
  description = "Name of the Glue job the machine runs (glue:startJobRun.sync)."
  type        = string
}

variable "glue_job_arn" {
  description = "ARN of the Glue job the machine runs."
  type        = string
}

variable "crawler_poll_seconds" {
  description = "Seconds between two crawler state polls."
  type        = number
  default     = 30
}

variable "crawler_max_polls" {
  description = "Crawler state polls before the run fails (bounds the wait loop)."
  type        = number
  default     = 60
}

variable "query_poll_seconds" {
  description = "Seconds between two Athena query state polls."
  type        = number
  default     = 10
}

variable "query_settle_seconds" {
  description = "Seconds a query state poll may watch a running query before the machine's Wait."
  type        = number
  default     = 5

  validation {
    condition     = var.query_settle_seconds >= 0 && var.query_settle_seconds <= 60
    error_message = "query_settle_seconds must be between 0 and 60."
  }
}

variable "query_max_polls" {
  description = "Query state polls before the run fails (bounds the wait loop)."
  type        = number
  default     = 180
}

variable "audit_max_attempts" {
  description = "Audit queries a model may run when Athena says a failure is retryable (bounds the retry loop)."
  type        = number
  default     = 3

  validation {
    condition     = var.audit_max_attempts >= 1 && var.audit_max_attempts <= 10
    error_message = "audit_max_attempts must be between 1 and 10."
  }
}

variable "lease_retry_seconds" {
  description = "Seconds before a run that found another run holding the lease tries again (doubling each time, at most 15 minutes)."
  type        = number
  default     = 60
}

variable "lease_max_attempts" {
  description = "Further tries of a run that found another run holding the lease, before it fails naming that run."
  type        = number
  default     = 5

  validation {
    condition     = var.lease_max_attempts >= 0 && var.lease_max_attempts <= 20
    error_message = "lease_max_attempts must be between 0 and 20."
  }
}

variable "max_concurrency" {
  description = "Models of one tier processed in parallel (the Map state's MaxConcurrency)."
  type        = number
  default     = 4

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 40
    error_message = "max_concurrency must be between 1 and 40."
  }
}

variable "lambda_timeout_seconds" {
  description = "TimeoutSeconds of the Lambda tasks (at least the functions' own timeout)."
  type        = number
}

variable "glue_job_timeout_seconds" {
  description = "TimeoutSeconds of the Glue job task."
  type        = number
}

variable "glue_retry_seconds" {
  description = "Seconds before a failed Glue job run is tried once more, with the same run id."
  type        = number
}

variable "model_timeout_seconds" {
  description = "TimeoutSeconds of one model's child execution (and of the task that waits for it)."
  type        = number
}

variable "timeout_seconds" {
  description = "TimeoutSeconds of the whole machine; keep it below the schedule's period."
  type        = number
  default     = 21600
}

variable "log_level" {
  description = "Execution history sent to CloudWatch Logs. One of ALL, ERROR, FATAL, OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "include_execution_data" {
  description = "Include states' input and output in the logs."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the machine's log group. One of CloudWatch's allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's allowed values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the log group; null uses CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
