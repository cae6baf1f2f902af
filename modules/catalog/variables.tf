variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>."
  type        = string
}

variable "glue_prefix" {
  description = "Prefix of the Glue database names: name_prefix with underscores (Athena wants no hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]+$", var.glue_prefix))
    error_message = "glue_prefix must contain only lowercase letters, digits and underscores."
  }
}

variable "source_names" {
  description = "Names of the declared sources (sql/sources.yaml): one ODS table and one crawler each, reading s3://<curated>/ods/<name>/."
  type        = list(string)

  validation {
    condition     = length(var.source_names) > 0 && alltrue([for name in var.source_names : can(regex("^[a-z][a-z0-9_]{0,29}$", name))])
    error_message = "source_names must be a non-empty list of names matching ^[a-z][a-z0-9_]{0,29}$."
  }

  validation {
    condition     = length(distinct(var.source_names)) == length(var.source_names)
    error_message = "source_names must not repeat a name."
  }
}

variable "curated_bucket_name" {
  description = "Name of the curated bucket; each crawler reads s3://<curated>/ods/<source>/."
  type        = string
}

variable "curated_bucket_arn" {
  description = "ARN of the curated bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key (buckets and Glue logs/bookmarks); null uses AWS-owned encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
