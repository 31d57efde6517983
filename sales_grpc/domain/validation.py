"""Small field checks shared by every record's validation."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from .errors import Violations, shown
from .records import Address

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_PHONE = re.compile(r"^[0-9+\-() ./]{3,40}$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_REGION = re.compile(r"^[A-Z]{2}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_REQUEST_ID = 100
# Letters that render as nothing but are not Cf or whitespace (Hangul fillers, braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def blank(value: str) -> bool:
    """Whether the value shows nothing: only whitespace, format characters (zero-width
    spaces, joiners, BOMs, soft hyphens), controls or blank letters."""
    return all(c.isspace() or c in _BLANK_LETTERS or unicodedata.category(c) in ("Cf", "Cc")
               for c in value)


def text(v: Violations, path: str, value: str, *, required: bool, max_len: int) -> None:
    if required and blank(value):
        v.add(path, "is required")
    elif len(value) > max_len:
        v.add(path, f"must be at most {max_len} characters (got {len(value)})")
    elif any(ord(c) < 32 and c not in "\n\t" for c in value):
        v.add(path, "must not contain control characters")


def parse_iso_date(text: str) -> date | None:
    """A calendar day written `2026-12-31`, or None. Only that form: not the `20261231` or
    week-date (`2026-W53-4`) forms Python's date.fromisoformat also reads."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def iso_date(v: Violations, path: str, text: str, *, required: bool = False) -> date | None:
    """A request's ISO date at `path` (see parse_iso_date); None with a violation when it is not
    one, and None without one when it is empty and not `required`."""
    if not text:
        if required:
            v.add(path, "is required (an ISO date such as 2026-12-31)")
        return None
    day = parse_iso_date(text)
    if day is None:
        v.add(path, f"{shown(text)} is not an ISO date such as 2026-12-31")
    return day


def email(v: Violations, path: str, value: str) -> None:
    if not value:
        v.add(path, "is required")
    elif len(value) > 254 or not _EMAIL.fullmatch(value):
        v.add(path, f"{shown(value, 60)} is not a valid email address")


def phone(v: Violations, path: str, value: str) -> None:
    if value and not _PHONE.fullmatch(value):
        v.add(path, "may contain only digits, spaces and +-()./, 3 to 40 characters")


def address(v: Violations, path: str, value: Address | None) -> None:
    if value is None:
        return
    if len(value.address_lines) > 5:
        v.add(f"{path}.address_lines", "must have at most 5 lines")
    for i, line in enumerate(value.address_lines):
        text(v, f"{path}.address_lines[{i}]", line, required=False, max_len=200)
    for name in ("locality", "administrative_area", "postal_code"):
        text(v, f"{path}.{name}", getattr(value, name), required=False, max_len=100)
    if value.region_code and not _REGION.fullmatch(value.region_code):
        v.add(f"{path}.region_code", "must be a two-letter ISO 3166-1 code such as US")


def object_id(path: str, value: str) -> str:
    from .errors import InvalidArgument

    if not OBJECT_ID.fullmatch(value or ""):
        raise InvalidArgument.of(path, f"{shown(value)} is not a valid id (24 hexadecimal digits)")
    return value


def request_id(v: Violations, value: str) -> None:
    if len(value) > MAX_REQUEST_ID:
        v.add("request_id", f"must be at most {MAX_REQUEST_ID} characters")


def update_mask(paths: list[str], editable: frozenset[str], *, kind: str,
                with_subfields: frozenset[str] = frozenset(),
                hints: dict[str, str] | None = None) -> list[str]:
    """The top-level fields an update mask names (AIP-134). A path into a message field
    (`billing_address.locality`) replaces the whole field; unknown paths are refused."""
    v = Violations()
    if not paths:
        v.add("update_mask", "is required: name the fields to change")
    fields = []
    for path in paths:
        top = path.split(".", 1)[0]
        if top not in editable:
            hint = (hints or {}).get(top, "editable: " + ", ".join(sorted(editable)))
            v.add("update_mask", f"{shown(path)} is not an editable {kind} field ({hint})")
        elif "." in path and top not in with_subfields:
            v.add("update_mask", f"{shown(path)}: {top} has no sub-fields")
        else:
            fields.append(top)
    v.raise_if_any("invalid update_mask")
    return sorted(set(fields))
