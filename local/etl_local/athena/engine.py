"""The local Athena: query executions with Athena's lifecycle, executed on DuckDB.

Queries run one at a time on a background worker (QUEUED -> RUNNING -> SUCCEEDED |
FAILED | CANCELLED), so callers poll exactly as they poll Athena. DuckDB reads the object
files of the local lake by path and writes CTAS output and query results into the store
(etl_local.object_store), each access authorized as the query's principal
(etl_local.object_access), as Athena accesses S3 with the caller's permissions.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import queue
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot.errors
from sqlglot import exp

from etl_local.object_access import Authorize, ObjectAccess, allow_all
from etl_local.object_store import ObjectStore
from etl_local.sql_dialect import (
    UnsupportedConstruct,
    install_functions,
    parse_athena,
    refusal_message,
    to_duckdb,
)

from . import duckdb_statements
from .binding import TableBinder
from .ctas import CtasOutcome, parse_options, run_ctas
from .duckdb_process import DuckDBUnavailableError, DuckDBWorkers
from .errors import (
    SYSTEM_ERROR,
    USER_ERROR,
    AthenaQueryError,
    InvalidRequestError,
    QueryCancelledError,
)
from .glue_catalog import GlueCatalog
from .hive import athena_result_type
from .objects import as_folder
from .workgroup import WorkgroupRules

logger = logging.getLogger(__name__)

DUCKDB_VERSION = duckdb.__version__
# Athena's GetQueryResults returns at most 1000 rows per page.
MAX_RESULTS_PER_PAGE = 1000


@dataclass
class ResultSet:
    columns: list[tuple[str, str]]  # (name, Athena type)
    rows: list[list[str | None]]
    header: bool = True


@dataclass
class QueryExecution:
    """One query execution: what GetQueryExecution reports and what the runtime summarises."""

    query_id: str
    query: str
    database: str
    catalog: str
    workgroup: str
    output_location: str | None
    account_id: str
    region: str
    client_request_token: str | None = None
    principal: str | None = None
    statement_type: str = "DML"
    state: str = "QUEUED"
    state_change_reason: str | None = None
    error_category: int | None = None
    error_retryable: bool = False
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    completed_at: float | None = None
    data_scanned_bytes: int = 0
    rows_written: int | None = None
    partitions_written: tuple[tuple[str, ...], ...] = ()
    result: ResultSet | None = None
    cancel_requested: bool = False
    rules: WorkgroupRules = field(default_factory=WorkgroupRules)

    @property
    def done(self) -> bool:
        return self.state in ("SUCCEEDED", "FAILED", "CANCELLED")

    def as_athena(self) -> dict[str, Any]:
        """The QueryExecution structure of GetQueryExecution / BatchGetQueryExecution."""
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted_at}
        if self.completed_at is not None:
            status["CompletionDateTime"] = self.completed_at
        if self.state_change_reason:
            status["StateChangeReason"] = self.state_change_reason
        if self.state == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": self.error_category or SYSTEM_ERROR,
                "ErrorType": 1000
                if (self.error_category or SYSTEM_ERROR) == SYSTEM_ERROR
                else 1100,
                "Retryable": self.error_retryable,
                "ErrorMessage": self.state_change_reason or "",
            }
        now = time.time()
        started = self.started_at or now
        finished = self.completed_at or now
        engine_ms = int((finished - started) * 1000) if self.started_at else 0
        queue_ms = int((started - self.submitted_at) * 1000)
        result: dict[str, Any] = {
            "QueryExecutionId": self.query_id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine_ms,
                "DataScannedInBytes": self.data_scanned_bytes,
                "TotalExecutionTimeInMillis": int((finished - self.submitted_at) * 1000),
                "QueryQueueTimeInMillis": queue_ms,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "DuckDB" if self.rules.duckdb else "AUTO",
                "EffectiveEngineVersion": self.rules.engine,
            },
        }
        if self.output_location:
            result["ResultConfiguration"] = {"OutputLocation": self.output_location}
        return result


def _statement_type(statement: exp.Expr) -> str:
    if isinstance(statement, exp.Create) and statement.expression is None:
        return "DDL"
    if isinstance(statement, exp.Drop | exp.Describe | exp.Command):
        return "DDL" if not isinstance(statement, exp.Command) else "UTILITY"
    return "DML"


def _name_unnamed_columns(query: exp.Expr) -> None:
    """Athena names a result column that is neither a column reference nor aliased `_colN`
    (N its position from 0); DuckDB would name it after the expression, e.g. count_star()."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this  # a UNION's columns are named by its first SELECT
    if not isinstance(select, exp.Select):
        return
    for index, projection in enumerate(list(select.expressions)):
        if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
            projection.replace(exp.alias_(projection.copy(), f"_col{index}", quoted=True))


