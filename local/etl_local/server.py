"""moto's server, in-process on 127.0.0.1: the local AWS endpoint.

Every client (ours, the Lambda handlers', DuckDB's, moto's own ASL executor, a user's
AWS CLI) talks to this one endpoint, so they all see the same S3, Glue, Athena and
Step Functions state.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


S3_OBJECT_MEMORY_BYTES = 64 * 1024


class LocalAwsServer:
    """Start/stop moto's ThreadedMotoServer on a free port and configure it for the pipeline."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._port: int | None = None
        self._previous_moto_port: str | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the local AWS server is not running")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        if self._server is not None:
            return
        # Port 0: the OS picks a free port; moto reports the one it bound.
        # One line per request on stderr would drown the console view; the execution
        # history carries every error the ASL executor meets.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        # moto keeps every S3 object below ~5 MB in memory: a production day's raw and
        # Parquet files would all be resident. Past this size they live in temp files
        # (the OS page cache still serves them).
        os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(S3_OBJECT_MEMORY_BYTES))
        server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        server.start()
        self._server = server
        self._port = server.get_host_and_port()[1]
        # moto's ASL executor builds its own clients for http://localhost:$MOTO_PORT.
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self._port)
        # The server's backends are process-global: start from a clean slate.
        self.post("/moto-api/reset", None)
        self.post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        logger.info("local AWS server started", extra={"endpoint": self.endpoint_url})

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        self._port = None
        if self._previous_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._previous_moto_port

    def post(self, path: str, body: dict[str, Any] | None) -> bytes:
        """POST to one of moto's own APIs (`/moto-api/...`)."""
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload: bytes = response.read()
            return payload

    def set_transition(self, model_name: str, transition: dict[str, Any]) -> None:
        """Configure how one of moto's state-managed models progresses (e.g. `glue::crawl`)."""
        self.post(
            "/moto-api/state-manager/set-transition",
            {"model_name": model_name, "transition": transition},
        )
