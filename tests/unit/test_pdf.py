"""The PDF layout and its formatting, read back the way a person would: with a PDF library."""

from __future__ import annotations

import asyncio
import io
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from sales_grpc.documents import formatting as fmt
from sales_grpc.documents.pdf import FAMILY, _Layout, render_pdf
from sales_grpc.documents.renderer import PdfRenderer
from sales_grpc.domain.documents.view import DocumentView, LineView, PartyBlock, TotalsView

NAMES = ("Zoë Ørsted", "Müller-Łukasz", "Ñandú", "Σωκράτης Παπαδόπουλος", "Дмитрий Шостакович")
HEADER = "SKU Description Qty Unit price Discount Tax Total"
LONG = ("Heavy-duty galvanised steel shelving unit with five adjustable shelves, "
        "anti-tip brackets and a ten-year warranty against corrosion")


def view(lines: int = 3, currency: str = "USD", **changes: object) -> DocumentView:
    rows = tuple(LineView(f"SKU-{i:04d}", f"{NAMES[i % len(NAMES)]} {LONG if i % 3 == 1 else ''}"
                          .strip(), i + 1, Decimal("12.5"), Decimal("1.25") if i % 2 else
                          Decimal(0), Decimal("0.15"), Decimal("14.93"))
                 for i in range(lines))
    base = DocumentView(
        title="Order confirmation", number="SO-2026-000123", issue_date=date(2026, 3, 14),
        version_time=datetime(2026, 3, 14, 9, 30, tzinfo=UTC), currency=currency,
        seller=PartyBlock("Ñandú Trading Ltd.", ("1 Harbour Road", "Bristol BS1 4DJ", "GB"),
                          "GB123456789"),
        customer=PartyBlock("Zoë Ørsted ApS", ("Attn: Müller-Łukasz", "Σταδίου 10",
                                                "Москва 101000", "DK"), "DK12345678"),
        lines=rows,
        totals=TotalsView(Decimal("1234.5"), Decimal("10"), Decimal("180.125"), Decimal("25"),
                          Decimal("1429.625")),
        details=(("Customer no.", "CUST-000042"), ("Confirmed", date(2026, 3, 15))),
        notes="Deliver to the back entrance. Спасибо!", terms="Payment: net 30 days.")
    return replace(base, **changes)  # type: ignore[arg-type]


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


# -- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "currency", "shown"), [
    ("1234.5", "USD", "USD 1,234.50"),
    ("1234.5", "JPY", "JPY 1,235"),
    ("1234.5", "KWD", "KWD 1,234.500"),
    ("0.0005", "BHD", "BHD 0.001"),
    ("-5", "EUR", "EUR -5.00"),
    ("-0.001", "USD", "USD 0.00"),
    ("1000000", "CLP", "CLP 1,000,000"),
])
def test_money_shows_the_currency_code_and_its_minor_unit(value, currency, shown):
    assert fmt.money(Decimal(value), currency) == shown


def test_a_unit_price_keeps_the_places_it_has_beyond_the_minor_unit():
    assert fmt.amount(Decimal("0.0045"), "USD", exact=True) == "0.0045"
    assert fmt.amount(Decimal("12.5"), "USD", exact=True) == "12.50"
    assert fmt.amount(Decimal("100.000000"), "JPY", exact=True) == "100"
    assert fmt.amount(Decimal("0.0045"), "USD") == "0.00"


def test_rates_and_quantities_print_as_people_read_them():
    assert [fmt.rate(Decimal(r)) for r in ("0.15", "0.075", "0", "1")] == \
        ["15%", "7.5%", "0%", "100%"]
    assert fmt.quantity(1234567) == "1,234,567"


# -- the document ------------------------------------------------------------------------------


def test_unicode_names_print_as_themselves_in_the_embedded_font():
    pdf = render_pdf(view(lines=len(NAMES)))
    text = pages(pdf)[0]
    for name in (*NAMES, "Zoë Ørsted ApS", "Σταδίου 10", "Москва 101000", "Спасибо!"):
        assert name in text
    fonts = {str(font["/BaseFont"]) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
             for font in page["/Resources"]["/Font"].values()}
    assert fonts == {"/MPDFAA+DejaVuSansBook", "/MPDFAA+DejaVuSansBold"}


def test_the_page_shows_seller_customer_number_dates_totals_notes_and_terms():
    text = pages(render_pdf(view()))[0]
    for expected in ("Ñandú Trading Ltd.", "1 Harbour Road", "Tax ID: GB123456789",
                     "Order confirmation", "SO-2026-000123", "2026-03-14", "Confirmed",
                     "2026-03-15", "CUST-000042", "BILL TO", "Tax ID: DK12345678", HEADER,
                     "USD 1,234.50", "USD -10.00", "USD 180.13", "USD 25.00", "USD 1,429.63",
                     "Notes", "Terms", "Payment: net 30 days.", "Page 1 of 1"):
        assert expected in text, expected