def _to_text(value: Any) -> str | None:
    """Athena's VarCharValue rendering of a value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)


def _athena_error_text(message: str) -> str:
    """A DuckDB error raised by a translation macro (error('DIVISION_BY_ZERO: ...')) as
    Athena words it: from its error name on, without DuckDB's prefix."""
    match = re.search(
        r"\b(NOT_SUPPORTED|DIVISION_BY_ZERO|INVALID_CAST_ARGUMENT|"
        r"INVALID_FUNCTION_ARGUMENT|INVALID_FORMAT): ",
        message,
    )
    if match:
        return message[match.start() :]
    if "TRY can not be used in combination with a volatile function" in message:
        return refusal_message(
            "try() around an expression the local engine checks as it runs (a division, a "
            "cast, a time zone)"
        )
    return message


def default_memory_limit() -> str:
    """A quarter of the machine's memory, at least 2 GB: a CTAS of an hourly model's largest
    chunk (4 days of a production-size source, 100 partitions) sorts its window functions in
    memory (DuckDB's window operator does not spill all of it), and runs beside Spark's JVM
    and the emulator."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(2 * 1024, physical // 4 // 2**20)}MB"


class AthenaEngine:
    """Executes Athena queries on DuckDB against moto's Glue catalog and the local lake.

    `authorize` is asked about every S3 access a query makes (see etl_local.object_access);
    a query whose principal may not read or write a location fails as Athena's does.
    `fail_queries_containing` maps a substring of the query text to an error message: a
    matching query ends FAILED with that message (fault injection for the runtime).
    """

    def __init__(
        self,
        objects: ObjectStore,
        *,
        region: str = "eu-west-1",
        authorize: Authorize = allow_all,
        threads: int = 2,
        memory_limit: str | None = None,
        concurrency: int = 2,
    ) -> None:
        self.objects = objects
        self.region = region
        self.authorize = authorize
        self.fail_queries_containing: dict[str, str] = {}
        self._executions: dict[str, QueryExecution] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._running: dict[str, duckdb.DuckDBPyConnection] = {}
        # Athena's workers are not this laptop: without a limit DuckDB takes up to 80% of the
        # RAM for one window function; with one it spills to its temp directory instead.
        # Athena gives no row order without ORDER BY, so DuckDB need not keep one either.
        self._spill_dir = tempfile.TemporaryDirectory(prefix="lakepipe-duckdb-")
        self._db = duckdb.connect(
            config={
                "threads": threads,
                "memory_limit": memory_limit or default_memory_limit(),
                "temp_directory": self._spill_dir.name,
                "preserve_insertion_order": False,
            }
        )
        # Athena evaluates timestamps without a zone as UTC; DuckDB would use the host's zone.
        self._db.execute("SET TimeZone = 'UTC'")
        install_functions(self._db)
        # A query binds a table's files more than once (its schema, its view, the query):
        # their Parquet footers are read once. Entries are checked against each file's
        # modification time, and the lake replaces a body by a new file.
        self._db.execute("SET parquet_metadata_cache = true")
        # Athena runs a workgroup's queries side by side (its quota of active DML queries is in
        # the tens: "Service Quotas", Athena User Guide); a queue behind one query would hide
        # what two concurrent queries do to the catalog and the lake. Here a few at a time,
        # sharing the one DuckDB database, its threads and its memory limit.
        # A DuckDB workgroup's queries run in processes of Athena's DuckDB release, started
        # when first needed and kept: one per query running at once.
        self._duckdb_workers = DuckDBWorkers(keep=concurrency)
        self._workers = [
            threading.Thread(target=self._work, name=f"local-athena-{n}", daemon=True)
            for n in range(concurrency)
        ]
        for worker in self._workers:
            worker.start()

    # -- Athena API ---------------------------------------------------------------------------

    def start_query(
        self,
        query: str,
        *,
        account_id: str,
        region: str,
        workgroup: str = "primary",
        output_location: str | None = None,
        database: str | None = None,
        catalog: str | None = None,
        client_request_token: str | None = None,
        principal: str | None = None,
        rules: WorkgroupRules | None = None,
    ) -> str:
        """Queue a query; the same ClientRequestToken returns the same id and runs nothing.

        `principal` is the caller's ARN: the query reads and writes S3 as it (default: the
        account's root). `rules` is what the workgroup imposes (etl_local.athena.workgroup);
        `output_location` is the location those rules chose."""
        with self._lock:
            if client_request_token and client_request_token in self._tokens:
                existing = self._executions[self._tokens[client_request_token]]
                if existing.query != query:
                    raise InvalidRequestError(
                        "Idempotent parameters do not match: the ClientRequestToken was used "
                        "with a different query"
                    )
                return existing.query_id
            query_id = str(uuid.uuid4())
            location = f"{as_folder(output_location)}{query_id}.csv" if output_location else None
            self._executions[query_id] = QueryExecution(
                query_id=query_id,
                query=query,
                database=database or "default",
                catalog=catalog or "AwsDataCatalog",
                workgroup=workgroup,
                output_location=location,
                account_id=account_id,
                region=region,
                client_request_token=client_request_token,
                principal=principal or f"arn:aws:iam::{account_id}:root",
                rules=rules or WorkgroupRules(name=workgroup),
            )
            if client_request_token:
                self._tokens[client_request_token] = query_id
        self._queue.put(query_id)
        return query_id

    def get_query(self, query_id: str) -> QueryExecution:
        with self._lock:
            if query_id not in self._executions:
                raise InvalidRequestError(f"QueryExecution {query_id} was not found")
            return self._executions[query_id]

    def list_queries(self) -> list[QueryExecution]:
        with self._lock:
            return list(self._executions.values())

    def stop_query(self, query_id: str) -> None:
        execution = self.get_query(query_id)
        if execution.done:
            return
        execution.cancel_requested = True
        with self._lock:
            cursor = self._running.get(query_id)
        if execution.state == "RUNNING" and cursor is not None:
            cursor.interrupt()

    def results_page(
        self, query_id: str, next_token: str | None = None, max_results: int | None = None
    ) -> dict[str, Any]:
        """GetQueryResults: header row first (SELECT), VarCharValue strings, NextToken paging."""
        execution = self.get_query(query_id)
        if execution.state in ("QUEUED", "RUNNING"):
            raise InvalidRequestError(
                f"Query has not yet finished. Current state: {execution.state}"
            )
        if execution.state != "SUCCEEDED":
            raise InvalidRequestError(
                f"Query did not finish successfully. Final query state: {execution.state}"
            )
        limit = max_results or MAX_RESULTS_PER_PAGE
        if not 1 <= limit <= MAX_RESULTS_PER_PAGE:
            raise InvalidRequestError(f"MaxResults must be between 1 and {MAX_RESULTS_PER_PAGE}")
        result = execution.result or ResultSet(columns=[], rows=[], header=False)
        all_rows: list[list[str | None]] = []
        if result.header and result.columns:
            all_rows.append([name for name, _ in result.columns])
        all_rows.extend(result.rows)
        offset = 0
        if next_token:
            try:
                offset = int(base64.urlsafe_b64decode(next_token.encode()).decode())
            except ValueError:
                raise InvalidRequestError("Invalid NextToken") from None
        page = all_rows[offset : offset + limit]
        response: dict[str, Any] = {
            "UpdateCount": execution.rows_written or 0,
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in page
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Name": name,
                            "Label": name,
                            "Type": athena_type,
                            "Precision": 0,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": athena_type == "varchar",
                        }
                        for name, athena_type in result.columns
                    ]
                },
            },
        }
        if offset + limit < len(all_rows):
            response["NextToken"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return response

    def wait(self, query_id: str, timeout_seconds: float = 300.0) -> QueryExecution:
        """Block until the query ends (for the CLI's `etl query` and tests)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            execution = self.get_query(query_id)
            if execution.done:
                return execution
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"query {query_id} still {execution.state} after {timeout_seconds}s"
                )
            time.sleep(0.01)

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=30)
        self._duckdb_workers.close()
        self._db.close()
        self._spill_dir.cleanup()

    # -- execution -----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            query_id = self._queue.get()
            if query_id is None:
                return
            execution = self._executions[query_id]
            if execution.cancel_requested:
                self._finish(execution, "CANCELLED", "Query cancelled by user")
                continue
            execution.state = "RUNNING"
            execution.started_at = time.time()
            try:
                self._execute(execution)
            except AthenaQueryError as error:
                self._fail(execution, error.message, error.category, error.retryable)
            except QueryCancelledError as error:
                self._finish(execution, "CANCELLED", error.message)
            except PermissionError as error:
                # The authorizer denied an S3 access: Athena reports S3's AccessDenied.
                self._fail(execution, f"Permission denied on S3 path: {error}", USER_ERROR, False)
            except UnsupportedConstruct as error:
                self._fail(execution, refusal_message(str(error)), USER_ERROR, False)
            except duckdb.InterruptException:
                self._finish(execution, "CANCELLED", "Query cancelled by user")
            except duckdb.Error as error:
                self._fail(execution, _athena_error_text(str(error)), USER_ERROR, False)
            except Exception as error:  # the worker must survive any query, like Athena
                logger.exception("local athena query crashed", extra={"query_id": query_id})
                self._fail(
                    execution,
                    f"INTERNAL_ERROR: {type(error).__name__}: {error}",
                    SYSTEM_ERROR,
                    True,
                )
            else:
                if execution.cancel_requested:
                    self._finish(execution, "CANCELLED", "Query cancelled by user")
                else:
                    self._finish(execution, "SUCCEEDED", None)

    def _fail(
        self, execution: QueryExecution, message: str, category: int, retryable: bool
    ) -> None:
        execution.error_category = category
        execution.error_retryable = retryable
        self._finish(execution, "FAILED", message)
        logger.info(
            "local athena query failed",
            extra={"query_id": execution.query_id, "reason": message},
        )

    @staticmethod
    def _finish(execution: QueryExecution, state: str, reason: str | None) -> None:
        execution.state_change_reason = reason
        execution.completed_at = time.time()
        execution.state = state

    def _execute(self, execution: QueryExecution) -> None:
        for fragment, message in list(self.fail_queries_containing.items()):
            if fragment in execution.query:
                raise AthenaQueryError(message)
        if execution.rules.duckdb:
            self._execute_duckdb(execution)
            return
        try:
            statement = parse_athena(execution.query)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as error:
            raise AthenaQueryError(f"SYNTAX_ERROR: {error}") from None
        execution.statement_type = _statement_type(statement)
        principal = execution.principal or f"arn:aws:iam::{execution.account_id}:root"
        catalog = GlueCatalog(
            execution.account_id,
            execution.region,
            lambda action, resource: self.authorize(principal, action, resource, {}),
        )
        access = ObjectAccess(self.objects, principal, self.authorize)
        cursor = self._db.cursor()
        with self._lock:
            self._running[execution.query_id] = cursor
        try:
            if isinstance(statement, exp.Create) and statement.expression is not None:
                self._ctas(execution, statement, cursor, catalog, access)
            elif isinstance(statement, exp.Query):
                self._select(execution, statement, cursor, catalog, access)
            elif (
                isinstance(statement, exp.Drop)
                and (statement.args.get("kind") or "").upper() == "TABLE"
            ):
                self._drop(execution, statement, catalog)
            elif isinstance(statement, exp.Command) and statement.name.upper() == "SHOW":
                self._show(execution, statement, catalog)
            elif isinstance(statement, exp.Describe):
                self._describe(execution, statement, catalog)
            else:
                raise AthenaQueryError(
                    "NOT_SUPPORTED: the local Athena does not run "
                    f"{type(statement).__name__} statements"
                )
        finally:
            with self._lock:
                self._running.pop(execution.query_id, None)
            cursor.close()

    def _execute_duckdb(self, execution: QueryExecution) -> None:
        """A DuckDB workgroup's statement: its text runs as written, in a session of the DuckDB
        release Athena runs (etl_local.athena.duckdb_statements)."""
        principal = execution.principal or f"arn:aws:iam::{execution.account_id}:root"
        catalog = GlueCatalog(
            execution.account_id,
            execution.region,
            lambda action, resource: self.authorize(principal, action, resource, {}),
        )
        access = ObjectAccess(self.objects, principal, self.authorize)
        ctas = duckdb_statements.parse_ctas(execution.query)
        statement = duckdb_statements.parse_duckdb(ctas.select if ctas else execution.query)
        execution.statement_type = "DML" if ctas else _statement_type(statement)
        if not ctas and not isinstance(statement, exp.Query):
            if isinstance(statement, exp.Drop) and (statement.args.get("kind") or "") == "TABLE":
                return self._drop(execution, statement, catalog)
            raise AthenaQueryError(
                "NOT_SUPPORTED: the local Athena runs SELECT and CREATE TABLE AS on a DuckDB "
                f"workgroup, not {type(statement).__name__} statements"
            )
        try:
            session = self._duckdb_workers.session(
                {"threads": 2, "preserve_insertion_order": False}
            )
        except DuckDBUnavailableError as error:
            raise AthenaQueryError(f"INTERNAL_ERROR: {error}", category=SYSTEM_ERROR) from None
        with self._lock:
            self._running[execution.query_id] = session  # type: ignore[assignment]
        try:
            binder = TableBinder(session, catalog, access, execution.database, dialect="duckdb")  # type: ignore[arg-type]
            binder.bind_named(statement)
            execution.data_scanned_bytes = binder.binding.bytes_scanned
            execution.rules.check_bytes_scanned(execution.data_scanned_bytes)
            if ctas is None:
                relation = session.execute(execution.query)
                rows = relation.fetchall()
                columns = [(name, athena_result_type(kind)) for name, kind in relation.description]
                execution.result = ResultSet(columns, [[_to_text(v) for v in row] for row in rows])
                self._write_csv(execution, access)
                return
            default_location = (
                f"{execution.output_location.rpartition('/')[0]}/tables/{execution.query_id}/"
                if execution.output_location
                else ""
            )
            options = duckdb_statements.ctas_options(ctas, execution.database, default_location)
            execution.rules.check_ctas_location(options.requested_location)
            # Whether Athena's DuckDB engine registers the partitions a CTAS writes in the Glue
            # catalogue, its pages do not say; they offer Glue functions "to register and change
            # the partitions of Hive tables" ("AWS Glue Data Catalog functions in DuckDB",
            # Athena User Guide). The local engine takes the stricter case, the table without
            # its partitions: the pipeline registers them itself (etl_lambdas.staging).
            outcome = run_ctas(
                options,
                ctas.select,
                session,  # type: ignore[arg-type]
                catalog,
                access,
                execution.query_id,
                register=False,
            )
            execution.rows_written = outcome.rows_written
            execution.partitions_written = outcome.partitions_written
            execution.result = ResultSet([("Count", "bigint")], [[str(outcome.rows_written)]])
        finally:
            with self._lock:
                self._running.pop(execution.query_id, None)
            session.close()

    def _select(
        self,
        execution: QueryExecution,
        statement: exp.Query,
        cursor: duckdb.DuckDBPyConnection,
        catalog: GlueCatalog,
        access: ObjectAccess,
    ) -> None:
        binder = TableBinder(cursor, catalog, access, execution.database)
        bound = binder.bind(statement)
        execution.data_scanned_bytes = binder.binding.bytes_scanned
        execution.rules.check_bytes_scanned(execution.data_scanned_bytes)
        _name_unnamed_columns(bound)
        relation = cursor.execute(to_duckdb(bound))
        description = relation.description or []
        for name, type_code, *_ in description:
            if str(type_code).upper().startswith("TIMESTAMP WITH TIME ZONE"):
                # Athena shows such a value in its own zone, which DuckDB does not keep.
                raise UnsupportedConstruct(
                    f"a timestamp with time zone result column ({name}): cast it AT TIME "
                    "ZONE '...' AS timestamp, or format it"
                )
        rows = relation.fetchall()
        columns = [(d[0], athena_result_type(str(d[1]))) for d in description]
        execution.result = ResultSet(columns, [[_to_text(v) for v in row] for row in rows])
        self._write_csv(execution, access)

    def _ctas(
        self,
        execution: QueryExecution,
        statement: exp.Create,
        cursor: duckdb.DuckDBPyConnection,
        catalog: GlueCatalog,
        access: ObjectAccess,
    ) -> None:
        default_location = (
            f"{execution.output_location.rpartition('/')[0]}/tables/{execution.query_id}/"
            if execution.output_location
            else ""
        )
        options = parse_options(statement, execution.database, default_location)
        execution.rules.check_ctas_location(options.requested_location)
        binder = TableBinder(cursor, catalog, access, execution.database)
        bound = binder.bind(statement.expression)
        execution.data_scanned_bytes = binder.binding.bytes_scanned
        execution.rules.check_bytes_scanned(execution.data_scanned_bytes)
        outcome: CtasOutcome = run_ctas(
            options,
            to_duckdb(bound),
            cursor,
            catalog,
            access,
            execution.query_id,
        )
        execution.rows_written = outcome.rows_written
        execution.partitions_written = outcome.partitions_written
        execution.result = ResultSet([("rows", "bigint")], [[str(outcome.rows_written)]])

    def _drop(self, execution: QueryExecution, statement: exp.Drop, catalog: GlueCatalog) -> None:
        tables: list[exp.Table] = list(statement.args.get("tables") or [statement.this])
        for table in tables:
            database = table.db or execution.database
            if catalog.table_exists(database, table.name):
                catalog.drop_table(database, table.name)  # catalog only: data stays, as in Athena
            elif not statement.args.get("exists"):
                raise AthenaQueryError(f"Table not found {database}.{table.name}")
        execution.result = ResultSet([], [], header=False)

    def _show(
        self, execution: QueryExecution, statement: exp.Command, catalog: GlueCatalog
    ) -> None:
        words = statement.expression.name.split()
        if not words or words[0].upper() != "TABLES":
            raise AthenaQueryError(f"NOT_SUPPORTED: SHOW {' '.join(words)}")
        database = (
            words[2].strip('`"')
            if len(words) >= 3 and words[1].upper() in ("IN", "FROM")
            else execution.database
        )
        names = catalog.table_names(database)
        execution.result = ResultSet([("tab_name", "varchar")], [[n] for n in names], header=False)

    def _describe(
        self, execution: QueryExecution, statement: exp.Describe, catalog: GlueCatalog
    ) -> None:
        table = catalog.table(statement.this.db or execution.database, statement.this.name)
        rows: list[list[str | None]] = [
            [f"{n}\t{t}"] for n, t in table.columns + table.partition_keys
        ]
        execution.result = ResultSet([("col_name", "varchar")], rows, header=False)

    @staticmethod
    def _write_csv(execution: QueryExecution, access: ObjectAccess) -> None:
        """Athena's result file: every value quoted, NULL as an empty unquoted field."""
        if not execution.output_location or execution.result is None:
            return
        buffer = io.StringIO()
        header: list[str | None] = [n for n, _ in execution.result.columns]
        lines = [header, *execution.result.rows]
        for line in lines:
            buffer.write(
                ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in line)
            )
            buffer.write("\n")
        access.put(execution.output_location, buffer.getvalue().encode())
