"""The docs site: everything documented, row counts right, and its pages render in a browser."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
import pytest

from lakehouse import read_table, run_dbt

PROJECT = "stedi_lakehouse"
ML_TABLE = f"model.{PROJECT}.machine_learning_curated"
ML_COLUMNS = ("subject_id", "sensorreadingtime", "distancefromobject", "timestamp", "x", "y", "z", "sensor_reading_at")


@pytest.fixture(scope="module")
def docs_site(demo_build: Path, demo_landing: Path) -> Path:
    """The site as `make docs` makes it, on the shared demo build."""
    run_dbt(["run-operation", "compute_table_statistics"], landing=demo_landing, warehouse=demo_build)
    run_dbt(["docs", "generate", "--static"], landing=demo_landing, warehouse=demo_build)
    return demo_build / "target"


def load(site: Path, name: str) -> dict[str, Any]:
    return json.loads((site / name).read_text())


def own(resources: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [r for r in resources.values() if r["package_name"] == PROJECT and r["resource_type"] in kinds]


def macro_signature(macro_sql: str) -> list[str]:
    """The argument names of a macro or generic test, as Jinja parses its definition."""
    source = macro_sql.replace("{% test ", "{% macro ").replace("{% endtest", "{% endmacro")
    tree = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"]).parse(source)
    return [arg.name for macro in tree.find_all(jinja2.nodes.Macro) for arg in macro.args]


def test_site_files_exist(docs_site: Path) -> None:
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
        assert (docs_site / name).stat().st_size > 0, name


def test_every_catalog_table_and_column_is_documented(docs_site: Path) -> None:
    manifest, catalog = load(docs_site, "manifest.json"), load(docs_site, "catalog.json")
    materialized = [m["unique_id"] for m in own(manifest["nodes"], "model", "seed") if m["config"]["materialized"] != "ephemeral"]
    assert sorted(catalog["nodes"]) == sorted(materialized), "the catalog is not from a full build"
    assert len(catalog["sources"]) == len(own(manifest["sources"], "source"))
    undocumented = []
    for kind in ("nodes", "sources"):
        for unique_id, entry in catalog[kind].items():
            node = manifest[kind][unique_id]
            described = {name.lower() for name, column in node["columns"].items() if column["description"].strip()}
            if not node["description"].strip():
                undocumented.append(unique_id)
            undocumented += [f"{unique_id}.{name}" for name in entry["columns"] if name.lower() not in described]
    assert not undocumented


def test_every_resource_and_macro_is_described(docs_site: Path) -> None:
    manifest = load(docs_site, "manifest.json")
    resources = [*own(manifest["nodes"], "model", "seed", "analysis"), *own(manifest["sources"], "source")]
    assert not [r["unique_id"] for r in resources if not r["description"].strip()]
    assert not [f"{r['unique_id']}.{name}" for r in resources for name, c in r["columns"].items() if not c["description"].strip()]
    macros = own(manifest["macros"], "macro")
    assert {"test_is_subject_of", "spark__sha256_hex", "compute_table_statistics"} <= {m["name"] for m in macros}
    assert not [m["unique_id"] for m in macros if not m["description"].strip()]
    undocumented_arguments = [
        f"{m['name']}({name})"
        for m in macros
        for name in macro_signature(m["macro_sql"])
        if not any(a["name"] == name and a["description"].strip() for a in m["arguments"])
    ]
    assert not undocumented_arguments


def test_every_model_has_owner_pii_and_zone(docs_site: Path) -> None:
    manifest = load(docs_site, "manifest.json")
    models = own(manifest["nodes"], "model")
    missing = [m["unique_id"] for m in models if not {"owner", "contains_pii", "zone"} <= set(m["config"]["meta"])]
    assert models and not missing
    assert manifest["nodes"][ML_TABLE]["config"]["meta"] == {"zone": "curated", "owner": "data-engineering", "contains_pii": False}


def test_training_set_exposure(docs_site: Path) -> None:
    exposure = load(docs_site, "manifest.json")["exposures"][f"exposure.{PROJECT}.step_detection_training_set"]
    assert exposure["type"] == "ml"
    assert exposure["owner"]["email"] and exposure["description"].strip()
    assert exposure["depends_on"]["nodes"] == [ML_TABLE]


def test_catalog_row_count_is_the_tables(docs_site: Path, demo_build: Path) -> None:
    stats = load(docs_site, "catalog.json")["nodes"][ML_TABLE]["stats"]
    rows = sum(read_table(demo_build, "machine_learning_curated", ["subject_id"]).values())
    assert rows > 0
    assert stats["rows"]["value"] == rows


@pytest.fixture(scope="module")
def served_site(docs_site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(docs_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after headless Chromium ran its scripts."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make chromium` installs Debian's package")
    return subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_training_table_page_renders(served_site: str, tmp_path: Path) -> None:
    dom = rendered_dom(f"{served_site}/index.html#!/model/{ML_TABLE}", tmp_path / "profile")
    assert "machine_learning_curated" in dom
    assert "The training table, where data scientists start" in dom
    assert "R5 — machine-learning table." in dom
    for column in ML_COLUMNS:
        assert f">{column}<" in dom, column
    assert "Pseudonymous key of the person" in dom


def test_static_site_opens_without_a_server(docs_site: Path, tmp_path: Path) -> None:
    dom = rendered_dom(f"{(docs_site / 'static_index.html').as_uri()}#!/overview", tmp_path / "profile")
    # The static page embeds the manifest, so look for what only rendering makes of the markdown.
    rendered = (
        '<h2 id="where-to-start">Where to start</h2>',
        '<code class="language-python">',
        '<span class="token string">"stedi.machine_learning_curated"</span>',
        "<code>seeds/erasure_requests.csv</code>",
        "You <strong>may not</strong>",
    )
    for html in rendered:
        assert html in dom, html
