"""What each build records about itself (build_record_counts), checked against the Python oracle,
and the report drawn from it, opened from disk in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from reference import landing_line_counts, landing_outcomes, malformed_lines_per_file

from lakehouse import (
    BIN, ZONE_TABLES, read_table, recorded_counts, recorded_landing_outcomes, recorded_malformed_lines, row_count, table_path,
)

PLOTS = ("funnel", "rows", "freshness", "subjects", "signals", "malformed")
STAGING = ("stg_landing__customers", "stg_landing__accelerometer_readings", "stg_landing__step_trainer_readings")
MANIFEST = "stg_landing__files"


def recorded(warehouse: Path) -> list[dict[str, Any]]:
    relation = duckdb.sql(f"select * from read_parquet('{table_path(warehouse, 'build_record_counts')}/*.parquet')")
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def test_recorded_outcomes_equal_the_oracle(demo_build: Path, demo_landing: Path) -> None:
    expected = landing_outcomes(demo_landing)
    assert recorded_landing_outcomes(demo_build) == expected
    counts, lines = recorded_counts(demo_build), landing_line_counts(demo_landing)
    for table, outcomes in expected.items():
        assert counts[("table_rows", table, None)] == lines[table] == sum(outcomes.values()), table
    # every reason that applies to a zone is recorded, and all but erasure occur in the demo data
    by_reason = recorded_landing_outcomes(demo_build, with_zeros=True)
    assert len(by_reason["customer_landing"]) == 9 and len(by_reason["step_trainer_landing"]) == 12
    assert [reason for table in by_reason.values() for reason, count in table.items() if not count] == ["erased"] * 3
    # the malformed lines of each landing file, which add up to each table's malformed_line exclusions
    per_file = recorded_malformed_lines(demo_build)
    assert per_file == malformed_lines_per_file(demo_landing) and per_file
    for table, outcomes in expected.items():
        zone = table.removesuffix("_landing")
        assert sum(count for path, count in per_file.items() if path.startswith(f"{zone}/")) == outcomes["malformed_line"], table


def test_recorded_rows_are_the_tables(demo_build: Path) -> None:
    counts = recorded_counts(demo_build)
    for table in (*STAGING, MANIFEST, *ZONE_TABLES):
        assert counts[("table_rows", table, None)] == row_count(demo_build, table), table


def test_landing_records_add_up_fails_when_a_line_is_unaccounted_for(demo_build: Path) -> None:
    """The compiled data test, run on DuckDB over the recorded rows: it passes on the build's own
    rows and names the landing table once a count is off or an outcome is missing."""
    compiled = next((demo_build / "target" / "compiled").rglob("landing_records_add_up_build_record_counts_.sql"))
    db = duckdb.connect()
    db.execute("create schema stedi")
    db.execute(f"create table stedi.build_record_counts as select * from read_parquet('{table_path(demo_build, 'build_record_counts')}/*.parquet')")
    sql = compiled.read_text()
    assert db.execute(sql).fetchall() == []
    db.execute("update stedi.build_record_counts set record_count = record_count + 1 where reason = 'unpaired' and counted_table = 'accelerometer_landing'")
    assert [row[0] for row in db.execute(sql).fetchall()] == ["accelerometer_landing"]
    db.execute("delete from stedi.build_record_counts where measure <> 'table_rows' and counted_table = 'customer_landing'")
    assert sorted(row[0] for row in db.execute(sql).fetchall()) == ["accelerometer_landing", "customer_landing"]


# --- the report ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_page(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("report") / "index.html"
    subprocess.run(
        [str(BIN / "stedi"), "report", "--warehouse", str(demo_build), "--output", str(output)],
        check=True, capture_output=True, text=True, env={**os.environ, "STEDI_SCHEMA": "stedi"},
    )
    return output


MEASURE = """<script>
(() => {
  const box = (element) => { const b = element.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
  const number = (text) => (text === undefined ? null : Number(text));
  const data = [...document.querySelectorAll('g.datum')].map((g) => {
    const shown = document.getElementById(g.id + '-label');
    return {
      plot: g.closest('figure').id, axes: g.dataset.axes, label: g.dataset.label, value: Number(g.dataset.value),
      low: number(g.dataset.low), high: number(g.dataset.high), time: g.dataset.time || null, box: box(g),
      shapes: g.querySelectorAll('path, use').length, shown: shown ? shown.textContent.trim() : null,
      title: g.querySelector('title').textContent,
    };
  });
  const figures = [...document.querySelectorAll('figure')].map((f) => ({id: f.id, box: box(f.querySelector('svg'))}));
  const pre = document.createElement('pre');
  pre.id = 'measurements';
  pre.textContent = JSON.stringify({data, figures});
  document.body.appendChild(pre);
})();
</script>"""


def measured(page: Path, tmp_path: Path) -> dict[str, Any]:
    """What headless Chromium drew of each plotted value, with the network cut off."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make chromium` installs Debian's package")
    measuring = tmp_path / "measure.html"
    measuring.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900", "--virtual-time-budget=5000",
            "--dump-dom", measuring.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    found = re.search(r'<pre id="measurements">(.*?)</pre>', dom, re.S)
    assert found, "the page did not run its measurement"
    return json.loads(html.unescape(found.group(1)))


