"""`etl docs`: the models as one static HTML page, offline.

The page is written whole, here: the model graph as inline SVG (sources -> models, one column
per tier), and per model its description, SQL, partitioning, checks, unit tests, columns with
their lineage (etl_local.lineage), what its published partitions were computed by
(etl_local.backfill) and its recent runs (etl_local.run_records). CSS and the few lines of
script are inline: no CDN, no other file, nothing fetched. Without script the page still
works: a model's section is shown by the URL fragment its links set (CSS `:target`).

Pure: `DocsData` in, HTML text out.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from etl_lambdas.catalog import SOURCE_TIERS, TIERS, Catalog, Model
from etl_lambdas.checks import all_checks
from etl_lambdas.fingerprints import Fingerprints
from etl_lambdas.restatement import upstream_sources
from etl_lambdas.sources import Source
from etl_local.backfill import ModelChange, PublishedPartition, partition_days
from etl_local.lineage import ModelLineage

# Runs listed per model and on the overview.
RUNS_PER_MODEL = 10
RUNS_OVERVIEW = 15


@dataclass(frozen=True)
class DocsData:
    catalog: Catalog
    lineage: Mapping[str, ModelLineage]
    fingerprints: Mapping[str, Fingerprints]
    generated: datetime
    time_zone: str
    # None: there is no local lake to read (no run yet, or no plan).
    published: Mapping[str, Sequence[PublishedPartition]] | None = None
    changes: Sequence[ModelChange] = ()
    # Glue column types of the published tables, by model.
    column_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    runs: Sequence[Mapping[str, Any]] = ()
    # The text of sql/<tier>/<model>.test.yaml, by model, where the file exists.
    tests: Mapping[str, str] = field(default_factory=dict)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def model_anchor(name: str) -> str:
    return f"model-{name}"


def source_anchor(name: str) -> str:
    return f"source-{name}"


def _table_anchor(reference: str) -> str:
    """`<tier>.<table>` -> the section of that source or model."""
    tier, _, table = reference.partition(".")
    return source_anchor(table) if tier == "ods" else model_anchor(table)


def render(data: DocsData) -> str:
    catalog = data.catalog
    models = catalog.in_tier_order()
    body = [
        _header(data),
        '<div class="layout">',
        _navigation(catalog),
        '<main id="main">',
        _graph_section(catalog),
        _overview(data),
        *(_model_section(data, model) for model in models),
        *(_source_section(catalog, source) for source in catalog.sources),
        "</main>",
        "</div>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>lakepipe models</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _header(data: DocsData) -> str:
    catalog = data.catalog
    lake = (
        "no local lake read (run <code>make run</code> or <code>etl run</code> first)"
        if data.published is None
        else f"{sum(len(p) for p in data.published.values()):,} published partitions"
    )
    return (
        '<header><a class="brand" href="#">lakepipe</a>'
        f"<span>{len(catalog.sources.sources)} sources &middot; {len(catalog.models)} models "
        f"&middot; {lake} &middot; {len(data.runs)} recorded runs &middot; generated "
        f"{_e(data.generated.strftime('%Y-%m-%d %H:%M %Z').strip())}</span></header>"
    )


def _navigation(catalog: Catalog) -> str:
    parts = ['<nav id="nav"><h2>Sources</h2><ul>']
    parts += [
        f'<li><a href="#{source_anchor(s.name)}" data-node="ods.{_e(s.name)}">{_e(s.name)}</a></li>'
        for s in catalog.sources
    ]
    parts.append("</ul>")
    for tier in TIERS:
        tier_models = [m for m in catalog.in_tier_order() if m.tier == tier]
        if not tier_models:
            continue
        parts.append(f"<h2>{tier.upper()}</h2><ul>")
        parts += [
            f'<li><a href="#{model_anchor(m.name)}" data-node="{m.tier}.{_e(m.name)}">'
            f"{_e(m.name)}</a></li>"
            for m in tier_models
        ]
        parts.append("</ul>")
    parts.append("</nav>")
    return "".join(parts)


# -- the graph ---------------------------------------------------------------------------------

_NODE_HEIGHT = 30
_NODE_GAP = 14
_CHAR_WIDTH = 7.4  # 12px monospace
_COLUMN_GAP = 70
_MARGIN = 16


@dataclass(frozen=True)
class _Node:
    key: str  # "<tier>.<name>"
    label: str
    href: str
    x: float
    y: float
    width: float


def graph_layout(catalog: Catalog) -> tuple[list[_Node], list[tuple[str, str]], float, float]:
    """Nodes by tier column (sources first), ordered to keep edges short; edges source ->
    model; the SVG's width and height."""
    columns: dict[str, list[str]] = {tier: [] for tier in SOURCE_TIERS}
    columns["ods"] = [s.name for s in catalog.sources]
    edges = []
    position: dict[str, float] = {f"ods.{name}": i for i, name in enumerate(columns["ods"])}
    for tier in TIERS:
        tier_models = [m for m in catalog.in_tier_order() if m.tier == tier]

        def barycenter(model: Model) -> tuple[float, str]:
            known = [position[s] for s in model.sources if s in position]
            return (sum(known) / len(known) if known else 0.0, model.name)

        ordered = sorted(tier_models, key=barycenter)
        for index, model in enumerate(ordered):
            position[f"{tier}.{model.name}"] = index
            edges += [(source, f"{tier}.{model.name}") for source in model.sources]
        columns[tier] = [m.name for m in ordered]
    nodes = []
    x = float(_MARGIN)
    tallest = max(len(names) for names in columns.values())
    height = _MARGIN * 2 + 22 + tallest * (_NODE_HEIGHT + _NODE_GAP)
    for tier, names in columns.items():
        width = max([len(n) for n in names] + [8]) * _CHAR_WIDTH + 26
        column_height = len(names) * (_NODE_HEIGHT + _NODE_GAP) - _NODE_GAP
        top = _MARGIN + 22 + (height - 2 * _MARGIN - 22 - column_height) / 2
        for index, name in enumerate(names):
            key = f"{tier}.{name}"
            href = source_anchor(name) if tier == "ods" else model_anchor(name)
            nodes.append(_Node(key, name, href, x, top + index * (_NODE_HEIGHT + _NODE_GAP), width))
        x += width + _COLUMN_GAP
    return nodes, edges, x - _COLUMN_GAP + _MARGIN, height


