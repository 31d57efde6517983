"""The list query language shared by every List RPC: `filter`, `order_by` and page sizes.

A filter is comparisons joined by AND (a subset of AIP-160): `status = ACTIVE AND
unit_price >= 10 AND text:"acme"`. Values are quoted strings, numbers, true/false or bare
enum names. Each resource declares the fields it allows; anything else is INVALID_ARGUMENT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_FILTER_LENGTH = 1000

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|<|>|:)|(?P<word>[A-Za-z0-9_.+-]+))'
)


@dataclass(frozen=True)
class FilterField:
    """A filterable field: where it is stored, which operators it takes, how values convert."""

    path: str
    operators: frozenset[str]
    convert: Callable[[str], object]


@dataclass(frozen=True)
class Condition:
    field: str
    path: str
    operator: str
    value: object


@dataclass(frozen=True)
class SortKey:
    path: str
    descending: bool


def page_size(requested: int, field_path: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument.of(field_path, "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidArgument.of(
                "filter", f"unexpected text at position {pos}: {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = match.end()
    return out


def parse_filter(text: str, fields: Mapping[str, FilterField]) -> list[Condition]:
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidArgument.of("filter", f"is longer than {MAX_FILTER_LENGTH} characters")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    i = 0
    while i < len(tokens):
        if conditions:
            if tokens[i] != ("word", "AND"):
                raise InvalidArgument.of("filter", "comparisons must be joined by AND")
            i += 1
        if i + 3 > len(tokens):
            raise InvalidArgument.of("filter", "expected a comparison such as status = ACTIVE")
        (name_kind, name), (op_kind, op), (_, raw) = tokens[i : i + 3]
        if name_kind != "word" or op_kind != "op" or tokens[i + 2][0] == "op":
            raise InvalidArgument.of("filter", "expected a comparison such as status = ACTIVE")
        spec = fields.get(name)
        if spec is None:
            allowed = ", ".join(sorted(fields))
            raise InvalidArgument.of(
                "filter", f"unknown field {name!r}; filterable fields: {allowed}")
        if op not in spec.operators:
            raise InvalidArgument.of("filter", f"{name} does not support {op!r}")
        try:
            value = spec.convert(raw)
        except ValueError as exc:
            raise InvalidArgument.of("filter", f"{name}: {exc}") from exc
        conditions.append(Condition(name, spec.path, op, value))
        i += 3
    return conditions


def parse_order_by(text: str, fields: Mapping[str, str], default: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in (text or default).split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise InvalidArgument.of("order_by", f"{part.strip()!r} is not `field` or `field desc`")
        if words[0] not in fields:
            allowed = ", ".join(sorted(fields))
            raise InvalidArgument.of(
                "order_by", f"cannot sort by {words[0]!r}; sortable: {allowed}")
        if any(key.path == fields[words[0]] for key in keys):  # keyset paging would loop
            raise InvalidArgument.of("order_by", f"names {words[0]!r} more than once")
        keys.append(SortKey(fields[words[0]], len(words) == 2 and words[1] == "desc"))
    return keys


def enum_converter(values: Mapping[str, object]) -> Callable[[str], object]:
    def convert(raw: str) -> object:
        if raw not in values:
            raise ValueError(f"{raw!r} is not one of {', '.join(sorted(values))}")
        return values[raw]

    return convert


def bool_converter(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError(f"{raw!r} is not true or false")
    return raw == "true"


def text_converter(raw: str) -> str:
    if not raw or len(raw) > 200:
        raise ValueError("text must be 1 to 200 characters")
    return raw


def decimal_converter(raw: str) -> Decimal:
    from .money import MoneyError, parse_decimal

    try:
        return parse_decimal(raw)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc
