"""The docs site: everything documented, and the training table's page renders in a browser."""

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

import pytest

from lakehouse import run_dbt

PROJECT = "stedi_lakehouse"


@pytest.fixture(scope="module")
def docs_site(demo_build: Path, demo_landing: Path) -> Path:
    run_dbt(["docs", "generate", "--static"], landing=demo_landing, warehouse=demo_build)
    return demo_build / "target"


def load(site: Path, name: str) -> dict[str, Any]:
    return json.loads((site / name).read_text())


def test_site_files_exist(docs_site: Path) -> None:
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
        assert (docs_site / name).stat().st_size > 0, name


def test_every_model_and_catalog_column_is_documented(docs_site: Path) -> None:
    manifest, catalog = load(docs_site, "manifest.json"), load(docs_site, "catalog.json")
    undocumented = []
    for kind in ("nodes", "sources"):
        for unique_id, entry in catalog[kind].items():
            documented = {name.lower(): column["description"] for name, column in manifest[kind][unique_id]["columns"].items()}
            for name, column in entry["columns"].items():
                if not (documented.get(name.lower()) or column.get("comment")):
                    undocumented.append(f"{unique_id}.{name}")
    assert not undocumented
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(catalog["nodes"]) >= len([m for m in models if m["config"]["materialized"] != "ephemeral"])


def test_every_resource_is_described(docs_site: Path) -> None:
    manifest = load(docs_site, "manifest.json")
    resources = [
        node for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if node["package_name"] == PROJECT and node["resource_type"] in {"model", "seed", "source", "analysis"}
    ]
    assert not [node["unique_id"] for node in resources if not node["description"].strip()]
    assert not [
        f"{node['unique_id']}.{name}"
        for node in resources
        for name, column in node["columns"].items()
        if not column["description"].strip()
    ]
    macros = [macro for macro in manifest["macros"].values() if macro["package_name"] == PROJECT]
    assert macros and not [macro["unique_id"] for macro in macros if not macro["description"].strip()]
    assert manifest["exposures"], "the training set exposure is missing"


def test_every_model_has_owner_pii_and_zone(docs_site: Path) -> None:
    manifest = load(docs_site, "manifest.json")
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            assert {"owner", "contains_pii", "zone"} <= set(node["config"]["meta"]), node["unique_id"]
    ml_table = manifest["nodes"][f"model.{PROJECT}.machine_learning_curated"]
    assert ml_table["config"]["meta"]["contains_pii"] is False


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


def test_training_table_page_renders(served_site: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make chromium` installs Debian's package")
    url = f"{served_site}/index.html#!/model/model.{PROJECT}.machine_learning_curated"
    dom = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom", url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "machine_learning_curated" in dom
    assert "The training table" in dom
    for column in ("subject_id", "sensorreadingtime", "distancefromobject", "timestamp", "sensor_reading_at"):
        assert column in dom, column
    assert "Pseudonymous key of the person" in dom