@pytest.mark.parametrize(("currency", "total", "row"), [
    ("JPY", "JPY 1,430", "1 12.5 15% 15"), ("KWD", "KWD 1,429.625", "1 12.500 15% 14.930")])
def test_totals_and_prices_follow_the_currency_of_the_document(currency, total, row):
    # A unit price keeps a place past the minor unit it has (12.5 JPY); amounts never do.
    text = pages(render_pdf(view(currency=currency)))[0]
    assert total in text
    assert row in text


def test_a_long_description_wraps_over_several_lines_and_prints_whole():
    text = pages(render_pdf(view(lines=2)))[0]
    row = text[text.index("SKU-0001"):text.index("SKU-0001") + 400]
    assert row.count("\n") >= 3  # the description took several lines
    assert " ".join(LONG.split()) in " ".join(row.split())


def test_a_200_line_document_numbers_every_page_and_repeats_the_table_header():
    texts = pages(render_pdf(view(lines=200)))
    total = len(texts)
    assert total >= 5
    assert "Page 2 of " + str(total) in texts[1]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
        if "SKU-" in text:
            assert HEADER in text, f"page {number} has lines without the table header"
    # Pages break between rows: every line is printed once, in order, none lost or repeated.
    skus = [word for text in texts for word in text.split() if word.startswith("SKU-")]
    assert skus == [f"SKU-{i:04d}" for i in range(200)]
    assert "USD 1,429.63" in texts[-1]


def test_no_row_runs_into_the_footer():
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(view(lines=200))))
    lowest: list[float] = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, *_: lowest.append(tm[5])
                          if text.startswith("SKU-") else None)
    footer_top = 16 / 25.4 * 72  # the footer's rule is 16 mm above the bottom edge
    assert lowest and min(lowest) > footer_top + 6


def test_one_document_renders_to_the_same_bytes_and_another_version_differs():
    document = view(lines=30)
    first = render_pdf(document)
    assert render_pdf(document) == first
    later = render_pdf(replace(document, version_time=datetime(2026, 3, 16, tzinfo=UTC)))
    assert later != first


async def test_a_render_in_a_worker_process_gives_the_same_bytes_as_in_this_one():
    renderer = PdfRenderer(workers=1)  # a spawned process: another hash seed, another import
    try:
        document = view(lines=40)
        assert await renderer.render(document) == render_pdf(document)
    finally:
        await renderer.close()


async def test_the_event_loop_keeps_running_while_a_pdf_renders():
    renderer = PdfRenderer(workers=1)
    try:
        await renderer.render(view(lines=1))  # start the worker first
        ticks = 0
        rendering = asyncio.ensure_future(renderer.render(view(lines=200)))
        while not rendering.done():
            ticks += 1
            await asyncio.sleep(0.002)
        assert pages(await rendering)[0].startswith("Ñandú Trading Ltd.")
        assert ticks >= 5, "the loop stood still while the document rendered"
    finally:
        await renderer.close()


def test_a_logo_prints_above_the_seller(tmp_path: Path):
    logo = tmp_path / "logo.png"
    Image.frombytes("RGB", (40, 20), random.Random(1).randbytes(40 * 20 * 3)).save(logo)
    pdf = render_pdf(view(seller=PartyBlock("Logo Ltd.", (), "", str(logo))))
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_the_file_name_is_the_number_made_safe_for_a_file_system():
    assert view().file_name == "SO-2026-000123.pdf"
    assert view(number="QT/2026 7").file_name == "QT_2026_7.pdf"


def test_a_file_streams_as_a_header_and_chunks_of_at_most_64_kib():
    from sales_grpc.api.document_files import file_chunks
    from sales_grpc.services.document_files import DocumentFile

    data = bytes(range(256)) * 512  # exactly two chunks
    chunks = list(file_chunks(DocumentFile("a.pdf", "application/pdf", data)))
    assert chunks[0].header.size_bytes == len(data) and chunks[0].header.file_name == "a.pdf"
    assert [len(c.data) for c in chunks[1:]] == [65536, 65536]
    assert b"".join(c.data for c in chunks[1:]) == data


def test_an_unbroken_sku_wider_than_its_column_is_split_without_losing_a_character():
    layout = _Layout(view())
    layout.add_page()
    layout.set_font(FAMILY, "", 8.5)
    sku = "WIDGET-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    parts = layout.lines.wrap(sku, 25)
    assert len(parts) > 1 and "".join(parts) == sku
    assert all(layout.get_string_width(p) <= 25 - 2 * layout.c_margin for p in parts)


def test_an_endless_description_is_cut_so_its_row_fits_a_page():
    endless = " ".join(f"word{i}" for i in range(2000))
    row = LineView("SKU-1", endless, 1, Decimal(1), Decimal(0), Decimal(0), Decimal(1))
    texts = pages(render_pdf(replace(view(), lines=(row,))))
    assert "word0 word1" in texts[0] and "…" in texts[0]
    assert "word1999" not in " ".join(texts)
    assert all(f"Page {n} of {len(texts)}" in t for n, t in enumerate(texts, start=1))
