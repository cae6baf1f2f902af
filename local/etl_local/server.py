"""moto's server, in-process on 127.0.0.1: the local AWS endpoint.

Every client (ours, the Lambda handlers', moto's own ASL executor, a user's AWS CLI) talks
to this one endpoint, so they all see the same S3, Glue, Athena and Step Functions state.
The local Athena, crawler and Glue job run in this process and use the same state directly.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

import boto3
from moto.core.base_backend import AccountSpecificBackend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


S3_OBJECT_MEMORY_BYTES = 64 * 1024
# How often the server loop looks for a stop request (werkzeug's default: 0.5 s, which every
# `etl` command would wait at exit).
_STOP_POLL_SECONDS = 0.02


class _MotoServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer, with a server loop that notices `stop` quickly."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            DomainDispatcherApplication(create_backend_app),
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=_STOP_POLL_SECONDS)


def _default_boto3_session(cls: type) -> boto3.Session:
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


class LocalAwsServer:
    """Start/stop moto's ThreadedMotoServer on a free port and configure it for the pipeline."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._port: int | None = None
        self._previous_moto_port: str | None = None
        self._moto_session: Any = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the local AWS server is not running")
        return self._port

    @property
    def moto_server(self) -> ThreadedMotoServer:
        """The running ThreadedMotoServer (the IAM hook goes in front of its application)."""
        if self._server is None:
            raise RuntimeError("the local AWS server is not running")
        return self._server

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
        # moto first holds a PUT's body in a FakeKey buffer (in memory below ~5 MB by default)
        # before etl_local.s3_disk writes it to the lake: past this size the transient copy
        # is a temp file, so large uploads are not resident twice.
        os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(S3_OBJECT_MEMORY_BYTES))
        # moto reads each service's regions from the service's model through a boto3 Session
        # of its own, then the runtime's clients read the same model again through the
        # default one: sharing the default session parses each model once per process.
        self._moto_session = AccountSpecificBackend.__dict__["get_session"]
        AccountSpecificBackend.get_session = classmethod(_default_boto3_session)  # type: ignore[assignment,method-assign]
        server = _MotoServer(ip_address=HOST, port=0, verbose=False)
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
        # moto's configuration is process-global too: leave it as moto's default, so that a
        # mock_aws() used later in the process does not execute state machines.
        self.post("/moto-api/config", {"stepfunctions": {"execute_state_machine": False}})
        self._server.stop()
        self._server = None
        self._port = None
        AccountSpecificBackend.get_session = self._moto_session  # type: ignore[method-assign]
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
