# terraform init -backend-config=envs/dev.backend.hcl
# The bucket is created once, outside this configuration (README, "Bootstrap the state backend").
bucket       = "lakepipe-terraform-state-dev"
key          = "lakepipe/dev/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true # S3-native locking (Terraform >= 1.10), no DynamoDB table
