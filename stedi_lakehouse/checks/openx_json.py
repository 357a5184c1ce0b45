"""The OpenX JSON SerDe as Athena reads a landing line into string columns, for the offline check.

A port of Trino's reimplementation of the Hive SerDe (io.trino.hive.formats.line.openxjson:
JsonReader, the string decoder and JsonWriter), restricted to what the landing tables use:
`string` columns, `ignore.malformed.json` and `case.insensitive`. It is lenient where the SerDe
is (unquoted and single-quoted strings, comments, `=` between key and value, text after the
first value), so a line reads here as it reads on Athena, not as Python's json module reads it.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
LITERAL_END = set(" \r\n\t\f{}[]/\\:,=;#")
JAVA_WHITESPACE = "".join(chr(code) for code in range(0x21))  # what Java's String.trim() strips
LINE_BREAK = re.compile(r"\r\n|\r|\n")
DIGITS = {8: re.compile(r"[+-]?[0-7]+"), 10: re.compile(r"[+-]?[0-9]+"), 16: re.compile(r"[+-]?[0-9a-fA-F]+")}
JAVA_BIG_DECIMAL = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?")


class MalformedJson(ValueError):
    """The lenient reader could not read the line either."""


@dataclass(frozen=True)
class JsonString:
    """A scalar as the SerDe keeps it: its text, and whether it was quoted."""

    value: str
    quoted: bool


Json = dict[str, "Json"] | list["Json"] | JsonString | None


class _Reader:
    def __init__(self, text: str, case_insensitive: bool) -> None:
        self.text, self.position, self.case_insensitive = text, 0, case_insensitive

    def next_value(self) -> Json:
        c = self._next_token()
        if c is None:
            raise MalformedJson("end of input")
        if c == "{":
            return self._object()
        if c == "[":
            return self._array()
        if c in "'\"":
            return self._quoted(c)
        self.position -= 1
        return self._literal()

    def _object(self) -> dict[str, Json]:
        first = self._next_token()
        if first == "}":
            return {}
        if first is not None:
            self.position -= 1
        result: dict[str, Json] = {}
        while True:
            name = self.next_value()
            if not isinstance(name, JsonString):
                raise MalformedJson("field names must be strings")
            separator = self._next_token()
            if separator not in (":", "="):
                raise MalformedJson(f"expected ':' after field {name.value}")
            if separator == "=" and self.text[self.position:self.position + 1] == ">":
                self.position += 1
            # a later key replaces an earlier one that matches it; the key keeps its own spelling
            for earlier in [key for key in result if self._same_key(key, name.value)]:
                del result[earlier]
            result[name.value] = self.next_value()
            c = self._next_token()
            if c == "}":
                return result
            if c not in (",", ";"):
                raise MalformedJson("unterminated object")

    def _same_key(self, first: str, second: str) -> bool:
        return first.lower() == second.lower() if self.case_insensitive else first == second

    def _array(self) -> list[Json]:
        result: list[Json] = []
        trailing_separator = False
        while True:
            c = self._next_token()
            if c is None:
                raise MalformedJson("unterminated array")
            if c == "]":
                if trailing_separator:
                    result.append(None)
                return result
            if c in (",", ";"):
                result.append(None)
                trailing_separator = True
                continue
            self.position -= 1
            result.append(self.next_value())
            c = self._next_token()
            if c == "]":
                return result
            if c not in (",", ";"):
                raise MalformedJson("unterminated array")
            trailing_separator = True

    def _quoted(self, quote: str) -> JsonString:
        parts: list[str] = []
        start = self.position
        while self.position < len(self.text):
            c = self.text[self.position]
            self.position += 1
            if c == quote:
                parts.append(self.text[start:self.position - 1])
                return JsonString(_join_surrogates("".join(parts)), quoted=True)
            if c == "\\":
                if self.position == len(self.text):
                    raise MalformedJson("unterminated escape sequence")
                parts.append(self.text[start:self.position - 1])
                parts.append(self._escape())
                start = self.position
        raise MalformedJson("unterminated string")

    def _escape(self) -> str:
        escaped = self.text[self.position]
        self.position += 1
        if escaped == "u":
            digits = self.text[self.position:self.position + 4]
            self.position += 4
            if len(digits) < 4 or not re.fullmatch(r"[+-]?[0-9a-fA-F]+", digits):
                raise MalformedJson(f"invalid escape sequence {digits}")
            return chr(int(digits, 16) & 0xFFFF)
        return {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", "a": "\007", "v": "\011"}.get(escaped, escaped)

    def _literal(self) -> JsonString | None:
        start = self.position
        while self.position < len(self.text) and self.text[self.position] not in LITERAL_END:
            self.position += 1
        literal = self.text[start:self.position]
        if not literal:
            raise MalformedJson("expected a literal value")
        return None if literal.lower() == "null" else JsonString(literal, quoted=False)

    def _next_token(self) -> str | None:
        while self.position < len(self.text):
            c = self.text[self.position]
            self.position += 1
            if c in "\t \n\r":
                continue
            if c == "#":
                self.position = len(self.text)  # a comment to the end of the line
                continue
            if c == "/" and self.position < len(self.text) and self.text[self.position] in "*/":
                if self.text[self.position] == "/":
                    self.position = len(self.text)
                    continue
                end = self.text.find("*/", self.position + 1)
                if end == -1:
                    raise MalformedJson("unterminated comment")
                self.position = end + 2
                continue
            return c
        return None


def _join_surrogates(text: str) -> str:
    """Java strings are UTF-16: escaped surrogate pairs make one character."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _java_long(text: str, radix: int) -> int:
    if not DIGITS[radix].fullmatch(text):
        raise ValueError(text)
    value = int(text, radix)
    if not LONG_MIN <= value <= LONG_MAX:
        raise ValueError(text)
    return value


