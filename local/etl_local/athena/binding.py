"""Binding a query's table names to the files of their Glue tables, with partition pruning.

Each table reference becomes a DuckDB temporary view over exactly the files of the
partitions the query can touch, read by path from the object store (each listing and each
file authorized as the query's principal). Partitions come from the catalog, not from
paths: a partition's location is arbitrary (a published partition points at a staged run's
directory). When every file's path carries its partition's catalog values as Hive `k=v`
folders (the usual case), DuckDB takes them from the paths; otherwise each file is joined to
its partition's values. Conjuncts of the enclosing WHERE that reference only the table's
partition columns are evaluated first, in DuckDB over a small table of partition values, so
pruned partitions are never listed or read.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from etl_local.object_access import ObjectAccess
from etl_local.sql_dialect import to_duckdb

from .errors import AthenaQueryError
from .glue_catalog import GlueCatalog, GlueTable, Partition
from .hive import hive_to_duckdb
from .objects import StoredObject

_FILE_COLUMN = "__athena_file"
# Hive's name for a NULL partition value; DuckDB would read it as NULL, the catalog as text.
_HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class Binding:
    """What binding read: the files behind every table reference, for DataScannedInBytes."""

    files: list[StoredObject] = field(default_factory=list)

    @property
    def bytes_scanned(self) -> int:
        return sum(f.size for f in self.files)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _cte_names(statement: exp.Expr) -> set[str]:
    return {cte.alias_or_name for cte in statement.find_all(exp.CTE)}


def _sources_of(select: exp.Select) -> list[exp.Expr]:
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [join.this for join in select.args.get("joins") or []]
    return sources


def _prunable_conjuncts(table: exp.Table, alias: str, keys: set[str]) -> list[exp.Expr]:
    """WHERE conjuncts of the table's own SELECT that reference only its partition columns.

    Only tables read in FROM or an inner join qualify: a WHERE conjunct filters their rows
    exactly, whereas an outer join's missing side would turn it into a NULL test.
    """
    holder = table.parent
    if isinstance(holder, exp.Join):
        if holder.side or (holder.kind or "").upper() not in ("", "INNER", "CROSS"):
            return []
    elif not isinstance(holder, exp.From):
        return []
    select = holder.parent
    if not isinstance(select, exp.Select) or select.args.get("where") is None:
        return []
    only_source = len(_sources_of(select)) == 1
    condition = select.args["where"].this
    conjuncts: list[exp.Expr] = (
        list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    )
    chosen: list[exp.Expr] = []
    for conjunct in conjuncts:
        if conjunct.find(exp.Select, exp.Subquery, exp.AggFunc, exp.Window):
            continue
        columns = list(conjunct.find_all(exp.Column))
        if columns and all(
            c.name in keys and (c.table == alias or (not c.table and only_source)) for c in columns
        ):
            chosen.append(conjunct)
    return chosen


class TableBinder:
    """Rewrites one statement's table references on one DuckDB cursor."""

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        catalog: GlueCatalog,
        access: ObjectAccess,
        default_database: str,
        *,
        dialect: str = "athena",
    ) -> None:
        self._cursor = cursor
        self._catalog = catalog
        self._access = access
        self._default_database = default_database
        # "duckdb": the query is DuckDB SQL (a DuckDB workgroup's), probes are generated as such
        self._dialect = dialect
        self._counter = itertools.count()
        self.binding = Binding()

    def bind(self, query: exp.Expr) -> exp.Expr:
        """The query with every catalog table replaced by a view over its selected files."""
        ctes = _cte_names(query)
        for table in list(query.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue  # table functions such as UNNEST
            if not table.db and table.name in ctes:
                continue
            # Athena resolves names case-insensitively; Glue keeps them in lower case.
            database = (table.db or self._default_database).lower()
            glue_table = self._catalog.table(database, table.name.lower())
            alias = table.alias_or_name
            keys = {name for name, _ in glue_table.partition_keys}
            conjuncts = _prunable_conjuncts(table, alias, keys) if keys else []
            view = self._view_for(glue_table, alias, conjuncts)
            replacement = exp.Table(this=exp.to_identifier(view))
            replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            table.replace(replacement)
        return query

    def bind_named(self, query: exp.Expr) -> None:
        """Create, for every catalog table the query names, a view of that very name
        (`"<database>"."<table>"`, or `<table>` in the default schema when unqualified) over
        the files of its partitions any reference can touch: the query's text then runs as
        written (a DuckDB workgroup's SQL, untranslated)."""
        ctes = _cte_names(query)
        groups: dict[tuple[str | None, str], list[exp.Table]] = {}
        for table in query.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name in ctes:
                continue
            groups.setdefault((table.db or None, table.name), []).append(table)
        for (database, name), references in groups.items():
            glue_table = self._catalog.table(database or self._default_database, name)
            keys = {key for key, _ in glue_table.partition_keys}
            selected: set[int] = set()
            for reference in references:
                alias = reference.alias_or_name
                conjuncts = _prunable_conjuncts(reference, alias, keys) if keys else []
                kept = self._prune(glue_table, alias, conjuncts, next(self._counter))
                selected |= {id(p) for p in kept}
            partitions = [p for p in glue_table.partitions if id(p) in selected]
            view = _quote(name)
            if database:
                self._cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(database)}")
                view = f"{_quote(database)}.{view}"
            self._view_for(glue_table, name, [], view=view, partitions=partitions)

    def _view_for(
        self,
        table: GlueTable,
        alias: str,
        conjuncts: list[exp.Expr],
        *,
        view: str | None = None,
        partitions: list[Partition] | None = None,
    ) -> str:
        n = next(self._counter)
        kind = "VIEW" if view else "TEMP VIEW"
        view = view or f"__athena_table_{n}"
        key_names = [name for name, _ in table.partition_keys]
        files_by_partition: list[tuple[Partition | None, list[StoredObject]]]
        if key_names:
            if partitions is None:
                partitions = self._prune(table, alias, conjuncts, n)
            files_by_partition = [(p, self._access.list_folder(p.location)) for p in partitions]
        else:
            files_by_partition = [(None, self._access.list_folder(table.location))]
        files = [f for _, group in files_by_partition for f in group]
        self.binding.files.extend(files)

        column_types = [(name, hive_to_duckdb(hive)) for name, hive in table.columns]
        key_types = [(name, hive_to_duckdb(hive)) for name, hive in table.partition_keys]
        if not files:
            empty = [f"CAST(NULL AS {t}) AS {_quote(c)}" for c, t in column_types + key_types]
            self._cursor.execute(
                f"CREATE {kind} {view} AS SELECT {', '.join(empty) or '1'} LIMIT 0"
            )
            return view

        paths = [self._access.readable_file(f) for f in files]
        from_paths = bool(key_names) and _values_in_paths(
            files_by_partition, key_names, {name.lower() for name, _ in table.columns}
        )
        reader = self._reader(table, paths, column_types, hive_partitioning=from_paths)
        select = [f"{expr} AS {_quote(c)}" for c, expr in reader.columns]
        source = f"{reader.sql} AS d"
        if from_paths:
            select += [f"CAST(d.{_quote(k)} AS {t}) AS {_quote(k)}" for k, t in key_types]
        elif key_names:
            mapping = f"__athena_files_{n}"
            self._cursor.execute(
                f"CREATE TEMP TABLE {mapping} ({_quote(_FILE_COLUMN)} VARCHAR, "
                + ", ".join(f"{_quote(k)} VARCHAR" for k in key_names)
                + ")"
            )
            rows = [
                [f.file, *partition.values]
                for partition, group in files_by_partition
                if partition is not None
                for f in group
            ]
            self._cursor.executemany(
                f"INSERT INTO {mapping} VALUES (?{', ?' * len(key_names)})",
                rows,
            )
            source += f" JOIN {mapping} AS p ON d.{_quote(_FILE_COLUMN)} = p.{_quote(_FILE_COLUMN)}"
            select += [f"CAST(p.{_quote(k)} AS {t}) AS {_quote(k)}" for k, t in key_types]
        self._cursor.execute(f"CREATE {kind} {view} AS SELECT {', '.join(select)} FROM {source}")
        return view

    def _prune(
        self, table: GlueTable, alias: str, conjuncts: list[exp.Expr], n: int
    ) -> list[Partition]:
        partitions = [p for p in table.partitions if len(p.values) == len(table.partition_keys)]
        if not conjuncts or not partitions:
            return partitions
        values_table = f"__athena_partitions_{n}"
        key_defs = ", ".join(
            f"{_quote(name)} {hive_to_duckdb(hive)}" for name, hive in table.partition_keys
        )
        self._cursor.execute(f"CREATE TEMP TABLE {values_table} (__idx INTEGER, {key_defs})")
        self._cursor.executemany(
            f"INSERT INTO {values_table} VALUES (?{', ?' * len(table.partition_keys)})",
            [[i, *p.values] for i, p in enumerate(partitions)],
        )
        selected = set(range(len(partitions)))
        for conjunct in conjuncts:
            probe = (
                exp.select("__idx")
                .from_(exp.Table(this=exp.to_identifier(values_table)).as_(alias))
                .where(conjunct.copy())
            )
            try:
                sql = probe.sql(dialect="duckdb") if self._dialect == "duckdb" else to_duckdb(probe)
                kept = {row[0] for row in self._cursor.execute(sql).fetchall()}
            except (duckdb.Error, ValueError):
                continue  # not evaluable on partition values alone: read without pruning by it
            selected &= kept
        return [p for i, p in enumerate(partitions) if i in selected]

    def _reader(
        self,
        table: GlueTable,
        paths: list[str],
        column_types: list[tuple[str, str]],
        *,
        hive_partitioning: bool,
    ) -> _Reader:
        fmt = table.format
        files = "[" + ", ".join(_literal(p) for p in paths) + "]"
        if hive_partitioning:
            # Partition values as text, as the catalog has them; cast to the key types above.
            common = "hive_partitioning=true, hive_types_autocast=false"
        else:
            common = f"hive_partitioning=false, filename={_literal(_FILE_COLUMN)}"
        if fmt.kind == "parquet":
            sql = f"read_parquet({files}, union_by_name=true, {common})"
        elif fmt.kind == "json":
            sql = f"read_json({files}, format='newline_delimited', union_by_name=true, {common})"
        else:
            header = "true" if fmt.header_lines > 0 else "false"
            columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c, _ in column_types) + "}"
            sql = (
                f"read_csv({files}, header={header}, delim={_literal(fmt.delimiter)}, "
                f"columns={columns}, null_padding=true, {common})"
            )
        present = self._present_columns(sql, fmt.kind, paths, column_types)
        if fmt.kind == "json":
            # Re-read with the catalog's types: JSON auto-detection would turn ISO strings into
            # timestamps, which Athena (catalog type string) returns verbatim.
            wanted = {present[c.lower()]: t for c, t in column_types if c.lower() in present}
            spec = "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in wanted.items()) + "}"
            sql = f"read_json({files}, format='newline_delimited', columns={spec}, {common})"
        return _Reader(
            sql,
            [
                (
                    name,
                    f"d.{_quote(present[name.lower()])}::{duck_type}"
                    if name.lower() in present
                    else f"NULL::{duck_type}",
                )
                for name, duck_type in column_types
            ],
        )

    def _present_columns(
        self, sql: str, kind: str, paths: list[str], column_types: list[tuple[str, str]]
    ) -> dict[str, str]:
        """Lower-cased name -> name of the columns the files have (the union over files).

        Parquet: when the first file has every catalog column, the union has them all
        without reading the other files' schemas (union_by_name then fills NULL for a file
        without one); otherwise, and for the other formats, every file is described."""
        wanted = {name.lower() for name, _ in column_types}
        if kind == "parquet" and len(paths) > 1:
            first = f"read_parquet([{_literal(paths[0])}])"
            present = self._describe(first)
            if wanted <= set(present):
                return present
        return self._describe(sql)

    def _describe(self, source: str) -> dict[str, str]:
        try:
            described = self._cursor.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        except duckdb.Error as error:
            raise AthenaQueryError(f"HIVE_BAD_DATA: {error}") from None
        return {row[0].lower(): row[0] for row in described}


