"""Glue StartJobRun, run for real: the project's Glue script on local Spark.

moto records a job run and walks it through fake states. For the pipeline's job, this
module makes the run execute `glue/convert_raw.py` on a local SparkSession and report
Glue's JobRunState (RUNNING, then SUCCEEDED or FAILED with ErrorMessage), so the ASL's
`glue:startJobRun.sync` waits for the real outcome.

Local Spark has no S3 connector; the script is given local paths instead of its s3://
arguments (the contract allows any Hadoop path). Its raw root is the raw bucket's folder in
the store, read in place (etl_local.object_store keeps each object at
`<store>/<bucket>/<key>`). Its ODS root is a staging directory on the same filesystem, holding
a copy of every declared source's `_SOURCES` of the window. When the script ends, whether it
succeeded or failed, what it wrote is committed to the bucket as S3 would hold it (on Glue
every write is in the bucket once made: a run that dies leaves what it wrote, and the ledger
is how the next attempt converges from it): per source, the partitions it replaced or deleted
(their files renamed into the store, one transaction per partition), then its ledger entry
(with the S3 locations), then the partitions' new `_SOURCES`, the job's own order.
The S3 requests of the run, modelled in etl_local.glue_access, are authorized as the job's
role before the job starts and before its output is committed.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import inspect
import json
import logging
import os
import shutil
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from moto.glue import models as glue_models

from etl_lambdas.prices import GLUE_DPUS_PER_WORKER
from etl_lambdas.sources import JobArgument, Source, SourceError, Sources, parse_sources
from etl_local import glue_access
from etl_local.glue_access import SOURCES_FILE, HourState, S3Location
from etl_local.object_access import Authorize, ObjectAccess, allow_all
from etl_local.object_store import ObjectStore, StagedFile

logger = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
GLUE_SCRIPT = REPOSITORY_ROOT / "glue" / "convert_raw.py"


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


def _location(name: str, url: str) -> S3Location:
    if not url.startswith("s3://"):
        raise GlueJobError(f"{name}: expected an s3:// path, got {url!r}")
    try:
        return S3Location.parse(url)
    except ValueError as error:
        raise GlueJobError(f"{name}: {error}") from None


# The local Spark the job runs on (Glue's own settings are Glue's; these are this machine's).
# A larger heap and the throughput collector: the job parses a day of JSON on two cores;
# with G1 in 1 GB the JVM spent ~15% more CPU (docs/benchmark.md). 1.5 GB rather than 2:
# the JVM may start while the Python process still holds DuckDB's memory of the last tiers.
SPARK_SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1536m",
}
JAVA_OPTIONS = ("-XX:+UseParallelGC",)

_SPARK_LOCK = threading.Lock()
_ARCHIVE_BEING_WRITTEN: tuple[Path, Path] | None = None
_SPARK: Any = None
_SPARK_RESOURCES: list[Any] = []


def spark_session(log_path: Path | None = None, class_archive: Path | None = None) -> Any:
    """The process's one local SparkSession (starting the JVM is the slow part).

    The JVM's own output (log4j lines, warnings about native Hadoop) goes to `log_path`
    rather than into the terminal, where the CLI prints the execution: the gateway is
    launched with its stdout and stderr redirected, which Spark's configuration alone
    cannot do for the driver JVM of local mode.

    `class_archive` is a class-data sharing archive of the classes Spark loads (Java's
    AppCDS): loading them from it instead of from Spark's jars takes about 40% less of the
    JVM's start. When it does not exist yet, this JVM writes it when it ends.
    """
    global _SPARK, _ARCHIVE_BEING_WRITTEN
    with _SPARK_LOCK:
        if _SPARK is None:
            from pyspark import SparkConf, SparkContext
            from pyspark.java_gateway import launch_gateway
            from pyspark.sql import SparkSession

            # pyspark keeps using a gateway JVM left by an earlier SparkSession of this
            # process (and would ignore ours, with its options): end it first (before the
            # SparkConf, which binds to the current JVM).
            _end_gateway()
            # Local mode talks to itself only; also silences Spark's hostname warning.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            conf = SparkConf().setMaster("local[*]").setAppName("lakepipe-local-glue")
            for name, value in SPARK_SETTINGS.items():
                conf.set(name, value)
            java_options = list(JAVA_OPTIONS)
            if class_archive is not None and class_archive.is_file():
                # -Xshare:auto (the default): an archive the JVM cannot use is ignored.
                java_options.append(f"-XX:SharedArchiveFile={class_archive}")
            elif class_archive is not None:
                class_archive.parent.mkdir(parents=True, exist_ok=True)
                # Written under a name of its own, renamed once complete (see stop).
                writing = class_archive.with_name(f".{class_archive.name}.{os.getpid()}")
                _ARCHIVE_BEING_WRITTEN = (writing, class_archive)
                java_options.append(f"-XX:ArchiveClassesAtExit={writing}")
            conf.set("spark.driver.extraJavaOptions", " ".join(java_options))
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


def _end_gateway(timeout: float = 60) -> None:
    """Stop the process's SparkContext, if any, and end its gateway JVM (it exits when its
    stdin closes)."""
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()
    gateway = SparkContext._gateway
    SparkContext._gateway = None
    SparkContext._jvm = None
    if gateway is not None:
        gateway.shutdown()
        process = getattr(gateway, "proc", None)
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=timeout)


def stop_spark_session() -> None:
    """End the JVM, as every Glue job run ends its own: an idle local JVM holds over a GB
    while DuckDB runs the tiers. The next job run starts a new one (a few seconds)."""
    global _SPARK, _ARCHIVE_BEING_WRITTEN
    with _SPARK_LOCK:
        if _SPARK is None:
            return
        _SPARK.stop()
        _SPARK = None
        # Writing the class archive at exit takes the JVM several seconds more.
        _end_gateway(timeout=60 if _ARCHIVE_BEING_WRITTEN is None else 300)
        while _SPARK_RESOURCES:
            _SPARK_RESOURCES.pop().close()
        if _ARCHIVE_BEING_WRITTEN is not None:
            written, archive = _ARCHIVE_BEING_WRITTEN
            _ARCHIVE_BEING_WRITTEN = None
            if written.is_file() and written.stat().st_size > 0:
                written.replace(archive)
            else:
                written.unlink(missing_ok=True)


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
class JobRunArguments:
    """A job run's arguments as the script reads them (docs/contracts.md, "Glue job")."""

    sources: Sources
    raw_root: S3Location
    ods_root: S3Location
    run_id: str
    days: list[date]

    @classmethod
    def of(cls, arguments: dict[str, str]) -> JobRunArguments:
        a = JobArgument
        required = (a.SOURCES, a.RAW_ROOT, a.ODS_ROOT, a.ARRIVAL_START_DATE, a.ARRIVAL_END_DATE)
        missing = [name for name in required if not arguments.get(name)]
        run_id = arguments.get(a.RUN_ID) or arguments.get("--JOB_RUN_ID", "")
        if not run_id:
            missing.append(a.RUN_ID)
        if missing:
            raise GlueJobError(f"missing job argument(s): {', '.join(missing)}")
        try:
            sources = parse_sources(json.loads(base64.b64decode(arguments[a.SOURCES])))
        except (binascii.Error, ValueError, SourceError) as error:
            raise GlueJobError(f"{a.SOURCES}: {error}") from None
        return cls(
            sources=sources,
            raw_root=_location(a.RAW_ROOT, arguments[a.RAW_ROOT]),
            ods_root=_location(a.ODS_ROOT, arguments[a.ODS_ROOT]),
            run_id=run_id,
            days=_arrival_days(arguments[a.ARRIVAL_START_DATE], arguments[a.ARRIVAL_END_DATE]),
        )


