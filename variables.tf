variable "project" {
  description = "Project name, first part of every resource name (`<project>-<env>`)."
  type        = string
  default     = "lakepipe"

  validation {
    # Longest bucket name: <project>-staging-athena-results-<account>-<14-char region> <= 63.
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.project))
    error_message = "project must be 2-12 lowercase letters, digits or hyphens, starting with a letter (bucket names, at most 63 characters, are built from it)."
  }
}

variable "env" {
  description = "Environment name. One of dev, staging, prod; local is the local runtime's (local/terraform/local.tfvars)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod", "local"], var.env)
    error_message = "env must be one of dev, staging, prod (or local, the local runtime's)."
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Tags added to every resource (on top of Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}

variable "pipeline_time_zone" {
  description = "IANA time zone of the pipeline's logical dates (a day is a day there), e.g. Europe/Brussels."
  type        = string
  default     = "Europe/Brussels"

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", var.pipeline_time_zone))
    error_message = "pipeline_time_zone must be an IANA time zone name such as Europe/Brussels or UTC."
  }
}

variable "max_backfill_days" {
  description = "Longest window, in days, a manual run may ask for."
  type        = number
  default     = 92

  validation {
    condition     = var.max_backfill_days >= 1
    error_message = "max_backfill_days must be at least 1."
  }
}

variable "keep_runs" {
  description = "Superseded runs kept per model after publish, for rollback; 0 keeps only what is published."
  type        = number
  default     = 2

  validation {
    condition     = var.keep_runs >= 0 && floor(var.keep_runs) == var.keep_runs
    error_message = "keep_runs must be a whole number, 0 or more."
  }
}

variable "late_data_lookback_days" {
  description = "How many days before a run's window late-arriving events are restated (through every tier); older ones are counted and reported, not restated."
  type        = number
  default     = 7

  validation {
    condition     = var.late_data_lookback_days >= 0 && var.late_data_lookback_days <= 92 && floor(var.late_data_lookback_days) == var.late_data_lookback_days
    error_message = "late_data_lookback_days must be a whole number between 0 and 92."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for buckets, Athena results and Glue; null uses SSE-S3 / AWS-owned keys."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets and the Athena workgroup (disposable environments only)."
  type        = bool
  default     = false
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 30
}

variable "scratch_expiration_days" {
  description = "Days after which the Glue job's temporary files are deleted."
  type        = number
  default     = 7
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded object version is kept in the versioned buckets."
  type        = number
  default     = 30
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Queries scanning more bytes than this are cancelled."
  type        = number
  default     = 107374182400

  validation {
    # Athena's minimum ("WorkGroupConfiguration", BytesScannedCutoffPerQuery). Scale it with the
    # data: docs/capacity.md.
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10000000 && floor(var.athena_bytes_scanned_cutoff_per_query) == var.athena_bytes_scanned_cutoff_per_query
    error_message = "athena_bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10000000 (Athena's minimum)."
  }
}

variable "athena_engine_version" {
  description = "Engine of the Athena workgroup: \"Athena engine version 3\" (Trino; the models as written) or \"DuckDB\" (Amazon Athena, powered by DuckDB; the models as `make build` translates them to DuckDB SQL). DuckDB workgroups exist in us-east-1, us-east-2, us-west-2, eu-west-1 and ap-northeast-1 (Preview)."
  type        = string
  default     = "Athena engine version 3"

  validation {
    # Exactly as ListEngineVersions spells them: the values are case-sensitive ("Override the
    # engine for a single query", Athena User Guide).
    condition     = contains(["Athena engine version 3", "DuckDB"], var.athena_engine_version)
    error_message = "athena_engine_version must be \"Athena engine version 3\" or \"DuckDB\" (case-sensitive)."
  }

  validation {
    # "Amazon Athena, powered by DuckDB is available in Preview in the following AWS Regions"
    # ("Regions and availability", Athena User Guide).
    condition     = var.athena_engine_version != "DuckDB" || contains(["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"], var.region)
    error_message = "Athena's DuckDB engine is available in us-east-1, us-east-2, us-west-2, eu-west-1 and ap-northeast-1 only (Preview); choose one of them as region or \"Athena engine version 3\"."
  }
}

variable "sources_path" {
  description = "Path of the source declaration, relative to the root module: one entry per raw dataset (README, \"Adding a source\")."
  type        = string
  default     = "sql/sources.yaml"
}

variable "glue_worker_type" {
  description = "Glue worker type of the conversion job. One of G.1X, G.2X, G.4X, G.8X."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.glue_worker_type)
    error_message = "glue_worker_type must be one of G.1X, G.2X, G.4X, G.8X."
  }
}

variable "glue_number_of_workers" {
  description = "Number of Glue workers of the conversion job, the driver included (2 or more)."
  type        = number
  default     = 2

  validation {
    condition     = var.glue_number_of_workers >= 2 && floor(var.glue_number_of_workers) == var.glue_number_of_workers
    error_message = "glue_number_of_workers must be a whole number, at least 2."
  }
}

