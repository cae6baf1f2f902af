variable "database_names" {
  description = "Glue database names by tier: ods, the model tiers, staging (module catalog's database_names)."
  type        = map(string)
}

variable "model_tiers" {
  description = "The model tiers in the order they run (a tier reads the ODS and the tiers before it)."
  type        = list(string)
}

variable "function_role_arns" {
  description = "ARNs of the functions' IAM roles by step (module lambdas' function_role_arns)."
  type        = map(string)
}

variable "crawler_role_arns" {
  description = "ARNs of the crawlers' IAM roles by source (module catalog's crawler_role_arns)."
  type        = map(string)
}
