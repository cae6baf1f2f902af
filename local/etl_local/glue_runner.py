"""Glue StartJobRun, run for real: the project's Glue script on local Spark.

moto records a job run and walks it through fake states. For the pipeline's job, this
module makes the run execute `glue/convert_raw.py` on a local SparkSession and report
Glue's JobRunState (RUNNING, then SUCCEEDED or FAILED with ErrorMessage), so the ASL's
`glue:startJobRun.sync` waits for the real outcome.

Local Spark has no S3 connector, so the run is staged: every declared source's raw objects
of the arrival window (and its ODS `_SOURCES` records) are copied from the local S3 into a
temporary directory, the script reads and writes local paths (the contract allows any Hadoop
path), the ODS partitions it converted replace theirs under s3://<curated>/ods/<source>/, and
its change reports are uploaded last to the run's changes path.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import inspect
import json
import logging
import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from moto.glue import models as glue_models

from etl_lambdas.sources import SourceError, Sources, parse_sources
from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
GLUE_SCRIPT = REPOSITORY_ROOT / "glue" / "convert_raw.py"

ClientFactory = Callable[[str], Any]


class GlueJobError(RuntimeError):
    """The staged Glue job could not run (bad arguments, missing script, Spark failure)."""


def _arrival_days(start: str, end: str) -> list[date]:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as error:
        raise GlueJobError(f"arrival window {start!r}..{end!r}: {error}") from None
    if last < first:
        raise GlueJobError(f"arrival window ends before it starts: {start}..{end}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _day_prefix(prefix: str, day: date) -> str:
    return f"{prefix}year={day:%Y}/month={day:%m}/day={day:%d}/"


def _split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise GlueJobError(f"expected an s3:// path, got {url!r}")
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


# The Glue script's record of what each ODS partition was made from (glue/convert_raw.py).
SOURCES_FILE = "_SOURCES"

_SPARK_LOCK = threading.Lock()
_SPARK: Any = None
_SPARK_RESOURCES: list[Any] = []


def spark_session(log_path: Path | None = None) -> Any:
    """The process's one local SparkSession (starting the JVM is the slow part).

    The JVM's own output (log4j lines, warnings about native Hadoop) goes to `log_path`
    rather than into the terminal, where the CLI prints the execution: the gateway is
    launched with its stdout and stderr redirected, which Spark's configuration alone
    cannot do for the driver JVM of local mode.
    """
    global _SPARK
    with _SPARK_LOCK:
        if _SPARK is None:
            from pyspark import SparkConf, SparkContext
            from pyspark.java_gateway import launch_gateway
            from pyspark.sql import SparkSession

            # Local mode talks to itself only; also silences Spark's hostname warning.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            conf = (
                SparkConf()
                .setMaster("local[*]")
                .setAppName("lakepipe-local-glue")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.sql.shuffle.partitions", "4")
                .set("spark.default.parallelism", "4")
                .set("spark.sql.session.timeZone", "UTC")
            )
            popen_kwargs: dict[str, Any] = {}
            if log_path is not None:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                log = log_path.open("ab")  # the JVM keeps writing to it while it lives
                popen_kwargs = {"stdout": log, "stderr": log}
                _SPARK_RESOURCES.append(log)
            gateway = launch_gateway(conf, popen_kwargs=popen_kwargs)
            context = SparkContext(conf=conf, gateway=gateway)
            _SPARK = SparkSession(context)
        return _SPARK


def stop_spark_session() -> None:
    """End the JVM, as every Glue job run ends its own: an idle local JVM holds over a GB
    while DuckDB runs the tiers. The next job run starts a new one (a few seconds)."""
    global _SPARK
    with _SPARK_LOCK:
        if _SPARK is None:
            return
        from pyspark import SparkContext

        gateway = SparkContext._gateway
        _SPARK.stop()
        _SPARK = None
        SparkContext._gateway = None
        SparkContext._jvm = None
        if gateway is not None:
            gateway.shutdown()
            # pyspark's gateway JVM exits when its stdin closes.
            process = getattr(gateway, "proc", None)
            if process is not None:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(timeout=60)
        while _SPARK_RESOURCES:
            _SPARK_RESOURCES.pop().close()


def _load_script(path: Path) -> ModuleType:
    if not path.is_file():
        raise GlueJobError(f"Glue script not found: {path}")
    spec = importlib.util.spec_from_file_location("lakepipe_glue_convert_raw", path)
    if spec is None or spec.loader is None:
        raise GlueJobError(f"cannot load Glue script {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses resolve annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class _StagedRun:
    """Where a job run's files are in S3: its arguments, as the script reads them."""

    sources: Sources
    raw_bucket: str
    raw_key: str
    ods_bucket: str
    ods_key: str
    changes_bucket: str
    changes_key: str
    run_id: str
    days: list[date]

    @classmethod
    def of(cls, arguments: dict[str, str]) -> _StagedRun:
        required = ("--sources", "--raw_root", "--ods_root")
        missing = [name for name in (*required, "--arrival_start_date", "--arrival_end_date")
                   if not arguments.get(name)]  # fmt: skip
        run_id = arguments.get("--run_id") or arguments.get("--JOB_RUN_ID", "")
        changes = arguments.get("--changes_path") or (
            f"{arguments['--changes_root'].rstrip('/')}/{run_id}/"
            if arguments.get("--changes_root") and run_id
            else ""
        )
        if not changes:
            missing.append("--changes_path (or --changes_root and a run id)")
        if missing:
            raise GlueJobError(f"missing job argument(s): {', '.join(missing)}")
        try:
            sources = parse_sources(json.loads(base64.b64decode(arguments["--sources"])))
        except (binascii.Error, ValueError, SourceError) as error:
            raise GlueJobError(f"--sources: {error}") from None
        raw_bucket, raw_key = _split_s3(_folder(arguments["--raw_root"]))
        ods_bucket, ods_key = _split_s3(_folder(arguments["--ods_root"]))
        changes_bucket, changes_key = _split_s3(_folder(changes))
        days = _arrival_days(arguments["--arrival_start_date"], arguments["--arrival_end_date"])
        return cls(
            sources, raw_bucket, raw_key, ods_bucket, ods_key, changes_bucket, changes_key,
            run_id, days,
        )  # fmt: skip


