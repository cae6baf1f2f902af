variable "name_prefix" {
  description = "Prefix of every resource name: <project>-<env>; the table is <name_prefix>-run-lease."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the table; null uses the key DynamoDB owns."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the table (disposable environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
