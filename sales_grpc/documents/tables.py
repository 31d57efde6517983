"""Table files written a row at a time: CSV (RFC 4180), JSON Lines and XLSX.

Each writer turns rows into bytes as they come, so a file of any size costs constant memory;
XLSX keeps its rows in xlsxwriter's constant-memory temporary files and gives its bytes at
the end (a zip's directory follows its contents). The same rows always give the same bytes.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter

from ..domain.reports import Caption, Column, ColumnType, ExportFormat
from .pdf_tables import BLOCK_BYTES, PdfTableWriter, TableRenderer
from .text import text_of

_XLSX_WIDTHS = {ColumnType.STRING: 18, ColumnType.DATE: 12, ColumnType.TIMESTAMP: 20}
# xlsx file properties carry a creation time; a fixed one keeps the same rows the same bytes.
_XLSX_CREATED = datetime(2000, 1, 1, tzinfo=UTC)


class CsvWriter:
    content_type = "text/csv; charset=utf-8"

    def __init__(self, columns: Sequence[Column], byte_order_mark: bool = False) -> None:
        self._names = [c.name for c in columns]
        self._bom = byte_order_mark
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def _line(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue().encode()

    def begin(self) -> bytes:
        return (b"\xef\xbb\xbf" if self._bom else b"") + self._line(self._names)

    def row(self, values: Sequence[object]) -> bytes:
        return self._line([text_of(v) for v in values])

    async def seal(self) -> None:
        pass

    def finish(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


_json_text = json.JSONEncoder(ensure_ascii=False).encode


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _json_text(value if isinstance(value, str) else text_of(value))


class JsonLinesWriter:
    content_type = "application/jsonl; charset=utf-8"

    def __init__(self, columns: Sequence[Column]) -> None:
        # Each row joins the keys' JSON, computed once, with its values' (what json.dumps of
        # a dict would write, without building the dict: a third of the time per row).
        self._keys = [("{" if i == 0 else ",") + _json_text(c.name) + ":"
                      for i, c in enumerate(columns)]

    def begin(self) -> bytes:
        return b""

    def row(self, values: Sequence[object]) -> bytes:
        parts = [k + _json_value(v) for k, v in zip(self._keys, values, strict=True)]
        return ("".join(parts) + "}\n").encode()

    async def seal(self) -> None:
        pass

    def finish(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


class XlsxWriter:
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        # A directory of its own for the row data and the workbook, removed whole by close():
        # an export cancelled before the workbook is written leaves nothing behind.
        self._dir = tempfile.mkdtemp(prefix="sales-export-")
        self._path = os.path.join(self._dir, "report.xlsx")
        self._book = xlsxwriter.Workbook(self._path, {
            "constant_memory": True, "tmpdir": self._dir,
            "default_date_format": "yyyy-mm-dd", "remove_timezone": True})
        self._book.set_properties({"created": _XLSX_CREATED.replace(tzinfo=None)})
        self._sheet = self._book.add_worksheet("report")
        self._time = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._row = 0
        self._cells = [self._cell_writer(c.type) for c in self._columns]

    def begin(self) -> bytes:
        # Widths a person can read the values in: Excel and LibreOffice show "###" for a
        # date or time wider than its column, and the default column fits 8 characters.
        for col, column in enumerate(self._columns):
            self._sheet.set_column(col, col, max(_XLSX_WIDTHS.get(column.type, 12),
                                                 len(column.name) + 2))
        self._sheet.write_row(0, 0, [c.name for c in self._columns])
        return b""

    def row(self, values: Sequence[object]) -> bytes:
        self._row += 1
        row = self._row
        for col, (write, value) in enumerate(zip(self._cells, values, strict=True)):
            if value is not None:
                write(row, col, value)
        return b""

    def _cell_writer(self, kind: ColumnType) -> Callable[[int, int, Any], None]:
        """How a column's cells are written, chosen once per column rather than per cell."""
        sheet, stamp = self._sheet, self._time

        def other(row: int, col: int, value: Any) -> None:
            if isinstance(value, bool | int):
                sheet.write(row, col, value)
            else:
                sheet.write_string(row, col, text_of(value))

        def decimal(row: int, col: int, value: Any) -> None:
            sheet.write_number(row, col, float(value))  # a spreadsheet number is a double

        def timestamp(row: int, col: int, value: Any) -> None:
            if isinstance(value, datetime):
                sheet.write_datetime(row, col, value.astimezone(UTC), stamp)
            else:
                other(row, col, value)

        def day(row: int, col: int, value: Any) -> None:
            if isinstance(value, date):
                sheet.write_datetime(row, col, datetime(value.year, value.month, value.day))
            else:
                other(row, col, value)

        return {ColumnType.DECIMAL: decimal, ColumnType.TIMESTAMP: timestamp,
                ColumnType.DATE: day}.get(kind, other)

    async def seal(self) -> None:
        """Writes the workbook's zip: seconds of work for a million rows, done in a thread
        so the event loop keeps serving."""
        await asyncio.to_thread(self._book.close)

    def finish(self) -> Iterator[bytes]:
        with open(self._path, "rb") as file:
            while block := file.read(BLOCK_BYTES):
                yield block

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def writer_for(fmt: ExportFormat, columns: Sequence[Column], byte_order_mark: bool,
               caption: Caption | None = None, renderer: TableRenderer | None = None
               ) -> CsvWriter | JsonLinesWriter | XlsxWriter | PdfTableWriter:
    """The writer of `fmt`; PDF needs a renderer (the PdfRenderer's process pool)."""
    if fmt is ExportFormat.CSV:
        return CsvWriter(columns, byte_order_mark)
    if fmt is ExportFormat.JSONL:
        return JsonLinesWriter(columns)
    if fmt is ExportFormat.PDF:
        if renderer is None:
            raise ValueError("PDF exports need a renderer")
        return PdfTableWriter(columns, caption or Caption("Report", "", _XLSX_CREATED.date()),
                              renderer)
    return XlsxWriter(columns)


class TableWriters:
    """The writer factory exports use, with the renderer PDF tables are drawn by."""

    def __init__(self, renderer: TableRenderer | None = None) -> None:
        self._renderer = renderer

    def __call__(self, fmt: ExportFormat, columns: Sequence[Column], byte_order_mark: bool,
                 caption: Caption | None = None
                 ) -> CsvWriter | JsonLinesWriter | XlsxWriter | PdfTableWriter:
        return writer_for(fmt, columns, byte_order_mark, caption, self._renderer)