def _graph_section(catalog: Catalog) -> str:
    nodes, edges, width, height = graph_layout(catalog)
    by_key = {node.key: node for node in nodes}
    parts = [
        '<section id="graph" aria-label="model graph">',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/>'
        "</marker></defs>",
    ]
    columns: dict[str, float] = {}
    for node in nodes:
        columns.setdefault(node.key.split(".")[0], node.x)
    for tier, x in columns.items():
        label = "sources (ODS)" if tier == "ods" else tier.upper()
        parts.append(f'<text class="tier" x="{x:.0f}" y="{_MARGIN + 8}">{label}</text>')
    for source, target in edges:
        if source not in by_key:
            continue
        a, b = by_key[source], by_key[target]
        x1, y1 = a.x + a.width, a.y + _NODE_HEIGHT / 2
        x2, y2 = b.x - 2, b.y + _NODE_HEIGHT / 2
        middle = (x1 + x2) / 2
        parts.append(
            f'<path class="edge" data-from="{_e(source)}" data-to="{_e(target)}" '
            f'd="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>'
        )
    for node in nodes:
        kind = "source" if node.key.startswith("ods.") else "model"
        parts.append(
            f'<a href="#{node.href}" class="node {kind}" data-node="{_e(node.key)}">'
            f"<title>{_e(node.key)}</title>"
            f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" '
            f'height="{_NODE_HEIGHT}" rx="6"/>'
            f'<text x="{node.x + 13:.1f}" y="{node.y + _NODE_HEIGHT / 2 + 4:.1f}">'
            f"{_e(node.label)}</text></a>"
        )
    parts.append("</svg></section>")
    return "".join(parts)


# -- the overview ------------------------------------------------------------------------------


