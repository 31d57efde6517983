"""Report PDF tables: long cells wrap whole instead of being cut, numbers and dates stay on
one line, and many columns keep a bounded type size."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from sales_grpc.documents.report_pdf import (
    MIN_SIZE,
    SIZES,
    TableView,
    _Table,
    fitted,
    render_table_pdf,
)

CREATED = datetime(2026, 3, 1, tzinfo=UTC)
NAME = ("Northern Regional Wholesale Supply and Distribution Company for Precision Tools "
        "Fasteners and Industrial Equipment, Ltd.")  # 120 characters
NOTES = ("Deliver to the loading dock at the back and call Ms. Ørsted thirty minutes ahead. "
         "Quote purchase order 4711 on the invoice; partial shipments are accepted. "
         "Пожалуйста, подтвердите получение заказа. ") * 4
WIDE = ("invoice_number", "invoice_state", "customer_name", "customer_id", "owner_id",
        "team_id", "order_number", "currency", "issue_date", "due_date", "line_number",
        "product_id", "sku", "product_name", "quantity", "unit_price", "discount_rate",
        "tax_rate", "gross", "discount", "tax", "total", "notes")
NUMBERS = frozenset({"line_number", "quantity", "unit_price", "discount_rate", "tax_rate",
                     "gross", "discount", "tax", "total"})


def _wide_row(n: int, name: str = "Olga Buyer", notes: str = "") -> tuple[str, ...]:
    values = {"invoice_number": f"INV-2026-{n:06d}", "invoice_state": "open",
              "customer_name": name, "customer_id": "65f1a2b3c4d5e6f708192a3b",
              "owner_id": "rep-1", "team_id": "team-a", "order_number": f"SO-2026-{n:06d}",
              "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31",
              "line_number": "1", "product_id": "65f1a2b3c4d5e6f708192a3c", "sku": "SKU-1",
              "product_name": "Cordless drill 18V", "quantity": "12", "unit_price": "1234.56",
              "discount_rate": "0.15", "tax_rate": "0.19", "gross": "14814.72",
              "discount": "2222.21", "tax": "2392.58", "total": "14985.09", "notes": notes}
    return tuple(values[c] for c in WIDE)


def _view(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> TableView:
    return TableView("Invoice lines", "issue_date from 2026-01-01 to 2026-12-31", columns,
                     tuple(c in NUMBERS for c in columns), tuple(rows), CREATED)


def _words(data: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.split()


def _in_order(wanted: str, words: list[str]) -> bool:
    """Whether the words of `wanted` come in `words` in order, each whole (a wrapped cell's
    lines come one after the other; other cells' text may come between rows)."""
    it = iter(words)
    return all(any(w == got for got in it) for w in wanted.split())


def test_a_long_name_and_long_notes_wrap_whole_in_a_table_of_many_columns() -> None:
    assert len(NAME) == 120
    rows = [_wide_row(n) for n in range(30)]
    rows[3] = _wide_row(3, NAME, NOTES)
    data = render_table_pdf(_view(WIDE, rows))
    words = _words(data)
    assert _in_order(NAME, words)
    assert _in_order(NOTES, words)
    assert "…" not in " ".join(words)
    # Numbers, dates and document numbers stay on one line, whole.
    for value in ("14985.09", "1234.56", "2026-03-31", "INV-2026-000003", "SO-2026-000029"):
        assert value in words


def test_many_columns_keep_a_bounded_type_size_and_few_keep_the_largest() -> None:
    table = _Table(_view(WIDE, [_wide_row(n, NAME, NOTES) for n in range(20)]))
    table.measure()
    assert MIN_SIZE <= table.size <= SIZES[0]
    assert sum(table.widths) == pytest.approx(table.epw)
    few = ("invoice_number", "customer_name", "total")
    small = _Table(_view(few, [(f"INV-{n}", NAME, "10.00") for n in range(20)]))
    small.measure()
    assert small.size == SIZES[0]
    assert sum(small.widths) <= small.epw + 1e-6


def test_a_row_taller_than_a_page_continues_on_the_next_one_without_losing_a_word() -> None:
    columns = ("customer_code", "notes")
    huge = " ".join(f"word{n:04d}" for n in range(2500))  # far more than a page holds
    data = render_table_pdf(_view(columns, [("CUST-1", huge), ("CUST-2", "short")]))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 1
    words = _words(data)
    assert [w for w in words if re.fullmatch(r"word\d{4}", w)] == huge.split()
    assert words.index("CUST-2") > words.index("word2499")


def test_the_same_view_gives_the_same_bytes() -> None:
    view = _view(WIDE, [_wide_row(n, NAME, NOTES if n % 3 == 0 else "") for n in range(12)])
    assert render_table_pdf(view) == render_table_pdf(view)


def test_narrow_columns_keep_their_width_and_the_long_ones_share_the_rest() -> None:
    natural = [20.0, 15.0, 400.0, 100.0]
    least = [20.0, 15.0, 30.0, 30.0]
    widths = fitted(natural, 200.0, least)
    assert widths[:2] == [20.0, 15.0]
    assert sum(widths) == pytest.approx(200.0)
    assert widths[2] > widths[3] >= 30.0  # the longer text gets the more room
    assert fitted([10.0, 20.0], 100.0, [5.0, 5.0]) == [10.0, 20.0]  # all fit: as they are
    # Even the least widths overflow: text columns give way first, numbers keep theirs.
    squeezed = fitted([40.0, 40.0, 30.0], 60.0, [30.0, 30.0, 20.0], [True, False, False])
    assert squeezed[0] == 30.0 and sum(squeezed) == pytest.approx(60.0)
    assert min(squeezed) >= 8.0