variable "glue_execution_class" {
  description = "Execution class of the conversion job. One of STANDARD, FLEX (spare capacity, about a third cheaper, starting after a variable delay; G.1X and G.2X only)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "FLEX"], var.glue_execution_class)
    error_message = "glue_execution_class must be one of STANDARD, FLEX."
  }
}

variable "glue_flex_start_allowance_seconds" {
  description = "Seconds a FLEX job run may wait for capacity before the state machine gives up on it, on top of its timeout."
  type        = number
  default     = 1800

  validation {
    condition     = var.glue_flex_start_allowance_seconds >= 0
    error_message = "glue_flex_start_allowance_seconds must be 0 or more."
  }
}

variable "glue_job_timeout_minutes" {
  description = "Minutes after which a conversion job run is stopped."
  type        = number
  default     = 60

  validation {
    # Glue: a job's timeout is less than 7 days (CreateJob, Timeout).
    condition     = var.glue_job_timeout_minutes >= 1 && var.glue_job_timeout_minutes < 10080 && floor(var.glue_job_timeout_minutes) == var.glue_job_timeout_minutes
    error_message = "glue_job_timeout_minutes must be a whole number of minutes from 1 to 10079 (Glue: less than 7 days)."
  }
}

variable "glue_retry_seconds" {
  description = "Seconds before a failed conversion job run is tried once more (with the same run id: it converges from what the failed run left)."
  type        = number
  default     = 60

  validation {
    condition     = var.glue_retry_seconds >= 1 && floor(var.glue_retry_seconds) == var.glue_retry_seconds
    error_message = "glue_retry_seconds must be a whole number of seconds, at least 1."
  }
}

variable "lambda_zip_path" {
  description = "Path of the deployment package built by `make build`."
  type        = string
  default     = "build/lambda.zip"
}

variable "lambda_architecture" {
  description = "Instruction set of the functions. One of x86_64, arm64 (must match the zip's binary wheels)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be one of x86_64, arm64."
  }
}

variable "lambda_memory_size" {
  description = "Memory of each function in MB."
  type        = number
  default     = 256
}