def by_plot(measurements: dict[str, Any], plot: str) -> list[dict[str, Any]]:
    return [datum for datum in measurements["data"] if datum["plot"] == f"{plot}-plot"]


def assert_encodes(data: list[dict[str, Any]], coordinate: int, name: str) -> None:
    """Within each axes, the box coordinate (0 x, 1 y, 2 width, 3 height; a centre for 0 and 1) is an
    affine function of the value, to within a pixel and a half: the drawing says what the data says."""
    for axes in {datum["axes"] for datum in data}:
        points = []
        for datum in data:
            if datum["axes"] == axes:
                x, y, width, height = datum["box"]
                points.append((datum["value"], [x + width / 2, y + height / 2, width, height][coordinate]))
        values = np.array([value for value, _ in points], dtype=float)
        if np.ptp(values) == 0:
            continue
        slope, intercept = np.polyfit(values, [pixels for _, pixels in points], 1)
        off = [(v, p) for v, p in points if abs(slope * v + intercept - p) > 1.5]
        assert not off and slope != 0, f"{name} {axes}: drawn off its value {off[:3]}"


def test_report_is_self_contained(report_page: Path) -> None:
    page = report_page.read_text()
    assert page.count("<svg ") == len(PLOTS)
    # namespaces name, never load; nothing else points off the page
    outside = re.findall(r"""(?:src|href)\s*=\s*["'](?!#)([^"']*)|url\((?!#)""", page)
    assert outside == [], outside[:5]
    assert "<script" not in page and "<link" not in page and "<img" not in page


