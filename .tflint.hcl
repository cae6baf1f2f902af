# tflint, as `make lint` runs it: `.tools/tflint-<version>/bin/tflint --recursive --config
# <this file>` (built by `make setup` from the Go module proxy; no `tflint --init`, nothing
# downloaded). Deep checks stay off: they call AWS, which a lint must not need.
#
# The `terraform` ruleset is bundled in the tflint binary. The AWS ruleset
# (github.com/terraform-linters/tflint-ruleset-aws v0.48.0, the Makefile's TFLINT_AWS_VERSION)
# is built by `make setup` from the Go module proxy into the directory `make tflint` names in
# TFLINT_PLUGIN_DIR; without `version` and `source` below, tflint takes it as manually installed
# (`<plugin dir>/tflint-ruleset-aws`) and never downloads a release. Its rules check values
# against AWS's lists (Lambda runtimes, instance types, name patterns...), which Terraform's
# validate and the offline plan do not know.
config {
  call_module_type = "local"
  format           = "compact"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  # Deep checks call AWS's APIs (with credentials); the offline lint does not.
  deep_check = false
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
