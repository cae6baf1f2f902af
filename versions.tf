terraform {
  # >= 1.10: the S3 backend's native locking (use_lockfile), no DynamoDB table.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=envs/<env>.backend.hcl`.
  backend "s3" {}
}
