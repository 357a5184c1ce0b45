"""Verification and benchmark code: the offline Athena check (its scenario and SerDe port) and the benchmark."""
