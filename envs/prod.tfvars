# terraform init -backend-config=envs/prod.backend.hcl && terraform apply -var-file=envs/prod.tfvars
project = "lakepipe"
env     = "prod"
region  = "eu-west-1"

tags = {
  CostCenter = "data-platform"
}

force_destroy = false

athena_results_expiration_days        = 30
noncurrent_version_expiration_days    = 90
athena_bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB

# About 6.6 million events a day (DESIGN.md).
glue_worker_type         = "G.2X"
glue_number_of_workers   = 5
glue_job_timeout_minutes = 60

lambda_memory_size     = 512
lambda_timeout_seconds = 120
log_retention_days     = 90
# Reserved concurrency is opt-in: with the account's default quota (often 10 concurrent
# executions in new accounts) reserving 10 for each of 12 functions fails `apply`. Set
# lambda_reserved_concurrent_executions once the account's quota allows it.

keep_runs               = 3
max_concurrency         = 4
state_machine_log_level = "ERROR"

# 03:00 UTC: yesterday (Europe/Brussels) has fully arrived, late events included.
schedule_expression = "cron(0 3 * * ? *)"
schedule_enabled    = true

alarm_subscriptions = [
  { protocol = "email", endpoint = "data-platform-alerts@example.com" },
]
