# One run at a time: the pipeline's run lease lives in this table (one item). The begin step
# takes it with a conditional write, the finish step gives it back; its expires_at is the
# table's TTL attribute, so a lease nobody gave back also disappears by itself (DynamoDB
# deletes expired items within a few days: the begin step does not wait for that, it treats
# an expired lease as free).
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  table_name = "${var.name_prefix}-run-lease"
  arn_base   = "arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_dynamodb_table" "this" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = !var.force_destroy

  tags = var.tags
}
