variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "script_path" {
  description = "Local path of the PySpark script uploaded as the job's script (glue/convert_raw.py)."
  type        = string
}

variable "sources" {
  description = "The declared sources (sql/sources.yaml, decoded): the job converts each one's raw files (raw_prefix in the raw bucket) into s3://<curated>/ods/<name>/."
  type = list(object({
    name        = string
    description = optional(string, "")
    raw_prefix  = string
    arrival     = string
    format = object({
      type        = string
      delimiter   = optional(string)
      header      = optional(bool)
      null_values = optional(list(string))
    })
    columns = list(object({
      name  = string
      type  = string
      field = optional(string)
    }))
    event_time = object({
      column    = string
      format    = string
      time_zone = optional(string)
    })
  }))

  validation {
    condition     = length(var.sources) > 0 && alltrue([for source in var.sources : can(regex("^[a-z][a-z0-9_]{0,29}$", source.name))])
    error_message = "sources must be a non-empty list whose names match ^[a-z][a-z0-9_]{0,29}$."
  }

  validation {
    condition     = alltrue([for source in var.sources : can(regex("^([A-Za-z0-9._-]+/)+$", source.raw_prefix))])
    error_message = "Each source's raw_prefix must be a key prefix ending in '/', e.g. raw/traffic/."
  }
}

variable "pipeline_time_zone" {
  description = "IANA time zone the ledger counts event days in (--time_zone)."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Name of the bucket that holds the script, the job's temporary files (tmp/)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  type        = string
}

variable "raw_bucket_name" {
  description = "Name of the raw bucket; the job reads each source's raw_prefix in it."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "curated_bucket_name" {
  description = "Name of the curated bucket; the job writes s3://<curated>/ods/<source>/."
  type        = string
}

variable "curated_bucket_arn" {
  description = "ARN of the curated bucket."
  type        = string
}

variable "security_configuration_name" {
  description = "Name of the Glue security configuration the job runs with."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the buckets, if any (the job's role may use it)."
  type        = string
  default     = null
}

variable "execution_class" {
  description = "Glue execution class. One of STANDARD, FLEX (spare capacity at a lower price, with a variable start-up delay; G.1X and G.2X workers only)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "FLEX"], var.execution_class)
    error_message = "execution_class must be one of STANDARD, FLEX."
  }

  validation {
    # https://docs.aws.amazon.com/glue/latest/dg/add-job.html: flexible runs use G.1X or G.2X.
    condition     = var.execution_class != "FLEX" || contains(["G.1X", "G.2X"], var.worker_type)
    error_message = "execution_class FLEX needs a worker_type that is one of G.1X, G.2X."
  }
}

variable "worker_type" {
  description = "Glue worker type. One of G.1X, G.2X, G.4X, G.8X."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.worker_type)
    error_message = "worker_type must be one of G.1X, G.2X, G.4X, G.8X."
  }
}

variable "number_of_workers" {
  description = "Number of Glue workers (2 or more)."
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2 && floor(var.number_of_workers) == var.number_of_workers
    error_message = "number_of_workers must be a whole number, at least 2."
  }
}

variable "timeout_minutes" {
  description = "Minutes after which a job run is stopped."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_minutes >= 1 && var.timeout_minutes <= 2880
    error_message = "timeout_minutes must be between 1 and 2880."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
