variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>; functions are <name_prefix>-<step>."
  type        = string
}

variable "model_tiers" {
  description = "The model tiers in the order they run (the catalog module's model_tiers)."
  type        = list(string)
}

variable "database_names" {
  description = "Glue database name by tier: ods, the model tiers, staging (the catalog module's database_names)."
  type        = map(string)
}

variable "glue_prefix" {
  description = "Prefix of the Glue database names (GLUE_DATABASE_PREFIX): <glue_prefix>_<tier>."
  type        = string
}

variable "zip_path" {
  description = "Path of the deployment package built by `make build` (build/lambda.zip)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime of the functions: the Python the zip's dependencies are built for (the Makefile's LAMBDA_PYTHON)."
  type        = string

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "runtime must be a Python runtime, e.g. python3.12."
  }
}

variable "architecture" {
  description = "Instruction set of the functions. One of x86_64, arm64 (must match the zip's binary wheels)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be one of x86_64, arm64."
  }
}

variable "memory_size" {
  description = "Memory of each function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Timeout of each function in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for each function; null leaves them on the account's unreserved pool."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 1, false)
    error_message = "reserved_concurrent_executions must be null or at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups. One of CloudWatch's allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's allowed values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the log groups; null uses CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "steps_path" {
  description = "Path of the steps declaration (lambdas/etl_lambdas/steps/steps.yaml): one function per entry."
  type        = string
}

variable "pipeline_time_zone" {
  description = "IANA time zone of the pipeline's logical dates (PIPELINE_TIME_ZONE), e.g. Europe/Brussels."
  type        = string
}

variable "max_backfill_days" {
  description = "Longest window a manual run may ask for (MAX_BACKFILL_DAYS)."
  type        = number
}

variable "late_data_lookback_days" {
  description = "Earlier days a run restates when late data arrived for them (LATE_DATA_LOOKBACK_DAYS)."
  type        = number
}

variable "keep_runs" {
  description = "Superseded runs kept per model for rollback after publish (KEEP_RUNS); 0 keeps none."
  type        = number

  validation {
    condition     = var.keep_runs >= 0 && floor(var.keep_runs) == var.keep_runs
    error_message = "keep_runs must be a whole number, 0 or more."
  }
}

variable "run_lease_table_name" {
  description = "Name of the DynamoDB table holding the run lease (RUN_LEASE_TABLE)."
  type        = string
}

variable "run_lease_table_arn" {
  description = "ARN of the DynamoDB table holding the run lease."
  type        = string
}

variable "lease_seconds" {
  description = "How long a run holds its lease unless it gives it back (LEASE_SECONDS): the pipeline machine's timeout."
  type        = number
}

variable "pipeline_state_machine_name" {
  description = "Name of the pipeline state machine, whose executions hold the run lease."
  type        = string
}

variable "model_state_machine_name" {
  description = "Name of the model state machine, whose executions (one per model of a run) the run-cost step reads."
  type        = string
}

variable "glue_job_arn" {
  description = "ARN of the conversion Glue job, whose runs the run-cost step and the notify step (its DPU-seconds) read."
  type        = string
}

variable "source_crawlers" {
  description = "The crawler of each declared source: source => {name, arn} (SOURCE_CRAWLERS)."
  type = map(object({
    name = string
    arn  = string
  }))
}

variable "athena_engine_version" {
  description = "Engine of the Athena workgroup (ATHENA_ENGINE_VERSION): the dialect of the SQL the write step sends."
  type        = string
}

variable "athena_workgroup_name" {
  description = "Name of the Athena workgroup (ATHENA_WORKGROUP)."
  type        = string
}

variable "athena_workgroup_arn" {
  description = "ARN of the Athena workgroup."
  type        = string
}

variable "raw_bucket_name" {
  description = "Name of the raw bucket (RAW_BUCKET), where the sources' files arrive (a selected run's begin step and the freshness check list them)."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "source_raw_prefixes" {
  description = "The raw_prefix of each declared source (sql/sources.yaml): the keys a selected run's begin step lists to see whether the ODS is current, and the freshness check lists."
  type        = list(string)

  validation {
    condition     = alltrue([for prefix in var.source_raw_prefixes : endswith(prefix, "/") && !startswith(prefix, "/")])
    error_message = "Each raw prefix must be a key prefix ending in '/', e.g. 'raw/traffic/'."
  }
}

variable "curated_bucket_name" {
  description = "Name of the curated bucket (CURATED_BUCKET)."
  type        = string
}

variable "curated_bucket_arn" {
  description = "ARN of the curated bucket."
  type        = string
}

variable "athena_results_bucket_arn" {
  description = "ARN of the bucket that receives Athena query results."
  type        = string
}

variable "data_kms_key_arn" {
  description = "ARN of the customer managed KMS key of the buckets, if any (roles that read or write data may use it)."
  type        = string
  default     = null
}

variable "sns_topic_arn" {
  description = "ARN of the notifications topic (SNS_TOPIC_ARN)."
  type        = string
}

variable "sns_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the topic, when it is the caller's (the notify function needs it to publish); null otherwise."
  type        = string
  default     = null
}

variable "sns_kms_key_alias" {
  description = "Alias of the KMS key created for the topic (its ARN is known only after apply); null with the caller's key."
  type        = string
  default     = null
}

variable "arrival_deadlines" {
  description = "By source: the UTC time of day (HH:MM) by which the day before's arrival partitions all hold a file (the freshness check's deadline)."
  type        = map(string)

  validation {
    condition     = alltrue([for deadline in values(var.arrival_deadlines) : can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", deadline))])
    error_message = "arrival_deadlines values must be UTC times of day, HH:MM."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the pipeline's own metrics (docs/contracts.md, Metrics); the functions may put metrics only there."
  type        = string
}

variable "glue_job_name" {
  description = "Name of the conversion Glue job (the notify step reads its run's DPU-seconds)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