def _decimal_hex_octal_long(text: str) -> int:
    if len(text) >= 3 and text[0] == "0" and text[1] in "xX" and text[2] in "0123456789abcdefABCDEF":
        return _java_long(text[2:], 16)
    if len(text) >= 2 and text[0] == "0" and text[1] in "012345678":
        return _java_long(text[1:], 8)
    return _java_long(text, 10)


def _canonical_unquoted(value: str) -> str | None:
    """How the SerDe renders an unquoted scalar: booleans lowercased, numbers as plain decimals."""
    if value.lower() in ("true", "false"):
        return value.lower()
    try:
        return str(_decimal_hex_octal_long(value))
    except ValueError:
        pass
    if JAVA_BIG_DECIMAL.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return str(abs(number) if number.is_zero() else number)  # Java's BigDecimal has no -0
    return None


def _json_string(value: str) -> str:
    out = ['"']
    previous = ""
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "/":
            out.append("\\/" if previous == "<" else "/")
        elif c in "\t\b\n\r\f":
            out.append({"\t": "\\t", "\b": "\\b", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[c])
        elif ord(c) <= 0x1F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
        previous = c
    return "".join(out) + '"'


def _write(value: Json) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(key)}:{_write(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_write(item) for item in value) + "]"
    if value is None:
        return "null"
    if not value.quoted:
        canonical = _canonical_unquoted(value.value)
        if canonical is not None:
            return canonical
    return _json_string(value.value)


def as_string(value: Json) -> str | None:
    """A JSON value as a SerDe `string` column holds it."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return _write(value)
    if not value.quoted:
        canonical = _canonical_unquoted(value.value)
        if canonical is not None:
            return canonical
    return value.value


@dataclass(frozen=True)
class SerdeOptions:
    """The SerDe properties the reader honours (the others are ignored)."""

    ignore_malformed_json: bool = False
    case_insensitive: bool = True
    mappings: tuple[tuple[str, str], ...] = ()  # (column, JSON key)

    @classmethod
    def from_properties(cls, properties: dict[str, str]) -> SerdeOptions:
        flag = {key.lower(): str(value).strip().lower() for key, value in properties.items()}
        return cls(
            ignore_malformed_json=flag.get("ignore.malformed.json", "false") == "true",
            case_insensitive=flag.get("case.insensitive", "true") != "false",
            mappings=tuple((key[len("mapping."):].lower(), value) for key, value in properties.items() if key.lower().startswith("mapping.")),
        )


def read_line(line: str, columns: Sequence[str], options: SerdeOptions) -> tuple[str | None, ...]:
    """One landing line as a row of string columns. A line that is not an object or an array is
    a row of nulls; so is one the reader cannot read, with ignore.malformed.json (without it,
    MalformedJson is raised: the query fails on Athena)."""
    text = line.strip(JAVA_WHITESPACE)
    node: Json = None
    if text[:1] in ("{", "["):
        try:
            node = _Reader(text, options.case_insensitive).next_value()
        except MalformedJson:
            if not options.ignore_malformed_json:
                raise
    if isinstance(node, dict):
        mappings = dict(options.mappings)
        keys = [mappings.get(column.lower(), column.lower()) for column in columns]
        if options.case_insensitive:
            fields = {key.lower(): value for key, value in node.items()}
            return tuple(as_string(fields.get(key.lower())) for key in keys)
        return tuple(as_string(node.get(key)) for key in keys)
    if isinstance(node, list):  # an array line fills the columns by position
        return tuple(as_string(node[index]) if index < len(node) else None for index in range(len(columns)))
    return (None,) * len(columns)


def read_lines(path: Path) -> Iterator[str]:
    """The lines of a text file as Hadoop's line reader splits them (LF, CR or CRLF); every
    line counts, an empty one too, but not the end of the last line. A `.gz` file is
    gunzipped first, as Hadoop picks its codec by the name's extension."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8", errors="replace")
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    yield from lines
