"""The audit records of an erase, printed: one line per request, then where the log is."""

from __future__ import annotations

from typing import Any

ZONE_ORDER = ("landing", "staging", "intermediate", "trusted", "curated", "bookkeeping", "other")


def describe(record: dict[str, Any]) -> str:
    removed: dict[str, int] = record["records_removed"]
    files: dict[str, list[str]] = record["files_rewritten"]
    zones = [zone for zone in ZONE_ORDER if zone in removed or zone in files]
    parts = [f"{zone} {removed.get(zone, 0):,} records in {len(files.get(zone, []))} files" for zone in zones]
    return (
        f"erased {record['email_hmac']} (requested {record['requested_at']}, carried out {record['carried_out_at']}, "
        f"run {record['run']}): {', '.join(parts) or 'no record found'}"
    )


def print_records(records: list[dict[str, Any]], log_location: str) -> None:
    for record in records:
        print(describe(record))
    print(f"erase: {len(records)} requests carried out; audit log: {log_location}/")