@dataclass(frozen=True)
class _SourceRun:
    """One declared source in a job run: where it is read and written, and what the lake
    holds for each arrival partition of the window."""

    source: Source
    raw: S3Location
    output: S3Location
    partitions: list[HourState]


class LocalGlueJob:
    """Runs the pipeline's Glue job for one JobRun's arguments, on the lake's files."""

    def __init__(
        self,
        objects: ObjectStore,
        script: Path = GLUE_SCRIPT,
        spark_log: Path | None = None,
        authorize: Authorize = allow_all,
        class_archive: Path | None = None,
    ) -> None:
        self._objects = objects
        self._script = script
        self._spark_log = spark_log
        self._authorize = authorize
        self._class_archive = class_archive
        self._run_lock = threading.Lock()
        # Each run's timings (seconds): what the benchmark's Glue estimate is made from.
        self.run_timings: list[dict[str, float]] = []

    def run(self, arguments: dict[str, str], principal: str = "") -> None:
        """Run the script with Glue-style arguments (`--name` -> value) as `principal` (the
        job's role); raises on failure, and then what it wrote before failing is in the lake,
        as on Glue."""
        job = JobRunArguments.of(arguments)
        access = ObjectAccess(self._objects, principal, self._authorize)
        started = time.monotonic()
        with self._run_lock, self._objects.staging_directory("glue") as staging:
            runs = [self._source_run(job, source) for source in job.sources]
            for run in runs:
                access.require_all(glue_access.read_requests(run.raw, run.output, run.partitions))
            local_ods = staging / "ods"
            recorded = {
                run.source.name: self._stage_sources(run, local_ods / run.source.name)
                for run in runs
            }
            raw_bucket = self._objects.bucket_directory(job.raw_root.bucket)
            raw_directory = raw_bucket / job.raw_root.prefix
            local_paths = {
                JobArgument.RAW_ROOT: f"{raw_directory}/",
                JobArgument.ODS_ROOT: f"{local_ods}/",
                JobArgument.RUN_ID: job.run_id,
            }
            argv = [
                *(item for name, value in local_paths.items() for item in (name, value)),
                # Whatever else the job run was given (e.g. --force) reaches the script too.
                *(item for name, value in arguments.items() if name not in local_paths
                  for item in (name, value)),
            ]  # fmt: skip
            staged_in = time.monotonic()
            try:
                jvm_seconds = self._run_script(argv)
            finally:
                stop_spark_session()
                script_done = time.monotonic()
                converted = sum(
                    self._commit(job, run, local_ods, recorded[run.source.name], access)
                    for run in runs
                )
            timings = {
                "prepare_seconds": round(staged_in - started, 2),
                # The script's own work, and before it the JVM's start (Glue's is not billed
                # the same way, nor as slow).
                "jvm_start_seconds": round(jvm_seconds, 2),
                "script_seconds": round(script_done - staged_in - jvm_seconds, 2),
                "commit_seconds": round(time.monotonic() - script_done, 2),
                "partitions_converted": converted,
            }
            self.run_timings.append(timings)
            logger.info("glue job run", extra=timings)

    def _source_run(self, job: JobRunArguments, source: Source) -> _SourceRun:
        raw = S3Location(job.raw_root.bucket, job.raw_root.key(source.raw_prefix.rstrip("/")))
        output = S3Location(job.ods_root.bucket, job.ods_root.key(source.name))
        folders = glue_access.window_partitions(job.days[0], job.days[-1], source.arrival)
        return _SourceRun(source, raw, output, self._hour_states(raw, output, folders))

    def _hour_states(
        self, raw: S3Location, output: S3Location, hours: list[str]
    ) -> list[HourState]:
        """Per arrival hour, the raw and output objects the lake holds now (from the index)."""
        return [
            HourState(
                hour,
                tuple(o.key for o in self._objects.iterate(raw.bucket, raw.key(hour) + "/")),
                tuple(o.key for o in self._objects.iterate(output.bucket, output.key(hour) + "/")),
            )
            for hour in hours
        ]

    def _stage_sources(self, run: _SourceRun, local_output: Path) -> dict[str, os.stat_result]:
        """Copy each partition's `_SOURCES` into the staging output (the script compares it
        with the raw files); returns partition -> the copy's stat, to tell which ones the
        job rewrote. Copies, not links: the script rewrites the file in place."""
        recorded: dict[str, os.stat_result] = {}
        for state in run.partitions:
            if not state.has_sources:
                continue
            stored = self._objects.get(
                run.output.bucket, run.output.key(f"{state.hour}/{SOURCES_FILE}")
            )
            if stored is None:
                continue
            target = local_output / state.hour / SOURCES_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stored.path, target)
            recorded[state.hour] = target.stat()
        return recorded

    def _run_script(self, argv: list[str]) -> float:
        """Runs the script's main(argv); returns the seconds the JVM took to start."""
        # The script's builder.getOrCreate() reuses it.
        started = time.monotonic()
        spark_session(self._spark_log, self._class_archive)
        jvm_seconds = time.monotonic() - started
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
        return jvm_seconds

    def _commit(
        self,
        job: JobRunArguments,
        run: _SourceRun,
        local_ods: Path,
        recorded: dict[str, os.stat_result],
        access: ObjectAccess,
    ) -> int:
        """What the script wrote for a source, in the script's order: each partition it
        replaced (old objects out, new files renamed in, one transaction), its ledger entry,
        then each partition's new `_SOURCES`. Returns how many partitions were replaced."""
        local_output = local_ods / run.source.name
        written = _written_partitions(local_output, run.partitions, recorded)
        entries = sorted((local_output / LEDGER_RUNS).glob("*.json"))
        access.require_all(
            glue_access.write_requests(
                run.output,
                {part: [p.name for p in files] for part, (files, _) in written.items()},
                run.partitions,
                ledger_entries=[path.name for path in entries],
            )
        )
        before = {state.hour: state.output_keys for state in run.partitions}
        output = run.output
        for partition, (files, _) in sorted(written.items()):
            self._objects.commit_staged(
                output.bucket,
                [StagedFile(path, output.key(f"{partition}/{path.name}")) for path in files],
                replacing=before.get(partition, ()),
            )
        local_root = f"{local_ods}/"
        ods_root = f"s3://{job.ods_root.bucket}/{job.ods_root.key()}".rstrip("/") + "/"
        for path in entries:
            entry = json.loads(path.read_text(encoding="utf-8"))
            for partition in entry.get("partitions", []):
                location = str(partition["location"])
                if location.startswith(local_root):
                    partition["location"] = ods_root + location[len(local_root) :]
            path.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
            key = output.key(f"{LEDGER_RUNS}/{path.name}")
            self._objects.commit_staged(output.bucket, [StagedFile(path, key)])
        for partition, (_, sources) in sorted(written.items()):
            if sources is not None:
                key = output.key(f"{partition}/{SOURCES_FILE}")
                self._objects.commit_staged(output.bucket, [StagedFile(sources, key)])
        return len(written)