def _overview(data: DocsData) -> str:
    changed = {c.model: c for c in data.changes}
    rows = []
    for model in data.catalog.in_tier_order():
        published = data.published.get(model.name, ()) if data.published is not None else ()
        days = sorted({d for p in published for d in partition_days(p.values, model.granularity)})
        last = _last_run(data.runs, model.name)
        state = (
            '<span class="badge warn">changed</span>'
            if model.name in changed
            else ('<span class="badge ok">current</span>' if published else "")
        )
        rows.append(
            f'<tr><td><a href="#{model_anchor(model.name)}">{_e(model.name)}</a></td>'
            f"<td>{model.tier}</td><td>{model.granularity}</td>"
            f"<td class=num>{len(published):,}</td><td>{_span(days)}</td><td>{state}</td>"
            f"<td>{_e(last['started'][:16].replace('T', ' ')) if last else ''}</td>"
            f"<td>{_status(last['status']) if last else ''}</td></tr>"
        )
    runs = [_run_row(run) for run in data.runs[:RUNS_OVERVIEW]]
    return (
        '<section id="overview" class="detail"><h1>Models</h1>'
        "<p>Click a model in the graph or the list for its SQL, columns and lineage, checks, "
        "tests and recent runs. <code>etl changes</code> lists what to restate after an "
        "edit; <code>etl run --changed</code> restates it.</p>"
        "<table><thead><tr><th>model</th><th>tier</th><th>granularity</th>"
        "<th>partitions</th><th>days published</th><th>SQL</th><th>last run</th>"
        "<th>status</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><h2>Recent runs</h2>"
        + (
            "<table><thead><tr><th>started (UTC)</th><th>execution</th><th>input</th>"
            "<th>status</th><th>models</th><th>restated for late data</th></tr></thead><tbody>"
            + "".join(runs)
            + "</tbody></table>"
            if runs
            else "<p>No run recorded yet.</p>"
        )
        + "</section>"
    )


def _run_row(run: Mapping[str, Any]) -> str:
    models = ", ".join(_e(m.get("model")) for m in run.get("models", []))
    error = run.get("error")
    return (
        f"<tr><td>{_e(str(run.get('started', ''))[:19].replace('T', ' '))}</td>"
        f"<td><code>{_e(str(run.get('name', ''))[:12])}</code></td>"
        f"<td><code>{_e(json.dumps(run.get('input', {})))}</code></td>"
        f"<td>{_status(str(run.get('status')))}"
        + (f'<div class="error">{_e(error)}</div>' if error else "")
        + f"</td><td>{models}</td><td>{_restated(run.get('restated') or [])}</td></tr>"
    )


def _status(status: str) -> str:
    kind = "ok" if status == "SUCCEEDED" else "bad"
    return f'<span class="badge {kind}">{_e(status)}</span>'


