"""`python -m etl_local.bench`: run the benchmark (etl_local.bench.run)."""

from etl_local.bench.run import main

if __name__ == "__main__":
    raise SystemExit(main())
