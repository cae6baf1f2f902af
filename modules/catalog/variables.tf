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

variable "curated_bucket_name" {
  description = "Name of the curated bucket; the crawler reads s3://<curated>/ods/traffic/."
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