# Where the script writes a source's ledger entries, under its ODS folder.
LEDGER_RUNS = "_ledger/runs"


def _written_partitions(
    local_output: Path, partitions: list[HourState], recorded: dict[str, os.stat_result]
) -> dict[str, tuple[list[Path], Path | None]]:
    """Partition folder -> (data files, new `_SOURCES` or None), for every partition of the
    window the script replaced or deleted: it wrote data files into it, or its `_SOURCES`
    copy is gone or was rewritten."""
    written: dict[str, tuple[list[Path], Path | None]] = {}
    for state in partitions:
        folder = local_output / state.hour
        files = (
            sorted(p for p in folder.iterdir() if p.is_file() and not _is_spark_marker(p))
            if folder.is_dir()
            else []
        )
        sources = folder / SOURCES_FILE
        now = sources.stat() if sources.is_file() else None
        before = recorded.get(state.hour)
        rewritten = now is not None and (
            before is None
            or (before.st_mtime_ns, before.st_size, before.st_ino)
            != (now.st_mtime_ns, now.st_size, now.st_ino)
        )
        deleted = before is not None and now is None
        if files or rewritten or deleted:
            written[state.hour] = (files, sources if rewritten else None)
    return written


def _is_spark_marker(path: Path) -> bool:
    return path.name.startswith(("_", ".")) or path.name.endswith(".crc")


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

    local_execution_class: str

    def as_dict(self) -> dict[str, Any]:
        result = super().as_dict()
        result["ExecutionTime"] = self.local_seconds
        result["GlueVersion"] = "5.0"
        # The capacity as GetJobRun reports it: the job's workers, their DPUs, the execution
        # class, and for Flex runs DPUSeconds ("populated only for Auto Scaling or Flex job
        # runs", JobRun, AWS Glue API); locally every worker runs the whole time.
        result["ExecutionClass"] = self.local_execution_class
        dpus = GLUE_DPUS_PER_WORKER.get(str(self.worker_type))
        if dpus is not None and self.number_of_workers:
            result["MaxCapacity"] = dpus * self.number_of_workers
            result.pop("AllocatedCapacity", None)
            if self.local_execution_class == "FLEX":
                result["DPUSeconds"] = float(self.local_seconds * result["MaxCapacity"])
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
    # A run without capacity arguments gets the job's (moto's run keeps its own defaults).
    requested = inspect.signature(_original_start_job_run).bind(self, name, *args, **kwargs)
    job_run.worker_type = requested.arguments.get("worker_type") or fake_job.worker_type
    job_run.number_of_workers = (
        requested.arguments.get("number_of_workers") or fake_job.number_of_workers
    )
    job_run.local_execution_class = fake_job.execution_class or "STANDARD"
    arguments = {**(fake_job.default_arguments or {}), **(job_run.arguments or {})}
    threading.Thread(
        target=_execute,
        args=(job, job_run, arguments, fake_job.role),
        name=f"glue-{run_id[:12]}",
        daemon=True,
    ).start()
    return run_id


def _execute(
    job: LocalGlueJob, job_run: _LocalSparkJobRun, arguments: dict[str, str], role: str
) -> None:
    started = time.monotonic()
    try:
        job.run(arguments, principal=role)
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


def registered_job(job_name: str) -> LocalGlueJob | None:
    """The job that runs `job_name`'s JobRuns (None when none is registered)."""
    return _JOBS.get(job_name)


def unregister_job(job_name: str) -> None:
    _JOBS.pop(job_name, None)