def _folder(url: str) -> str:
    return url.rstrip("/") + "/"


def _download(s3: Any, bucket: str, key: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    s3.download_file(bucket, key, str(target))


class LocalGlueJob:
    """Runs the pipeline's Glue job for one JobRun's arguments, staging S3 through a temp dir."""

    def __init__(
        self,
        settings: LocalSettings,
        clients: ClientFactory,
        script: Path = GLUE_SCRIPT,
        spark_log: Path | None = None,
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._script = script
        self._spark_log = spark_log
        self._run_lock = threading.Lock()

    def run(self, arguments: dict[str, str]) -> None:
        """Run the script with Glue-style arguments (`--name` -> value); raises on failure."""
        run = _StagedRun.of(arguments)
        s3 = self._clients("s3")
        started = time.monotonic()
        with self._run_lock, tempfile.TemporaryDirectory(prefix="lakepipe-glue-") as tmp:
            local = Path(tmp)
            recorded = self._stage_in(s3, run, local)
            staged_in = time.monotonic()
            local_paths = {
                "--raw_root": f"{local / 'raw'}/",
                "--ods_root": f"{local / 'ods'}/",
                "--changes_path": f"{local / 'changes'}/",
                "--run_id": run.run_id,
            }
            argv = [
                *(item for name, value in local_paths.items() for item in (name, value)),
                # Whatever else the job run was given (e.g. --force) reaches the script too.
                *(item for name, value in arguments.items()
                  if name not in local_paths and name != "--changes_root"
                  for item in (name, value)),
            ]  # fmt: skip
            try:
                self._run_script(argv)
            finally:
                stop_spark_session()
            script_done = time.monotonic()
            self._stage_out(s3, run, local, recorded)
            logger.info(
                "glue job run staged and ran",
                extra={
                    "stage_in_seconds": round(staged_in - started, 2),
                    "script_seconds": round(script_done - staged_in, 2),
                    "stage_out_seconds": round(time.monotonic() - script_done, 2),
                },
            )

    def _stage_in(self, s3: Any, run: _StagedRun, local: Path) -> dict[str, str]:
        """Copy each source's raw objects and ODS `_SOURCES` of the window's arrival days in;
        returns ODS partition directory (relative to the ODS root) -> its recorded content."""
        (local / "raw").mkdir()
        recorded: dict[str, str] = {}
        for source in run.sources:
            raw_prefix = f"{run.raw_key}{source.raw_prefix}"
            ods_prefix = f"{run.ods_key}{source.name}/"
            for day in run.days:
                for key in _keys(s3, run.raw_bucket, _day_prefix(raw_prefix, day)):
                    _download(s3, run.raw_bucket, key, local / "raw" / key[len(run.raw_key) :])
                # The script compares each partition's raw files with the _SOURCES it recorded.
                for key in _keys(s3, run.ods_bucket, _day_prefix(ods_prefix, day)):
                    if key.rpartition("/")[2] == SOURCES_FILE:
                        relative = key[len(run.ods_key) :]
                        target = local / "ods" / relative
                        _download(s3, run.ods_bucket, key, target)
                        recorded[relative.rpartition("/")[0]] = target.read_text()
        return recorded

    def _stage_out(self, s3: Any, run: _StagedRun, local: Path, recorded: dict[str, str]) -> None:
        """Replace in S3 exactly the partitions the job converted (a new or changed _SOURCES),
        then upload the change reports, with their S3 locations, last."""
        local_ods = local / "ods"
        for sources in sorted(local_ods.rglob(SOURCES_FILE)):
            relative = sources.parent.relative_to(local_ods).as_posix()
            if recorded.get(relative) == sources.read_text():
                continue  # unchanged raw files: the job left this partition alone
            self._replace_partition(s3, run, sources.parent, f"{run.ods_key}{relative}/")
        for report_path in sorted((local / "changes").glob("*.json")):
            report = json.loads(report_path.read_text())
            for partition in report["partitions"]:
                relative = partition["location"][len(f"{local_ods}/") :]
                partition["location"] = f"s3://{run.ods_bucket}/{run.ods_key}{relative}"
            s3.put_object(
                Bucket=run.changes_bucket,
                Key=f"{run.changes_key}{report_path.name}",
                Body=json.dumps(report, indent=2).encode() + b"\n",
            )

    @staticmethod
    def _replace_partition(s3: Any, run: _StagedRun, local_dir: Path, prefix: str) -> None:
        stale = list(_keys(s3, run.ods_bucket, prefix))
        for batch_start in range(0, len(stale), 1000):
            batch = stale[batch_start : batch_start + 1000]
            s3.delete_objects(
                Bucket=run.ods_bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
        for path in sorted(local_dir.iterdir()):
            if path.is_file() and not _is_spark_marker(path):
                s3.upload_file(str(path), run.ods_bucket, prefix + path.name)
        # Last, as the script wrote it: the partition counts as converted once its data is in.
        s3.upload_file(str(local_dir / SOURCES_FILE), run.ods_bucket, prefix + SOURCES_FILE)

    def _run_script(self, argv: list[str]) -> None:
        spark_session(self._spark_log)  # the script's builder.getOrCreate() reuses it
        module = _load_script(self._script)
        main = getattr(module, "main", None)
        if main is None:
            raise GlueJobError(f"{self._script} has no main()")
        # The script configures logging as a Glue driver would (basicConfig); in this
        # process the host's logging configuration stays: a root handler makes it a no-op.
        root = logging.getLogger()
        guard = logging.NullHandler() if not root.handlers else None
        if guard is not None:
            root.addHandler(guard)
        saved = sys.argv
        try:
            if inspect.signature(main).parameters:
                main(argv)
            else:
                sys.argv = [str(self._script), *argv]
                main()
        finally:
            sys.argv = saved
            if guard is not None:
                root.removeHandler(guard)


def _is_spark_marker(path: Path) -> bool:
    return path.name.startswith(("_", ".")) or path.name.endswith(".crc")


def _keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


# -- moto integration ---------------------------------------------------------------------
# The narrow patch: GlueBackend.start_job_run for jobs registered here. Other jobs keep
# moto's fake progression.

_JOBS: dict[str, LocalGlueJob] = {}
_PATCHED = False
_original_start_job_run = glue_models.GlueBackend.start_job_run


class _LocalSparkJobRun(glue_models.FakeJobRun):
    """A FakeJobRun whose state is the real run's, not moto's state manager's."""

    local_state: str
    local_error: str | None
    local_seconds: int

    @property
    def status(self) -> str | None:
        return self.local_state

    @status.setter
    def status(self, value: str) -> None:
        self.local_state = value

    def advance(self) -> None:
        # The state follows the real run; describing it must not move it.
        pass

    def as_dict(self) -> dict[str, Any]:
        result = super().as_dict()
        result["ExecutionTime"] = self.local_seconds
        result["GlueVersion"] = "5.0"
        if self.local_error:
            result["ErrorMessage"] = self.local_error
        return result


def _start_job_run(self: glue_models.GlueBackend, name: str, *args: Any, **kwargs: Any) -> str:
    run_id: str = _original_start_job_run(self, name, *args, **kwargs)
    job = _JOBS.get(name)
    if job is None:
        return run_id
    fake_job = self.get_job(name)
    job_run = cast(_LocalSparkJobRun, fake_job.get_job_run(run_id))
    job_run.__class__ = _LocalSparkJobRun
    job_run.local_state = "RUNNING"
    job_run.local_error = None
    job_run.local_seconds = 0
    # Glue passes every run its id, as --JOB_RUN_ID.
    arguments = {
        **(fake_job.default_arguments or {}),
        **(job_run.arguments or {}),
        "--JOB_RUN_ID": run_id,
    }
    threading.Thread(
        target=_execute, args=(job, job_run, arguments), name=f"glue-{run_id[:12]}", daemon=True
    ).start()
    return run_id


def _execute(job: LocalGlueJob, job_run: _LocalSparkJobRun, arguments: dict[str, str]) -> None:
    started = time.monotonic()
    try:
        job.run(arguments)
    except Exception as error:  # any failure of the job is the run's FAILED state
        logger.warning(
            "glue job run failed",
            extra={"job": job_run.job_name, "error": "".join(traceback.format_exception(error))},
        )
        job_run.local_error = f"{type(error).__name__}: {error}"
        job_run.local_state = "FAILED"
    else:
        job_run.local_state = "SUCCEEDED"
    finally:
        job_run.local_seconds = int(time.monotonic() - started)
        job_run.completed_on = glue_models.utcnow()


def register_job(job_name: str, job: LocalGlueJob) -> None:
    """Run `job_name`'s JobRuns with `job`; installs the patch on first use."""
    global _PATCHED
    if not _PATCHED:
        glue_models.GlueBackend.start_job_run = _start_job_run  # type: ignore[method-assign]
        _PATCHED = True
    _JOBS[job_name] = job


def unregister_job(job_name: str) -> None:
    _JOBS.pop(job_name, None)
