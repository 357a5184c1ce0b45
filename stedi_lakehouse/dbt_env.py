"""The environment of a dbt run on the embedded Spark whose every output stays in one folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from stedi_lakehouse.paths import PROJECT_DIR


def isolated_dbt_env(landing: Path | str, warehouse: Path, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Profiles, tables, metastore, target and logs of the run all go under `warehouse`."""
    profiles_dir = warehouse / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(project_dir / "profiles.example.yml", profiles_dir / "profiles.yml")
    return {
        **os.environ,
        "STEDI_LANDING_PATH": str(landing),
        "STEDI_WAREHOUSE_DIR": str(warehouse),
        "DBT_PROFILES_DIR": str(profiles_dir),
        "DBT_TARGET_PATH": str(warehouse / "target"),
        "DBT_LOG_PATH": str(warehouse / "logs"),
        "SPARK_CONF_DIR": str(project_dir / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
