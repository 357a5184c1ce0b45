"""`stedi report`: one static HTML page of what the builds recorded (build_record_counts) and of
what the training table holds, its plots drawn by matplotlib and inlined as SVG, so the page opens
from disk with no network.

It reads the tables' Parquet folders with DuckDB: a local or Thrift warehouse, or a copy of
Athena's table folders. Every plotted value is also written on its SVG element (`data-value`,
`data-label` and a `<title>`), so a browser can show it and a test can check the drawing against
the data.
"""

from __future__ import annotations

import datetime
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stedi_lakehouse.paths import LANDING_ZONES
from stedi_lakehouse.preflight import PreflightError

RECORD_TABLE = "build_record_counts"
TRAINING_TABLE = "machine_learning_curated"
ZONES = ("landing", "staging", "trusted", "curated")
LANDING_TABLES = tuple(f"{zone}_landing" for zone in LANDING_ZONES)
STAGED_FILES_TABLE = "stg_landing__files"  # the manifest: one row per staged delivery
# what a kept landing line reached, per landing table
KEPT_IN = {
    "customer_landing": "customer_curated",
    "accelerometer_landing": TRAINING_TABLE,
    "step_trainer_landing": TRAINING_TABLE,
}
# every exclusion reason, in the order the rules apply, with its label and rule
REASONS = {
    "malformed_line": ("malformed line", "R0"),
    "missing_key": ("missing key", "R0"),
    "duplicate_delivery": ("duplicate delivery", "R0"),
    "superseded": ("older record of the customer", "R1"),
    "serial_shared": ("serial shared by several customers", "R4"),
    "no_research_consent": ("no research consent", "R1"),
    "revoked": ("consent revoked", "R1"),
    "erased": ("erased on request", "R1"),
    "not_curated": ("customer not curated", "R3"),
    "before_consent": ("reading before consent", "R2, R4"),
    "conflicting_reading": ("another distance, same millisecond", "R4"),
    "unpaired": ("no same-person reading at that millisecond", "R5"),
}
READING_TABLES = {  # the tables whose newest record is a reading, per zone
    "staging": ("stg_landing__accelerometer_readings", "stg_landing__step_trainer_readings"),
    "trusted": ("accelerometer_trusted", "step_trainer_trusted"),
    "curated": (TRAINING_TABLE,),
}
SIGNALS = ("distancefromobject", "x", "y", "z")
MAX_BUILDS = 60  # builds drawn in the row-count history
MAX_FILES = 40  # landing files drawn in the malformed-lines plot
HISTOGRAM_BINS = 30
DISCRETE_VALUES = 12  # a signal with at most this many distinct values gets one bar per value
EXCLUDED_COLOUR, KEPT_COLOUR, TOTAL_COLOUR = "#c0504d", "#4f9a57", "#7f7f7f"


@dataclass(frozen=True)
class Recorded:
    """One row of build_record_counts."""

    invocation_id: str
    built_at: datetime.datetime
    measure: str
    table_zone: str
    counted_table: str
    reason: str | None
    landing_file: str | None
    record_count: int
    newest_record_at: datetime.datetime | None
    last_loaded_at: datetime.datetime | None


@dataclass(frozen=True)
class ReportData:
    recorded: list[Recorded]  # every recorded build, oldest first
    readings_per_subject: list[int]
    signals: dict[str, np.ndarray]

    @property
    def builds(self) -> list[tuple[datetime.datetime, str]]:
        return sorted({(row.built_at, row.invocation_id) for row in self.recorded})

    @property
    def latest(self) -> list[Recorded]:
        built_at, invocation_id = self.builds[-1]
        return [row for row in self.recorded if row.invocation_id == invocation_id]

    @property
    def malformed_files(self) -> list[Recorded]:
        """The latest build's landing files with malformed lines, most first."""
        return sorted((r for r in self.latest if r.measure == "malformed_lines"), key=lambda r: (-r.record_count, r.landing_file or ""))

    @property
    def staged_files(self) -> int:
        """The deliveries staged so far: the rows of the manifest stg_landing__files."""
        return sum(r.record_count for r in self.latest if r.measure == "table_rows" and r.counted_table == STAGED_FILES_TABLE)


def _parquet_files(tables_dir: Path, table: str) -> list[str]:
    """The data files of a table folder (partition folders included): Spark's and Athena's files,
    with or without a .parquet suffix, never Spark's _SUCCESS or .crc files."""
    folder = tables_dir / table
    files = sorted(
        str(path) for path in folder.rglob("*") if path.is_file() and not path.name.startswith(("_", "."))
    ) if folder.is_dir() else []
    if not files:
        raise PreflightError(f"{folder}: no Parquet files of table {table}; build first (make build), or give --tables-dir")
    return files


