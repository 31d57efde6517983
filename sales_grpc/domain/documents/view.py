"""What a printed sales document shows: plain, typed, picklable values that any layout renders.

A quote, an order confirmation, an invoice and a credit note are one shape with different
titles, dates and summaries; a builder per document type fills it
(services/document_views.py), a layout draws it (documents/). Amounts stay Decimals in the
document's currency: formatting is the layout's.
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
    # A fraction: 0.15 is 15%. None leaves it blank: a credit by amount has tax but no rate.
    tax_rate: Decimal | None
    total: Decimal  # what the line adds to the grand total: net of discount, tax included


@dataclass(frozen=True)
class TotalsView:
    subtotal: Decimal
    # None: the document has no such amount (a credit note carries no shipping), so no row.
    discount: Decimal | None
    tax: Decimal
    shipping: Decimal | None
    grand_total: Decimal


@dataclass(frozen=True)
class AmountRow:
    """A row under the total, such as "Paid" or "Amount due"; `strong` is the one to act on."""

    label: str
    amount: Decimal
    strong: bool = False


@dataclass(frozen=True)
class DocumentView:
    title: str  # "Quote", "Order confirmation", "INVOICE"
    number: str  # "" while unnumbered (a draft invoice): then no Number row
    issue_date: date | None  # None while not issued (a draft invoice): then no date row
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
    date_label: str = "Date"  # what the issue date's row says: "Issue date" on an invoice
    # Rows under the total, in order: what was paid and credited, then the amount due.
    summary: tuple[AmountRow, ...] = ()
    reason: str = ""  # why the document was issued (a credit note's), printed before notes
    # Printed large and faint across every page ("DRAFT", "VOID"): what must not be missed.
    watermark: str = ""
    file_stem: str = ""  # the file's name without ".pdf", when not the number (a draft's)

    @property
    def heading(self) -> str:
        """The title and number as one line: "INVOICE INV-2026-000001", "DRAFT INVOICE"."""
        return f"{self.title} {self.number}".strip()

    @property
    def file_name(self) -> str:
        stem = self.file_stem or self.number
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
        return f"{safe or 'document'}.pdf"
