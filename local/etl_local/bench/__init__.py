"""The benchmark (`make bench`, `python -m etl_local.bench`): a production-size day through
the local runtime against a DuckDB floor (`run`, `floor`), start-up on a measured and a
synthesized lake (`startup`, `startup_probe`), the process tree's memory (`process_tree`)
and the AWS cost of a run (`cost_model`). See docs/benchmark.md."""