def _scan(tables_dir: Path, table: str) -> str:
    files = ", ".join("'" + name.replace("'", "''") + "'" for name in _parquet_files(tables_dir, table))
    return f"read_parquet([{files}], hive_partitioning = true, union_by_name = true)"


def load(tables_dir: Path) -> ReportData:
    """Everything the report draws, from the tables' Parquet folders."""
    db = duckdb.connect()
    rows = db.execute(
        "select invocation_id, built_at, measure, table_zone, counted_table, reason, landing_file, record_count,"
        f" newest_record_at, last_loaded_at from {_scan(tables_dir, RECORD_TABLE)}"
        " order by built_at, counted_table, reason, landing_file"
    ).fetchall()
    if not rows:
        raise PreflightError(f"{tables_dir / RECORD_TABLE}: no build recorded yet; run a build first (make build)")
    training = _scan(tables_dir, TRAINING_TABLE)
    per_subject = [count for (count,) in db.execute(f"select count(*) from {training} group by subject_id").fetchall()]
    columns = db.execute(f"select {', '.join(SIGNALS)} from {training}").fetchnumpy()
    signals = {name: np.asarray(columns[name], dtype=float) for name in SIGNALS}
    return ReportData([Recorded(*row) for row in rows], sorted(per_subject), signals)


# --- plots -------------------------------------------------------------------------------------

def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


@dataclass
class _Plot:
    """A figure whose data-carrying artists are tagged, so its SVG says what each one shows."""

    name: str
    figure: Figure
    data: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def tag(self, artist: Any, axes: str, label: str, value: float | int, shown: Any = None, **extra: object) -> None:
        """Mark `artist` as drawing `value`; `shown` is the text artist that prints it, if any."""
        gid = f"{self.name}-{len(self.data)}"
        artist.set_gid(gid)
        if shown is not None:
            shown.set_gid(f"{gid}-label")
        attributes = {"data-axes": axes, "data-label": label, "data-value": repr(value)}
        attributes |= {f"data-{key}": repr(item) if isinstance(item, float) else str(item) for key, item in extra.items()}
        self.data.append((gid, attributes))

    def svg(self) -> str:
        buffer = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": self.name}):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        svg = buffer.getvalue()
        svg = svg[svg.index("<svg"):]  # inline in HTML: no XML declaration or doctype
        svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(self.name)}" ', 1)
        for gid, attributes in self.data:
            title = f"{attributes['data-label']}: {_number(float(attributes['data-value']))}"
            rendered = " ".join(f'{key}="{html.escape(value)}"' for key, value in attributes.items())
            tag = f'<g id="{gid}">'
            if tag not in svg:
                raise RuntimeError(f"plot {self.name}: the SVG lost element {gid}")
            svg = svg.replace(tag, f'<g id="{gid}" class="datum" {rendered}><title>{html.escape(title)}</title>', 1)
        return svg


def _figure(rows: int, columns: int, height: float, width: float = 11.0) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, [ax for row in axes for ax in row]


