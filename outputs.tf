output "name_prefix" {
  description = "Prefix of every resource name: `<project>-<env>`."
  value       = local.name_prefix
}

output "bucket_names" {
  description = "Bucket names by role: raw, curated, athena-results, artifacts."
  value       = module.storage.bucket_names
}

output "glue_database_names" {
  description = "Glue database names by tier: ods, dwd, dws, ads, staging."
  value       = module.catalog.database_names
}

output "glue_crawler_names" {
  description = "Name of each source's crawler, by source (it creates the source's ODS table and updates its schema)."
  value       = module.catalog.crawler_names
}

output "glue_job_name" {
  description = "Name of the Glue job that converts every source's raw files to ODS Parquet."
  value       = module.glue_job.job_name
}

output "athena_workgroup_name" {
  description = "Athena workgroup to query the tables with."
  value       = module.athena.workgroup_name
}

output "lambda_function_names" {
  description = "Lambda function names by step."
  value       = module.lambdas.function_names
}

output "state_machine_arn" {
  description = "ARN of the pipeline's state machine (aws stepfunctions start-execution --state-machine-arn ...)."
  value       = module.state_machine.state_machine_arn
}

output "state_machine_log_group_name" {
  description = "CloudWatch log group of the pipeline's executions."
  value       = module.state_machine.state_machine_log_group_name
}

output "schedule_rule_name" {
  description = "Name of the EventBridge rule that starts the pipeline daily."
  value       = module.schedule.schedule_rule_name
}

output "sns_topic_arn" {
  description = "ARN of the alerts topic."
  value       = module.alerts.topic_arn
}

output "model_state_machine_arn" {
  description = "ARN of the model machine: one child execution per model of a run."
  value       = module.state_machine.state_machine_arns["model"]
}

output "run_lease_table_name" {
  description = "DynamoDB table holding the run lease (one run at a time)."
  value       = module.run_lease.table_name
}

output "pipeline_time_zone" {
  description = "IANA time zone of the pipeline's logical dates (`etl --env` turns \"yesterday\" into a date with it)."
  value       = var.pipeline_time_zone
}

output "max_backfill_days" {
  description = "Longest window one execution may cover (`etl --env run` checks a backfill against it before starting it)."
  value       = var.max_backfill_days
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline: executions, duration, Athena bytes, Glue DPU-seconds, restated days, malformed lines, arrivals."
  value       = module.monitoring.dashboard_name
}

output "cloudwatch_alarm_names" {
  description = "The alarms by key: executions-failed, missed-run (with a schedule), raw-data-late-<source> (README, Runbook)."
  value       = module.monitoring.cloudwatch_alarm_names
}
