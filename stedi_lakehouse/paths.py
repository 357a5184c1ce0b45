"""Where the project lives and what a landing zone holds: the one definition every module imports."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]

# The landing zones, each read from `<landing root>/<zone>/landing/`.
LANDING_ZONES = ("customer", "accelerometer", "step_trainer")