def funnel_plot(latest: list[Recorded]) -> _Plot:
    """Per landing table: its lines, what each rule removed, and what was kept (a waterfall)."""
    figure, axes_list = _figure(len(LANDING_TABLES), 1, 3.2 * len(LANDING_TABLES))
    plot = _Plot("funnel", figure)
    for ax, table in zip(axes_list, LANDING_TABLES):
        lines = next(r.record_count for r in latest if r.measure == "table_rows" and r.counted_table == table)
        excluded = {r.reason: r.record_count for r in latest if r.measure == "excluded" and r.counted_table == table}
        kept = next(r.record_count for r in latest if r.measure == "kept" and r.counted_table == table)
        steps = [("landing lines", None, 0, lines, TOTAL_COLOUR)]
        remaining = lines
        for reason, (label, rule) in REASONS.items():
            if reason in excluded:
                remaining -= excluded[reason]
                steps.append((f"{label} ({rule})", reason, remaining, excluded[reason], EXCLUDED_COLOUR))
        steps.append((f"kept: in {KEPT_IN[table]}", "kept", 0, kept, KEPT_COLOUR))
        bars = ax.barh(range(len(steps)), [s[3] for s in steps], left=[s[2] for s in steps], color=[s[4] for s in steps])
        texts = ax.bar_label(bars, labels=[_number(s[3]) for s in steps], padding=3, fontsize=8)
        for bar, text, (label, reason, _, value, _) in zip(bars, texts, steps):
            plot.tag(bar, table, f"{table}: {reason or 'lines'}", value, shown=text)
        ax.set_yticks(range(len(steps)), [s[0] for s in steps], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, lines * 1.12 or 1)
        ax.set_title(f"{table}: {lines:,} lines, {kept:,} kept", fontsize=10, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    return plot


def rows_plot(recorded: list[Recorded], builds: list[tuple[datetime.datetime, str]]) -> _Plot:
    """Rows of every table at each recorded build, one panel per zone."""
    shown_builds = {invocation for _, invocation in builds[-MAX_BUILDS:]}
    first, last = builds[-MAX_BUILDS:][0][0], builds[-1][0]
    # a margin either side, so that a single build does not stretch the axis over years
    margin = max((last - first) * 0.05, datetime.timedelta(hours=1))
    figure, axes_list = _figure(2, 2, 6.5)
    plot = _Plot("rows", figure)
    for ax, zone in zip(axes_list, ZONES):
        tables = sorted({r.counted_table for r in recorded if r.measure == "table_rows" and r.table_zone == zone})
        for table in tables:
            points = [r for r in recorded if r.measure == "table_rows" and r.counted_table == table and r.invocation_id in shown_builds]
            (line,) = ax.plot([r.built_at for r in points], [r.record_count for r in points], linewidth=1, label=table)
            for point in points:
                (marker,) = ax.plot([point.built_at], [point.record_count], "o", color=line.get_color(), markersize=4)
                plot.tag(marker, zone, f"{table} at {point.built_at:%Y-%m-%d %H:%M:%S}", point.record_count)
        ax.set_title(zone, fontsize=10, loc="left")
        ax.set_xlim(first - margin, last + margin)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.2), frameon=False)
        ax.tick_params(labelsize=7)
        ax.tick_params(axis="x", labelrotation=20)
    return plot


def _epoch_ms(moment: datetime.datetime) -> int:
    return round(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def freshness(latest: list[Recorded]) -> dict[str, tuple[datetime.datetime | None, datetime.datetime | None]]:
    """Per zone: the newest reading and the last load its tables hold, in the latest build."""
    rows = {r.counted_table: r for r in latest if r.measure == "table_rows"}
    result = {}
    for zone, tables in READING_TABLES.items():
        newest = [rows[t].newest_record_at for t in tables if t in rows and rows[t].newest_record_at]
        loads = [r.last_loaded_at for r in rows.values() if r.table_zone == zone and r.last_loaded_at]
        result[zone] = (max(newest, default=None), max(loads, default=None))
    return result


def freshness_plot(latest: list[Recorded]) -> _Plot:
    """Newest reading and last load per zone, on one time axis each, with the build's start."""
    built_at = latest[0].built_at
    figure, axes_list = _figure(1, 2, 2.6)
    plot = _Plot("freshness", figure)
    zones = list(READING_TABLES)
    for ax, (panel, position) in zip(axes_list, (("newest reading", 0), ("last load", 1))):
        moments = {zone: freshness(latest)[zone][position] for zone in zones}
        known = [moment for moment in moments.values() if moment is not None] + [built_at]
        # a margin either side, so that points at one instant do not stretch the axis over years
        margin = max((max(known) - min(known)) * 0.08, datetime.timedelta(hours=1))
        ax.set_xlim(min(known) - margin, max(known) + margin)
        for row, zone in enumerate(zones):
            moment = moments[zone]
            if moment is None:
                continue
            (marker,) = ax.plot([moment], [row], "D" if position == 0 else "o", color=KEPT_COLOUR, markersize=6)
            text = ax.annotate(f"{moment:%Y-%m-%d %H:%M:%S}", (moment, row), xytext=(0, 7), textcoords="offset points",
                               ha="center", fontsize=7)
            plot.tag(marker, panel, f"{zone} {panel}", _epoch_ms(moment), shown=text, time=f"{moment:%Y-%m-%d %H:%M:%S}")
        build = ax.axvline(built_at, color=TOTAL_COLOUR, linestyle="--", linewidth=1, label=f"build {built_at:%Y-%m-%d %H:%M}")
        plot.tag(build, panel, f"build ({panel})", _epoch_ms(built_at), time=f"{built_at:%Y-%m-%d %H:%M:%S}")
        ax.set_yticks(range(len(zones)), zones, fontsize=8)
        ax.set_ylim(-0.6, len(zones) - 0.3)
        ax.invert_yaxis()
        ax.set_title(panel, fontsize=10, loc="left")
        ax.legend(fontsize=7, loc="lower right")
        ax.tick_params(axis="x", labelsize=7, labelrotation=20)
    return plot


def _integer_bins(values: Sequence[int]) -> np.ndarray:
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low + 1) / HISTOGRAM_BINS))
    return np.arange(low, high + width + 1, width, dtype=float)


