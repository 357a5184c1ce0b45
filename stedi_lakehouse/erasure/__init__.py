"""Erasure requests and their execution: keyed hashes instead of emails, and `stedi erase`, which
removes a person's records from the landing zone, staging and every table, with a journal and an
append-only audit log."""
