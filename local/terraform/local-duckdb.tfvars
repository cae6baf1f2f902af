# The local environment on Athena's DuckDB engine: planned over local.tfvars (`make plan` ->
# build/plan-local-duckdb.json). Run it with `ETL_PLAN=build/plan-local-duckdb.json etl run`: the
# workgroup is a DuckDB one, the models run as `make build` translated them (build/sql/duckdb/),
# untranslated, on the DuckDB release Athena runs (.venv-duckdb). Use its own ETL_HOME: a lake's
# workgroup keeps the engine it was deployed with.
athena_engine_version = "DuckDB"