def _histogram(plot: _Plot, ax: Axes, axes: str, values: np.ndarray, edges: np.ndarray, unit: str) -> None:
    """Bars of how many values fall in each bin [low, high), the last bin closed."""
    counts, edges = np.histogram(values, bins=edges)
    bars = ax.bar(edges[:-1], counts, width=np.diff(edges) * 0.9, align="edge", color=KEPT_COLOUR)
    labels = ax.bar_label(bars, labels=[_number(c) for c in counts], fontsize=6)
    for bar, text, count, low, high in zip(bars, labels, counts, edges[:-1], edges[1:]):
        plot.tag(bar, axes, f"{axes} {_number(low)} to {_number(high)} {unit}".rstrip(), int(count), shown=text,
                 low=float(low), high=float(high))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _value_bars(plot: _Plot, ax: Axes, axes: str, values: np.ndarray) -> None:
    """One bar per distinct value, for signals that take few values."""
    distinct, counts = np.unique(values, return_counts=True)
    width = 0.8 * float(np.min(np.diff(distinct))) if len(distinct) > 1 else 0.8
    bars = ax.bar(distinct, counts, width=width, color=KEPT_COLOUR)
    labels = ax.bar_label(bars, labels=[_number(c) for c in counts], fontsize=7)
    for bar, text, value, count in zip(bars, labels, distinct, counts):
        plot.tag(bar, axes, f"{axes} = {_number(value)}", int(count), shown=text, low=float(value), high=float(value))


