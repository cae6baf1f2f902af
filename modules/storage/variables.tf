variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the buckets' default encryption; null uses SSE-S3."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets (for disposable environments only)."
  type        = bool
  default     = false
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_expiration_days >= 1
    error_message = "athena_results_expiration_days must be at least 1."
  }
}

variable "scratch_expiration_days" {
  description = "Days after which scratch objects (Glue temporary files under tmp/ in the artifacts bucket) are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.scratch_expiration_days >= 1
    error_message = "scratch_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded object version is kept in versioned buckets before deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
