data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  topic_name = "${var.name_prefix}-alerts"
  # Built from the name, so policies naming the topic are known at plan.
  arn_base    = "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  topic_arn   = "${local.arn_base}:${local.topic_name}"
  key_alias   = "alias/${local.topic_name}"
  account_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

# Key policies name the key they are attached to as "*".
data "aws_iam_policy_document" "topic_key" {
  # checkov:skip=CKV_AWS_109:In a key policy "*" is the key itself, not every resource.
  # checkov:skip=CKV_AWS_111:In a key policy "*" is the key itself, not every resource.
  # checkov:skip=CKV_AWS_356:In a key policy "*" is the key itself, not every resource.
  statement {
    sid = "AccountAdministersKey"
    # Listed, not "kms:*": enough to administer, rotate and delete the key, and to let
    # IAM policies in this account grant its use (e.g. to the notify function).
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    # AWS requires "*" in a key policy: it means the key the policy is attached to.
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_arn]
    }
  }

  statement {
    sid     = "CloudWatchAlarmsPublish"
    actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    # AWS requires "*" in a key policy: it means the key the policy is attached to.
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "topic" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Encrypts the ${local.topic_name} SNS topic."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.topic_key.json

  tags = var.tags
}

resource "aws_kms_alias" "topic" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = local.key_alias
  target_key_id = aws_kms_key.topic[0].key_id
}

resource "aws_sns_topic" "this" {
  name = local.topic_name
  # The alias of the key created here (SNS accepts an alias: "KmsMasterKeyId" in the SNS API
  # reference), known before apply, so a plan already shows the topic encrypted; or the
  # key the caller gives.
  kms_master_key_id = var.kms_key_arn == null ? aws_kms_alias.topic[0].name : var.kms_key_arn

  tags = var.tags
}

# Only what an identity policy cannot grant: CloudWatch alarms publishing (a service). The
# account's own roles publish with their identity policies (the notify step's role).
data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "this" {
  for_each = { for s in var.subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.this.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}
