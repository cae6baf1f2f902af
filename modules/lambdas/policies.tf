# One policy document per step (local.step_policies). Athena acts with the caller's
# permissions ("Access to Athena": a query reads its tables' catalog entries and data, a CTAS
# creates its table and partitions and writes its data, results are written to the results
# location, all as the caller), so the steps that start queries hold those grants too.

data "aws_iam_policy_document" "begin" {
  # The days settled since the last run: how far the run catches up; the raw files of a
  # selected run's window.
  source_policy_documents = [
    data.aws_iam_policy_document.read_ledger.json,
    data.aws_iam_policy_document.list_raw_arrivals.json,
  ]

  statement {
    sid       = "TakeRunLease"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [var.run_lease_table_arn]
  }

  statement {
    sid = "SeeWhetherLeaseHolderRuns"
    # The holder is an execution of the pipeline machine; one that ended loses its lease.
    actions   = ["states:DescribeExecution"]
    resources = ["arn:${data.aws_partition.current.partition}:states:${local.arn_suffix}:execution:${var.pipeline_state_machine_name}:*"]
  }

  statement {
    sid       = "DropStagingTablesOfDeadRuns"
    actions   = ["glue:DeleteTable", "glue:GetTables"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  # A run with a selection skips the Glue job when the ODS partitions' _SOURCES records list
  # every raw file of the window (etl_lambdas.ods_state): it lists both (the raw files through
  # list_raw_arrivals), reads the records.
  statement {
    sid       = "ListOdsRecords"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["ods/*"]
    }
  }

  statement {
    sid       = "ReadOdsRecords"
    actions   = ["s3:GetObject"]
    resources = ["${var.curated_bucket_arn}/ods/*/_SOURCES"]
  }

  dynamic "statement" {
    for_each = var.data_kms_key_arn == null ? [] : [var.data_kms_key_arn]

    content {
      sid       = "DecryptOdsRecords"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "register" {
  source_policy_documents = [data.aws_iam_policy_document.read_ledger.json]

  statement {
    sid = "RegisterOdsPartitions"
    # Partitions the ledger names are created, or updated when converted again after a
    # column's type changed; the table is given the declared columns.
    actions = [
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
      "glue:BatchUpdatePartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:UpdateTable",
    ]
    resources = concat([local.catalog], local.database_arns["ods"])
  }
}

data "aws_iam_policy_document" "crawler_start" {
  statement {
    sid       = "StartCrawlers"
    actions   = ["glue:StartCrawler"]
    resources = [for crawler in values(var.source_crawlers) : crawler.arn]
  }
}

data "aws_iam_policy_document" "crawler_state" {
  statement {
    sid       = "ReadCrawlerStates"
    actions   = ["glue:GetCrawler"]
    resources = [for crawler in values(var.source_crawlers) : crawler.arn]
  }
}

data "aws_iam_policy_document" "restate" {
  source_policy_documents = [data.aws_iam_policy_document.read_ledger.json]
}

data "aws_iam_policy_document" "read_ledger" {
  statement {
    sid       = "ListLedger"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["ods/*/_ledger/*"]
    }
  }

  statement {
    sid       = "ReadLedger"
    actions   = ["s3:GetObject"]
    resources = [local.ledger_objects]
  }
}

# What every caller that starts Athena queries needs besides its own statements: list the
# data it reads, write its query results, and use the data key.
#
# Athena writes query results to S3 with multipart uploads, as the caller ("Work with query
# results and recent queries", Athena User Guide), and AWS's policies for a principal that runs
# queries grant listing those uploads and their parts on the results location: the managed
# policy AmazonAthenaFullAccess (statement BaseQueryResultsPermissions) and the resolution of
# "Unable to verify/create output bucket" (AWS Knowledge Center, athena-output-bucket-error).
# They are granted on the results bucket only: nothing here lists uploads elsewhere.
#
# No grant on the `default` database: Athena needs access to the catalog and to the database a
# query runs in ("Configure access to databases and tables in the AWS Glue Data Catalog",
# "Configure AWS Glue access to your catalog and database per AWS Region"; the former
# "Mandatory: access policy to the default database" section is gone from that page), and every
# query of the steps names its database (QueryExecutionContext: the staging database), on
# which the callers hold glue:GetDatabase with the catalog.
data "aws_iam_policy_document" "athena_caller" {
  statement {
    sid       = "ListData"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [var.curated_bucket_arn, var.athena_results_bucket_arn]
  }

  statement {
    sid       = "QueryResults"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }

  statement {
    sid       = "ListQueryResultUploads"
    actions   = ["s3:ListBucketMultipartUploads"]
    resources = [var.athena_results_bucket_arn]
  }

  statement {
    sid       = "ListQueryResultUploadParts"
    actions   = ["s3:ListMultipartUploadParts"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }

  dynamic "statement" {
    for_each = var.data_kms_key_arn == null ? [] : [var.data_kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "write" {
  source_policy_documents = [data.aws_iam_policy_document.athena_caller.json]

  statement {
    sid       = "StartQueries"
    actions   = ["athena:StartQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid = "ReadSourceTables"
    actions = [
      "glue:BatchGetPartition",
      "glue:GetDatabase",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:GetTables",
    ]
    resources = concat(
      [local.catalog],
      local.model_read_databases, local.database_arns["staging"],
    )
  }

  statement {
    sid = "CreateStagingTables"
    # A partitioned CTAS creates its table and registers its partitions with the caller's
    # permissions, and Athena deletes the table of a CTAS that fails.
    actions   = ["glue:BatchCreatePartition", "glue:CreatePartition", "glue:CreateTable", "glue:DeleteTable"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid       = "ReadSources"
    actions   = ["s3:GetObject"]
    resources = local.model_read_objects
  }

  statement {
    # Each chunk's CTAS writes under its run's staging prefix, and nowhere else.
    sid       = "WriteStagedRuns"
    actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
    resources = local.model_run_objects
  }
}

data "aws_iam_policy_document" "query_state" {
  statement {
    sid       = "ReadQueryStates"
    actions   = ["athena:BatchGetQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    # A model that gives up on its queries (one failed, or they still run after the last poll)
    # stops those still running: Athena would run them to their end and bill them.
    sid       = "StopQueriesGivenUpOn"
    actions   = ["athena:StopQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }
}

data "aws_iam_policy_document" "audit_start" {
  source_policy_documents = [data.aws_iam_policy_document.athena_caller.json]

  statement {
    sid       = "StartChecks"
    actions   = ["athena:StartQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid = "ReadStagingTables"
    actions = [
      "glue:BatchGetPartition",
      "glue:GetDatabase",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:GetTables",
    ]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid = "ReadHistory"
    # The checks that compare with the past read the model's published days and, to
    # reconcile, an upstream model's (etl_lambdas.history_checks); the step looks up whether
    # the model's table is published yet.
    actions = [
      "glue:BatchGetPartition",
      "glue:GetDatabase",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:GetTables",
    ]
    resources = concat([local.catalog], local.model_tier_databases)
  }

  statement {
    sid       = "ReadStagedRuns"
    actions   = ["s3:GetObject"]
    resources = local.model_run_objects
  }

  # On Athena's DuckDB engine the step registers the staged partitions a CTAS left out of the
  # catalogue (etl_lambdas.staging.register_staged_partitions), listing the run's files with
  # the athena_caller statement's s3:ListBucket.
  dynamic "statement" {
    for_each = var.athena_engine_version == "DuckDB" ? ["staging"] : []

    content {
      sid       = "RegisterStagedPartitions"
      actions   = ["glue:BatchCreatePartition"]
      resources = concat([local.catalog], local.database_arns[statement.value])
    }
  }
}

data "aws_iam_policy_document" "audit_verdict" {
  statement {
    sid       = "ReadCheckResults"
    actions   = ["athena:GetQueryResults"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid = "ReadResultFiles"
    # GetQueryResults reads the result file from the results location as the caller.
    actions   = ["s3:GetObject"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }

  dynamic "statement" {
    for_each = var.data_kms_key_arn == null ? [] : [var.data_kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "publish" {
  statement {
    sid = "PublishPartitions"
    actions = [
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
      "glue:BatchUpdatePartition",
      "glue:CreateTable",
      "glue:GetPartitions",
      "glue:GetTable",
      "glue:UpdateTable",
    ]
    resources = concat(
      [local.catalog],
      local.model_tier_databases,
    )
  }

  statement {
    sid       = "ReadAndDropStagingTables"
    actions   = ["glue:DeleteTable", "glue:GetPartitions", "glue:GetTable"]
    resources = concat([local.catalog], local.database_arns["staging"])
  }

  statement {
    sid       = "ListRuns"
    actions   = ["s3:ListBucket"]
    resources = [var.curated_bucket_arn]
  }

  statement {
    sid       = "DeleteSupersededRuns"
    actions   = ["s3:DeleteObject"]
    resources = local.model_run_objects
  }
}

data "aws_iam_policy_document" "finish" {
  source_policy_documents = [data.aws_iam_policy_document.read_ledger.json]

  statement {
    sid       = "ReleaseRunLease"
    actions   = ["dynamodb:DeleteItem"]
    resources = [var.run_lease_table_arn]
  }

  statement {
    sid       = "SettleDays"
    actions   = ["s3:PutObject"]
    resources = ["${var.curated_bucket_arn}/ods/*/_ledger/settled.json"]
  }

  statement {
    sid       = "DeleteSettledEntries"
    actions   = ["s3:DeleteObject"]
    resources = ["${var.curated_bucket_arn}/ods/*/_ledger/runs/*"]
  }
}

# The run's cost from what AWS reports: the executions' histories (the run's and its model
# executions'), the Athena queries' statistics, the Glue job runs, the functions' memory and
# architecture (etl_lambdas.run_cost).
data "aws_iam_policy_document" "run_cost" {
  statement {
    sid     = "ReadRunHistories"
    actions = ["states:GetExecutionHistory"]
    resources = [
      for machine in [var.pipeline_state_machine_name, var.model_state_machine_name] :
      "arn:${data.aws_partition.current.partition}:states:${local.arn_suffix}:execution:${machine}:*"
    ]
  }

  statement {
    sid       = "ReadQueryStatistics"
    actions   = ["athena:BatchGetQueryExecution"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid       = "ReadGlueJobRuns"
    actions   = ["glue:GetJobRun"]
    resources = [var.glue_job_arn]
  }

  statement {
    sid       = "ReadFunctionConfigurations"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = values(local.function_arns)
  }
}

data "aws_iam_policy_document" "notify" {
  source_policy_documents = [data.aws_iam_policy_document.put_metrics.json]

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.sns_topic_arn]
  }

  statement {
    sid       = "ReadGlueJobRun"
    actions   = ["glue:GetJobRun"]
    resources = [var.glue_job_arn]
  }

  dynamic "statement" {
    for_each = var.sns_kms_key_arn == null ? [] : [var.sns_kms_key_arn]

    content {
      sid       = "EncryptNotifications"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  # The topic's key created with it has an ARN known only after apply; its alias is known
  # now. kms:ResourceAliases grants the use of exactly the key that carries that alias
  # ("kms:ResourceAliases", AWS KMS Developer Guide).
  dynamic "statement" {
    for_each = var.sns_kms_key_alias == null ? [] : [var.sns_kms_key_alias]

    content {
      sid       = "EncryptNotificationsWithTheTopicsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["arn:${data.aws_partition.current.partition}:kms:${local.arn_suffix}:key/*"]

      condition {
        test     = "ForAnyValue:StringEquals"
        variable = "kms:ResourceAliases"
        values   = [statement.value]
      }
    }
  }
}

data "aws_iam_policy_document" "freshness" {
  source_policy_documents = [
    data.aws_iam_policy_document.put_metrics.json,
    data.aws_iam_policy_document.list_raw_arrivals.json,
  ]
}

# The declared sources' raw arrival partitions, listed (not read): by a selected run's begin
# step and by the freshness check.
data "aws_iam_policy_document" "list_raw_arrivals" {
  statement {
    sid       = "ListRawArrivals"
    actions   = ["s3:ListBucket"]
    resources = [var.raw_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for prefix in var.source_raw_prefixes : "${prefix}*"]
    }
  }
}

# The pipeline's metrics, into this deployment's namespace only.
data "aws_iam_policy_document" "put_metrics" {
  statement {
    sid     = "PutPipelineMetrics"
    actions = ["cloudwatch:PutMetricData"]
    # AWS requires "*": PutMetricData has no resource type; the namespace condition key
    # scopes it ("Actions, resources, and condition keys for Amazon CloudWatch").
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }
}