def test_every_plot_renders_its_data(report_page: Path, demo_build: Path, demo_landing: Path, tmp_path: Path) -> None:
    measurements = measured(report_page, tmp_path)
    assert sorted(figure["id"] for figure in measurements["figures"]) == sorted(f"{plot}-plot" for plot in PLOTS)
    for figure in measurements["figures"]:
        assert figure["box"][2] > 300 and figure["box"][3] > 100, figure
    for datum in measurements["data"]:
        assert datum["shapes"] >= 1, datum
        if datum["shown"] is not None:  # the number printed beside the bar or point
            assert datum["shown"] == (datum["time"] or f"{int(datum['value']):,}"), datum

    # the funnel: each landing table's lines, each reason's exclusions and the kept lines
    counts = recorded_counts(demo_build)
    funnel = by_plot(measurements, "funnel")
    assert {d["label"]: d["value"] for d in funnel} == {
        f"{table}: {'lines' if measure == 'table_rows' else reason or 'kept'}": count
        for (measure, table, reason), count in counts.items() if table.endswith("_landing")
    }
    assert_encodes(funnel, 2, "funnel bar width")

    # rows per table, at every recorded build
    rows = by_plot(measurements, "rows")
    assert {d["label"]: d["value"] for d in rows} == {
        f"{r['counted_table']} at {r['built_at']:%Y-%m-%d %H:%M:%S}": r["record_count"]
        for r in recorded(demo_build) if r["measure"] == "table_rows"
    }
    assert_encodes(rows, 1, "row-count point height")

    # freshness, from the tables themselves
    def newest(table: str, column: str) -> Any:
        return duckdb.sql(f"select max({column}) from read_parquet('{table_path(demo_build, table)}/**/*.parquet')").fetchall()[0][0]

    expected_times = {
        "staging newest reading": max(newest(STAGING[1], "recorded_at"), newest(STAGING[2], "sensor_reading_at")),
        "trusted newest reading": max(newest("accelerometer_trusted", "recorded_at"), newest("step_trainer_trusted", "sensor_reading_at")),
        "curated newest reading": newest("machine_learning_curated", "sensor_reading_at"),
        "staging last load": max(newest(table, "loaded_at") for table in STAGING),
        "trusted last load": max(newest(table, "loaded_at") for table in ("accelerometer_trusted", "step_trainer_trusted")),
        "curated last load": newest("machine_learning_curated", "loaded_at"),
    }
    built_at = max(r["built_at"] for r in recorded(demo_build))
    expected_times |= {f"build ({panel})": built_at for panel in ("newest reading", "last load")}
    freshness = by_plot(measurements, "freshness")
    assert {d["label"]: d["time"] for d in freshness} == {label: f"{t:%Y-%m-%d %H:%M:%S}" for label, t in expected_times.items()}
    assert_encodes(freshness, 0, "freshness point position")

    # readings per subject: every subject in one bin, counted right
    per_subject = [n for (n,) in duckdb.sql(
        f"select count(*) from read_parquet('{table_path(demo_build, 'machine_learning_curated')}/**/*.parquet') group by subject_id"
    ).fetchall()]
    subjects = by_plot(measurements, "subjects")
    assert sum(d["value"] for d in subjects) == len(per_subject) > 0
    for datum in subjects:
        last = datum["high"] == max(d["high"] for d in subjects)
        assert datum["value"] == sum(datum["low"] <= n < datum["high"] or (last and n == datum["high"]) for n in per_subject)
    assert_encodes(subjects, 3, "subjects bar height")

    # the signals of the training table
    signals = read_table(demo_build, "machine_learning_curated", ["distancefromobject", "x", "y", "z"])
    drawn = by_plot(measurements, "signals")
    for position, name in enumerate(("distancefromobject", "x", "y", "z")):
        values = [row[position] for row, copies in signals.items() for _ in range(copies)]
        bars = [d for d in drawn if d["axes"] == name]
        top = max(d["high"] for d in bars)
        for datum in bars:
            low, high = datum["low"], datum["high"]
            expected = sum(v == low if low == high else low <= v < high or (high == top and v == top) for v in values)
            assert datum["value"] == expected, datum
        assert sum(d["value"] for d in bars) == len(values) > 0, name
    assert_encodes(drawn, 3, "signal bar height")

    # malformed lines per landing file, as the oracle counts them in the landing files
    malformed = by_plot(measurements, "malformed")
    assert {d["label"]: d["value"] for d in malformed} == malformed_lines_per_file(demo_landing)
    assert_encodes(malformed, 2, "malformed bar width")


def test_report_numbers_in_the_tables(report_page: Path, demo_build: Path) -> None:
    page = report_page.read_text()
    funnel_table = re.search(r'<table id="funnel-table">(.*?)</table>', page, re.S).group(1)
    cells = re.findall(r"<tr><td>([a-z_]+)</td><td>([^<]*)</td><td>[^<]*</td><td class=\"number\">([0-9,]+)</td></tr>", funnel_table)
    counts = recorded_counts(demo_build)
    assert sum(int(count.replace(",", "")) for _, _, count in cells) == sum(
        count for (measure, _, _), count in counts.items() if measure != "table_rows"
    )
    assert len(cells) == sum(1 for (measure, _, _) in counts if measure != "table_rows")


def test_report_without_a_build_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "stedi"), "report", "--warehouse", str(tmp_path / "nothing"), "--output", str(tmp_path / "r.html")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"stedi report: {tmp_path / 'nothing' / 'tables' / 'stedi.db' / 'build_record_counts'}: no Parquet files of table"
        " build_record_counts; build first (make build), or give --tables-dir"
    )
