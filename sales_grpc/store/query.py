"""Turns parsed list filters and access scopes into MongoDB queries, literally and safely.

Every value lands in an operator position we chose ($eq, $gt, ...), and text is escaped
before it becomes a regex, so `.*` or `{"$gt": ""}` in input only ever matches itself.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

from ..domain.access import Scope
from ..domain.listing import Condition

_OPERATORS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def literal_regex(text: str) -> dict[str, Any]:
    return {"$regex": re.escape(text), "$options": "i"}


def text_match(text: str, paths: tuple[str, ...]) -> dict[str, Any]:
    pattern = literal_regex(text)
    return {"$or": [{path: pattern} for path in paths]}


def _value(value: object) -> object:
    return Decimal128(value) if isinstance(value, Decimal) else value


def build(conditions: list[Condition], text_paths: tuple[str, ...]) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for c in conditions:
        if c.operator == ":":
            clauses.append(text_match(str(c.value), text_paths))
        else:
            clauses.append({c.path: {_OPERATORS[c.operator]: _value(c.value)}})
    return clauses


def scoped(scope: Scope) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if scope.owner_id is not None:
        clauses.append({"owner_id": scope.owner_id})
    if scope.team_id is not None:
        clauses.append({"team_id": scope.team_id})
    return clauses


def all_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$and": clauses} if clauses else {}


def oid(value: str) -> ObjectId:
    return ObjectId(value)