def _path_values(path: str) -> list[tuple[str, str]] | None:
    """The Hive `k=v` folders of a file's path, as DuckDB's hive_partitioning reads them;
    None when a folder name is ambiguous (more than one '=')."""
    pairs = []
    for segment in path.split("/")[:-1]:
        if segment.count("=") > 1:
            return None
        if "=" in segment:
            name, value = segment.split("=")
            pairs.append((name, value))
    return pairs


def _values_in_paths(
    files_by_partition: list[tuple[Partition | None, list[StoredObject]]],
    key_names: list[str],
    data_columns: set[str],
) -> bool:
    """True when DuckDB can take every file's partition values from its path: all paths have
    the same `k=v` folder names, each once and none a data column, and the partition keys'
    folders hold exactly the catalog's values."""
    layout: list[str] | None = None
    for partition, group in files_by_partition:
        if partition is None:
            return False
        expected = dict(zip(key_names, partition.values, strict=True))
        for obj in group:
            pairs = _path_values(obj.file)
            if pairs is None:
                return False
            names = [name for name, _ in pairs]
            if layout is None:
                layout = names
                if len(set(names)) != len(names) or data_columns & {n.lower() for n in names}:
                    return False
            if names != layout:
                return False
            found = dict(pairs)
            for name, value in expected.items():
                if found.get(name) != value or "%" in value or value == _HIVE_DEFAULT_PARTITION:
                    return False
    return layout is not None


@dataclass(frozen=True)
class _Reader:
    sql: str
    columns: list[tuple[str, str]]
