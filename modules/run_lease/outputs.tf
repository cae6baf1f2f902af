# From the table's own attributes, so a consumer waits for the table in the apply graph; the
# ARN is built from its configured name, so it is still known at plan.
output "table_name" {
  description = "Name of the run lease table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the run lease table (known at plan)."
  value       = "${local.arn_base}:table/${aws_dynamodb_table.this.name}"
}
