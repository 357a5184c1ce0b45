"""Tooling of the STEDI lakehouse dbt project."""
