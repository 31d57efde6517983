"""Invoices and credit notes as PDFs, read back the way a person would: the number, the dates,
the totals, what is paid and still due, and why a credit note was issued."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import grpc
import pypdf
import pytest

from erp.sales.v1 import invoice_service_pb2, invoice_service_pb2_grpc
from sales_grpc.api.document_client import download
from sales_grpc.api.document_files import file_chunks
from sales_grpc.cli import parser
from sales_grpc.config import Settings
from sales_grpc.documents.pdf import render_pdf
from sales_grpc.documents.renderer import PdfRenderer
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.credit_notes import CreditNote
from sales_grpc.domain.customers import Customer, CustomerType, PaymentTerms
from sales_grpc.domain.documents.lines import DocumentLine, reprice, totals_of
from sales_grpc.domain.documents.view import DocumentView
from sales_grpc.domain.errors import InvalidArgument, NotFound
from sales_grpc.domain.invoices import Invoice, InvoiceState
from sales_grpc.domain.pricing import LineAmounts, Totals
from sales_grpc.domain.records import Address, Audit
from sales_grpc.services.document_files import DocumentFiles, InvoicePdfAttachment
from sales_grpc.services.document_views import credit_note_view, invoice_view, seller_block

CREATED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
ISSUED = date(2026, 3, 14)
DUE = date(2026, 4, 13)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # after the issue date, before the due date
SELLER = seller_block(Settings(company_name="Ñandú Trading Ltd.",
                               company_address="1 Harbour Road\nBristol BS1 4DJ\nGB",
                               company_tax_id="GB123456789"))
ZERO = Decimal(0)
INVOICE_ID, NOTE_ID = "a1" * 12, "b2" * 12


def customer(**fields: object) -> Customer:
    values: dict[str, object] = dict(
        id="c" * 24, customer_code="CUST-000042", first_name="Zoë", last_name="Ørsted",
        customer_type=CustomerType.BUSINESS, email="zoe@example.com", owner_id="rep-1",
        team_id="team-a", audit=Audit.new("rep-1", CREATED),
        company_name="Müller-Łukasz Σταδίου GmbH",
        billing_address=Address(("Hauptstraße 5",), "Berlin", "BE", "10115", "DE"),
        tax_id="DE123456789")
    values.update(fields)
    return Customer(**values)  # type: ignore[arg-type]


def line(sku: str, name: str, quantity: int, price: str, discount: str, tax: str
         ) -> DocumentLine:
    return DocumentLine("p" * 24, sku, name, quantity, Decimal(price), False, Decimal(discount),
                        Decimal(tax), LineAmounts(ZERO, ZERO, ZERO), Decimal(price))


# 3 x 19.99 less 10%, 7% tax: 59.97 - 6.00 + 3.78 = 57.75. 7 x 0.333 at 19%: 2.33 + 0.44 = 2.77.
# With 4.50 shipping the invoice comes to 65.02.
AWKWARD = [line("TOOL-1", "Wrench, chrome vanadium", 3, "19.99", "0.1", "0.07"),
           line("SCREW-7", "Screws (box of 100)", 7, "0.333", "0", "0.19")]


def invoice(state: InvoiceState = InvoiceState.OPEN, lines: list[DocumentLine] | None = None,
            currency: str = "EUR", shipping: str = "4.50", **fields: Any) -> Invoice:
    priced = reprice(AWKWARD if lines is None else lines, ZERO, currency)
    drafted = state is InvoiceState.DRAFT
    billed = Invoice(
        id=INVOICE_ID, number="" if drafted else "INV-2026-000123", customer_id="c" * 24,
        currency=currency, lines=priced, discount_rate=ZERO, shipping=Decimal(shipping),
        totals=totals_of(priced, Decimal(shipping)), owner_id="rep-1", team_id="team-a",
        audit=Audit(CREATED, "rep-1", CREATED + timedelta(hours=1), "rep-1"), state=state,
        order_id="o" * 24, order_number="SO-2026-000077",
        source_lines=list(range(1, len(priced) + 1)), payment_terms=PaymentTerms.NET_30,
        issue_date=None if drafted else ISSUED, due_date=None if drafted else DUE,
        notes="Thank you for your order. Спасибо!")
    return replace(billed, **fields)


def credit_note(lines: list[DocumentLine] | None, reason: str, **fields: Any) -> CreditNote:
    billed = invoice()
    if lines:
        priced = reprice(lines, ZERO, "EUR")
        totals = totals_of(priced, ZERO)
    else:  # 40.00 with tax in the invoice's proportion (4.22 of 65.02)
        priced, totals = [], Totals(Decimal("37.40"), ZERO, Decimal("2.60"), ZERO)
    note = CreditNote(
        id=NOTE_ID, number="CN-2026-000009", invoice_id=billed.id,
        invoice_number=billed.number, customer_id=billed.customer_id, owner_id="rep-1",
        team_id="team-a", currency="EUR", lines=priced, source_lines=[1] * len(priced),
        totals=totals, reason=reason, issue_date=date(2026, 3, 21),
        audit=Audit.new("rep-1", datetime(2026, 3, 21, 8, tzinfo=UTC)),
        amount_applied=totals.grand_total, amount_to_balance=ZERO)
    return replace(note, **fields)


def render(document: Invoice | CreditNote, now: datetime = NOW) -> bytes:
    if isinstance(document, Invoice):
        return render_pdf(invoice_view(document, customer(), SELLER, now))
    return render_pdf(credit_note_view(document, customer(), SELLER))


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def flat(pdf: bytes) -> str:
    return " ".join(" ".join(pages(pdf)).split())


# -- invoices ----------------------------------------------------------------------------------


def test_the_awkward_amounts_are_priced_to_the_cent_as_the_comment_above_says():
    billed = invoice(amount_paid=Decimal("30.01"))
    assert [x.amounts.total for x in billed.lines] == [Decimal("57.75"), Decimal("2.77")]
    assert billed.totals.grand_total == Decimal("65.02")
    assert billed.amount_due == Decimal("35.01")


def test_a_partly_paid_invoice_shows_its_number_dates_terms_order_and_what_is_still_due():
    text = flat(render(invoice(amount_paid=Decimal("30.01"))))
    for expected in ("INVOICE", "Number INV-2026-000123", "Issue date 2026-03-14",
                     "Due date 2026-04-13", "Payment terms Net 30 days",
                     "Order SO-2026-000077", "Customer no. CUST-000042",
                     "Status Partially paid", "Müller-Łukasz Σταδίου GmbH", "Attn: Zoë Ørsted",
                     "TOOL-1 Wrench, chrome vanadium 3 19.99 6.00 7% 57.75",
                     "SCREW-7 Screws (box of 100) 7 0.333 19% 2.77",
                     "Subtotal EUR 62.30", "Discount EUR -6.00", "Tax EUR 4.22",
                     "Shipping EUR 4.50", "Total EUR 65.02", "Paid EUR -30.01",
                     "Credited EUR 0.00", "Amount due EUR 35.01", "Спасибо!",
                     "Payment: net 30 days from the invoice date.",
                     "INV-2026-000123 · Page 1 of 1"):
        assert expected in text, expected
    assert "DRAFT" not in text and "VOID" not in text


def test_a_yen_invoice_prints_whole_yen_and_keeps_the_places_a_unit_price_has():
    yen = [line("TEA-1", "Gyokuro 玉露 tea", 3, "1234.5", "0", "0.1"),
           line("CUP-2", "Cup", 1, "999", "0.05", "0.08")]
    # 3 x 1,234.5 = 3,703.5 -> 3,704 + 370 tax = 4,074; 999 - 50 + 76 = 1,025; total 5,099.
    billed = invoice(lines=yen, currency="JPY", shipping="0", amount_paid=Decimal("1000"))
    assert billed.totals.grand_total == Decimal("5099")
    text = flat(render(billed))
    for expected in ("3 1,234.5 10% 4,074", "1 999 50 8% 1,025", "Total JPY 5,099",
                     "Paid JPY -1,000", "Amount due JPY 4,099", "Shipping JPY 0"):
        assert expected in text, expected
    assert "JPY 5,099.00" not in text and "Gyokuro" in text


def test_a_draft_invoice_is_titled_and_marked_draft_without_a_number_or_issue_date():
    draft = invoice(InvoiceState.DRAFT)
    view = invoice_view(draft, customer(), SELLER, NOW)
    text = flat(render_pdf(view))
    assert text.count("DRAFT INVOICE") == 2  # the title, and the footer in place of a number
    assert "DRAFT" in text.replace("DRAFT INVOICE", "")  # the watermark
    assert "Number" not in text and "Issue date" not in text and "Due date" not in text
    assert "Status Draft" in text and "Amount due EUR 65.02" in text
    assert view.file_name == f"draft-invoice-{INVOICE_ID}.pdf"


def test_a_void_invoice_is_marked_void_and_owes_nothing():
    text = flat(render(invoice(InvoiceState.VOID)))
    for expected in ("VOID INVOICE", "Number INV-2026-000123", "Status Void",
                     "Total EUR 65.02", "Voided EUR -65.02", "Amount due EUR 0.00"):
        assert expected in text, expected
    assert "VOID" in text.replace("VOID INVOICE", "")  # the watermark across the page


def test_credit_beyond_what_was_due_shows_as_carried_to_the_customers_balance():
    paid = invoice(InvoiceState.PAID, amount_paid=Decimal("65.02"),
                   amount_credited=Decimal("20.00"), credited_to_balance=Decimal("20.00"))
    text = flat(render(paid))
    for expected in ("Status Paid", "Paid EUR -65.02", "Credited EUR -20.00",
                     "Credit carried to customer balance EUR 20.00", "Amount due EUR 0.00"):
        assert expected in text, expected


def test_an_invoice_past_its_due_date_reads_overdue():
    billed = invoice()
    assert "Status Open" in flat(render(billed, NOW))
    assert "Status Overdue" in flat(render(billed, datetime(2026, 4, 14, tzinfo=UTC)))
    assert "Status Open" in flat(render(billed, datetime(2026, 4, 13, 23, tzinfo=UTC)))


def test_one_invoice_version_renders_to_the_same_bytes_and_a_payment_changes_them():
    billed = invoice()
    first = render(billed, NOW)
    assert render(billed, NOW + timedelta(days=3)) == first  # still before the due date
    overdue = datetime(2026, 5, 1, tzinfo=UTC)
    assert render(billed, overdue) == render(billed, overdue + timedelta(days=40))
    later = replace(billed, amount_paid=Decimal("10.00"),
                    audit=billed.audit.touched("rep-1", NOW))
    assert render(later, NOW) != first


def test_a_150_line_invoice_numbers_its_pages_repeats_the_header_and_ends_with_the_amount_due():
    many = [line(f"SKU-{i:04d}", f"Part {i} for Zoë Ørsted, made to order",
                 i % 7 + 1, "0.07", "0.1" if i % 2 else "0", "0.19") for i in range(150)]
    billed = invoice(lines=many, amount_paid=Decimal("1.00"))
    texts = pages(render(billed))
    total = len(texts)
    assert total >= 4
    for number, text in enumerate(texts, start=1):
        assert f"INV-2026-000123 · Page {number} of {total}" in " ".join(text.split())
        if "SKU-" in text:
            assert "SKU Description Qty Unit price Discount Tax Total" in text
    skus = [word for text in texts for word in text.split() if word.startswith("SKU-")]
    assert skus == [f"SKU-{i:04d}" for i in range(150)]
    due = f"Amount due EUR {billed.amount_due:,.2f}"
    assert due in " ".join(texts[-1].split())
    assert "Ñandú Trading Ltd. · INVOICE INV-2026-000123" in " ".join(texts[1].split())


# -- credit notes ------------------------------------------------------------------------------


def test_a_credit_note_by_lines_names_its_invoice_its_reason_and_where_the_credit_went():
    note = credit_note([AWKWARD[0]], "Two wrenches returned damaged",
                       amount_applied=Decimal("50.00"), amount_to_balance=Decimal("7.75"))
    text = flat(render(note))
    for expected in ("CREDIT NOTE", "Number CN-2026-000009", "Issue date 2026-03-21",
                     "Credits invoice INV-2026-000123", "Customer no. CUST-000042",
                     "TOOL-1 Wrench, chrome vanadium 3 19.99 6.00 7% 57.75",
                     "Subtotal EUR 59.97", "Discount EUR -6.00", "Tax EUR 3.78",
                     "Total EUR 57.75", "Applied to invoice INV-2026-000123 EUR 50.00",
                     "To customer balance EUR 7.75", "Reason Two wrenches returned damaged",
                     "CN-2026-000009 · Page 1 of 1"):
        assert expected in text, expected
    assert "Shipping" not in text  # a credit note credits lines, never the invoice's shipping


def test_a_credit_by_amount_prints_one_row_with_the_reason_and_its_net_tax_and_total():
    note = credit_note(None, "Goodwill: delivery arrived two days late")
    texts = pages(render(note))
    table = texts[0][texts[0].index("Total\n") + 6:texts[0].index("Subtotal")]
    assert " ".join(table.split()) == "Goodwill: delivery arrived two days late 1 37.40 40.00"
    text = flat(render(note))
    for expected in ("Subtotal EUR 37.40", "Tax EUR 2.60", "Total EUR 40.00",
                     "Applied to invoice INV-2026-000123 EUR 40.00"):
        assert expected in text, expected
    assert "Discount EUR" not in text and "Shipping" not in text
    assert credit_note_view(note, customer(), SELLER).file_name == "CN-2026-000009.pdf"


# -- the use cases -----------------------------------------------------------------------------


class Records:
    def __init__(self, *documents: Any) -> None:
        self.documents = {d.id: d for d in documents}

    async def get(self, document_id: str, session: object = None) -> Any:
        return self.documents.get(document_id)


class ViewRenderer:
    content_type = "application/pdf"

    def __init__(self) -> None:
        self.views: list[DocumentView] = []

    async def render(self, view: DocumentView) -> bytes:
        self.views.append(view)
        return render_pdf(view)


def files(renderer: Any, **records: Any) -> DocumentFiles:
    return DocumentFiles(cast(Any, None), cast(Any, None), cast(Any, None),
                         cast(Any, Records(customer())), renderer, SELLER,
                         clock=lambda: NOW, **records)


REP = Principal("rep-1", Role.SALES_REP, frozenset({"sales:read"}), "team-a")
OTHER_REP = Principal("rep-2", Role.SALES_REP, frozenset({"sales:read"}), "team-a")
MANAGER = Principal("boss", Role.SALES_MANAGER, frozenset({"sales:read"}), "team-a")
OTHER_MANAGER = Principal("boss-b", Role.SALES_MANAGER, frozenset({"sales:read"}), "team-b")


async def test_an_invoice_pdf_is_for_those_who_may_see_the_invoice():
    documents = files(ViewRenderer(), invoices=Records(invoice()))
    for principal in (REP, MANAGER):
        file = await documents.invoice_pdf(principal, INVOICE_ID)
        assert file.file_name == "INV-2026-000123.pdf"
        assert "Amount due EUR 65.02" in flat(file.data)
    for principal, invoice_id in ((OTHER_REP, INVOICE_ID), (OTHER_MANAGER, INVOICE_ID),
                                  (REP, "f" * 24)):
        with pytest.raises(NotFound) as caught:
            await documents.invoice_pdf(principal, invoice_id)
        assert caught.value.reason == "INVOICE_NOT_FOUND"
    with pytest.raises(InvalidArgument):
        await documents.invoice_pdf(REP, "not-an-id")


async def test_a_credit_note_pdf_is_for_those_who_may_see_the_credit_note():
    documents = files(ViewRenderer(), credit_notes=Records(credit_note(None, "Goodwill")))
    file = await documents.credit_note_pdf(MANAGER, NOTE_ID)
    assert file.file_name == "CN-2026-000009.pdf" and "CREDIT NOTE" in flat(file.data)
    with pytest.raises(NotFound) as caught:
        await documents.credit_note_pdf(OTHER_REP, NOTE_ID)
    assert caught.value.reason == "CREDIT_NOTE_NOT_FOUND"
    with pytest.raises(InvalidArgument):
        await documents.credit_note_pdf(REP, NOTE_ID[:23])


async def test_an_invoice_mail_attaches_the_pdf_rendered_in_a_worker_process():
    renderer = PdfRenderer(workers=1)
    try:
        records = Records(invoice(amount_paid=Decimal("30.01")))
        attachment = await InvoicePdfAttachment(
            files(renderer, invoices=records), cast(Any, records)).attachment(INVOICE_ID)
        assert (attachment.filename, attachment.content_type) == \
            ("INV-2026-000123.pdf", "application/pdf")
        assert attachment.content == render(invoice(amount_paid=Decimal("30.01")))
        with pytest.raises(NotFound):
            await InvoicePdfAttachment(files(renderer), cast(Any, Records())).attachment(
                "f" * 24)
    finally:
        await renderer.close()


# -- the client of `sales-grpc pdf invoice|credit_note` -----------------------------------------


class StreamingFiles(invoice_service_pb2_grpc.InvoiceServiceServicer):
    """The two Render*Pdf RPCs over the documents above, as the real servicer streams them."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []

    async def RenderInvoicePdf(self, request: Any, context: Any) -> Any:
        self.metadata.append(dict(context.invocation_metadata()))
        file = await files(ViewRenderer(), invoices=Records(invoice())).invoice_pdf(
            REP, request.id)
        for chunk in file_chunks(file):
            yield invoice_service_pb2.RenderInvoicePdfResponse(chunk=chunk)

    async def RenderCreditNotePdf(self, request: Any, context: Any) -> Any:
        note = credit_note(None, "Goodwill")
        file = await files(ViewRenderer(), credit_notes=Records(note)).credit_note_pdf(
            REP, request.id)
        for chunk in file_chunks(file):
            yield invoice_service_pb2.RenderCreditNotePdfResponse(chunk=chunk)


async def test_the_pdf_command_downloads_invoices_and_credit_notes_by_kind():
    assert parser().parse_args(["pdf", "credit_note", NOTE_ID]).kind == "credit_note"
    servicer = StreamingFiles()
    server = grpc.aio.server()
    invoice_service_pb2_grpc.add_InvoiceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        address = f"127.0.0.1:{port}"
        received = await download(address, "t0ken", "invoice", INVOICE_ID)
        assert (received.file_name, received.content_type) == \
            ("INV-2026-000123.pdf", "application/pdf")
        assert "Amount due EUR 65.02" in flat(received.data)
        assert servicer.metadata[0]["authorization"] == "Bearer t0ken"
        note = await download(address, "t0ken", "credit_note", NOTE_ID)
        assert note.file_name == "CN-2026-000009.pdf" and "CREDIT NOTE" in flat(note.data)
    finally:
        await server.stop(None)
