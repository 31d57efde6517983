"""What each sales document prints: DocumentViews built from the domain, one builder per type.

Pure functions of their arguments (no I/O, no clock: a caller passes `now` where the reading
depends on the day), so a document version always gives the same view and so the same PDF
bytes. Each type has its own title and dates ("Valid until", "Due date"); the blocks are shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..domain.credit_notes import CreditNote
from ..domain.customers import Customer, PaymentTerms
from ..domain.documents.document import SalesDocument
from ..domain.documents.lines import DocumentLine
from ..domain.documents.view import AmountRow, DocumentView, LineView, PartyBlock, TotalsView
from ..domain.invoices import Invoice, InvoiceState
from ..domain.orders import OrderState, SalesOrder
from ..domain.quotes import Quote, QuoteState
from ..domain.records import Address

ORDER_TITLES = {OrderState.DRAFT: "Draft order", OrderState.CANCELLED: "Cancelled order"}
TERMS = {
    PaymentTerms.COD: "Payment: cash on delivery.",
    PaymentTerms.PREPAID: "Payment: in advance, before delivery.",
    PaymentTerms.IMMEDIATE: "Payment: due on receipt of the invoice.",
}


def seller_block(settings: Settings) -> PartyBlock:
    """The company block from COMPANY_NAME, COMPANY_ADDRESS (lines split at newlines, or at a
    literal `\\n` as an env file may hold it), COMPANY_TAX_ID and COMPANY_LOGO_PATH."""
    address = settings.company_address.replace("\\n", "\n")
    return PartyBlock(settings.company_name,
                      tuple(line.strip() for line in address.splitlines() if line.strip()),
                      settings.company_tax_id, settings.company_logo_path)


def customer_block(customer: Customer) -> PartyBlock:
    person = f"{customer.first_name} {customer.last_name}".strip()
    lines = [f"Attn: {person}"] if customer.company_name and person else []
    lines += address_lines(customer.billing_address)
    return PartyBlock(customer.company_name or person, tuple(lines), customer.tax_id)


def address_lines(address: Address | None) -> list[str]:
    """Street lines, then "Locality, Area Postcode", then the region code."""
    if address is None:
        return []
    place = ", ".join(p for p in (address.locality, address.administrative_area) if p)
    place = " ".join(p for p in (place, address.postal_code) if p)
    return [*address.address_lines, *(p for p in (place, address.region_code) if p)]


def terms_text(terms: PaymentTerms) -> str:
    if terms in TERMS:
        return TERMS[terms]
    days = terms.value.removeprefix("NET_")
    return f"Payment: net {days} days from the invoice date."


def line_views(lines: Sequence[DocumentLine]) -> tuple[LineView, ...]:
    """The lines as priced: the PDF shows the amounts the API returns, to the cent."""
    return tuple(LineView(line.sku, line.product_name, line.quantity, line.unit_price,
                          line.amounts.discount, line.tax_rate, line.amounts.total)
                 for line in lines)


def lines_and_totals(document: SalesDocument[Any]) -> tuple[tuple[LineView, ...], TotalsView]:
    t = document.totals
    return line_views(document.lines), TotalsView(t.subtotal, t.discount_total, t.tax_total,
                                                  t.shipping, t.grand_total)


def order_view(order: SalesOrder, customer: Customer, seller: PartyBlock) -> DocumentView:
    """An order confirmation (a draft or cancelled order says so in its title)."""
    details: list[tuple[str, str | date]] = [("Customer no.", customer.customer_code)]
    if order.confirm_time is not None:
        details.append(("Confirmed", order.confirm_time.date()))
    details.append(("Status", order.state.name.capitalize()))
    lines, totals = lines_and_totals(order)
    return DocumentView(
        title=ORDER_TITLES.get(order.state, "Order confirmation"), number=order.number,
        issue_date=order.audit.create_time.date(), version_time=order.audit.update_time,
        currency=order.currency, seller=seller, customer=customer_block(customer),
        lines=lines, totals=totals,
        details=tuple(details),
        notes=order.notes, terms=terms_text(customer.payment_terms))


QUOTE_TITLES = {QuoteState.DRAFT: "Draft quote", QuoteState.CANCELLED: "Cancelled quote",
                QuoteState.SUPERSEDED: "Superseded quote", QuoteState.EXPIRED: "Expired quote"}


def quote_view(quote: Quote, customer: Customer, seller: PartyBlock) -> DocumentView:
    """A quote as the customer receives it, with its validity and revision."""
    details: list[tuple[str, str | date]] = [("Customer no.", customer.customer_code),
                                             ("Valid until", quote.valid_until)]
    if quote.revision > 1:
        details.append(("Revision", str(quote.revision)))
    lines, totals = lines_and_totals(quote)
    terms = "\n".join(t for t in (quote.terms, terms_text(customer.payment_terms)) if t)
    return DocumentView(
        title=QUOTE_TITLES.get(quote.state, "Quote"), number=quote.number,
        issue_date=quote.audit.create_time.date(), version_time=quote.audit.update_time,
        currency=quote.currency, seller=seller, customer=customer_block(customer),
        lines=lines, totals=totals, details=tuple(details), notes=quote.notes, terms=terms)


INVOICE_TITLES = {InvoiceState.DRAFT: "DRAFT INVOICE", InvoiceState.VOID: "VOID INVOICE"}
INVOICE_WATERMARKS = {InvoiceState.DRAFT: "DRAFT", InvoiceState.VOID: "VOID"}
TERM_NAMES = {PaymentTerms.COD: "Cash on delivery", PaymentTerms.PREPAID: "In advance",
              PaymentTerms.IMMEDIATE: "Due on receipt"}


def invoice_view(invoice: Invoice, customer: Customer, seller: PartyBlock, now: datetime
                 ) -> DocumentView:
    """An invoice with what is paid, credited and still due. A draft prints without a number
    or issue date and is marked DRAFT; a void one is marked VOID. `now` only says whether it
    is overdue: a day count would change the PDF every day, the status changes it once."""
    details: list[tuple[str, str | date]] = []
    if invoice.due_date is not None:
        details.append(("Due date", invoice.due_date))
    details.append(("Payment terms", term_name(invoice.payment_terms)))
    if invoice.order_number:
        details.append(("Order", invoice.order_number))
    details += [("Customer no.", customer.customer_code),
                ("Status", invoice_status(invoice, now))]
    lines, totals = lines_and_totals(invoice)
    return DocumentView(
        title=INVOICE_TITLES.get(invoice.state, "INVOICE"), number=invoice.number,
        issue_date=invoice.issue_date, date_label="Issue date",
        version_time=invoice.audit.update_time, currency=invoice.currency, seller=seller,
        customer=customer_block(customer), lines=lines, totals=totals, details=tuple(details),
        notes=invoice.notes, terms=terms_text(invoice.payment_terms),
        summary=invoice_summary(invoice), watermark=INVOICE_WATERMARKS.get(invoice.state, ""),
        file_stem="" if invoice.number else f"draft-invoice-{invoice.id}")


def term_name(terms: PaymentTerms) -> str:
    return TERM_NAMES.get(terms) or f"Net {terms.value.removeprefix('NET_')} days"


def invoice_status(invoice: Invoice, now: datetime) -> str:
    if invoice.is_overdue(now):
        return "Overdue"
    if invoice.partially_paid:
        return "Partially paid"
    return invoice.state.name.capitalize()


def invoice_summary(invoice: Invoice) -> tuple[AmountRow, ...]:
    """Rows that add up from the total to the amount due, as the invoice keeps them."""
    due = AmountRow("Amount due", invoice.amount_due, strong=True)
    if invoice.state is InvoiceState.VOID:
        return AmountRow("Voided", -invoice.totals.grand_total), due
    rows = [AmountRow("Paid", -invoice.amount_paid),
            AmountRow("Credited", -invoice.amount_credited)]
    if invoice.credited_to_balance:  # credit beyond what was due, given back as balance
        rows.append(AmountRow("Credit carried to customer balance",
                              invoice.credited_to_balance))
    return (*rows, due)


def credit_note_view(note: CreditNote, customer: Customer, seller: PartyBlock
                     ) -> DocumentView:
    """A credit note: the invoice it credits, why, what it credits (the invoice's lines, or
    one row of the amount with the reason) and where the credit went."""
    t = note.totals
    if note.lines:
        lines = line_views(note.lines)
        totals = TotalsView(t.subtotal, t.discount_total, t.tax_total, None, t.grand_total)
    else:  # by amount: its tax is in the invoice's proportion, so no one rate applies
        reason = note.reason or f"Credit on invoice {note.invoice_number}"
        lines = (LineView("", reason, 1, t.subtotal, Decimal(0), None, t.grand_total),)
        totals = TotalsView(t.subtotal, None, t.tax_total, None, t.grand_total)
    return DocumentView(
        title="CREDIT NOTE", number=note.number, issue_date=note.issue_date,
        date_label="Issue date", version_time=note.audit.update_time, currency=note.currency,
        seller=seller, customer=customer_block(customer), lines=lines, totals=totals,
        details=(("Credits invoice", note.invoice_number),
                 ("Customer no.", customer.customer_code)),
        summary=(AmountRow(f"Applied to invoice {note.invoice_number}", note.amount_applied),
                 AmountRow("To customer balance", note.amount_to_balance)),
        reason=note.reason if note.lines else "")
