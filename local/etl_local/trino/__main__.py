"""`python -m etl_local.trino install|stop|watch`: what `make setup` and the shared server use.

install [--cache-dir DIR] [--uv PATH]   the server (and a Java 24+ when none is found)
stop [--state-dir DIR]                  stop the server `etl query --engine trino` left running
watch OWNER_PID SERVER_PID STATE_DIR    (internal) stop a server once its owner has ended
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .install import TrinoInstallError, cache_root, install
from .server import stop, watch


def user_state_dir(cache: Path | None = None) -> Path:
    """Where `etl query --engine trino` keeps its reusable server."""
    from .install import trino_home

    return trino_home(cache) / "run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl_local.trino")
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser("install")
    install_command.add_argument("--cache-dir", type=Path, default=None)
    install_command.add_argument("--uv", type=Path, default=None)
    stop_command = commands.add_parser("stop")
    stop_command.add_argument("--state-dir", type=Path, default=None)
    watch_command = commands.add_parser("watch")
    watch_command.add_argument("owner_pid", type=int)
    watch_command.add_argument("server_pid", type=int)
    watch_command.add_argument("state_dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "install":
        try:
            installation = install(args.cache_dir or cache_root(), args.uv)
        except (TrinoInstallError, OSError) as error:
            print(f"trino install: {error}", file=sys.stderr)
            return 1
        print(f"Trino server: {installation.home}\nJava: {installation.java_home}")
        return 0
    if args.command == "stop":
        stopped = stop(args.state_dir or user_state_dir())
        print("stopped" if stopped else "no Trino server was running")
        return 0
    watch(args.owner_pid, args.server_pid, args.state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
