"""Shared builds: each is one real `dbt build` on the embedded Spark, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse import STARTER_DATA, run_dbt

DEMO_CUSTOMERS = 300
DEMO_READINGS_PER_CUSTOMER = 30
DEMO_SEED = 7


@pytest.fixture(scope="session")
def starter_data() -> Path:
    if not (STARTER_DATA / "customer" / "landing").is_dir():
        pytest.skip(f"the STEDI starter data is not at {STARTER_DATA}")
    return STARTER_DATA


@pytest.fixture(scope="session")
def starter_build(starter_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from the starter data with the default (strict consent) rules."""
    warehouse = tmp_path_factory.mktemp("starter-warehouse")
    run_dbt(["build"], landing=starter_data, warehouse=warehouse)
    return warehouse


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated landing data holding every hard case of the rules."""
    from stedi_lakehouse.generate import GeneratorConfig, generate_landing

    landing = tmp_path_factory.mktemp("demo-landing")
    config = GeneratorConfig(
        customers=DEMO_CUSTOMERS,
        readings_per_customer=DEMO_READINGS_PER_CUSTOMER,
        seed=DEMO_SEED,
    )
    generate_landing(landing, config)
    return landing


@pytest.fixture(scope="session")
def demo_build(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from the generated demo data with the default rules."""
    warehouse = tmp_path_factory.mktemp("demo-warehouse")
    run_dbt(["build"], landing=demo_landing, warehouse=warehouse)
    return warehouse
