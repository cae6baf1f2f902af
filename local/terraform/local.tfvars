# The local runtime's deployment (`etl`): planned offline by `make plan` into
# build/plan-local.json, which the runtime deploys into its emulated AWS account
# (moto's 123456789012, the offline provider's default account). Never applied to AWS.
project = "lakepipe"
env     = "local"
region  = "eu-west-1"

force_destroy = true

# A manual backfill may cover a year of sample data.
max_backfill_days = 366

# Short polls: locally a crawl or a query takes a second, not minutes.
crawler_poll_seconds = 1
crawler_max_polls    = 120
query_poll_seconds   = 1
query_max_polls      = 600

# A run that finds the pipeline held waits briefly: locally an overlap is a test.
lease_retry_seconds = 1
lease_max_attempts  = 1

# A local step (Spark start, a cold import) may be slow on a laptop: Lambda's maximum.
lambda_timeout_seconds        = 900
glue_job_timeout_minutes      = 60
glue_retry_seconds            = 1
state_machine_timeout_seconds = 7200

max_concurrency = 4

log_retention_days      = 1
state_machine_log_level = "OFF"
schedule_enabled        = false
