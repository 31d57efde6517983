"""The list query language shared by every List RPC: `filter`, `order_by` and page sizes.

A filter is comparisons joined by AND (a subset of AIP-160): `status = ACTIVE AND
unit_price >= 10 AND text:"acme"`. Values are quoted strings, numbers, true/false or bare
enum names; times are quoted RFC 3339 strings. Each resource declares the fields it allows;
anything else is INVALID_ARGUMENT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from . import validation as check
from .errors import InvalidArgument, shown

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_FILTER_LENGTH = 1000

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|<|>|:)|(?P<word>[A-Za-z0-9_.+-]+))'
)
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
                "filter", f"unexpected text at position {pos}: {shown(text[pos:], 20)}")
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
        (name_kind, name), (op_kind, op), (raw_kind, raw) = tokens[i : i + 3]
        if name_kind != "word" or op_kind != "op" or raw_kind == "op":
            raise InvalidArgument.of("filter", "expected a comparison such as status = ACTIVE")
        spec = fields.get(name)
        if spec is None:
            allowed = ", ".join(sorted(fields))
            raise InvalidArgument.of(
                "filter", f"unknown field {shown(name)}; filterable fields: {allowed}")
        if op not in spec.operators:
            raise InvalidArgument.of("filter", f"{name} does not support {op!r}")
        if raw_kind == "word" and tokens[i + 3 : i + 4] == [("op", ":")]:
            raise _unquoted(name, op, tokens[i + 2 :], spec)
        try:
            value = spec.convert(raw)
        except ValueError as exc:
            hint = ""
            if raw_kind == "word" and spec.convert is time_converter and \
                    _DATE_LIKE.match(raw):
                day = raw if _DATE_LIKE.fullmatch(raw) else "2026-01-01"
                hint = f'; timestamps must be quoted: {name} {op} "{day}T00:00:00Z"'
            raise InvalidArgument.of("filter", f"{name}: {exc}{hint}") from exc
        conditions.append(Condition(name, spec.path, op, value))
        i += 3
    return conditions


def _unquoted(name: str, op: str, rest: list[tuple[str, str]], spec: FilterField
              ) -> InvalidArgument:
    """A bare value with ':' in it, such as an unquoted time: the tokenizer split it at each
    ':', so put it back together and show the quoted form."""
    parts = [rest[0][1]]
    j = 1
    while j + 1 < len(rest) and rest[j] == ("op", ":") and rest[j + 1][0] == "word":
        parts += [":", rest[j + 1][1]]
        j += 2
    value = "".join(parts)
    value = value if len(value) <= 40 else value[:40] + "…"
    what = "timestamps" if spec.convert is time_converter else "values containing ':'"
    return InvalidArgument.of("filter", f'{what} must be quoted: {name} {op} "{value}"')


def sort_words(part: str) -> tuple[str, bool] | None:
    """One AIP-132 order_by item, `field` or `field desc` (`asc` allowed): the field and
    whether it sorts descending; None when it is neither."""
    words = part.split()
    if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        return None
    return words[0], len(words) == 2 and words[1] == "desc"


def parse_order_by(text: str, fields: Mapping[str, str], default: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in (text or default).split(","):
        item = sort_words(part)
        if item is None:
            raise InvalidArgument.of(
                "order_by", f"{shown(part.strip())} is not `field` or `field desc`")
        name, descending = item
        if name not in fields:
            allowed = ", ".join(sorted(fields))
            raise InvalidArgument.of(
                "order_by", f"cannot sort by {shown(name)}; sortable: {allowed}")
        if any(key.path == fields[name] for key in keys):  # keyset paging would loop
            raise InvalidArgument.of("order_by", f"names {name!r} more than once")
        keys.append(SortKey(fields[name], descending))
    return keys


def enum_converter(values: Mapping[str, object]) -> Callable[[str], object]:
    def convert(raw: str) -> object:
        if raw not in values:
            raise ValueError(f"{shown(raw)} is not one of {', '.join(sorted(values))}")
        return values[raw]

    return convert


def bool_converter(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError(f"{shown(raw)} is not true or false")
    return raw == "true"


def day_converter(raw: str) -> str:
    """An ISO calendar day, as stored (`2026-12-31`): a day's text sorts by day."""
    day = check.parse_iso_date(raw)
    if day is None:
        raise ValueError(f"{shown(raw)} is not an ISO date such as 2026-12-31")
    return day.isoformat()


def text_converter(raw: str) -> str:
    if not raw or len(raw) > 200:
        raise ValueError("text must be 1 to 200 characters")
    return raw


def time_converter(raw: str) -> datetime:
    """An RFC 3339 time with a zone, normalised to UTC. It must fit google.protobuf.Timestamp
    (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, fractions allowed) once in UTC, the form
    queries and page tokens carry; Python's datetime spans exactly that range, so a time
    that overflows in the conversion is out of it."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{shown(raw)} is not an RFC 3339 time such as 2026-01-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError(f"{shown(raw)} needs a time zone, such as Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{shown(raw)} is out of range: in UTC it must fall between "
                         "0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z") from None


def currency_converter(raw: str) -> str:
    from .money import MoneyError, check_currency

    try:
        return check_currency(raw)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


def decimal_converter(raw: str) -> Decimal:
    from .money import MoneyError, parse_decimal

    try:
        return parse_decimal(raw)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc
