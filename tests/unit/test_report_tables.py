"""The table writers: RFC 4180 CSV, JSON Lines, and how each kind of value is written."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sales_grpc.documents.tables import CsvWriter, JsonLinesWriter, XlsxWriter, text_of
from sales_grpc.domain.reports import Column, ColumnType

COLUMNS = [Column("text", ColumnType.STRING), Column("amount", ColumnType.DECIMAL),
           Column("count", ColumnType.INTEGER), Column("day", ColumnType.DATE),
           Column("time", ColumnType.TIMESTAMP), Column("flag", ColumnType.BOOLEAN)]
ROW = ['a, "b"\r\nc – Ж 世', Decimal("1E+2"), 3, date(2026, 2, 1),
       datetime(2026, 2, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))), True]


def test_values_are_written_exactly_decimals_plain_and_times_in_utc() -> None:
    assert [text_of(v) for v in ROW[1:]] == ["100", "3", "2026-02-01", "2026-02-01T07:30:00Z",
                                             "true"]
    assert text_of(None) == ""
    assert text_of(Decimal("0.10")) == "0.10"


def test_csv_quotes_what_rfc_4180_asks_and_ends_lines_with_crlf() -> None:
    writer = CsvWriter(COLUMNS, byte_order_mark=True)
    data = writer.begin() + writer.row(ROW) + writer.row([None] * 6)
    assert data.startswith(b"\xef\xbb\xbftext,amount,")
    assert b'"a, ""b""\r\nc' in data
    assert data.endswith(b",,,,,\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[1][0] == ROW[0] and rows[1][1] == "100" and len(rows) == 3


def test_json_lines_keep_numbers_exact_as_strings_and_text_unescaped() -> None:
    writer = JsonLinesWriter(COLUMNS)
    line = writer.row(ROW)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert "世".encode() in line
    assert json.loads(line) == {"text": ROW[0], "amount": "100", "count": 3,
                                "day": "2026-02-01", "time": "2026-02-01T07:30:00Z",
                                "flag": True}
    assert writer.begin() == b"" and list(writer.finish()) == []


def test_a_utc_time_round_trips_through_its_text() -> None:
    moment = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert datetime.fromisoformat(text_of(moment)) == moment


def test_an_xlsx_closed_before_or_after_its_bytes_leaves_no_temporary_files() -> None:
    for seal in (False, True):
        writer = XlsxWriter(COLUMNS)
        writer.begin()
        writer.row(ROW)
        folder = Path(writer._dir)
        assert any(folder.iterdir())
        if seal:
            asyncio.run(writer.seal())
            assert b"".join(writer.finish()).startswith(b"PK")
        writer.close()
        assert not folder.exists()
