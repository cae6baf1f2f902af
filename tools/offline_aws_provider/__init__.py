"""An offline stand-in for the hashicorp/aws Terraform provider (plan only, never apply)."""
