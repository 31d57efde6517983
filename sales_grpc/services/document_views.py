"""What each sales document prints: DocumentViews built from the domain, one builder per type.

Pure functions of their arguments (no I/O, no clock), so a document version always gives the
same view and so the same PDF bytes. A quote or an invoice adds its own builder here with its
title and dates ("Valid until", "Due date"); the blocks below are shared.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..config import Settings
from ..domain.customers import Customer, PaymentTerms
from ..domain.documents.document import SalesDocument
from ..domain.documents.view import DocumentView, LineView, PartyBlock, TotalsView
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


def lines_and_totals(document: SalesDocument[Any]) -> tuple[tuple[LineView, ...], TotalsView]:
    """The lines and totals as priced: the PDF shows the amounts the API returns, to the cent."""
    lines = tuple(LineView(line.sku, line.product_name, line.quantity, line.unit_price,
                           line.amounts.discount, line.tax_rate, line.amounts.total)
                  for line in document.lines)
    t = document.totals
    return lines, TotalsView(t.subtotal, t.discount_total, t.tax_total, t.shipping,
                             t.grand_total)


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
