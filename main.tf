locals {
  name_prefix = "${var.project}-${var.env}"
  # Glue database names: Athena wants no hyphens (docs/contracts.md).
  glue_prefix = replace(local.name_prefix, "-", "_")
  # The lease names executions of the pipeline machine, so the functions know its name
  # before the machine (which needs their ARNs) exists.
  machine_names = {
    pipeline = "${local.name_prefix}-pipeline"
    model    = "${local.name_prefix}-model"
  }

  # The raw datasets, declared once for Terraform, the Lambdas and the Glue job; every
  # per-source resource (crawler, IAM prefixes, the job's arguments) derives from it.
  sources = yamldecode(file("${path.root}/${var.sources_path}")).sources
  # Each source's freshness deadline: its own arrives_by, or the deployment's.
  arrival_deadlines = { for source in local.sources : source.name => try(source.arrives_by, var.raw_arrival_deadline) }

  # The pipeline's own metrics (docs/contracts.md, Metrics): one namespace per deployment, the
  # only one its functions may write to.
  metrics_namespace = local.name_prefix

  # The schedule's period, for the missed-run alarm: from a rate(...) or a daily cron(...), or
  # as declared (schedule_period_minutes).
  schedule_rate = try(regex("^rate\\(([0-9]+) (minutes?|hours?|days?)\\)$", var.schedule_expression), null)
  schedule_unit = { minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }
  schedule_period_seconds = (
    var.schedule_period_minutes != null ? var.schedule_period_minutes * 60 :
    local.schedule_rate != null ? tonumber(local.schedule_rate[0]) * local.schedule_unit[local.schedule_rate[1]] :
    86400 # a daily cron(M H * * ? *), the only other form variables.tf accepts without schedule_period_minutes
  )

  tags = merge(
    {
      Project     = var.project
      Environment = var.env
      ManagedBy   = "terraform"
    },
    var.tags,
  )
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

module "storage" {
  source = "./modules/storage"

  name_prefix                        = local.name_prefix
  kms_key_arn                        = var.kms_key_arn
  force_destroy                      = var.force_destroy
  athena_results_expiration_days     = var.athena_results_expiration_days
  scratch_expiration_days            = var.scratch_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  tags                               = local.tags
}

module "catalog" {
  source = "./modules/catalog"

  name_prefix         = local.name_prefix
  glue_prefix         = local.glue_prefix
  source_names        = [for source in local.sources : source.name]
  curated_bucket_name = module.storage.bucket_names["curated"]
  curated_bucket_arn  = module.storage.bucket_arns["curated"]
  kms_key_arn         = var.kms_key_arn
  tags                = local.tags
}

module "athena" {
  source = "./modules/athena"

  name_prefix                    = local.name_prefix
  results_bucket_name            = module.storage.bucket_names["athena-results"]
  kms_key_arn                    = var.kms_key_arn
  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
  engine_version                 = var.athena_engine_version
  force_destroy                  = var.force_destroy
  tags                           = local.tags
}

module "glue_job" {
  source = "./modules/glue_job"

  name_prefix                 = local.name_prefix
  sources                     = local.sources
  pipeline_time_zone          = var.pipeline_time_zone
  script_path                 = "${path.root}/${var.glue_script_path}"
  artifacts_bucket_name       = module.storage.bucket_names["artifacts"]
  artifacts_bucket_arn        = module.storage.bucket_arns["artifacts"]
  raw_bucket_name             = module.storage.bucket_names["raw"]
  raw_bucket_arn              = module.storage.bucket_arns["raw"]
  curated_bucket_name         = module.storage.bucket_names["curated"]
  curated_bucket_arn          = module.storage.bucket_arns["curated"]
  security_configuration_name = module.catalog.security_configuration_name
  kms_key_arn                 = var.kms_key_arn
  worker_type                 = var.glue_worker_type
  number_of_workers           = var.glue_number_of_workers
  execution_class             = var.glue_execution_class
  timeout_minutes             = var.glue_job_timeout_minutes
  tags                        = local.tags
}

module "alerts" {
  source = "./modules/alerts"

  name_prefix   = local.name_prefix
  kms_key_arn   = var.sns_kms_key_arn
  subscriptions = var.alarm_subscriptions
  tags          = local.tags
}

module "monitoring" {
  source = "./modules/monitoring"

  name_prefix             = local.name_prefix
  state_machine_arn       = module.state_machine.state_machine_arn
  athena_workgroup_name   = module.athena.workgroup_name
  metrics_namespace       = local.metrics_namespace
  source_names            = [for source in local.sources : source.name]
  freshness_sources       = var.freshness_check_enabled ? local.arrival_deadlines : {}
  freshness_function_arn  = module.lambdas.functions["freshness"].arn
  freshness_function_name = module.lambdas.functions["freshness"].name
  # A run may succeed up to its timeout after it starts: the period, that, and the margin.
  missed_run_after_seconds = var.schedule_enabled ? local.schedule_period_seconds + var.state_machine_timeout_seconds + var.missed_run_margin_minutes * 60 : null
  alerts_topic_arn         = module.alerts.topic_arn
  tags                     = local.tags
}

module "run_lease" {
  source = "./modules/run_lease"

  name_prefix   = local.name_prefix
  kms_key_arn   = var.kms_key_arn
  force_destroy = var.force_destroy
  tags          = local.tags
}

module "lambdas" {
  source = "./modules/lambdas"

  name_prefix                    = local.name_prefix
  glue_prefix                    = local.glue_prefix
  model_tiers                    = module.catalog.model_tiers
  database_names                 = module.catalog.database_names
  steps_path                     = "${path.root}/lambdas/etl_lambdas/steps/steps.yaml"
  zip_path                       = "${path.root}/${var.lambda_zip_path}"
  architecture                   = var.lambda_architecture
  memory_size                    = var.lambda_memory_size
  timeout_seconds                = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrent_executions
  log_retention_days             = var.log_retention_days
  pipeline_time_zone             = var.pipeline_time_zone
  max_backfill_days              = var.max_backfill_days
  late_data_lookback_days        = var.late_data_lookback_days
  keep_runs                      = var.keep_runs
  run_lease_table_name           = module.run_lease.table_name
  run_lease_table_arn            = module.run_lease.table_arn
  lease_seconds                  = var.state_machine_timeout_seconds
  pipeline_state_machine_name    = local.machine_names.pipeline
  model_state_machine_name       = local.machine_names.model
  glue_job_arn                   = module.glue_job.job_arn
  source_crawlers                = { for source, name in module.catalog.crawler_names : source => { name = name, arn = module.catalog.crawler_arns[source] } }
  athena_workgroup_name          = module.athena.workgroup_name
  athena_engine_version          = module.athena.engine_version
  athena_workgroup_arn           = module.athena.workgroup_arn
  raw_bucket_name                = module.storage.bucket_names["raw"]
  raw_bucket_arn                 = module.storage.bucket_arns["raw"]
  source_raw_prefixes            = [for source in local.sources : source.raw_prefix]
  curated_bucket_name            = module.storage.bucket_names["curated"]
  curated_bucket_arn             = module.storage.bucket_arns["curated"]
  athena_results_bucket_arn      = module.storage.bucket_arns["athena-results"]
  arrival_deadlines              = local.arrival_deadlines
  metrics_namespace              = local.metrics_namespace
  glue_job_name                  = module.glue_job.job_name
  data_kms_key_arn               = var.kms_key_arn
  sns_topic_arn                  = module.alerts.topic_arn
  sns_kms_key_arn                = module.alerts.kms_key_arn
  sns_kms_key_alias              = module.alerts.kms_key_alias
  tags                           = local.tags

  # The zip is built for this runtime (Makefile: LAMBDA_PYTHON). A module input, so that tflint's
  # AWS ruleset checks the value where it is set (tflint reports a called module's issue only at
  # the caller's argument the value comes from).
  runtime = "python3.12"
}

module "state_machine" {
  source = "./modules/state_machine"

  machine_names            = local.machine_names
  pipeline_definition_path = "${path.root}/asl/pipeline.asl.json"
  model_definition_path    = "${path.root}/asl/model.asl.json"
  function_arns            = module.lambdas.function_arns
  glue_job_name            = module.glue_job.job_name
  glue_job_arn             = module.glue_job.job_arn
  crawler_poll_seconds     = var.crawler_poll_seconds
  crawler_max_polls        = var.crawler_max_polls
  query_poll_seconds       = var.query_poll_seconds
  query_settle_seconds     = var.query_settle_seconds
  query_max_polls          = var.query_max_polls
  audit_max_attempts       = var.audit_max_attempts
  max_concurrency          = var.max_concurrency
  lease_retry_seconds      = var.lease_retry_seconds
  lease_max_attempts       = var.lease_max_attempts
  lambda_timeout_seconds   = var.lambda_timeout_seconds + 10
  # A FLEX run may first wait for spare capacity.
  glue_job_timeout_seconds = var.glue_job_timeout_minutes * 60 + 300 + (var.glue_execution_class == "FLEX" ? var.glue_flex_start_allowance_seconds : 0)
  glue_retry_seconds       = var.glue_retry_seconds
  # A model cannot run longer than the run it belongs to.
  model_timeout_seconds = var.state_machine_timeout_seconds
  timeout_seconds       = var.state_machine_timeout_seconds
  log_level             = var.state_machine_log_level
  log_retention_days    = var.log_retention_days
  tags                  = local.tags
}

# Only in an account whose Data Catalog is governed by Lake Formation (README, "Lake Formation").
module "lake_formation" {
  source = "./modules/lake_formation"
  count  = var.catalog_access_control == "lake-formation" ? 1 : 0

  database_names     = module.catalog.database_names
  model_tiers        = module.catalog.model_tiers
  function_role_arns = module.lambdas.function_role_arns
  crawler_role_arns  = module.catalog.crawler_role_arns
}

module "schedule" {
  source = "./modules/schedule"

  name_prefix         = local.name_prefix
  schedule_expression = var.schedule_expression
  enabled             = var.schedule_enabled
  state_machine_arn   = module.state_machine.state_machine_arn
  tags                = local.tags
}
