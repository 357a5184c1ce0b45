"""Tells generated demo data from real landing data, so that only demo data may use the public salt.

`stedi generate` writes `<landing root>/_stedi_demo_data`: the SHA-256 of every file it wrote. A
landing root is demo data while each of its landing files is one of them, unchanged: a file
added (a real delivery copied in) or a generated file edited makes it real data. The marker's
name starts with `_`, which every landing reader skips, and it sits beside the zone folders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from stedi_lakehouse.paths import LANDING_ZONES

MARKER_NAME = "_stedi_demo_data"


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def landing_files(root: Path) -> list[Path]:
    """Every file under <zone>/landing/ at any depth, but names starting with `_` or `.`
    (Hadoop's, Spark's and Athena's hidden files), which no build reads."""
    return sorted(
        path
        for zone in LANDING_ZONES
        for path in (root / zone / "landing").rglob("*")
        if path.is_file()
        and not any(part.startswith(("_", ".")) for part in path.relative_to(root / zone / "landing").parts)
    )


def _recorded(root: Path) -> dict[str, str] | None:
    try:
        files = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return files if isinstance(files, dict) else None


def write_marker(root: Path, files: Iterable[Path], keep_recorded: bool = False) -> None:
    """Record `files` as generated demo data (with keep_recorded, beside those recorded already)."""
    recorded = (_recorded(root) or {}) if keep_recorded else {}
    recorded.update({path.relative_to(root).as_posix(): _sha256(path) for path in files})
    marker = {"written_by": "stedi generate", "files": dict(sorted(recorded.items()))}
    (root / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


def is_marked(root: Path) -> bool:
    return _recorded(root) is not None


def why_not_demo_data(root: Path) -> str | None:
    """None when every landing file under root is generated demo data, else why not, in a phrase."""
    recorded = _recorded(root)
    if recorded is None:
        return f"no readable {MARKER_NAME} of `stedi generate` in it"
    for path in landing_files(root):
        relative = path.relative_to(root).as_posix()
        if relative not in recorded:
            return f"{relative} is not a file `stedi generate` wrote"
        if _sha256(path) != recorded[relative]:
            return f"{relative} changed since `stedi generate` wrote it"
    return None
