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

# A daily run converts about a day of traffic (6.6 M JSON lines, ~300 MB gzipped in ~100
# objects; gzip does not split, so an object is a task) plus the app log. G.1X (4 vCPU, 16 GB,
# 1 DPU) x 3 is a driver and two 4-core executors: 8 objects at a time, the day in well under
# a minute, which is the billing minimum (5 x G.2X = 10 DPU-minutes bought 80 cores that wait
# on ~100 tasks). The second executor halves catch-up runs (restated days, backfills) and
# survives the loss of one. FLEX: the schedule has hours of slack, so spare capacity at
# $0.29 instead of $0.44 per DPU-hour is worth its variable start-up delay
# (glue_flex_start_allowance_seconds); manual re-runs wait the same way.
glue_worker_type         = "G.1X"
glue_number_of_workers   = 3
glue_execution_class     = "FLEX"
glue_job_timeout_minutes = 60

lambda_memory_size     = 512
lambda_timeout_seconds = 120
log_retention_days     = 90
# Reserved concurrency is opt-in: with the account's default quota (often 10 concurrent
# executions in new accounts) reserving 10 for each of the 14 functions fails `apply`. Set
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
