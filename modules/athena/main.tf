data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  arn_base = "arn:${data.aws_partition.current.partition}:athena:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_athena_workgroup" "this" {
  name          = var.name_prefix
  description   = "Pipeline queries of ${var.name_prefix}: results in the results bucket, encrypted, bytes-scanned cutoff."
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    # Not enforced: Athena fails every CTAS with an external_location in a workgroup that
    # enforces its results location ("Troubleshoot workgroup errors", Athena User Guide), and
    # the write step stages each chunk at a run-unique location. What enforcement gave is kept
    # otherwise: the steps send no result configuration, so this one (location, encryption)
    # applies; their roles may write query results only to the results bucket; and the
    # per-query bytes-scanned cutoff applies to every query in the workgroup whatever its
    # client settings ("Configure per-query and per-workgroup data usage controls").
    enforce_workgroup_configuration    = false
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    # DuckDB workgroups reject CustomerContentEncryptionConfiguration, IdentityCenterConfiguration,
    # QueryResultsS3AccessGrantsConfiguration, ExecutionRole, MonitoringConfiguration and the
    # athena-query-engine-properties classification, and client-side encryption (CSE_KMS) of
    # results ("Considerations and limitations", Amazon Athena, powered by DuckDB): this
    # workgroup sets none of them, and encrypts results with SSE_S3 or SSE_KMS only.
    engine_version {
      selected_engine_version = var.engine_version
    }

    result_configuration {
      output_location = "s3://${var.results_bucket_name}/athena/"

      encryption_configuration {
        encryption_option = var.kms_key_arn == null ? "SSE_S3" : "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}