def subjects_plot(readings_per_subject: list[int]) -> _Plot:
    """How many subjects have how many rows in the training table."""
    figure, (ax,) = _figure(1, 1, 3.0)
    plot = _Plot("subjects", figure)
    if readings_per_subject:
        _histogram(plot, ax, "readings per subject", np.asarray(readings_per_subject), _integer_bins(readings_per_subject), "rows")
    ax.set_xlabel("rows of the subject in the training table", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("subjects", fontsize=8)
    ax.tick_params(labelsize=8)
    return plot


def signals_plot(signals: dict[str, np.ndarray]) -> _Plot:
    figure, axes_list = _figure(2, 2, 5.5)
    plot = _Plot("signals", figure)
    for ax, name in zip(axes_list, SIGNALS):
        values = signals[name]
        finite = values[np.isfinite(values)]
        if len(np.unique(finite)) <= DISCRETE_VALUES:
            _value_bars(plot, ax, name, finite)
        elif len(finite):
            _histogram(plot, ax, name, finite, np.histogram_bin_edges(finite, bins=HISTOGRAM_BINS), "")
        left_out = len(values) - len(finite)
        ax.set_title(f"{name}: {len(finite):,} values" + (f", {left_out:,} null or not finite" if left_out else ""),
                     fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    return plot


def malformed_plot(malformed_files: list[Recorded]) -> _Plot:
    """The recorded malformed lines of each landing file, most first."""
    shown = [(r.landing_file or "", r.record_count) for r in malformed_files[:MAX_FILES]]
    figure, (ax,) = _figure(1, 1, max(1.6, 0.28 * len(shown) + 0.8))
    plot = _Plot("malformed", figure)
    bars = ax.barh(range(len(shown)), [count for _, count in shown], color=EXCLUDED_COLOUR)
    texts = ax.bar_label(bars, labels=[_number(count) for _, count in shown], padding=3, fontsize=8)
    for bar, text, (path, count) in zip(bars, texts, shown):
        plot.tag(bar, "malformed lines", path, count, shown=text)
    ax.set_yticks(range(len(shown)), [path for path, _ in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max((count for _, count in shown), default=1) * 1.15)
    ax.set_xlabel("malformed lines", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=8)
    return plot


# --- the page ----------------------------------------------------------------------------------

def _table(header: Sequence[str], rows: Iterable[Sequence[object]], table_id: str) -> str:
    def cell(value: object) -> str:
        if isinstance(value, bool) or value is None:
            return "<td></td>" if value is None else f"<td>{value}</td>"
        if isinstance(value, int | float):
            return f'<td class="number">{_number(value)}</td>'
        if isinstance(value, datetime.datetime):
            return f"<td>{value:%Y-%m-%d %H:%M:%S}</td>"
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(cell(value) for value in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _section(section_id: str, title: str, question: str, plot: _Plot, *extra: str) -> str:
    return (
        f'<section id="{section_id}"><h2>{html.escape(title)}</h2><p class="question">{html.escape(question)}</p>'
        f'<figure id="{plot.name}-plot">{plot.svg()}</figure>{"".join(extra)}</section>'
    )


STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
p.question { color: #555; } figure { margin: 0.5em 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; } td.number { text-align: right; }
"""


def render(data: ReportData, source: str) -> str:
    latest = data.latest
    built_at, invocation_id = data.builds[-1]
    funnel_rows = [
        (r.counted_table, "kept" if r.measure == "kept" else REASONS[r.reason or ""][0],
         "" if r.measure == "kept" else REASONS[r.reason or ""][1], r.record_count)
        for table in LANDING_TABLES
        for r in sorted(
            (r for r in latest if r.counted_table == table and r.measure in ("excluded", "kept")),
            key=lambda r: list(REASONS).index(r.reason) if r.reason else len(REASONS),
        )
    ]
    table_rows = [
        (r.table_zone, r.counted_table, r.record_count, r.newest_record_at, r.last_loaded_at)
        for zone in ZONES for r in sorted(latest, key=lambda r: r.counted_table) if r.measure == "table_rows" and r.table_zone == zone
    ]
    subjects = data.readings_per_subject
    largest = sorted(subjects, reverse=True)[: max(1, len(subjects) // 10)]
    subject_stats = [(
        len(subjects), sum(subjects), min(subjects, default=0), float(np.median(subjects)) if subjects else 0,
        max(subjects, default=0), f"{100 * sum(largest) / max(1, sum(subjects)):.1f}%",
    )]
    malformed_files = data.malformed_files
    sections = [
        _section("funnel", "From landing to the training table, by rule",
                 "Where did each landing line go? Every line is kept or stopped by the first rule that applies; "
                 "per landing table, lines = kept + excluded.", funnel_plot(latest),
                 _table(("landing table", "outcome", "rule", "lines"), funnel_rows, "funnel-table")),
        _section("rows", "Rows per table over the recorded builds",
                 "Why did a row count change between builds? Each point is one table after one build "
                 f"(the last {MAX_BUILDS} builds).", rows_plot(data.recorded, data.builds),
                 _table(("zone", "table", "rows", "newest record", "last load"), table_rows, "rows-table")),
        _section("freshness", "Freshness per zone",
                 "Did the newest delivery reach every zone? The newest reading each zone holds and when its "
                 "newest rows were loaded, in the latest build.", freshness_plot(latest),
                 _table(("zone", "newest reading", "last load"),
                        [(zone, *moments) for zone, moments in freshness(latest).items()], "freshness-table")),
        _section("subjects", "Readings per subject in the training table",
                 "How balanced is a split by person? How many subjects have how many training rows.",
                 subjects_plot(subjects),
                 _table(("subjects", "rows", "fewest", "median", "most", "rows of the largest 10% of subjects"),
                        subject_stats, "subjects-table")),
        _section("signals", "Signals in the training table",
                 "What do the signals look like? The distributions of distancefromobject and of x, y and z.",
                 signals_plot(data.signals)),
        _section("malformed", "Malformed lines per landing file",
                 "Did a delivery arrive damaged? Landing files with malformed lines (R0), most first"
                 + (f" (the first {MAX_FILES})" if len(malformed_files) > MAX_FILES else "")
                 + f"; {data.staged_files - len(malformed_files):,} of the {data.staged_files:,} staged files have none.",
                 malformed_plot(malformed_files),
                 _table(("landing file", "landing table", "malformed lines"),
                        [(r.landing_file, r.counted_table, r.record_count) for r in malformed_files], "malformed-table")),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>STEDI lakehouse build report</title><style>{STYLE}</style></head><body>"
        "<h1>STEDI lakehouse: what the builds did</h1>"
        f'<p id="build">Latest build {built_at:%Y-%m-%d %H:%M:%S} UTC (dbt invocation {html.escape(invocation_id)}); '
        f"{len(data.builds):,} build{'s' if len(data.builds) != 1 else ''} recorded in {RECORD_TABLE}; "
        f"read from {html.escape(source)}.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(tables_dir: Path, output: Path) -> Path:
    """Read the tables under `tables_dir` (one Parquet folder per table) and write the page."""
    try:
        data = load(tables_dir)
    except duckdb.Error as error:
        raise PreflightError(f"{tables_dir}: cannot read the tables: {str(error).splitlines()[0]}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(data, str(tables_dir)), encoding="utf-8")
    return output

