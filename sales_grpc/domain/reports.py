"""Report definitions: typed columns, the source a report reads, and the export formats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from .listing import FilterField


class ColumnType(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


class ExportFormat(str, Enum):
    CSV = "csv"
    JSONL = "jsonl"
    XLSX = "xlsx"
    PDF = "pdf"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str = ""


@dataclass(frozen=True)
class Caption:
    """What a printed report says it is: a title, what it covers, and its day."""

    title: str
    subtitle: str
    day: date


@dataclass(frozen=True)
class DateRange:
    """Calendar days (UTC, ISO strings), both inclusive; empty for no bound."""

    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class Report:
    """A report: one row per record of `source` (per line for `order_lines`), in a stable
    order ending in the document id, so that the same data always gives the same file."""

    id: str
    display_name: str
    source: str
    description: str
    columns: tuple[Column, ...]
    filters: Mapping[str, FilterField]
    date_field: str
    # Columns a custom report of this source may sort by, and the stored field of each (the
    # database sorts, so an export of any size stays streamed).
    sortable: Mapping[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]
