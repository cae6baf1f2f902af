# tflint, as `make lint` runs it: `.tools/tflint-<version>/bin/tflint --recursive --config
# <this file>` (built by `make setup` from the Go module proxy; no `tflint --init`, nothing
# downloaded). Deep checks stay off: they call AWS, which a lint must not need.
#
# The `terraform` ruleset is bundled in the tflint binary, so no plugin directory is needed.
# The AWS ruleset (github.com/terraform-linters/tflint-ruleset-aws) is not here: the Go module
# proxy refuses it ("This module version is not available", for its version list and for
# v0.40.0 to v0.45.0), and its GitHub release binaries cannot be downloaded on the machines the
# project builds on. When it can be installed (`tflint --init` with network), add:
#   plugin "aws" {
#     enabled    = true
#     version    = "0.45.0"
#     source     = "github.com/terraform-linters/tflint-ruleset-aws"
#     deep_check = false
#   }
config {
  call_module_type = "local"
  format           = "compact"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

rule "terraform_naming_convention" {
  enabled = true
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}

rule "terraform_standard_module_structure" {
  enabled = true
}

rule "terraform_unused_required_providers" {
  enabled = true
}
