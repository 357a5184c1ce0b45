"""Which records are an erased person's, decided from keyed hashes only.

A landing line is theirs when any JSON string in it is, after trimming and lowercasing, an
erased email (any case or space variant, in any field, in a malformed line too), or is exactly
a serial number that only erased people held. A table row is theirs when a column named like an
email (email, email_key, user) holds an erased email, `serialnumber` such a serial, or
`subject_id` their pseudonym. The erase journal stores the serials and pseudonyms as keyed
hashes too, so that nothing of the person is written anywhere in clear.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from stedi_lakehouse.erasure.keys import keyed_hash, normalize_email

EMAIL_COLUMNS = ("email", "email_key", "user")
SERIAL_COLUMN = "serialnumber"
SUBJECT_COLUMN = "subject_id"
JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def json_strings(line: str) -> list[str]:
    """Every JSON string of a line, decoded; also in a line that is not valid JSON as a whole."""
    strings = []
    for match in JSON_STRING.finditer(line):
        raw = match.group(1)
        try:
            strings.append(json.loads(f'"{raw}"') if "\\" in raw else raw)
        except ValueError:
            strings.append(raw)
    return strings


@dataclass
class Matcher:
    """Maps values to the requests (email hashes) whose person they identify."""

    key: bytes
    requests: frozenset[str]
    serials: dict[str, list[str]]  # keyed hash of a serial number only erased people held -> requests
    subjects: dict[str, list[str]]  # keyed hash of a subject_id -> requests
    _emails: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _exact: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def of_email(self, value: str) -> tuple[str, ...]:
        known = self._emails.get(value)
        if known is None:
            digest = keyed_hash(self.key, normalize_email(value)) if "@" in value else ""
            known = self._emails[value] = (digest,) if digest in self.requests else ()
        return known

    def _of_exact(self, value: str, hashes: dict[str, list[str]], kind: str) -> tuple[str, ...]:
        cache_key = f"{kind}:{value}"
        known = self._exact.get(cache_key)
        if known is None:
            known = self._exact[cache_key] = tuple(hashes.get(keyed_hash(self.key, value), ()))
        return known

    def of_serial(self, value: str) -> tuple[str, ...]:
        return self._of_exact(value, self.serials, "serial") if self.serials else ()

    def of_subject(self, value: str) -> tuple[str, ...]:
        return self._of_exact(value, self.subjects, "subject") if self.subjects else ()

    def of_line(self, line: str) -> set[str]:
        """The requests a landing line belongs to; empty for everyone else's lines."""
        owners: set[str] = set()
        for value in json_strings(line):
            owners.update(self.of_email(value))
            owners.update(self.of_serial(value))
        return owners

    def of_column(self, column: str, value: str) -> tuple[str, ...]:
        name = column.lower()
        if name in EMAIL_COLUMNS:
            return self.of_email(value)
        if name == SERIAL_COLUMN:
            return self.of_serial(value)
        if name == SUBJECT_COLUMN:
            return self.of_subject(value)
        return ()


def identifying_columns(names: list[str]) -> list[str]:
    """The columns of a table that can tie a row to a person."""
    return [name for name in names if name.lower() in (*EMAIL_COLUMNS, SERIAL_COLUMN, SUBJECT_COLUMN)]
