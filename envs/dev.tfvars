# terraform init -backend-config=envs/dev.backend.hcl && terraform apply -var-file=envs/dev.tfvars
project = "lakepipe"
env     = "dev"
region  = "eu-west-1"

tags = {
  CostCenter = "data-platform-dev"
}

# Disposable: buckets and workgroup may be destroyed with their contents.
force_destroy = true

athena_results_expiration_days        = 7
noncurrent_version_expiration_days    = 7
athena_bytes_scanned_cutoff_per_query = 10737418240 # 10 GiB

# The smallest job (a driver and one 4-core executor, 2 DPU) converts a dev day well within
# the one-minute billing minimum; STANDARD starts at once, for runs started by hand.
glue_worker_type         = "G.1X"
glue_number_of_workers   = 2
glue_execution_class     = "STANDARD"
glue_job_timeout_minutes = 30

lambda_memory_size     = 256
lambda_timeout_seconds = 60
log_retention_days     = 7

max_concurrency         = 2
state_machine_log_level = "ALL"

# 05:00 UTC, after prod's run; only a dev's own data.
schedule_expression = "cron(0 5 * * ? *)"
schedule_enabled    = false

# No deliveries to watch: no freshness check nor alarms (no schedule: no missed-run alarm).
freshness_check_enabled = false

alarm_subscriptions = []