variable "lambda_timeout_seconds" {
  description = "Timeout of each function in seconds."
  type        = number
  default     = 60

  validation {
    # Lambda's maximum is 900 seconds.
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number of seconds from 1 to 900 (Lambda's maximum)."
  }
}

variable "lambda_reserved_concurrent_executions" {
  description = "Concurrency reserved for each function; null leaves them on the account's unreserved pool."
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the functions' and the state machine's log groups. One of CloudWatch's allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's allowed values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "glue_script_path" {
  description = "Path of the Glue job's PySpark script, relative to the root module."
  type        = string
  default     = "glue/convert_raw.py"
}

variable "crawler_poll_seconds" {
  description = "Seconds between two crawler state polls."
  type        = number
  default     = 30
}

variable "crawler_max_polls" {
  description = "Crawler state polls before a run fails."
  type        = number
  default     = 60
}

variable "query_poll_seconds" {
  description = "Seconds between two Athena query state polls."
  type        = number
  default     = 10

  validation {
    condition     = var.query_poll_seconds >= 1 && floor(var.query_poll_seconds) == var.query_poll_seconds
    error_message = "query_poll_seconds must be a whole number of seconds, at least 1."
  }
}

variable "query_settle_seconds" {
  description = "Seconds a query state poll may watch a running Athena query before handing back to the Wait: a query that ends within them (most summaries and audits) is seen at once. Bounded by the function's remaining time."
  type        = number
  default     = 5

  validation {
    condition     = var.query_settle_seconds >= 0 && var.query_settle_seconds <= 60
    error_message = "query_settle_seconds must be between 0 and 60."
  }
}

variable "query_max_polls" {
  description = "Athena query state polls before a run fails."
  type        = number
  default     = 180

  validation {
    # With query_poll_seconds, how long a query may run: at least Athena's DML timeout is useful
    # (docs/capacity.md); every poll turn is history events of a model execution (25,000 at most).
    condition     = var.query_max_polls >= 1 && var.query_max_polls <= 2000 && floor(var.query_max_polls) == var.query_max_polls
    error_message = "query_max_polls must be a whole number from 1 to 2000 (each poll adds history events to a model execution, which holds at most 25,000)."
  }
}

variable "audit_max_attempts" {
  description = "Audit queries a model may run when Athena reports a retryable failure."
  type        = number
  default     = 3

  validation {
    condition     = var.audit_max_attempts >= 1 && var.audit_max_attempts <= 10
    error_message = "audit_max_attempts must be between 1 and 10."
  }
}

variable "lease_retry_seconds" {
  description = "Seconds a run that finds another run holding the pipeline waits before trying again (doubling, at most 15 minutes)."
  type        = number
  default     = 60

  validation {
    condition     = var.lease_retry_seconds >= 1
    error_message = "lease_retry_seconds must be at least 1."
  }
}

variable "lease_max_attempts" {
  description = "Further tries of a run that finds another run holding the pipeline, before it fails naming that run (0: fail at once)."
  type        = number
  default     = 5

  validation {
    condition     = var.lease_max_attempts >= 0 && var.lease_max_attempts <= 20
    error_message = "lease_max_attempts must be between 0 and 20."
  }
}

variable "max_concurrency" {
  description = "Models of one tier processed in parallel."
  type        = number
  default     = 4

  validation {
    # An inline Map state runs at most 40 iterations at once (Step Functions service quotas).
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 40 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 40 (an inline Map's most concurrent iterations)."
  }
}

variable "state_machine_timeout_seconds" {
  description = "Timeout of a whole execution; keep it below the schedule's period."
  type        = number
  default     = 21600

  validation {
    # A Standard workflow runs at most a year; the schedule's period bounds it in practice.
    condition     = var.state_machine_timeout_seconds >= 60 && var.state_machine_timeout_seconds <= 31536000 && floor(var.state_machine_timeout_seconds) == var.state_machine_timeout_seconds
    error_message = "state_machine_timeout_seconds must be a whole number of seconds from 60 to 31536000 (a Standard workflow's year)."
  }
}

variable "state_machine_log_level" {
  description = "Execution history sent to CloudWatch Logs. One of ALL, ERROR, FATAL, OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "catalog_access_control" {
  description = "Who governs the Glue Data Catalog: iam (IAM policies alone: an account whose catalog grants IAMAllowedPrincipals, the default), or lake-formation (Terraform also grants each function and crawler the Lake Formation permissions it needs; README, \"Lake Formation\")."
  type        = string
  default     = "iam"

  validation {
    condition     = contains(["iam", "lake-formation"], var.catalog_access_control)
    error_message = "catalog_access_control must be one of iam, lake-formation."
  }
}

variable "schedule_expression" {
  description = "When the pipeline starts, in UTC: an EventBridge cron(...) or rate(...) expression."
  type        = string
  default     = "cron(0 4 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must start with cron( or rate(, e.g. cron(0 4 * * ? *)."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule starts executions (and, with it, the missed-run alarm watches them)."
  type        = bool
  default     = true
}

variable "schedule_period_minutes" {
  description = "Minutes between two scheduled runs, for the missed-run alarm; null derives it from schedule_expression, which must then be rate(...) or a daily cron(M H * * ? *)."
  type        = number
  default     = null

  validation {
    condition = (
      var.schedule_period_minutes != null ? var.schedule_period_minutes >= 1 :
      can(regex("^rate\\([0-9]+ (minutes?|hours?|days?)\\)$", var.schedule_expression)) ||
      can(regex("^cron\\([0-9]+ [0-9]+ [*?] \\* [*?] \\*\\)$", var.schedule_expression))
    )
    error_message = "schedule_period_minutes must be at least 1, and must be set when schedule_expression is neither rate(...) nor a daily cron(M H * * ? *): the missed-run alarm needs the schedule's period."
  }
}

variable "missed_run_margin_minutes" {
  description = "Minutes the missed-run alarm waits, beyond the schedule's period and the state machine's timeout (the longest a run may take to succeed), before no successful execution raises it."
  type        = number
  default     = 60

  validation {
    condition     = var.missed_run_margin_minutes >= 0 && floor(var.missed_run_margin_minutes) == var.missed_run_margin_minutes
    error_message = "missed_run_margin_minutes must be a whole number of minutes, 0 or more."
  }
}

variable "freshness_check_enabled" {
  description = "Whether an hourly check reports, per declared source, the arrival partitions of its last due day without a raw file, and a freshness alarm per source watches it."
  type        = bool
  default     = true
}

variable "raw_arrival_deadline" {
  description = "UTC time of day, HH:MM, by which every arrival partition of the day before holds a raw file; a source's arrives_by (sql/sources.yaml) overrides it."
  type        = string
  default     = "02:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.raw_arrival_deadline))
    error_message = "raw_arrival_deadline must be a UTC time of day, HH:MM (e.g. 02:00)."
  }
}

variable "alarm_subscriptions" {
  description = "Who receives alerts: a list of {protocol, endpoint}; protocol one of email, email-json, https, sqs, lambda, sms."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.alarm_subscriptions : contains(["email", "email-json", "https", "sqs", "lambda", "sms"], s.protocol)])
    error_message = "Each protocol in alarm_subscriptions must be one of email, email-json, https, sqs, lambda, sms."
  }
}

variable "sns_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the alerts topic; null creates one."
  type        = string
  default     = null
}
