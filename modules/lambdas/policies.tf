# One policy document per step (local.step_policies). Athena acts with the caller's
# permissions ("Access to Athena": a query reads its tables' catalog entries and data, a CTAS
# creates its table and partitions and writes its data, results are written to the results
# location, all as the caller), so the steps that start queries hold those grants too.

data "aws_iam_policy_document" "begin" {
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
}

data "aws_iam_policy_document" "register" {
  source_policy_documents = [data.aws_iam_policy_document.read_change_reports.json]

  statement {
    sid       = "RegisterOdsPartitions"
    actions   = ["glue:BatchCreatePartition", "glue:GetTable"]
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
  source_policy_documents = [data.aws_iam_policy_document.read_change_reports.json]
}

data "aws_iam_policy_document" "read_change_reports" {
  statement {
    sid       = "ListChangeReports"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["changes/*"]
    }
  }

  statement {
    sid       = "ReadChangeReports"
    actions   = ["s3:GetObject"]
    resources = [local.changes_objects]
  }
}

# What every caller that starts Athena queries needs besides its own statements: list the
# data it reads, write its query results, and use the data key.
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
    resources = concat(["${var.curated_bucket_arn}/ods/*"], local.model_tier_objects)
  }

  statement {
    sid       = "WriteStagedRuns"
    actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
    resources = local.model_tier_objects
  }
}

data "aws_iam_policy_document" "query_state" {
  statement {
    sid       = "ReadQueryStates"
    actions   = ["athena:BatchGetQueryExecution"]
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
    sid       = "ReadStagedRuns"
    actions   = ["s3:GetObject"]
    resources = local.model_tier_objects
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
    resources = local.model_tier_objects
  }
}

data "aws_iam_policy_document" "finish" {
  statement {
    sid       = "ReleaseRunLease"
    actions   = ["dynamodb:DeleteItem"]
    resources = [var.run_lease_table_arn]
  }

  statement {
    sid       = "ConsumeChangeReports"
    actions   = ["s3:DeleteObject"]
    resources = [local.changes_objects]
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
  source_policy_documents = [data.aws_iam_policy_document.put_metrics.json]

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
