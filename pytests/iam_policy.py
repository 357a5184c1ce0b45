"""Evaluates IAM identity policies the way IAM does, for the requests a test asks about, since moto
does not enforce IAM by itself.

A request (action, resource, condition keys) is allowed when some Allow statement applies to it
and no Deny statement does. A statement applies when its Action matches the action (or its
NotAction does not), its Resource matches the resource (or its NotResource does not) and every
condition holds. Actions match case-insensitively, resources case-sensitively; in both `*` is any
run of characters (`/` and `:` included) and `?` one character. A policy element this evaluator
does not know (a condition operator, a policy variable) raises, rather than being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if "${" in pattern:
        raise ValueError(f"policy variable in {pattern!r}: not evaluated here")
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _matches_any(patterns: Any, value: str, case_sensitive: bool) -> bool:
    return any(wildcard_match(pattern, value, case_sensitive) for pattern in _as_list(patterns))


STRING_OPERATORS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": wildcard_match,
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": wildcard_match,
    "Bool": lambda expected, actual: expected.lower() == actual.lower(),
}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    negated = base.startswith(("StringNot", "ArnNot"))
    positive = base.replace("Not", "", 1) if negated else base
    if positive not in STRING_OPERATORS:
        raise ValueError(f"condition operator {operator}: not evaluated here")
    actual = {name.lower(): value for name, value in context.items()}.get(key.lower())
    if actual is None:  # a missing key fails a positive test, passes a negated one
        return if_exists or negated
    matched = any(STRING_OPERATORS[positive](str(value), actual) for value in _as_list(expected))
    return not matched if negated else matched


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        action = _matches_any(statement["Action"], request.action, case_sensitive=False)
    else:
        action = not _matches_any(statement["NotAction"], request.action, case_sensitive=False)
    if "Resource" in statement:
        resource = _matches_any(statement["Resource"], request.resource, case_sensitive=True)
    else:
        resource = not _matches_any(statement["NotResource"], request.resource, case_sensitive=True)
    conditions = statement.get("Condition", {})
    return action and resource and all(
        _condition_holds(operator, key, expected, request.context)
        for operator, tests in conditions.items()
        for key, expected in tests.items()
    )


def is_allowed(policies: Iterable[Policy], request: Request) -> bool:
    statements = [statement for policy in policies for statement in _as_list(policy["Statement"])]
    if any(statement["Effect"] == "Deny" and statement_applies(statement, request) for statement in statements):
        return False
    return any(statement["Effect"] == "Allow" and statement_applies(statement, request) for statement in statements)
