# Lake Formation permissions for an account whose Data Catalog is governed by Lake Formation
# (its databases and tables do not grant IAMAllowedPrincipals Super): there, a principal needs
# a Lake Formation permission on a database or table besides its IAM permission to use it ("Lake
# Formation permissions reference", AWS Lake Formation Developer Guide). Each principal of the
# pipeline gets exactly what its IAM policy uses the catalog for, on every table of a database
# (table wildcard, so tables the pipeline creates later are covered):
#
# - CREATE_TABLE on a database: creating tables in it (a crawler, a CTAS, Publish's first run);
# - DESCRIBE: reading a database's or a table's metadata (GetDatabase, GetTable...);
# - SELECT on tables: reading their data through Athena;
# - INSERT on tables: writing data and adding partitions (BatchCreatePartition, a CTAS);
# - ALTER on tables: changing a table's schema or partitions (UpdateTable, BatchUpdatePartition);
# - DROP on tables: deleting them (staging tables after Publish, and those of dead runs).
#
# What the grants do not cover, because Terraform cannot know it: an S3 location registered with
# Lake Formation also needs DATA_LOCATION_ACCESS for the principals that create tables or
# partitions there (README, "Lake Formation").
locals {
  read_tiers = concat(["ods"], slice(var.model_tiers, 0, length(var.model_tiers) - 1))

  # principal => database (tier) => what it may do with the database and with its tables.
  # Every principal also gets DESCRIBE on each database it uses.
  function_grants = {
    begin = { staging = { database = [], tables = ["DESCRIBE", "DROP"] } }
    # Register adds partitions, updates those converted again and gives a table the declared
    # columns (BatchCreatePartition, BatchUpdatePartition, UpdateTable).
    register = { ods = { database = [], tables = ["ALTER", "DESCRIBE", "INSERT"] } }
    write = merge(
      { for tier in local.read_tiers : tier => { database = [], tables = ["DESCRIBE", "SELECT"] } },
      { staging = { database = ["CREATE_TABLE"], tables = ["DESCRIBE", "DROP", "INSERT"] } },
    )
    # The audit reads the staged rows and, for the checks that compare with the past, the
    # model's published table and the upstream models it reconciles with.
    audit-start = merge(
      { for tier in var.model_tiers : tier => { database = [], tables = ["DESCRIBE", "SELECT"] } },
      { staging = { database = [], tables = ["DESCRIBE", "SELECT"] } },
    )
    publish = merge(
      { for tier in var.model_tiers : tier => { database = ["CREATE_TABLE"], tables = ["ALTER", "DESCRIBE", "INSERT"] } },
      { staging = { database = [], tables = ["DESCRIBE", "DROP"] } },
    )
  }
  crawler_grants = { ods = { database = ["CREATE_TABLE"], tables = ["ALTER", "DESCRIBE", "INSERT"] } }

  principals = merge(
    { for step, grants in local.function_grants : step => { role_arn = var.function_role_arns[step], grants = grants } },
    { for source, role_arn in var.crawler_role_arns : "crawler-${source}" => { role_arn = role_arn, grants = local.crawler_grants } },
  )
  uses = flatten([
    for who, principal in local.principals : [
      for tier, grant in principal.grants : {
        key       = "${who}/${tier}"
        principal = principal.role_arn
        database  = var.database_names[tier]
        on_db     = sort(distinct(concat(["DESCRIBE"], grant.database)))
        on_tables = sort(grant.tables)
      }
    ]
  ])
}

resource "aws_lakeformation_permissions" "database" {
  for_each = { for use in local.uses : use.key => use }

  principal   = each.value.principal
  permissions = each.value.on_db

  database {
    name = each.value.database
  }
}

resource "aws_lakeformation_permissions" "tables" {
  for_each = { for use in local.uses : use.key => use if length(use.on_tables) > 0 }

  principal   = each.value.principal
  permissions = each.value.on_tables

  table {
    database_name = each.value.database
    wildcard      = true
  }
}
