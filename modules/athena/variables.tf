variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>; also the workgroup's name."
  type        = string
}

variable "results_bucket_name" {
  description = "Name of the bucket that receives query results (under athena/)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for query results (SSE_KMS); null uses SSE_S3."
  type        = string
  default     = null
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Queries scanning more bytes than this are cancelled (Athena's minimum is 10 MB)."
  type        = number
  default     = 107374182400

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB), Athena's minimum."
  }
}

variable "engine_version" {
  description = "The workgroup's engine, as ListEngineVersions names it: \"Athena engine version 3\" or \"DuckDB\"."
  type        = string
  default     = "Athena engine version 3"

  validation {
    condition     = contains(["Athena engine version 3", "DuckDB"], var.engine_version)
    error_message = "engine_version must be \"Athena engine version 3\" or \"DuckDB\"."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the workgroup with its saved queries and history."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
