variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "script_path" {
  description = "Local path of the PySpark script uploaded as the job's script (glue/convert_raw.py)."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Name of the bucket that holds the script and the job's temporary files (tmp/)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  type        = string
}

variable "raw_bucket_name" {
  description = "Name of the raw bucket; the job reads s3://<raw>/raw/traffic/."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "curated_bucket_name" {
  description = "Name of the curated bucket; the job writes s3://<curated>/ods/traffic/."
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
