"""`python -m etl_local.bench.startup_probe run ...`: an `etl run` that stops at StartExecution.

For the benchmark's start-up measure: it runs the `etl` command line unchanged, and when
the runtime is about to send StartExecution (everything before it done: imports, server,
lake, deployment) it prints the wall-clock time on stdout, as JSON, and ends the command
without starting the execution, so the lake is left as it was. The caller subtracts the
time it spawned the process.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


class _ReachedStartExecution(Exception):
    def __init__(self, at: float) -> None:
        super().__init__("StartExecution reached")
        self.at = at


def main(argv: list[str]) -> int:
    import boto3

    def before_start_execution(**kwargs: Any) -> None:
        raise _ReachedStartExecution(time.time())

    # The runtime's clients are made by boto3.client, i.e. from the default session.
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.sfn.StartExecution", before_start_execution)
    from etl_local import cli

    try:
        cli.main(argv)
    except _ReachedStartExecution as reached:
        sys.stdout.write(json.dumps({"start_execution_at": reached.at}) + "\n")
        return 0
    sys.stderr.write("startup_probe: the command ended without reaching StartExecution\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