def _restated(rows: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(_e(row.get("date")) for row in rows)


def _span(days: Sequence[date]) -> str:
    if not days:
        return ""
    first, last = days[0].isoformat(), days[-1].isoformat()
    text = first if first == last else f"{first} .. {last}"
    return f"{text} ({len(days)} days)" if len(days) > 1 else text


def _last_run(runs: Sequence[Mapping[str, Any]], model: str) -> Mapping[str, Any] | None:
    return next((run for run in runs if _involves(run, model)), None)


def _involves(run: Mapping[str, Any], model: str) -> bool:
    if any(m.get("model") == model for m in run.get("models", [])):
        return True
    error = str(run.get("error") or "")
    return f"({model})" in error or f"model {model} " in error


# -- a model -----------------------------------------------------------------------------------


def _model_section(data: DocsData, model: Model) -> str:
    catalog = data.catalog
    readers = [m.name for m in catalog.in_tier_order() if f"{model.tier}.{model.name}" in m.sources]
    sources = ", ".join(f'<a href="#{_table_anchor(s)}">{_e(s)}</a>' for s in model.sources)
    downstream = ", ".join(f'<a href="#{model_anchor(n)}">{_e(n)}</a>' for n in readers) or "none"
    fingerprint = data.fingerprints.get(model.name)
    facts = [
        ("tier", model.tier.upper()),
        ("reads", sources),
        ("read by", downstream),
        (
            "partitioning",
            f"{_e(model.granularity)}: <code>{_e(', '.join(model.partition_by))}</code> "
            f"(local time, {_e(data.time_zone)})",
        ),
        ("keys", f"<code>{_e(', '.join(model.keys))}</code>"),
        ("SQL file", f"<code>sql/{_e(model.sql_path)}</code>"),
    ]
    if fingerprint is not None:
        facts.append(
            (
                "model hash / fingerprint",
                f"<code>{fingerprint.model_hash}</code> / <code>{fingerprint.fingerprint}</code>",
            )
        )
    dl = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    return (
        f'<section id="{model_anchor(model.name)}" class="detail model" '
        f'data-model="{_e(model.name)}">'
        f'<h1>{_e(model.name)} <span class="tier-tag">{model.tier}</span></h1>'
        f'<p class="description">{_e(model.description) or "<em>no description</em>"}</p>'
        f'<dl class="facts">{dl}</dl>'
        + _published_block(data, model)
        + "<h2>Columns and lineage</h2>"
        + _columns_block(data, model)
        + "<h2>Checks</h2>"
        + _checks_block(model)
        + "<h2>Tests</h2>"
        + _tests_block(data, model)
        + "<h2>Recent runs</h2>"
        + _model_runs(data, model)
        + "<h2>SQL</h2>"
        + f'<pre class="sql"><code>{highlight_sql(catalog.sql(model))}</code></pre>'
        + "</section>"
    )


def _published_block(data: DocsData, model: Model) -> str:
    if data.published is None:
        return ""
    partitions = data.published.get(model.name, ())
    if not partitions:
        return "<p class=note>Not published in the local lake yet.</p>"
    days = sorted({d for p in partitions for d in partition_days(p.values, model.granularity)})
    change = next((c for c in data.changes if c.model == model.name), None)
    text = f"<p class=note>{len(partitions):,} partitions published, {_span(days)}. "
    if change is None:
        return text + "Every one was computed by the SQL above.</p>"
    ranges = ", ".join(
        _span([r.start, r.end]) if r.start != r.end else r.start.isoformat() for r in change.ranges
    )
    return (
        text
        + f'<span class="badge warn">to restate</span> {_e(ranges)}: '
        + _e("; ".join(change.reasons))
        + " (<code>etl run --changed</code>).</p>"
    )


def _columns_block(data: DocsData, model: Model) -> str:
    traced = data.lineage.get(model.name)
    if traced is None or not traced.columns:
        problem = traced.problem if traced is not None else "not traced"
        return f"<p class=note>{_e(problem)}</p>"
    types = data.column_types.get(model.name, {})
    rows = []
    for column in traced.columns:
        if column.sources:
            origin = ", ".join(
                f'<a href="#{_table_anchor(f"{s.tier}.{s.table}")}">'
                f"{_e(s.tier)}.{_e(s.table)}</a>.<b>{_e(s.column)}</b>"
                for s in column.sources
            )
        else:
            origin = '<span class="muted">no column (a row count or a constant)</span>'
        partition = (
            ' <span class="badge">partition</span>' if column.name in model.partition_by else ""
        )
        rows.append(
            f'<tr id="col-{_e(model.name)}-{_e(column.name)}"><td><code>{_e(column.name)}'
            f"</code>{partition}</td><td>{_e(types.get(column.name, ''))}</td>"
            f"<td>{origin}</td><td><code class=expr>{_e(column.expression)}</code></td></tr>"
        )
    return (
        '<table class="columns"><thead><tr><th>column</th><th>type</th><th>computed from</th>'
        "<th>expression</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _checks_block(model: Model) -> str:
    items = [f"<li><code>{_e(check.name)}</code></li>" for check in all_checks(model)]
    items[0] = f"<li><code>min_rows</code>: at least {model.min_rows} staged row(s)</li>"
    history = [f"<li><code>{_e(check.name)}</code></li>" for check in model.history_checks]
    return (
        "<p>On the staged rows, before anything is published:</p><ul class=checks>"
        + "".join(items)
        + "</ul>"
        + (
            "<p>Compared with the past, per day:</p><ul class=checks>" + "".join(history) + "</ul>"
            if history
            else ""
        )
    )


def _tests_block(data: DocsData, model: Model) -> str:
    text = data.tests.get(model.name)
    path = f"sql/{model.tier}/{model.name}.test.yaml"
    if text is None:
        return f"<p class=note>No unit tests (<code>{_e(path)}</code>).</p>"
    return f"<p><code>{_e(path)}</code></p><pre class=yaml><code>{_e(text)}</code></pre>"


def _model_runs(data: DocsData, model: Model) -> str:
    runs = [run for run in data.runs if _involves(run, model.name)][:RUNS_PER_MODEL]
    if not runs:
        return "<p class=note>No run recorded yet.</p>"
    sources = upstream_sources(data.catalog, model)
    rows = []
    for run in runs:
        entry = next((m for m in run.get("models", []) if m.get("model") == model.name), None)
        restated = [
            row for row in run.get("restated") or [] if set(row.get("events") or {}) & sources
        ]
        if entry is None:
            numbers = f'<td colspan=3></td><td><div class="error">{_e(run.get("error"))}</div></td>'
        else:
            numbers = (
                f"<td class=num>{int(entry.get('rows_written', 0)):,}</td>"
                f"<td class=num>{int(entry.get('partitions_written', 0)):,}</td>"
                f"<td class=num>{_bytes(int(entry.get('bytes_read', 0)))}</td>"
                f"<td>{_audit(entry.get('audit') or [])}</td>"
            )
        rows.append(
            f"<tr><td>{_e(str(run.get('started', ''))[:19].replace('T', ' '))}</td>"
            f"<td><code>{_e(_window(run.get('input') or {}))}</code></td>"
            f"<td>{_status(str(run.get('status')))}</td>{numbers}"
            f"<td>{_restated(restated)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>started (UTC)</th><th>days</th><th>status</th><th>rows</th>"
        "<th>partitions</th><th>bytes scanned</th><th>audit</th><th>restated for late data"
        "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _window(request: Mapping[str, Any]) -> str:
    if "date" in request:
        return str(request["date"])
    if "start_date" in request:
        return f"{request['start_date']}..{request.get('end_date')}"
    return str(request.get("time", ""))


def _audit(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return ""
    passed = sum(1 for c in checks if c.get("passed"))
    history = [c for c in checks if c.get("kind") == "history"]
    lines = [f"{passed} of {len(checks)} checks passed"]
    lines += [str(c.get("detail")) for c in history]
    return "<br>".join(_e(line) for line in lines)


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


# -- a source ----------------------------------------------------------------------------------


def _source_section(catalog: Catalog, source: Source) -> str:
    readers = [m.name for m in catalog.in_tier_order() if f"ods.{source.name}" in m.sources]
    columns = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td>{_e(c.type)}</td>"
        f"<td><code>{_e(c.field)}</code></td></tr>"
        for c in source.columns
    )
    keys = ", ".join(source.partition_keys)
    return (
        f'<section id="{source_anchor(source.name)}" class="detail source">'
        f'<h1>{_e(source.name)} <span class="tier-tag">source</span></h1>'
        f'<p class="description">{_e(source.description)}</p><dl class="facts">'
        f"<dt>raw files</dt><dd><code>{_e(source.raw_prefix)}</code>, {_e(source.arrival)} "
        f"arrival partitions (<code>{_e(keys)}</code>, UTC), {_e(source.format.type)}</dd>"
        f"<dt>event time</dt><dd><code>{_e(source.event_time.column)}</code> "
        f"({_e(source.event_time.format)})</dd>"
        f"<dt>ODS table</dt><dd><code>ods.{_e(source.table)}</code></dd>"
        "<dt>read by</dt><dd>"
        + (", ".join(f'<a href="#{model_anchor(n)}">{_e(n)}</a>' for n in readers) or "none")
        + "</dd></dl><h2>Columns</h2><table><thead><tr><th>column</th><th>type</th>"
        "<th>raw field</th></tr></thead><tbody>" + columns + "</tbody></table></section>"
    )


# -- SQL ---------------------------------------------------------------------------------------

_SQL_TOKENS = re.compile(
    r"(?P<comment>--[^\n]*)|(?P<string>'(?:[^']|'')*')|(?P<placeholder>\$\{[^}]*\})"
    r"|(?P<word>\b[A-Za-z_][A-Za-z0-9_]*\b)|(?P<other>[^A-Za-z_'$-]+|.)",
    re.DOTALL,
)
_KEYWORDS = frozenset(
    {
        "select", "from", "where", "group", "by", "order", "having", "with", "as", "and", "or",
        "not", "in", "is", "null", "case", "when", "then", "else", "end", "join", "inner", "left",
        "right", "full", "outer", "cross", "on", "union", "all", "distinct", "between", "like",
        "over", "partition", "rows", "range", "preceding", "following", "current", "row",
        "interval", "cast", "try", "limit", "at", "time", "zone", "date", "timestamp", "true",
        "false", "exists", "asc", "desc", "filter",
    }
)  # fmt: skip


def highlight_sql(sql: str) -> str:
    """The SQL, escaped, with comments, strings, placeholders and keywords marked."""
    out = []
    for match in _SQL_TOKENS.finditer(sql):
        kind, text = match.lastgroup, match.group()
        if kind == "word" and text.lower() in _KEYWORDS:
            out.append(f'<span class="kw">{_e(text)}</span>')
        elif kind in ("comment", "string", "placeholder"):
            out.append(f'<span class="{kind}">{_e(text)}</span>')
        else:
            out.append(_e(text))
    return "".join(out)


# -- style and script --------------------------------------------------------------------------

_CSS = """
:root { --bg:#f7f8fa; --panel:#fff; --ink:#1d2430; --muted:#667085; --line:#d9dee7;
  --accent:#2563eb; --source:#0f766e; --warn:#b45309; --bad:#b91c1c; --ok:#15803d; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color:var(--ink); background:var(--bg); }
header { display:flex; gap:16px; align-items:baseline; padding:10px 20px;
  background:#111827; color:#e5e7eb; }
header .brand { color:#fff; font-weight:700; font-size:18px; text-decoration:none; }
header span { color:#9ca3af; }
.layout { display:flex; align-items:flex-start; }
nav { width:230px; flex:none; padding:12px 16px; position:sticky; top:0; max-height:100vh;
  overflow:auto; }
nav h2 { font-size:11px; letter-spacing:.08em; color:var(--muted); margin:14px 0 4px; }
nav ul { list-style:none; margin:0; padding:0; }
nav a { display:block; padding:2px 8px; border-radius:4px; color:var(--ink);
  text-decoration:none; font-family:ui-monospace, monospace; font-size:12.5px; }
nav a:hover, nav a.active { background:#e0e7ff; color:#1e3a8a; }
main { flex:1; min-width:0; padding:12px 24px 40px 8px; }
#graph { background:var(--panel); border:1px solid var(--line); border-radius:8px;
  padding:6px; overflow:auto; }
#graph text.tier { font-size:11px; letter-spacing:.08em; fill:var(--muted); font-weight:600; }
.node rect { fill:#eef2ff; stroke:#6366f1; stroke-width:1.2; }
.node.source rect { fill:#ecfdf5; stroke:var(--source); }
.node text { font:12px ui-monospace, monospace; fill:var(--ink); }
.node:hover rect, .node.active rect { fill:#c7d2fe; stroke-width:2.2; }
.node.source:hover rect, .node.source.active rect { fill:#a7f3d0; }
.edge { fill:none; stroke:#9aa4b5; stroke-width:1.4; }
.edge.active { stroke:var(--accent); stroke-width:2.4; }
.arrowhead { fill:#9aa4b5; }
.detail { display:none; background:var(--panel); border:1px solid var(--line);
  border-radius:8px; padding:4px 22px 18px; margin-top:14px; }
.detail:target { display:block; }
main:not(:has(.detail:target)) #overview { display:block; }
h1 { font-size:22px; margin:14px 0 4px; }
h2 { font-size:15px; margin:20px 0 6px; border-bottom:1px solid var(--line);
  padding-bottom:3px; }
.tier-tag { font-size:11px; vertical-align:middle; background:#e0e7ff; color:#3730a3;
  padding:2px 7px; border-radius:10px; text-transform:uppercase; letter-spacing:.06em; }
.description { color:#344054; margin:4px 0 10px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:3px 16px; margin:8px 0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; }
table { border-collapse:collapse; width:100%; font-size:13px; margin:6px 0; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12.5px; }
code.expr { color:#475467; word-break:break-word; }
pre { background:#0f172a; color:#e2e8f0; padding:12px 14px; border-radius:6px;
  overflow:auto; max-height:520px; }
pre .kw { color:#93c5fd; font-weight:600; }
pre .string { color:#fcd34d; }
pre .comment { color:#94a3b8; font-style:italic; }
pre .placeholder { color:#f0abfc; }
.badge { display:inline-block; font-size:11px; padding:1px 7px; border-radius:10px;
  background:#eef2f6; color:#475467; }
.badge.ok { background:#dcfce7; color:var(--ok); }
.badge.bad { background:#fee2e2; color:var(--bad); }
.badge.warn { background:#fef3c7; color:var(--warn); }
.error { color:var(--bad); font-size:12px; margin-top:2px; }
.note, .muted { color:var(--muted); }
ul.checks { margin:4px 0; padding-left:20px; }
tr:target { background:#fef9c3; }
"""

# Marks the node, the navigation link and the edges of the model the URL fragment shows.
_SCRIPT = """
(function () {
  function mark() {
    var id = decodeURIComponent(location.hash.slice(1));
    var key = null;
    document.querySelectorAll('[data-node]').forEach(function (el) {
      var href = el.getAttribute('href');
      var on = href === '#' + id;
      el.classList.toggle('active', on);
      if (on) { key = el.getAttribute('data-node'); }
    });
    document.querySelectorAll('.edge').forEach(function (edge) {
      var on = key !== null &&
        (edge.getAttribute('data-from') === key || edge.getAttribute('data-to') === key);
      edge.classList.toggle('active', on);
    });
  }
  window.addEventListener('hashchange', mark);
  mark();
})();
"""
