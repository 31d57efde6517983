"""What a printed sales document shows: plain, typed, picklable values that any layout renders.

A quote, an order confirmation and an invoice are one shape with different titles and dates;
a builder per document type fills it (services/document_files.py), a layout draws it
(documents/). Amounts stay Decimals in the document's currency: formatting is the layout's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class PartyBlock:
    """The seller or the customer as the document addresses them."""

    name: str
    lines: tuple[str, ...] = ()  # attention line, street, city, country: printed as given
    tax_id: str = ""
    logo_path: str = ""  # a PNG or JPEG; the seller's only


@dataclass(frozen=True)
class LineView:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    discount: Decimal  # the line's discount amount, its share of a document discount included
    tax_rate: Decimal  # a fraction: 0.15 is 15%
    total: Decimal  # what the line adds to the grand total: net of discount, tax included


@dataclass(frozen=True)
class TotalsView:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    shipping: Decimal
    grand_total: Decimal


@dataclass(frozen=True)
class DocumentView:
    title: str  # "Quote", "Order confirmation", "Invoice"
    number: str
    issue_date: date
    # The PDF's own creation date: the time of the document's version, never the render's, so
    # one version of a document always renders to the same bytes.
    version_time: datetime
    currency: str
    seller: PartyBlock
    customer: PartyBlock
    lines: tuple[LineView, ...]
    totals: TotalsView
    # Label and value pairs under the number: "Valid until" or "Due date" with a date,
    # "Customer no." with text, ... in the order given.
    details: tuple[tuple[str, str | date], ...] = ()
    notes: str = ""
    terms: str = ""

    @property
    def file_name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.number)
        return f"{safe or 'document'}.pdf"
